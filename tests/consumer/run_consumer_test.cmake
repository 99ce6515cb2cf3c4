# Installs a built tapegrad into a scratch prefix, then configures, builds and runs the
# downstream project in tests/consumer against it.
# Usage: cmake -DSOURCE_DIR=<repo> -DBUILD_DIR=<tapegrad build dir> -DWORK_DIR=<scratch dir>
#              -P run_consumer_test.cmake
cmake_minimum_required(VERSION 3.20)

foreach(var SOURCE_DIR BUILD_DIR WORK_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer_test.cmake: -D${var}=... is required")
  endif()
endforeach()

set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/build")

# Runs one step; on failure stops with the step's name and everything it printed.
# The output is returned in ${out_var}.
function(run_step name out_var)
  execute_process(COMMAND ${ARGN}
                  RESULT_VARIABLE result
                  OUTPUT_VARIABLE output
                  ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    list(JOIN ARGN " " command)
    message(FATAL_ERROR "install_consumer: step '${name}' failed (${result}):\n"
                        "  command: ${command}\n${output}")
  endif()
  message(STATUS "install_consumer: step '${name}' ok")
  set(${out_var} "${output}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

run_step(install out
  "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")

# Only public headers are installed: the kernels' and helpers' internal headers stay behind.
foreach(internal autograd/conv_engine.h autograd/conv_direct.h autograd/conv_winograd.h
                 autograd/conv_tile_avx512.h core/gemm.h core/scratch.h optim/eigen.h)
  if(EXISTS "${prefix}/include/tapegrad/${internal}")
    message(FATAL_ERROR "install_consumer: internal header ${internal} was installed")
  endif()
endforeach()
if(NOT EXISTS "${prefix}/include/tapegrad/core/shape.h")
  message(FATAL_ERROR "install_consumer: public header tapegrad/core/shape.h is missing from the install")
endif()

run_step(configure out
  "${CMAKE_COMMAND}" -S "${SOURCE_DIR}/tests/consumer" -B "${consumer_build}" -G Ninja
  "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release)

run_step(build out
  "${CMAKE_COMMAND}" --build "${consumer_build}")

run_step(run out "${consumer_build}/consumer")
string(FIND "${out}" "consumer ok" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "install_consumer: consumer ran but did not print 'consumer ok':\n${out}")
endif()
message(STATUS "install_consumer: passed")
