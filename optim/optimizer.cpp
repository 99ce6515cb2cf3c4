#include "tapegrad/optim/optimizer.h"

#include "optim/eigen.h"
#include <cmath>
#include <map>
#include <set>

#include "tapegrad/autograd/tape.h"
#include "tapegrad/core/error.h"
#include "tapegrad/optim/clipping.h"
#include "optim/options_check.h"

namespace tapegrad {

namespace {

void check_positive(const std::string& op, const char* what, const std::optional<float>& v) {
  if (v && !(*v > 0.0f && std::isfinite(*v))) fail(op, std::string(what) + " must be finite and > 0, got " + format_number(*v));
}

void check_weight_decay(const std::string& op, const std::optional<float>& wd) {
  if (wd && !(*wd >= 0.0f && std::isfinite(*wd))) fail(op, "weight_decay must be finite and >= 0, got " + format_number(*wd));
}

void check_learning_rate(const std::string& op, const LearningRate& lr) {
  const float at0 = lr.at(0);
  if (!(at0 >= 0.0f) || !std::isfinite(at0))
    fail(op, "learning_rate must be finite and >= 0, got " + format_number(at0) + " (" + lr.schedule().name() + " at step 0)");
}

}  // namespace

Optimizer::Optimizer(std::string name, std::vector<ParamGroup> groups, OptimizerConfig config)
    : name_(std::move(name)), groups_(std::move(groups)), config_(std::move(config)) {
  std::set<const Parameter*> seen;
  std::map<std::string, size_t> by_name;
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (const auto& p : groups_[g].parameters) {
      const size_t i = parameters_.size();
      if (!p || !p->var.defined())
        fail("Optimizer", name_ + ": parameter " + std::to_string(i) + " is null or undefined (was the model built?)");
      if (!seen.insert(p.get()).second) fail("Optimizer", name_ + ": parameter '" + p->name + "' is given twice");
      // The state is saved and restored by these names, so they must tell the parameters apart.
      if (const auto [it, fresh] = by_name.emplace(p->name, i); !fresh)
        fail("Optimizer", name_ + ": parameters " + std::to_string(it->second) + " and " + std::to_string(i) +
                              " are both named '" + p->name + "'; its state is kept by name, so give the layers " +
                              "distinct names or put the models in one parent model and take its parameters()");
      parameters_.push_back(p);
      names_.push_back(p->name);
      group_of_.push_back(g);
    }
    const ParamGroup& group = groups_[g];
    const std::string where = name_ + " (group " + std::to_string(g) + ")";
    check_weight_decay(where, group.weight_decay);
    if (group.learning_rate) check_learning_rate(where, *group.learning_rate);
    check_positive(where, "clipnorm", group.clipnorm);
    check_positive(where, "clipvalue", group.clipvalue);
    check_positive(where, "global_clipnorm", group.global_clipnorm);
    const auto clipnorm = group.clipnorm ? group.clipnorm : config_.clipnorm;
    const auto global = group.global_clipnorm ? group.global_clipnorm : config_.global_clipnorm;
    if (clipnorm && global && (group.clipnorm || group.global_clipnorm))
      fail(where, "clipnorm (" + format_number(*clipnorm) + ") and global_clipnorm (" + format_number(*global) +
                      ") cannot both apply (as in Keras); the group sets one while the optimizer sets the other");
  }
  // The usual cause is a lazily built model: its weights exist only after build() or a first call.
  if (parameters_.empty())
    fail("Optimizer", name_ + " got an empty parameter list; build the model (model.build(input_shape)) before "
                              "creating the optimizer");
  check_learning_rate(name_, config_.learning_rate);
  check_weight_decay(name_, config_.weight_decay);
  check_positive(name_, "clipnorm", config_.clipnorm);
  check_positive(name_, "clipvalue", config_.clipvalue);
  check_positive(name_, "global_clipnorm", config_.global_clipnorm);
  if (config_.clipnorm && config_.global_clipnorm)
    fail(name_, "clipnorm (" + format_number(*config_.clipnorm) + ") and global_clipnorm (" + format_number(*config_.global_clipnorm) +
                    ") cannot both be set (as in Keras); choose one");
  slots_.resize(parameters_.size());
}

float Optimizer::learning_rate(size_t group) const {
  if (group >= groups_.size())
    fail(name_ + "::learning_rate", "group " + std::to_string(group) + " out of range: " +
                                        std::to_string(groups_.size()) + " groups");
  const auto& own = groups_[group].learning_rate;
  return own ? own->at(iterations_) : learning_rate();
}

void Optimizer::set_learning_rate(LearningRate lr) {
  check_learning_rate(name_, lr);
  config_.learning_rate = std::move(lr);
}

void Optimizer::declare_slots(std::vector<std::string> names, std::vector<float> init) {
  slot_names_ = std::move(names);
  for (size_t i = 0; i < parameters_.size(); ++i) {
    slots_[i].clear();
    for (float v : init) slots_[i].push_back(Tensor::full(parameters_[i]->var.shape(), v));
  }
}

