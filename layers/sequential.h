#pragma once
// Sequential: a stack of layers, each fed the previous one's output. Infers every output shape
// and prints Keras' summary().
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "layers/layer.h"

namespace tapegrad {

class Sequential : public Layer {
 public:
  explicit Sequential(std::initializer_list<LayerRef> layers = {}, std::string name = "");
  explicit Sequential(const std::vector<LayerRef>& layers, std::string name = "");

  void add(LayerRef layer);
  const std::vector<std::shared_ptr<Layer>>& layers() const { return sublayers(); }

  Shape output_shape(const Shape& input_shape) const override;

  // The table Keras prints: each layer's name (type), output shape and parameter count, then the
  // totals. Needs a built model (call build() or run it once).
  void summary(std::ostream& os) const;
  void summary() const;
  std::string summary_string() const;

 protected:
  void build_impl(const Shape& input_shape) override;
  Variable forward(const Variable& x, bool training) override;
};

}  // namespace tapegrad
