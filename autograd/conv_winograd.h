#pragma once
// Winograd F(4x4, 3x3) and F(2x2, 3x3) for 2-D 3x3 stride-1 convolutions (Lavin & Gray, 2015):
// each m x m block of outputs comes from an a x a block of input (a = m + 2), transformed
// (B^T d B), multiplied elementwise by the transformed kernel (G g G^T) and summed over
// channels, then transformed back (A^T m A). The channel sums are a^2 independent GEMMs with 4x
// (m = 4) or 2.25x (m = 2) fewer multiplies than the direct product; the tile size is chosen per
// geometry and pass (4x4 unless overhanging tiles waste more than it saves). 4x4 tiles round a
// little more (about 5e-6 of the largest output against 5e-7).
// The input gradient of such a convolution is one too (conv_direct::input_gradient_geometry),
// so it serves both. The forward runs on groups of samples, single-threaded, on conv_engine's TBB
// chunks.
#include <cstdint>
#include <vector>

#include "tapegrad/autograd/conv_geometry.h"

namespace tapegrad::conv_winograd {

// True when this build has the kernels (AVX-512) and g is a 2-D 3x3 convolution with stride 1,
// dilation 1 and enough channels for the transforms to pay.
bool supports(const ConvGeometry& g);

// The kernel (3, 3, c_in, c_out) transformed: a^2 matrices (c_in, c_out), one per element of the
// a x a Winograd domain. Computed once per call.
std::vector<float> transform_kernel(const float* w, const ConvGeometry& g);

// y (samples, out positions, c_out) = x * w for `samples` consecutive samples, then + bias and
// relu when given; with accumulate, y += x * w. Single-threaded; the caller runs groups of
// samples_per_block(g) samples (what fills one block of tiles) in parallel.
void forward_samples(const ConvGeometry& g, int64_t samples, const float* x, const float* transformed_w, const float* bias,
                     bool relu, float* y, bool accumulate = false);
int64_t samples_per_block(const ConvGeometry& g);

// dw (3, 3, c_in, c_out): the kernel gradient over all g.batch samples of x and dy, where dy is
// taken as zero wherever relu_y (the fused relu's output, when given) is not positive. Through
// the Winograd domain, as the adjoint of the forward; parallel by itself (see the .cpp), and
// independent of the thread count.
void weight_gradient(const ConvGeometry& g, const float* x, const float* dy, const float* relu_y, float* dw);

}  // namespace tapegrad::conv_winograd
