// Embedding lookup: gather rows of a table by integer ids (given as floats), and its backward,
// which scatters (adds) the gradient rows back into a zero table.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "tapegrad/autograd/nn_ops.h"
#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/parallel.h"

namespace tapegrad {

Variable embedding_lookup(const Variable& table, const Tensor& ids, const char* label) {
  if (!table.defined() || !ids.defined()) fail(label, "table or ids undefined");
  if (table.rank() != 2) fail(label, "table " + table.shape().str() + " must be 2-D (input_dim, output_dim)");
  const int64_t V = table.dim(0), D = table.dim(1), n = ids.numel();
  std::vector<int64_t> rows(static_cast<size_t>(n));
  const float* pid = ids.data();
  for (int64_t i = 0; i < n; ++i) {
    const float v = pid[i];
    if (!(v >= 0.0f && v < static_cast<float>(V)) || std::floor(v) != v)
      fail(label, "id " + std::to_string(v) + " at flat position " + std::to_string(i) + " of input " +
                      ids.shape().str() + " is not an integer in [0, " + std::to_string(V) + ") (input_dim " +
                      std::to_string(V) + ")");
    rows[static_cast<size_t>(i)] = static_cast<int64_t>(v);
  }
  Shape out_shape = ids.shape();
  out_shape.push_back(D);
  Tensor out = Tensor::empty(out_shape);
  const float* pt = table.value().data();
  float* po = out.data();
  parallel_for(0, n, std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(D, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) std::memcpy(po + i * D, pt + rows[i] * D, sizeof(float) * static_cast<size_t>(D));
  });
  const Shape table_shape = table.shape();
  return record("embedding_lookup", out, {table}, [rows = std::move(rows), table_shape, D](const Tensor& g, GradSink& s) {
    Tensor dt = Tensor::zeros(table_shape);
    float* pd = dt.data();
    const float* pg = g.data();
    // Split the columns across threads: every thread walks all ids in order, so repeated ids add
    // up in the same order whatever the thread count.
    parallel_for(0, D, 16, [&](int64_t c0, int64_t c1) {
      for (size_t i = 0; i < rows.size(); ++i) {
        float* dst = pd + rows[i] * D;
        const float* src = pg + static_cast<int64_t>(i) * D;
        for (int64_t c = c0; c < c1; ++c) dst[c] += src[c];
      }
    });
    s.set(0, std::move(dt));
  });
}

}  // namespace tapegrad
