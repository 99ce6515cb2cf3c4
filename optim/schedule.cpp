#include "tapegrad/optim/schedule.h"

#include <cmath>
#include <numbers>
#include <string>

#include "tapegrad/core/error.h"

namespace tapegrad {

namespace {

void require_positive_steps(const char* op, const char* what, int64_t steps) {
  if (steps <= 0) fail(op, std::string(what) + " must be > 0, got " + std::to_string(steps));
}

void require_finite(const char* op, const char* what, float v) {
  if (!std::isfinite(v)) fail(op, std::string(what) + " must be finite, got " + std::to_string(v));
}

// Steps are never negative in an optimizer; a direct call with one is treated as step 0.
double as_step(int64_t step) { return step < 0 ? 0.0 : static_cast<double>(step); }

}  // namespace

// Not validated here: the optimizer that takes it names itself in the error.
ConstantLearningRate::ConstantLearningRate(float value) : value_(value) {}

PiecewiseConstantDecay::PiecewiseConstantDecay(std::vector<int64_t> boundaries, std::vector<float> values)
    : boundaries_(std::move(boundaries)), values_(std::move(values)) {
  if (values_.size() != boundaries_.size() + 1)
    fail("PiecewiseConstantDecay", "needs one more value than boundaries, got " + std::to_string(boundaries_.size()) +
                                       " boundaries and " + std::to_string(values_.size()) + " values");
  for (size_t i = 1; i < boundaries_.size(); ++i)
    if (boundaries_[i] <= boundaries_[i - 1])
      fail("PiecewiseConstantDecay", "boundaries must increase, got " + std::to_string(boundaries_[i - 1]) + " then " +
                                         std::to_string(boundaries_[i]));
}

float PiecewiseConstantDecay::operator()(int64_t step) const {
  for (size_t i = 0; i < boundaries_.size(); ++i)
    if (step <= boundaries_[i]) return values_[i];
  return values_.back();
}

ExponentialDecay::ExponentialDecay(float initial, int64_t decay_steps, float rate, bool staircase)
    : initial_(initial), rate_(rate), decay_steps_(decay_steps), staircase_(staircase) {
  require_positive_steps("ExponentialDecay", "decay_steps", decay_steps);
  require_finite("ExponentialDecay", "initial_learning_rate", initial);
  require_finite("ExponentialDecay", "decay_rate", rate);
}

float ExponentialDecay::operator()(int64_t step) const {
  double p = as_step(step) / static_cast<double>(decay_steps_);
  if (staircase_) p = std::floor(p);
  return static_cast<float>(initial_ * std::pow(static_cast<double>(rate_), p));
}

InverseTimeDecay::InverseTimeDecay(float initial, int64_t decay_steps, float rate, bool staircase)
    : initial_(initial), rate_(rate), decay_steps_(decay_steps), staircase_(staircase) {
  require_positive_steps("InverseTimeDecay", "decay_steps", decay_steps);
  require_finite("InverseTimeDecay", "initial_learning_rate", initial);
  if (!(rate >= 0.0f)) fail("InverseTimeDecay", "decay_rate must be >= 0, got " + std::to_string(rate));
}

float InverseTimeDecay::operator()(int64_t step) const {
  double p = as_step(step) / static_cast<double>(decay_steps_);
  if (staircase_) p = std::floor(p);
  return static_cast<float>(initial_ / (1.0 + rate_ * p));
}

PolynomialDecay::PolynomialDecay(float initial, int64_t decay_steps, float end, float power, bool cycle)
    : initial_(initial), end_(end), power_(power), decay_steps_(decay_steps), cycle_(cycle) {
  require_positive_steps("PolynomialDecay", "decay_steps", decay_steps);
  require_finite("PolynomialDecay", "initial_learning_rate", initial);
  require_finite("PolynomialDecay", "end_learning_rate", end);
  require_finite("PolynomialDecay", "power", power);
}

float PolynomialDecay::operator()(int64_t step) const {
  double s = as_step(step), steps = static_cast<double>(decay_steps_);
  if (cycle_)
    steps *= s == 0.0 ? 1.0 : std::ceil(s / steps);  // the first multiple of decay_steps >= step
  else
    s = std::min(s, steps);
  const double p = s / steps;
  return static_cast<float>((initial_ - static_cast<double>(end_)) * std::pow(1.0 - p, static_cast<double>(power_)) + end_);
}

CosineDecay::CosineDecay(float initial, int64_t decay_steps, CosineDecayOptions options)
    : initial_(initial), decay_steps_(decay_steps), options_(options) {
  require_positive_steps("CosineDecay", "decay_steps", decay_steps);
  require_finite("CosineDecay", "initial_learning_rate", initial);
  if (options.warmup_steps < 0) fail("CosineDecay", "warmup_steps must be >= 0, got " + std::to_string(options.warmup_steps));
  if (options.warmup_target && options.warmup_steps == 0)
    fail("CosineDecay", "warmup_target is set but warmup_steps is 0");
}

float CosineDecay::operator()(int64_t step) const {
  const double decay_steps = static_cast<double>(decay_steps_), alpha = options_.alpha;
  auto decay = [&](double s, double from) {
    const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * s / decay_steps));
    return from * ((1.0 - alpha) * cosine + alpha);
  };
  double s = as_step(step);
  if (!options_.warmup_target) return static_cast<float>(decay(std::min(s, decay_steps), initial_));
  const double warmup = static_cast<double>(options_.warmup_steps), target = *options_.warmup_target;
  s = std::min(s, decay_steps + warmup);
  if (s < warmup) return static_cast<float>(initial_ + (target - initial_) * (s / warmup));
  return static_cast<float>(decay(s - warmup, target));
}