void Optimizer::declare_options(std::vector<std::pair<std::string, float>> defaults, const OptionCheck& check,
                                const std::map<std::string, std::string>& fixed) {
  std::vector<float> base;
  for (const auto& [n, v] : defaults) base.push_back(v);
  check(base, name_);
  group_options_.assign(groups_.size(), base);
  for (size_t g = 0; g < groups_.size(); ++g) {
    const std::string where = name_ + " (group " + std::to_string(g) + ")";
    for (const auto& [key, value] : groups_[g].options) {
      if (const auto it = fixed.find(key); it != fixed.end()) fail(where, "option '" + key + "' cannot differ between groups: " + it->second);
      size_t k = 0;
      while (k < defaults.size() && defaults[k].first != key) ++k;
      if (k == defaults.size()) {
        std::string known = "learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm (fields of ParamGroup)";
        for (const auto& [n, v] : defaults) known += ", " + n;
        fail(where, "unknown option '" + key + "'; a group may set: " + known);
      }
      group_options_[g][k] = value;
    }
    check(group_options_[g], where);
  }
  options_declared_ = true;
}

bool Optimizer::any_group(size_t k, const std::function<bool(float)>& pred) const {
  for (const auto& values : group_options_)
    if (pred(values.at(k))) return true;
  return false;
}

void Optimizer::require(bool ok, const std::string& message) const {
  if (!ok) fail(name_, message);
}

void Optimizer::zero_grad() {
  for (auto& p : parameters_) p->var.zero_grad();
}

void Optimizer::step() {
  NoGradGuard no_grad;
  // Stage 1: the gradients this step applies, copied only when a hook changes them (the
  // parameter's own grad stays what backward() produced, for the user to read).
  if (!options_declared_) fail(name_, "the optimizer did not declare its options (a bug in the subclass)");
  std::vector<size_t> active;
  std::vector<Tensor> grads;
  // Clipping per parameter from its group or the optimizer, Keras' precedence: clipnorm, else
  // global_clipnorm (over the tensors that share the setting: a group's own, or all the others),
  // else clipvalue.
  auto pick = [&](size_t i, std::optional<float> ParamGroup::*field, const std::optional<float>& fallback) {
    const auto& own = groups_[group_of_[i]].*field;
    return own ? own : fallback;
  };
  // The global-norm set each active gradient is clipped with: its group's own (the group index),
  // the optimizer's (-1), or none.
  constexpr long kNoGlobalClip = -2;
  std::vector<long> global_set;
  std::map<long, float> global_limit;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    Parameter& p = *parameters_[i];
    if (!p.trainable || !p.var.grad().defined()) continue;
    const Tensor& raw = p.var.grad();
    if (raw.shape() != p.var.shape())
      fail("Optimizer::step", name_ + ": gradient " + raw.shape().str() + " of '" + p.name +
                                  "' does not match its shape " + p.var.shape().str());
    const auto clipnorm = pick(i, &ParamGroup::clipnorm, config_.clipnorm);
    const auto global = pick(i, &ParamGroup::global_clipnorm, config_.global_clipnorm);
    const auto clipvalue = pick(i, &ParamGroup::clipvalue, config_.clipvalue);
    Tensor grad = (p.regularizer || clipnorm || global || clipvalue) ? raw.clone() : raw;
    if (p.regularizer) p.regularizer->add_gradient(p.var.value(), grad);
    long set = kNoGlobalClip;
    if (clipnorm) {
      clip_by_norm_(grad, *clipnorm);
    } else if (global) {
      set = groups_[group_of_[i]].global_clipnorm ? static_cast<long>(group_of_[i]) : -1;
      global_limit[set] = *global;
    } else if (clipvalue) {
      clip_by_value_(grad, *clipvalue);
    }
    active.push_back(i);
    grads.push_back(std::move(grad));
    global_set.push_back(set);
  }
  std::map<long, std::vector<Tensor*>> sets;
  for (size_t k = 0; k < active.size(); ++k)
    if (global_set[k] != kNoGlobalClip) sets[global_set[k]].push_back(&grads[k]);
  for (auto& [set, tensors] : sets) clip_by_global_norm_(tensors, global_limit.at(set));

  // Stage 2: decoupled weight decay with the gradient computed before it (Keras), then the rule.
  begin_step();
  for (size_t k = 0; k < active.size(); ++k) {
    const size_t i = active[k];
    const ParamGroup& group = groups_[group_of_[i]];
    const float lr = group.learning_rate ? group.learning_rate->at(iterations_) : learning_rate();
    const std::optional<float> wd = group.weight_decay ? group.weight_decay : config_.weight_decay;
    Tensor& value = parameters_[i]->var.value();
    if (wd && *wd != 0.0f) {
      Eigen::Map<Eigen::ArrayXf> w(value.data(), value.numel());
      w -= w * (*wd * lr);
    }
    update(i, value, grads[k], lr);
    value.mark_modified();  // a graph recorded before this step no longer matches the weight
    // Stage 3.
    if (parameters_[i]->constraint) parameters_[i]->constraint->apply(value);
  }
  ++iterations_;
}

