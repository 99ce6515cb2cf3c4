#pragma once
// Gradient clipping, as TensorFlow's clip_ops (which Keras' optimizers call). In place, on
// gradients the optimizer owns (never on a parameter's own grad tensor).
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

// g * c / max(||g||, c): rescales g to L2 norm c when it is longer.
void clip_by_norm_(Tensor& grad, float clipnorm);
// clip(g, -c, c), elementwise.
void clip_by_value_(Tensor& grad, float clipvalue);
// sqrt(sum over all tensors of sum g^2), accumulated in double.
double global_norm(const std::vector<Tensor*>& grads);
// g * c * min(1/N, 1/c) for every tensor, N = global_norm(grads).
void clip_by_global_norm_(const std::vector<Tensor*>& grads, float clipnorm);

}  // namespace tapegrad