CosineDecayRestarts::CosineDecayRestarts(float initial, int64_t first_decay_steps, CosineDecayRestartsOptions options)
    : initial_(initial), first_decay_steps_(first_decay_steps), options_(options) {
  require_positive_steps("CosineDecayRestarts", "first_decay_steps", first_decay_steps);
  require_finite("CosineDecayRestarts", "initial_learning_rate", initial);
  if (!(options.t_mul > 0.0f)) fail("CosineDecayRestarts", "t_mul must be > 0, got " + std::to_string(options.t_mul));
}

float CosineDecayRestarts::operator()(int64_t step) const {
  const double t_mul = options_.t_mul, m_mul = options_.m_mul, alpha = options_.alpha;
  double fraction = as_step(step) / static_cast<double>(first_decay_steps_);
  double restarts;
  if (t_mul == 1.0) {
    restarts = std::floor(fraction);
    fraction -= restarts;
  } else {
    // Periods 1, t, t^2, ...: the restart index solves sum_{k<i} t^k <= fraction.
    restarts = std::floor(std::log(1.0 - fraction * (1.0 - t_mul)) / std::log(t_mul));
    const double done = (1.0 - std::pow(t_mul, restarts)) / (1.0 - t_mul);
    fraction = (fraction - done) / std::pow(t_mul, restarts);
  }
  const double cosine = 0.5 * std::pow(m_mul, restarts) * (1.0 + std::cos(std::numbers::pi * fraction));
  return static_cast<float>(initial_ * ((1.0 - alpha) * cosine + alpha));
}

LambdaSchedule::LambdaSchedule(std::function<float(int64_t)> fn) : fn_(std::move(fn)) {
  if (!fn_) fail("LambdaSchedule", "the function is empty");
}

LearningRate::LearningRate(float value) : schedule_(std::make_shared<ConstantLearningRate>(value)) {}

LearningRate::LearningRate(std::shared_ptr<const LearningRateSchedule> schedule) : schedule_(std::move(schedule)) {
  if (!schedule_) fail("LearningRate", "the schedule is null");
}

std::optional<float> LearningRate::constant() const {
  if (const auto* c = dynamic_cast<const ConstantLearningRate*>(schedule_.get())) return c->value();
  return std::nullopt;
}

}  // namespace tapegrad