OptimizerState Optimizer::state() const {
  OptimizerState s;
  s.optimizer = name_;
  s.iterations = iterations_;
  s.slot_names = slot_names_;
  s.globals = globals_;
  s.learning_rate = config_.learning_rate.constant();
  for (size_t i = 0; i < parameters_.size(); ++i) {
    s.parameter_names.push_back(names_[i]);
    std::vector<Tensor> copies;
    for (const Tensor& t : slots_[i]) copies.push_back(t.clone());
    s.slots.push_back(std::move(copies));
  }
  return s;
}

void Optimizer::load_state(const OptimizerState& s) {
  const std::string op = name_ + "::load_state";
  if (s.optimizer != name_) fail(op, "the state is of optimizer '" + s.optimizer + "', expected '" + name_ + "'");
  if (s.iterations < 0) fail(op, "iterations must be >= 0, got " + std::to_string(s.iterations));
  if (s.slots.size() != parameters_.size())
    fail(op, "the state holds " + std::to_string(s.slots.size()) + " parameters, this optimizer has " +
                 std::to_string(parameters_.size()));
  if (s.parameter_names.size() != s.slots.size())
    fail(op, "the state is inconsistent: " + std::to_string(s.parameter_names.size()) + " names for " +
                 std::to_string(s.slots.size()) + " parameters");
  if (s.slot_names != slot_names_) {
    std::string got, want;
    for (const auto& n : s.slot_names) got += (got.empty() ? "" : ", ") + n;
    for (const auto& n : slot_names_) want += (want.empty() ? "" : ", ") + n;
    fail(op, "the state has slots {" + got + "}, expected {" + want + "} (different options?)");
  }
  if (s.globals.size() != globals_.size())
    fail(op, "the state has " + std::to_string(s.globals.size()) + " global accumulators, expected " +
                 std::to_string(globals_.size()));
  // Slots are matched by parameter name, never by position: a model whose layers were created in
  // another order still gets each parameter's own moments.
  std::map<std::string, size_t> in_state;
  for (size_t j = 0; j < s.parameter_names.size(); ++j)
    if (!in_state.emplace(s.parameter_names[j], j).second)
      fail(op, "the state names parameter '" + s.parameter_names[j] + "' twice");
  std::vector<std::string> missing, extra;
  for (const auto& n : names_)
    if (!in_state.count(n)) missing.push_back(n);
  {
    std::set<std::string> mine(names_.begin(), names_.end());
    for (const auto& n : s.parameter_names)
      if (!mine.count(n)) extra.push_back(n);
  }
  if (!missing.empty() || !extra.empty()) {
    auto list = [](const std::vector<std::string>& v) {
      std::string out;
      for (size_t i = 0; i < v.size() && i < 8; ++i) out += (i ? ", '" : "'") + v[i] + "'";
      if (v.size() > 8) out += ", ... (" + std::to_string(v.size()) + " in all)";
      return out.empty() ? std::string("none") : out;
    };
    fail(op, "the state's parameters do not match this optimizer's: missing from the state: " + list(missing) +
                 "; in the state but not here: " + list(extra));
  }
  std::vector<size_t> source(parameters_.size());
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const size_t j = in_state.at(names_[i]);
    source[i] = j;
    if (s.slots[j].size() != slots_[i].size())
      fail(op, "parameter " + std::to_string(i) + " ('" + names_[i] + "') has " + std::to_string(s.slots[j].size()) +
                   " slots in the state, expected " + std::to_string(slots_[i].size()));
    for (size_t k = 0; k < slots_[i].size(); ++k)
      if (!s.slots[j][k].defined() || s.slots[j][k].shape() != slots_[i][k].shape())
        fail(op, "slot '" + slot_names_[k] + "' of parameter " + std::to_string(i) + " ('" + names_[i] + "') is " +
                     (s.slots[j][k].defined() ? s.slots[j][k].shape().str() : std::string("undefined")) +
                     " in the state, expected " + slots_[i][k].shape().str());
  }
  if (s.learning_rate) check_learning_rate(op, *s.learning_rate);
  // Everything matched: only now change the optimizer.
  for (size_t i = 0; i < parameters_.size(); ++i)
    for (size_t k = 0; k < slots_[i].size(); ++k) slots_[i][k] = s.slots[source[i]][k].clone();
  globals_ = s.globals;
  iterations_ = s.iterations;
  if (s.learning_rate) config_.learning_rate = *s.learning_rate;
}

}  // namespace tapegrad
