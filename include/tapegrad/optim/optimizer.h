#pragma once
// Optimizer: step() runs, under NoGradGuard, over the trainable parameters that have a gradient:
//   1. gradient hooks, per parameter: the weight regularizer adds its penalty's gradient; then
//      clipping, Keras' precedence: clipnorm (per tensor), else global_clipnorm, else clipvalue;
//   2. decoupled weight decay w -= w * weight_decay * lr (Keras 2.15 applies it in every
//      optimizer when weight_decay is set; AdamW sets it by default), then the update rule of the
//      subclass (SGD, Adam, ...) with its per-parameter slots;
//   3. the constraint projects the new value.
// The learning rate is evaluated at iterations() (0 during the first step), as Keras does.
// Parameters come in groups that may override every option: the shared ones below and the
// optimizer's own (beta_1, momentum, ...), as PyTorch's parameter groups do.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tapegrad/layers/parameter.h"
#include "tapegrad/optim/optimizer_state.h"
#include "tapegrad/optim/schedule.h"

namespace tapegrad {

// A set of parameters with options of their own; an unset one is the optimizer's.
struct ParamGroup {
  std::vector<ParameterPtr> parameters;
  std::optional<LearningRate> learning_rate = std::nullopt;
  std::optional<float> weight_decay = std::nullopt;
  std::optional<float> clipnorm = std::nullopt;
  std::optional<float> clipvalue = std::nullopt;
  std::optional<float> global_clipnorm = std::nullopt;  // over this group's tensors
  // The optimizer's own options by their Keras names: {{"beta_1", 0.8f}}, {{"nesterov", 1}}. An
  // unknown name, or one that cannot differ between groups (it changes the slots), is an error.
  std::map<std::string, float> options = {};
};

// The options every Keras optimizer shares. Each optimizer's options struct repeats them (so that
// designated initializers can name them) and hands them to the base class through this.
struct OptimizerConfig {
  LearningRate learning_rate = 0.001f;
  std::optional<float> weight_decay = std::nullopt;
  std::optional<float> clipnorm = std::nullopt;         // per tensor: g * c / max(||g||, c)
  std::optional<float> clipvalue = std::nullopt;        // clip(g, -c, c)
  std::optional<float> global_clipnorm = std::nullopt;  // all tensors: g * c / max(N, c)
};

// Picks the shared fields out of an optimizer's options struct.
template <class Options>
OptimizerConfig config_of(const Options& o) {
  return {o.learning_rate, o.weight_decay, o.clipnorm, o.clipvalue, o.global_clipnorm};
}

class Optimizer {
 public:
  Optimizer(std::string name, std::vector<ParamGroup> groups, OptimizerConfig config);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  const std::string& name() const { return name_; }
  void zero_grad();
  void step();

  // Completed steps (Keras' `iterations`).
  int64_t iterations() const { return iterations_; }
  // Every parameter, groups in order.
  const std::vector<ParameterPtr>& parameters() const { return parameters_; }
  const std::vector<ParamGroup>& groups() const { return groups_; }
  const OptimizerConfig& config() const { return config_; }

  // The default learning rate at the current step (what the next step() uses for groups without
  // their own), and that of group `group`.
  float learning_rate() const { return config_.learning_rate.at(iterations_); }
  float learning_rate(size_t group) const;
  // Replaces the default learning rate (a constant or a schedule); groups with their own keep it.
  void set_learning_rate(LearningRate lr);

  // A copy of the state (moments, step count, ...), and its restoration. Slots are keyed by the
  // parameters' names (as they were when the optimizer was created; they must be distinct):
  // load_state() checks the optimizer type, that the names are the same set, and every slot's
  // shape, and changes nothing when one of them does not match.
  OptimizerState state() const;
  void load_state(const OptimizerState& state);

 protected:
  // Applies the update rule to parameter `index` (its position in parameters()) in place, with the
  // learning rate of its group at this step. local_step() is Keras' iterations + 1.
  virtual void update(size_t index, Tensor& value, const Tensor& grad, float lr) = 0;
  // Runs once per step before the updates (optimizer-wide accumulators such as Nadam's).
  virtual void begin_step() {}

  int64_t local_step() const { return iterations_ + 1; }
  // Declares the per-parameter slots, created now with the parameters' shapes, filled with `init`.
  void declare_slots(std::vector<std::string> names, std::vector<float> init);
  // Declares the optimizer's own options that a group may override, with the optimizer's values,
  // and checks those and every group's with `check(values, where)`. `fixed` names the options
  // that cannot differ between groups, each with the reason. Every subclass calls it once.
  using OptionCheck = std::function<void(const std::vector<float>& values, const std::string& where)>;
  void declare_options(std::vector<std::pair<std::string, float>> defaults, const OptionCheck& check,
                       const std::map<std::string, std::string>& fixed = {});
  // Option k (in declare_options' order) for parameter `index`, from its group or the optimizer.
  float option(size_t index, size_t k) const { return group_options_[group_of_[index]][k]; }
  // Whether some group (or the optimizer) uses option k with a value for which pred holds.
  bool any_group(size_t k, const std::function<bool(float)>& pred) const;
  Tensor& slot(size_t index, size_t k) { return slots_[index][k]; }
  std::vector<double>& globals() { return globals_; }
  // Throws `name_: what must be in (low, high], got v`-style errors for the subclasses' options.
  void require(bool ok, const std::string& message) const;

 private:
  std::string name_;
  std::vector<ParamGroup> groups_;
  OptimizerConfig config_;
  std::vector<ParameterPtr> parameters_;
  std::vector<std::string> names_;  // per parameter: the state's keys
  std::vector<size_t> group_of_;    // per parameter
  std::vector<std::vector<float>> group_options_;  // per group: its own options, defaults filled in
  bool options_declared_ = false;
  std::vector<std::string> slot_names_;
  std::vector<std::vector<Tensor>> slots_;
  std::vector<double> globals_;
  int64_t iterations_ = 0;
};

}  // namespace tapegrad
