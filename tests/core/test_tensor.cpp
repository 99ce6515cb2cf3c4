// Tensor: factories, element access, views, copies, alignment, printing and random tensors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "../error_matchers.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/rng.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/core/tensor.h"

namespace tg = tapegrad;

namespace {


std::string to_string(const tg::Tensor& t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

// The numbers printed inside "tensor(...)" before ", shape=", as strings.
std::vector<std::string> printed_numbers(const std::string& s) {
  const size_t begin = s.find("tensor(") == 0 ? 7 : 0;
  const std::string body = s.substr(begin, s.find("shape=") - begin);
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (cur.find_first_of("0123456789") != std::string::npos) out.push_back(cur);  // skips "..."
    cur.clear();
  };
  for (char c : body) {
    if ((c >= '0' && c <= '9') || c == '.' || c == '-' || c == 'e' || c == '+')
      cur += c;
    else
      flush();
  }
  flush();
  return out;
}

bool aligned64(const float* p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }

}  // namespace

TEST(Tensor, DefaultIsUndefined) {
  tg::Tensor t;
  EXPECT_FALSE(t.defined());
  EXPECT_EQ(t.data(), nullptr);
  EXPECT_TRUE(t.to_vector().empty());
  EXPECT_FALSE(t.clone().defined());
  EXPECT_EQ(to_string(t), "tensor(undefined)");
}

TEST(Tensor, Zeros) {
  tg::Tensor t = tg::Tensor::zeros({2, 3});
  EXPECT_TRUE(t.defined());
  EXPECT_EQ(t.shape(), (tg::Shape{2, 3}));
  EXPECT_EQ(t.rank(), 2);
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.dim(0), 2);
  EXPECT_EQ(t.dim(-1), 3);
  for (float v : t.to_vector()) EXPECT_EQ(v, 0.0f);
  EXPECT_EQ(t.to_vector().size(), 6u);
}

TEST(Tensor, OnesAndFull) {
  tg::Tensor o = tg::Tensor::ones({4});
  EXPECT_EQ(o.to_vector(), (std::vector<float>{1, 1, 1, 1}));
  tg::Tensor f = tg::Tensor::full({2, 2, 2}, -2.5f);
  EXPECT_EQ(f.numel(), 8);
  for (float v : f.to_vector()) EXPECT_EQ(v, -2.5f);
  tg::Tensor e = tg::Tensor::full({0, 5}, 7.0f);
  EXPECT_EQ(e.numel(), 0);
  EXPECT_TRUE(e.defined());
  EXPECT_TRUE(e.to_vector().empty());
}

TEST(Tensor, Scalar) {
  tg::Tensor s = tg::Tensor::scalar(3.25f);
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.shape(), tg::Shape{});
  EXPECT_EQ(s.item(), 3.25f);
  EXPECT_EQ(s.at({}), 3.25f);
}

