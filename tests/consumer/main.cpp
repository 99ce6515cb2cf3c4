// Uses the installed headers and library: builds a two-layer MLP, runs one forward pass and
// checks the output shape. Prints "consumer ok" and returns 0 on success. It has a header of its
// own named like one of tapegrad's (core/shape.h), found first on its include path.
#include <tapegrad/tapegrad.h>

#include "core/shape.h"

#include <exception>
#include <iostream>

int main() {
  try {
    tapegrad::Sequential model({tapegrad::Dense(4, {.activation = "relu"}), tapegrad::Dense(2)});
    model.build({3});
    const tapegrad::Variable x(tapegrad::Tensor::ones({5, 3}));
    const tapegrad::Variable y = model(x);
    if (y.shape() != tapegrad::Shape{5, 2}) {
      std::cerr << "consumer: expected output shape (5, 2), got " << y.shape().str() << "\n";
      return 1;
    }
    static_assert(consumer::kOwnShapeHeader == 1);
    std::cout << "consumer ok\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "consumer: " << e.what() << "\n";
    return 1;
  }
}
