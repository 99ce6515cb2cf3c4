#pragma once
// The optimizers' reference problem (tests/data/optimizers.json): Dense(3) on 2 inputs with
// weights w0 / b0, loss MSE; gradients come from our Dense layer, MSE and autograd.
#include <memory>
#include <string>
#include <vector>

#include "../json_data.h"
#include "tapegrad/autograd/variable.h"
#include "tapegrad/layers/dense.h"
#include "tapegrad/optim/adadelta.h"
#include "tapegrad/optim/adagrad.h"
#include "tapegrad/optim/adam.h"
#include "tapegrad/optim/adamax.h"
#include "tapegrad/optim/nadam.h"
#include "tapegrad/optim/rmsprop.h"
#include "tapegrad/optim/sgd.h"
#include "tapegrad/train/losses.h"

namespace tapegrad::testing {

struct ReferenceProblem {
  Tensor x, y;
  Dense layer{3};
  explicit ReferenceProblem(const nlohmann::json& p) : x(to_tensor(p["X"])), y(to_tensor(p["Y"])) {
    layer.build({2});
    layer.kernel()->var.value().copy_from(to_tensor(p["w0"]));
    layer.bias()->var.value().copy_from(to_tensor(p["b0"]));
  }
  Variable loss() { return losses::mean_squared_error(y, layer(Variable(x))); }
  // [w00, w01, w02, w10, w11, w12, b0, b1, b2], the JSON's layout.
  std::vector<float> flat() const {
    auto w = layer.kernel()->var.value().to_vector(), b = layer.bias()->var.value().to_vector();
    w.insert(w.end(), b.begin(), b.end());
    return w;
  }
};

inline std::optional<float> opt_float(const nlohmann::json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<float>();
}

// The optimizer of a reference case, every hyperparameter taken from its config.
inline std::unique_ptr<Optimizer> make_reference_optimizer(const nlohmann::json& c, std::vector<ParameterPtr> params) {
  const auto& k = c["config"];
  const std::string type = c["optimizer"];
  const float lr = k["learning_rate"].get<float>();
  const auto wd = opt_float(k["weight_decay"]), cn = opt_float(k["clipnorm"]), cv = opt_float(k["clipvalue"]),
             gcn = opt_float(k["global_clipnorm"]);
  if (type == "SGD")
    return std::make_unique<SGD>(params, SGDOptions{.learning_rate = lr, .momentum = k["momentum"].get<float>(),
                                                    .nesterov = k["nesterov"].get<bool>(), .weight_decay = wd,
                                                    .clipnorm = cn, .clipvalue = cv, .global_clipnorm = gcn});
  if (type == "Adam")
    return std::make_unique<Adam>(params, AdamOptions{.learning_rate = lr, .beta_1 = k["beta_1"].get<float>(),
                                                      .beta_2 = k["beta_2"].get<float>(), .epsilon = k["epsilon"].get<float>(),
                                                      .amsgrad = k["amsgrad"].get<bool>(), .weight_decay = wd,
                                                      .clipnorm = cn, .clipvalue = cv, .global_clipnorm = gcn});
  if (type == "AdamW")
    return std::make_unique<AdamW>(params, AdamWOptions{.learning_rate = lr, .weight_decay = *wd,
                                                        .beta_1 = k["beta_1"].get<float>(), .beta_2 = k["beta_2"].get<float>(),
                                                        .epsilon = k["epsilon"].get<float>(), .amsgrad = k["amsgrad"].get<bool>(),
                                                        .clipnorm = cn, .clipvalue = cv, .global_clipnorm = gcn});
  if (type == "RMSprop")
    return std::make_unique<RMSprop>(params, RMSpropOptions{.learning_rate = lr, .rho = k["rho"].get<float>(),
                                                            .momentum = k["momentum"].get<float>(),
                                                            .epsilon = k["epsilon"].get<float>(), .centered = k["centered"].get<bool>(),
                                                            .weight_decay = wd, .clipnorm = cn, .clipvalue = cv, .global_clipnorm = gcn});
  if (type == "Adagrad")
    return std::make_unique<Adagrad>(params, AdagradOptions{.learning_rate = lr,
                                                            .initial_accumulator_value = k["initial_accumulator_value"].get<float>(),
                                                            .epsilon = k["epsilon"].get<float>(), .weight_decay = wd,
                                                            .clipnorm = cn, .clipvalue = cv, .global_clipnorm = gcn});
  if (type == "Adadelta")
    return std::make_unique<Adadelta>(params, AdadeltaOptions{.learning_rate = lr, .rho = k["rho"].get<float>(),
                                                              .epsilon = k["epsilon"].get<float>(), .weight_decay = wd,
                                                              .clipnorm = cn, .clipvalue = cv, .global_clipnorm = gcn});
  if (type == "Adamax")
    return std::make_unique<Adamax>(params, AdamaxOptions{.learning_rate = lr, .beta_1 = k["beta_1"].get<float>(),
                                                          .beta_2 = k["beta_2"].get<float>(), .epsilon = k["epsilon"].get<float>(),
                                                          .weight_decay = wd, .clipnorm = cn, .clipvalue = cv, .global_clipnorm = gcn});
  if (type == "Nadam")
    return std::make_unique<Nadam>(params, NadamOptions{.learning_rate = lr, .beta_1 = k["beta_1"].get<float>(),
                                                        .beta_2 = k["beta_2"].get<float>(), .epsilon = k["epsilon"].get<float>(),
                                                        .weight_decay = wd, .clipnorm = cn, .clipvalue = cv, .global_clipnorm = gcn});
  throw std::runtime_error("unknown optimizer " + type);
}

}  // namespace tapegrad::testing
