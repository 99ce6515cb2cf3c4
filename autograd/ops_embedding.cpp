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
    // The positions grouped by the row they read (a stable counting sort), so that each table
    // row is made once, in one pass over the table: zeroed, then its positions' gradient rows
    // added in their order in the input, whatever the thread count.
    const int64_t V = table_shape[0];
    std::vector<int64_t> start(static_cast<size_t>(V + 1), 0), order(rows.size());
    for (int64_t r : rows) ++start[static_cast<size_t>(r + 1)];
    for (int64_t r = 0; r < V; ++r) start[static_cast<size_t>(r + 1)] += start[static_cast<size_t>(r)];
    {
      std::vector<int64_t> next(start.begin(), start.end() - 1);
      for (size_t i = 0; i < rows.size(); ++i) order[static_cast<size_t>(next[static_cast<size_t>(rows[i])]++)] = static_cast<int64_t>(i);
    }
    Tensor dt = Tensor::empty(table_shape);
    float* pd = dt.data();
    const float* pg = g.data();
    parallel_for(0, V, std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(D, 1)), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        float* dst = pd + r * D;
        std::fill(dst, dst + D, 0.0f);
        for (int64_t k = start[static_cast<size_t>(r)]; k < start[static_cast<size_t>(r + 1)]; ++k) {
          const float* src = pg + order[static_cast<size_t>(k)] * D;
          for (int64_t c = 0; c < D; ++c) dst[c] += src[c];
        }
      }
    });
    s.set(0, std::move(dt));
  });
}

}  // namespace tapegrad
