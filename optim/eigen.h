#pragma once
// Eigen for the optimizers' update loops (.cpp files only). GCC 12 reports a false
// -Wmaybe-uninitialized inside Eigen's AVX-512 sqrt/max kernels when they are inlined into these
// loops; it is silenced for the files that include this header, nothing else.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <Eigen/Core>
