#pragma once
// Learning-rate schedules: functions of the optimizer's step count (Keras' `iterations`, 0 at the
// first step), as keras.optimizers.schedules. A schedule holds no position of its own: the
// optimizer evaluates it at its iteration count, so restoring `iterations` restores the schedule.
// `LearningRate` is what an optimizer option takes: a constant, a schedule, or a callable.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace tapegrad {

class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  // The learning rate at step `step` (>= 0).
  virtual float operator()(int64_t step) const = 0;
  virtual std::string name() const = 0;
};

// Always `value`.
class ConstantLearningRate : public LearningRateSchedule {
 public:
  explicit ConstantLearningRate(float value);
  float operator()(int64_t) const override { return value_; }
  std::string name() const override { return "Constant"; }
  float value() const { return value_; }

 private:
  float value_;
};

// values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <= boundaries[i],
// values.back() after the last boundary (Keras' PiecewiseConstantDecay). Needs
// values.size() == boundaries.size() + 1 and increasing boundaries.
class PiecewiseConstantDecay : public LearningRateSchedule {
 public:
  PiecewiseConstantDecay(std::vector<int64_t> boundaries, std::vector<float> values);
  float operator()(int64_t step) const override;
  std::string name() const override { return "PiecewiseConstantDecay"; }

 private:
  std::vector<int64_t> boundaries_;
  std::vector<float> values_;
};

// initial * rate^(step / decay_steps); staircase floors the exponent.
class ExponentialDecay : public LearningRateSchedule {
 public:
  ExponentialDecay(float initial_learning_rate, int64_t decay_steps, float decay_rate, bool staircase = false);
  float operator()(int64_t step) const override;
  std::string name() const override { return "ExponentialDecay"; }

 private:
  float initial_, rate_;
  int64_t decay_steps_;
  bool staircase_;
};

// initial / (1 + rate * step / decay_steps); staircase floors step / decay_steps.
class InverseTimeDecay : public LearningRateSchedule {
 public:
  InverseTimeDecay(float initial_learning_rate, int64_t decay_steps, float decay_rate, bool staircase = false);
  float operator()(int64_t step) const override;
  std::string name() const override { return "InverseTimeDecay"; }

 private:
  float initial_, rate_;
  int64_t decay_steps_;
  bool staircase_;
};

// (initial - end) * (1 - step / decay_steps)^power + end, with step capped at decay_steps; with
// cycle, decay_steps grows to the next multiple of itself above step instead (Keras' rule).
class PolynomialDecay : public LearningRateSchedule {
 public:
  PolynomialDecay(float initial_learning_rate, int64_t decay_steps, float end_learning_rate = 1e-4f,
                  float power = 1.0f, bool cycle = false);
  float operator()(int64_t step) const override;
  std::string name() const override { return "PolynomialDecay"; }

 private:
  float initial_, end_, power_;
  int64_t decay_steps_;
  bool cycle_;
};

struct CosineDecayOptions {
  float alpha = 0.0f;                         // the floor, as a fraction of the peak
  std::optional<float> warmup_target = {};    // linear warm-up from initial to this, then decay
  int64_t warmup_steps = 0;
};

// Keras 2.15's CosineDecay: peak * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha),
// s = min(step, decay_steps), peak = initial. With a warm-up target, the rate first rises linearly
// from initial to warmup_target over warmup_steps, then decays from warmup_target (s counts from
// the end of the warm-up).
class CosineDecay : public LearningRateSchedule {
 public:
  CosineDecay(float initial_learning_rate, int64_t decay_steps, CosineDecayOptions options = {});
  float operator()(int64_t step) const override;
  std::string name() const override { return "CosineDecay"; }

 private:
  float initial_;
  int64_t decay_steps_;
  CosineDecayOptions options_;
};

struct CosineDecayRestartsOptions {
  float t_mul = 2.0f;  // each period is t_mul times longer than the previous one
  float m_mul = 1.0f;  // each restart's peak is m_mul times the previous one
  float alpha = 0.0f;
};

// SGDR (Loshchilov & Hutter), Keras' CosineDecayRestarts.
class CosineDecayRestarts : public LearningRateSchedule {
 public:
  CosineDecayRestarts(float initial_learning_rate, int64_t first_decay_steps, CosineDecayRestartsOptions options = {});
  float operator()(int64_t step) const override;
  std::string name() const override { return "CosineDecayRestarts"; }

 private:
  float initial_;
  int64_t first_decay_steps_;
  CosineDecayRestartsOptions options_;
};

// A user's function of the step.
class LambdaSchedule : public LearningRateSchedule {
 public:
  explicit LambdaSchedule(std::function<float(int64_t)> fn);
  float operator()(int64_t step) const override { return fn_(step); }
  std::string name() const override { return "Lambda"; }

 private:
  std::function<float(int64_t)> fn_;
};

// An optimizer's learning rate: `0.01f`, `ExponentialDecay(0.1f, 1000, 0.96f)` or
// `[](int64_t step) { return ...; }`.
class LearningRate {
 public:
  LearningRate(float value);  // NOLINT: implicit, so options read `.learning_rate = 0.01f`
  LearningRate(std::shared_ptr<const LearningRateSchedule> schedule);  // NOLINT
  template <class S, std::enable_if_t<std::is_base_of_v<LearningRateSchedule, std::decay_t<S>>, int> = 0>
  LearningRate(S schedule) : schedule_(std::make_shared<std::decay_t<S>>(std::move(schedule))) {}  // NOLINT
  template <class F, std::enable_if_t<!std::is_base_of_v<LearningRateSchedule, std::decay_t<F>> &&
                                          std::is_invocable_r_v<float, F, int64_t> && !std::is_arithmetic_v<F>,
                                      int> = 0>
  LearningRate(F fn) : schedule_(std::make_shared<LambdaSchedule>(std::move(fn))) {}  // NOLINT

  float at(int64_t step) const { return (*schedule_)(step); }
  // The constant's value, or nothing when a schedule drives the rate.
  std::optional<float> constant() const;
  const LearningRateSchedule& schedule() const { return *schedule_; }

 private:
  std::shared_ptr<const LearningRateSchedule> schedule_;
};

}  // namespace tapegrad