TEST(Tensor, From) {
  tg::Tensor t = tg::Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(t.to_vector(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(t.at({0, 0}), 1.0f);
  EXPECT_EQ(t.at({0, 2}), 3.0f);
  EXPECT_EQ(t.at({1, 0}), 4.0f);
  EXPECT_EQ(t.at({1, 2}), 6.0f);
  std::vector<float> src = {0.5f, -1.5f};
  tg::Tensor v = tg::Tensor::from({2}, src);
  src[0] = 99.0f;  // the tensor holds a copy
  EXPECT_EQ(v.to_vector(), (std::vector<float>{0.5f, -1.5f}));
}

TEST(Tensor, FromSizeMismatch) {
  EXPECT_TG_ERROR(tg::Tensor::from({2, 3}, {1, 2, 3, 4, 5}), "Tensor::from", "(2, 3)", "5", "6");
  EXPECT_TG_ERROR(tg::Tensor::from({2}, std::vector<float>{1, 2, 3}), "Tensor::from", "(2,)", "3");
  EXPECT_TG_ERROR(tg::Tensor::from(tg::Shape{}, std::vector<float>{}), "Tensor::from", "()");
}

TEST(Tensor, ArangeInteger) {
  tg::Tensor a = tg::Tensor::arange(5);
  EXPECT_EQ(a.shape(), tg::Shape{5});
  EXPECT_EQ(a.to_vector(), (std::vector<float>{0, 1, 2, 3, 4}));
  tg::Tensor b = tg::Tensor::arange(2.0f, 6.0f);
  EXPECT_EQ(b.to_vector(), (std::vector<float>{2, 3, 4, 5}));
  tg::Tensor c = tg::Tensor::arange(5.0f, 0.0f, -1.0f);
  EXPECT_EQ(c.to_vector(), (std::vector<float>{5, 4, 3, 2, 1}));
  tg::Tensor d = tg::Tensor::arange(0.0f, 10.0f, 3.0f);
  EXPECT_EQ(d.to_vector(), (std::vector<float>{0, 3, 6, 9}));
}

TEST(Tensor, ArangeFractionalStep) {
  tg::Tensor a = tg::Tensor::arange(0.0f, 1.0f, 0.25f);
  EXPECT_EQ(a.to_vector(), (std::vector<float>{0.0f, 0.25f, 0.5f, 0.75f}));
  // numpy.arange(1, 2, 0.3) -> [1.0, 1.3, 1.6, 1.9]
  tg::Tensor b = tg::Tensor::arange(1.0f, 2.0f, 0.3f);
  ASSERT_EQ(b.numel(), 4);
  const float expect_b[] = {1.0f, 1.3f, 1.6f, 1.9f};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(b.data()[i], expect_b[i], 1e-6f) << i;
  // numpy.arange(0, 1, 0.1) -> [0.0, 0.1, ..., 0.9]: 1 / 0.1f = 9.99999985, so 10 values.
  tg::Tensor c = tg::Tensor::arange(0.0f, 1.0f, 0.1f);
  ASSERT_EQ(c.numel(), 10);
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(c.data()[i], 0.1 * i, 1e-6) << i;
  // numpy.arange(0, 0.35, 0.1) -> [0.0, 0.1, 0.2, 0.3]
  tg::Tensor c2 = tg::Tensor::arange(0.0f, 0.35f, 0.1f);
  ASSERT_EQ(c2.numel(), 4);
  EXPECT_NEAR(c2.data()[3], 0.3f, 1e-6f);
  // A fractional negative step: numpy.arange(1, 0, -0.25) -> [1, 0.75, 0.5, 0.25]
  EXPECT_EQ(tg::Tensor::arange(1.0f, 0.0f, -0.25f).to_vector(), (std::vector<float>{1.0f, 0.75f, 0.5f, 0.25f}));
  // numpy.arange(-1, 1, 0.5) -> [-1, -0.5, 0, 0.5]
  tg::Tensor d = tg::Tensor::arange(-1.0f, 1.0f, 0.5f);
  EXPECT_EQ(d.to_vector(), (std::vector<float>{-1.0f, -0.5f, 0.0f, 0.5f}));
  // numpy.arange(0, 1.05, 0.5) -> [0, 0.5, 1.0]
  EXPECT_EQ(tg::Tensor::arange(0.0f, 1.05f, 0.5f).to_vector(), (std::vector<float>{0.0f, 0.5f, 1.0f}));
}

TEST(Tensor, ArangeEmpty) {
  tg::Tensor a = tg::Tensor::arange(3.0f, 3.0f);
  EXPECT_EQ(a.shape(), tg::Shape{0});
  EXPECT_EQ(a.numel(), 0);
  EXPECT_EQ(tg::Tensor::arange(5.0f, 1.0f).shape(), tg::Shape{0});
  EXPECT_EQ(tg::Tensor::arange(1.0f, 5.0f, -1.0f).shape(), tg::Shape{0});
  EXPECT_EQ(tg::Tensor::arange(0).shape(), tg::Shape{0});
}

TEST(Tensor, ArangeErrors) {
  EXPECT_TG_ERROR(tg::Tensor::arange(0.0f, 1.0f, 0.0f), "Tensor::arange", "step");
  EXPECT_TG_ERROR(tg::Tensor::arange(0.0f, INFINITY, 1.0f), "Tensor::arange", "finite");
  EXPECT_TG_ERROR(tg::Tensor::arange(NAN, 1.0f, 1.0f), "Tensor::arange", "finite");
}

TEST(Tensor, AtReadWrite) {
  tg::Tensor t = tg::Tensor::zeros({2, 3, 4});
  t.at({1, 2, 3}) = 5.0f;
  t.at({0, 1, 2}) = -1.0f;
  // Row-major offsets: 1*12 + 2*4 + 3 = 23 and 0*12 + 1*4 + 2 = 6.
  EXPECT_EQ(t.data()[23], 5.0f);
  EXPECT_EQ(t.data()[6], -1.0f);
  const tg::Tensor& c = t;
  EXPECT_EQ(c.at({1, 2, 3}), 5.0f);
  int nonzero = 0;
  for (float v : t.to_vector()) nonzero += v != 0.0f;
  EXPECT_EQ(nonzero, 2);
}

TEST(Tensor, AtBoundsErrors) {
  tg::Tensor t = tg::Tensor::zeros({2, 3});
  const tg::Tensor& c = t;
  EXPECT_TG_ERROR(t.at({2, 0}), "Tensor::at", "index 2", "dim 0", "(2, 3)");
  EXPECT_TG_ERROR(t.at({0, 3}), "Tensor::at", "index 3", "dim 1", "(2, 3)");
  EXPECT_TG_ERROR(c.at({-1, 0}), "Tensor::at", "index -1", "(2, 3)");
  EXPECT_TG_ERROR(c.at({0}), "Tensor::at", "1 indices", "(2, 3)");
  EXPECT_TG_ERROR(c.at({0, 0, 0}), "Tensor::at", "3 indices", "(2, 3)");
  tg::Tensor undefined;
  EXPECT_TG_ERROR(undefined.at({0}), "Tensor::at", "undefined");
}

TEST(Tensor, Item) {
  EXPECT_EQ(tg::Tensor::full({1, 1, 1}, 4.0f).item(), 4.0f);
  EXPECT_EQ(tg::Tensor::from({1}, {-7.0f}).item(), -7.0f);
  EXPECT_TG_ERROR(tg::Tensor::zeros({2, 3}).item(), "Tensor::item", "(2, 3)");
  EXPECT_TG_ERROR(tg::Tensor::zeros({0}).item(), "Tensor::item", "(0,)");
  EXPECT_TG_ERROR(tg::Tensor().item(), "Tensor::item");
}

TEST(Tensor, CopiesShareStorage) {
  tg::Tensor a = tg::Tensor::zeros({3});
  tg::Tensor b = a;  // a handle copy, not a deep copy
  b.data()[1] = 8.0f;
  EXPECT_EQ(a.data()[1], 8.0f);
  EXPECT_TRUE(a.shares_storage(b));
}

TEST(Tensor, ReshapeIsAView) {
  tg::Tensor a = tg::Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
  tg::Tensor b = a.reshape({3, 2});
  EXPECT_EQ(b.shape(), (tg::Shape{3, 2}));
  EXPECT_TRUE(a.shares_storage(b));
  EXPECT_EQ(a.data(), b.data());
  EXPECT_EQ(b.at({2, 1}), 6.0f);
  EXPECT_EQ(b.at({1, 0}), 3.0f);
  b.at({1, 0}) = 30.0f;  // visible through a
  EXPECT_EQ(a.at({0, 2}), 30.0f);
  a.at({1, 1}) = 50.0f;  // visible through b (offset 4 = (2, 0) in b)
  EXPECT_EQ(b.at({2, 0}), 50.0f);
  a.fill_(9.0f);  // fill_ through one view is visible in the other
  for (float v : b.to_vector()) EXPECT_EQ(v, 9.0f);
  EXPECT_EQ(a.shape(), (tg::Shape{2, 3}));  // a itself keeps its shape
}

TEST(Tensor, ReshapeVariants) {
  tg::Tensor a = tg::Tensor::arange(24);
  EXPECT_EQ(a.reshape(tg::Shape{2, 3, 4}).shape(), (tg::Shape{2, 3, 4}));
  EXPECT_EQ(a.reshape(std::vector<int64_t>{4, 6}).shape(), (tg::Shape{4, 6}));
  EXPECT_EQ(a.reshape({-1, 4}).shape(), (tg::Shape{6, 4}));
  EXPECT_EQ(a.reshape({2, -1, 3}).shape(), (tg::Shape{2, 4, 3}));
  EXPECT_EQ(a.reshape({-1}).shape(), (tg::Shape{24}));
  EXPECT_EQ(a.reshape({1, 24, 1}).shape(), (tg::Shape{1, 24, 1}));
  EXPECT_EQ(tg::Tensor::scalar(2.0f).reshape({1, 1}).shape(), (tg::Shape{1, 1}));
  EXPECT_EQ(tg::Tensor::from({1}, {2.0f}).reshape(tg::Shape{}).shape(), tg::Shape{});
  EXPECT_EQ(tg::Tensor::zeros({0, 3}).reshape({-1, 3}).shape(), (tg::Shape{0, 3}));
  // Values keep their row-major order.
  tg::Tensor r = a.reshape({2, -1, 3});
  EXPECT_EQ(r.at({1, 2, 1}), 1 * 12 + 2 * 3 + 1);
}

TEST(Tensor, ReshapeErrors) {
  tg::Tensor a = tg::Tensor::zeros({2, 3});
  EXPECT_TG_ERROR(a.reshape({4, 2}), "reshape", "(2, 3)", "(4, 2)");
  EXPECT_TG_ERROR(a.reshape(tg::Shape{7}), "reshape", "(2, 3)", "(7,)");
  EXPECT_TG_ERROR(a.reshape({-1, -1}), "reshape", "-1", "(2, 3)");
  EXPECT_TG_ERROR(a.reshape({-1, 4}), "reshape", "-1", "(2, 3)");
  EXPECT_TG_ERROR(a.reshape({-2, 3}), "reshape", "-2", "(2, 3)");
  EXPECT_TG_ERROR(a.reshape({0, -1}), "reshape", "(2, 3)");
}

TEST(Tensor, CloneIsDeep) {
  tg::Tensor a = tg::Tensor::from({2, 2}, {1, 2, 3, 4});
  tg::Tensor b = a.clone();
  EXPECT_FALSE(a.shares_storage(b));
  EXPECT_NE(a.data(), b.data());
  EXPECT_EQ(b.shape(), a.shape());
  EXPECT_EQ(b.to_vector(), a.to_vector());
  b.at({0, 0}) = 100.0f;
  EXPECT_EQ(a.at({0, 0}), 1.0f);
  a.at({1, 1}) = -4.0f;
  EXPECT_EQ(b.at({1, 1}), 4.0f);
  // Cloning a view copies the view's shape.
  tg::Tensor c = a.reshape({4}).clone();
  EXPECT_EQ(c.shape(), tg::Shape{4});
  EXPECT_FALSE(c.shares_storage(a));
}

TEST(Tensor, CopyFrom) {
  tg::Tensor dst = tg::Tensor::zeros({2, 3});
  tg::Tensor view = dst.reshape({6});
  // Equal numel but another shape is refused (a kernel in the wrong order would go in silently).
  EXPECT_TG_ERROR(dst.copy_from(tg::Tensor::arange(6)), "Tensor::copy_from", "(6,)", "(2, 3)", "reshape");
  dst.copy_from(tg::Tensor::arange(6).reshape({2, 3}));
  EXPECT_EQ(view.to_vector(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(dst.shape(), (tg::Shape{2, 3}));
  dst.copy_from(dst);  // self copy is a no-op
  EXPECT_EQ(dst.to_vector(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_TG_ERROR(dst.copy_from(tg::Tensor::zeros({5})), "Tensor::copy_from", "(5,)", "(2, 3)");
}

TEST(Tensor, DataIs64ByteAligned) {
  for (int64_t n : {0, 1, 3, 15, 16, 17, 63, 64, 65, 1000, 12345}) {
    tg::Tensor t = tg::Tensor::zeros({n});
    ASSERT_NE(t.data(), nullptr) << n;
    EXPECT_TRUE(aligned64(t.data())) << "numel " << n;
    EXPECT_TRUE(aligned64(t.clone().data())) << "clone numel " << n;
  }
  EXPECT_TRUE(aligned64(tg::Tensor::scalar(1.0f).data()));
  EXPECT_TRUE(aligned64(tg::Tensor::from({3}, {1, 2, 3}).data()));
  EXPECT_TRUE(aligned64(tg::Tensor::empty({7, 3}).data()));
  tg::Rng rng(1);
  EXPECT_TRUE(aligned64(tg::Tensor::randn({5, 7}, rng).data()));
  EXPECT_TRUE(aligned64(tg::Tensor::arange(11).data()));
}

TEST(Tensor, PrintSmall) {
  tg::Tensor t = tg::Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6});
  const std::string s = to_string(t);
  EXPECT_EQ(s.rfind("tensor(", 0), 0u) << s;
  EXPECT_NE(s.find("shape=(2, 3)"), std::string::npos) << s;
  EXPECT_EQ(s.find("..."), std::string::npos) << s;
  EXPECT_EQ(printed_numbers(s), (std::vector<std::string>{"1", "2", "3", "4", "5", "6"})) << s;
  // Two rows: two inner bracket pairs, nested in an outer one.
  EXPECT_NE(s.find("[["), std::string::npos) << s;
  EXPECT_NE(s.find("]]"), std::string::npos) << s;
}

TEST(Tensor, PrintFractionsAndNegatives) {
  const std::string s = to_string(tg::Tensor::from({3}, {-1.5f, 0.25f, 2.0f}));
  EXPECT_EQ(printed_numbers(s), (std::vector<std::string>{"-1.5", "0.25", "2"})) << s;
  EXPECT_NE(s.find("shape=(3,)"), std::string::npos) << s;
}

TEST(Tensor, PrintScalarAndEmpty) {
  const std::string s = to_string(tg::Tensor::scalar(3.5f));
  EXPECT_NE(s.find("3.5"), std::string::npos) << s;
  EXPECT_NE(s.find("shape=()"), std::string::npos) << s;
  const std::string e = to_string(tg::Tensor::zeros({0, 3}));
  EXPECT_NE(e.find("[]"), std::string::npos) << e;
  EXPECT_NE(e.find("shape=(0, 3)"), std::string::npos) << e;
}

TEST(Tensor, PrintElidesLongDims) {
  const std::string s = to_string(tg::Tensor::arange(20));
  EXPECT_NE(s.find("..."), std::string::npos) << s;
  EXPECT_NE(s.find("shape=(20,)"), std::string::npos) << s;
  EXPECT_EQ(printed_numbers(s), (std::vector<std::string>{"0", "1", "2", "17", "18", "19"})) << s;

  // A long leading dim elides whole rows: (10, 2) shows rows 0-2 and 7-9.
  const std::string r = to_string(tg::Tensor::arange(20).reshape({10, 2}));
  EXPECT_NE(r.find("..."), std::string::npos) << r;
  EXPECT_NE(r.find("shape=(10, 2)"), std::string::npos) << r;
  EXPECT_EQ(printed_numbers(r), (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "14", "15", "16", "17", "18", "19"}))
      << r;

  // Exactly 8 entries are printed whole.
  const std::string w = to_string(tg::Tensor::arange(8));
  EXPECT_EQ(w.find("..."), std::string::npos) << w;
  EXPECT_EQ(printed_numbers(w).size(), 8u) << w;
}

TEST(Tensor, PrintShapeOperator) {
  std::ostringstream os;
  os << tg::Shape{4, 5};
  EXPECT_EQ(os.str(), "(4, 5)");
}

TEST(Tensor, RandnStatistics) {
  tg::Rng rng(123);
  const int64_t n = 100000;
  tg::Tensor t = tg::Tensor::randn({n}, rng, 3.0f, 2.0f);
  double s = 0, s2 = 0;
  int within_1sd = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = t.data()[i];
    ASSERT_TRUE(std::isfinite(v)) << i;
    s += v;
    s2 += v * v;
    within_1sd += std::fabs(v - 3.0) < 2.0;
  }
  const double mean = s / n, sd = std::sqrt(s2 / n - mean * mean);
  EXPECT_NEAR(mean, 3.0, 0.03);  // standard error 2/sqrt(1e5) = 0.0063
  EXPECT_NEAR(sd, 2.0, 0.03);
  EXPECT_NEAR(within_1sd / static_cast<double>(n), 0.6827, 0.01);  // normal, not merely right moments
  tg::Tensor z = tg::Tensor::randn({n}, rng);
  double zs = 0, zs2 = 0;
  for (float v : z.to_vector()) zs += v, zs2 += static_cast<double>(v) * v;
  EXPECT_NEAR(zs / n, 0.0, 0.015);
  EXPECT_NEAR(std::sqrt(zs2 / n), 1.0, 0.015);
}

TEST(Tensor, RandStatisticsAndRange) {
  tg::Rng rng(7);
  const int64_t n = 100000;
  const float low = -2.0f, high = 3.0f;
  tg::Tensor t = tg::Tensor::rand({n}, rng, low, high);
  double s = 0, s2 = 0;
  float mn = high, mx = low;
  for (int64_t i = 0; i < n; ++i) {
    const float v = t.data()[i];
    ASSERT_GE(v, low) << i;
    ASSERT_LT(v, high) << i;
    mn = std::min(mn, v);
    mx = std::max(mx, v);
    s += v;
    s2 += static_cast<double>(v) * v;
  }
  const double mean = s / n, var = s2 / n - mean * mean;
  EXPECT_NEAR(mean, 0.5, 0.03);           // (low + high) / 2; standard error 0.0046
  EXPECT_NEAR(var, 25.0 / 12.0, 0.05);    // (high - low)^2 / 12
  EXPECT_LT(mn, low + 0.01f);             // the whole interval is used
  EXPECT_GT(mx, high - 0.01f);
  tg::Tensor u = tg::Tensor::rand({n}, rng);  // default [0, 1)
  for (float v : u.to_vector()) {
    ASSERT_GE(v, 0.0f);
    ASSERT_LT(v, 1.0f);
  }
}

TEST(Tensor, RandRejectsEmptyInterval) {
  tg::Rng rng(0);
  EXPECT_TG_ERROR(tg::Tensor::rand({3}, rng, 1.0f, 1.0f), "Tensor::rand", "low", "high");
  EXPECT_TG_ERROR(tg::Tensor::rand({3}, rng, 2.0f, 1.0f), "Tensor::rand", "low", "high");
}

TEST(Tensor, SameSeedSameTensor) {
  tg::Rng r1(42), r2(42), r3(43);
  tg::Tensor a = tg::Tensor::randn({37, 11}, r1);
  tg::Tensor b = tg::Tensor::randn({37, 11}, r2);
  tg::Tensor c = tg::Tensor::randn({37, 11}, r3);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), sizeof(float) * a.numel()));
  EXPECT_NE(0, std::memcmp(a.data(), c.data(), sizeof(float) * a.numel()));
  // The generator advances: the next draw from the same generator differs.
  tg::Tensor a2 = tg::Tensor::randn({37, 11}, r1);
  EXPECT_NE(0, std::memcmp(a.data(), a2.data(), sizeof(float) * a.numel()));
  tg::Tensor u1 = tg::Tensor::rand({100}, r1, -1.0f, 1.0f);
  tg::Tensor b2 = tg::Tensor::randn({37, 11}, r2);
  tg::Tensor u2 = tg::Tensor::rand({100}, r2, -1.0f, 1.0f);
  EXPECT_EQ(0, std::memcmp(a2.data(), b2.data(), sizeof(float) * a2.numel()));
  EXPECT_EQ(0, std::memcmp(u1.data(), u2.data(), sizeof(float) * u1.numel()));
}
