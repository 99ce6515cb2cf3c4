#pragma once
// Independent reference implementations for the convolution tests: plain nested loops over
// explicit indices, written from the definitions (not from the kernels under test).
#include <vector>

#include "tapegrad/core/tensor.h"

namespace naive {

// Spatial extents as 3 dims with leading 1s; for rank-r inputs (batch, *s, c).
struct Dims {
  int r;
  int64_t s[3];
};
inline Dims spatial(const tapegrad::Shape& x) {
  Dims d{x.rank() - 2, {1, 1, 1}};
  for (int i = 0; i < d.r; ++i) d.s[3 - d.r + i] = x[1 + i];
  return d;
}

// y[b, o, co] = sum_{k, ci} x[b, o*stride - pad + k*dil, ci] * w[k, ci, co], zero outside.
// depthwise: co = ci * mult + m and w[k, ci, m].
inline tapegrad::Tensor conv(const tapegrad::Tensor& x, const tapegrad::Tensor& w, std::vector<int64_t> stride,
                             std::vector<int64_t> dil, std::vector<int64_t> pad, std::vector<int64_t> out_spatial,
                             bool depthwise = false) {
  const Dims in = spatial(x.shape());
  const int r = in.r;
  int64_t k[3] = {1, 1, 1}, st[3] = {1, 1, 1}, dl[3] = {1, 1, 1}, pd[3] = {0, 0, 0}, os[3] = {1, 1, 1};
  for (int i = 0; i < r; ++i) {
    k[3 - r + i] = w.shape()[i];
    st[3 - r + i] = stride[i];
    dl[3 - r + i] = dil[i];
    pd[3 - r + i] = pad[i];
    os[3 - r + i] = out_spatial[i];
  }
  const int64_t batch = x.shape()[0], ci_n = x.shape()[r + 1];
  const int64_t wo = w.shape()[r + 1], co_n = depthwise ? ci_n * wo : wo;
  tapegrad::Shape ys{batch};
  for (int i = 0; i < r; ++i) ys.push_back(out_spatial[i]);
  ys.push_back(co_n);
  tapegrad::Tensor y = tapegrad::Tensor::zeros(ys);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t o0 = 0; o0 < os[0]; ++o0)
      for (int64_t o1 = 0; o1 < os[1]; ++o1)
        for (int64_t o2 = 0; o2 < os[2]; ++o2)
          for (int64_t co = 0; co < co_n; ++co) {
            double acc = 0;
            for (int64_t k0 = 0; k0 < k[0]; ++k0)
              for (int64_t k1 = 0; k1 < k[1]; ++k1)
                for (int64_t k2 = 0; k2 < k[2]; ++k2) {
                  const int64_t i0 = o0 * st[0] - pd[0] + k0 * dl[0], i1 = o1 * st[1] - pd[1] + k1 * dl[1],
                                i2 = o2 * st[2] - pd[2] + k2 * dl[2];
                  if (i0 < 0 || i0 >= in.s[0] || i1 < 0 || i1 >= in.s[1] || i2 < 0 || i2 >= in.s[2]) continue;
                  const int64_t kpos = (k0 * k[1] + k1) * k[2] + k2;
                  const int64_t ipos = ((b * in.s[0] + i0) * in.s[1] + i1) * in.s[2] + i2;
                  if (depthwise) {
                    const int64_t ci = co / wo, m = co % wo;
                    acc += x.data()[ipos * ci_n + ci] * w.data()[(kpos * ci_n + ci) * wo + m];
                  } else {
                    for (int64_t ci = 0; ci < ci_n; ++ci)
                      acc += x.data()[ipos * ci_n + ci] * w.data()[(kpos * ci_n + ci) * co_n + co];
                  }
                }
            y.data()[(((b * os[0] + o0) * os[1] + o1) * os[2] + o2) * co_n + co] = static_cast<float>(acc);
          }
  return y;
}

// The transposed convolution by its definition: every input pixel scatters w[k, co, ci] * x
// onto output position i*stride - pad + k*dil.
inline tapegrad::Tensor conv_transpose(const tapegrad::Tensor& x, const tapegrad::Tensor& w, std::vector<int64_t> stride,
                                       std::vector<int64_t> dil, std::vector<int64_t> pad, std::vector<int64_t> out_spatial) {
  const Dims in = spatial(x.shape());
  const int r = in.r;
  int64_t k[3] = {1, 1, 1}, st[3] = {1, 1, 1}, dl[3] = {1, 1, 1}, pd[3] = {0, 0, 0}, os[3] = {1, 1, 1};
  for (int i = 0; i < r; ++i) {
    k[3 - r + i] = w.shape()[i];
    st[3 - r + i] = stride[i];
    dl[3 - r + i] = dil[i];
    pd[3 - r + i] = pad[i];
    os[3 - r + i] = out_spatial[i];
  }
  const int64_t batch = x.shape()[0], ci_n = x.shape()[r + 1], co_n = w.shape()[r];
  tapegrad::Shape ys{batch};
  for (int i = 0; i < r; ++i) ys.push_back(out_spatial[i]);
  ys.push_back(co_n);
  tapegrad::Tensor y = tapegrad::Tensor::zeros(ys);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i0 = 0; i0 < in.s[0]; ++i0)
      for (int64_t i1 = 0; i1 < in.s[1]; ++i1)
        for (int64_t i2 = 0; i2 < in.s[2]; ++i2)
          for (int64_t k0 = 0; k0 < k[0]; ++k0)
            for (int64_t k1 = 0; k1 < k[1]; ++k1)
              for (int64_t k2 = 0; k2 < k[2]; ++k2) {
                const int64_t o0 = i0 * st[0] - pd[0] + k0 * dl[0], o1 = i1 * st[1] - pd[1] + k1 * dl[1],
                              o2 = i2 * st[2] - pd[2] + k2 * dl[2];
                if (o0 < 0 || o0 >= os[0] || o1 < 0 || o1 >= os[1] || o2 < 0 || o2 >= os[2]) continue;
                const int64_t kpos = (k0 * k[1] + k1) * k[2] + k2;
                for (int64_t co = 0; co < co_n; ++co)
                  for (int64_t ci = 0; ci < ci_n; ++ci)
                    y.data()[(((b * os[0] + o0) * os[1] + o1) * os[2] + o2) * co_n + co] +=
                        x.data()[(((b * in.s[0] + i0) * in.s[1] + i1) * in.s[2] + i2) * ci_n + ci] *
                        w.data()[(kpos * co_n + co) * ci_n + ci];
              }
  return y;
}

}  // namespace naive
