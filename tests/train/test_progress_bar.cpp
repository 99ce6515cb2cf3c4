// The progress display, captured from a stream with a fake clock and terminal width.
#include <gtest/gtest.h>

#include <sstream>

#include "fit_fixtures.h"
#include "tapegrad/optim/sgd.h"
#include "tapegrad/train/fit.h"
#include "tapegrad/train/progress_bar.h"

namespace tg = tapegrad;
using tg::Tensor;

namespace {

// fit() on 32 samples in 4 batches of 8, with a clock that advances 1 s per reading.
std::string run(bool terminal, int width, int verbose = 1, bool validate = false) {
  tg::testing::Blobs data(32);
  tg::manual_seed(2);
  tg::Sequential model({tg::Dense(2)});
  model.build({4});
  tg::SGD opt(model.parameters(), {.learning_rate = 0.1f});
  std::ostringstream out;
  auto time = std::make_shared<double>(0.0);
  tg::FitOptions o{.epochs = 2, .batch_size = 8, .shuffle = false, .verbose = verbose,
                   .progress = {.out = &out, .terminal = terminal, .terminal_width = width,
                                .clock = [time] { return *time += 1.0; }}};
  if (validate) o.validation_x = data.x, o.validation_y = data.y;
  tg::fit(model, opt, tg::losses::SparseCategoricalCrossentropy({.from_logits = true}), data.x, data.y, o);
  return out.str();
}

size_t count(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(ProgressBar, Pieces) {
  EXPECT_EQ(tg::ProgressBar::bar(0, 4, 10), "[..........]");
  EXPECT_EQ(tg::ProgressBar::bar(1, 4, 10), "[=>........]");
  EXPECT_EQ(tg::ProgressBar::bar(4, 4, 10), "[==========]");
  EXPECT_EQ(tg::ProgressBar::format_value(0.123456), "0.1235");
  EXPECT_EQ(tg::ProgressBar::format_value(0.0001234), "1.2340e-04");
  EXPECT_EQ(tg::ProgressBar::format_eta(42.4), "42s");
  EXPECT_EQ(tg::ProgressBar::format_eta(125), "2:05");
  EXPECT_EQ(tg::ProgressBar::format_eta(3725), "1:02:05");
}

TEST(ProgressBar, TerminalRedrawsOneLinePerBatch) {
  const std::string s = run(/*terminal=*/true, /*width=*/200);
  EXPECT_EQ(s.substr(0, 10), "Epoch 1/2\n");
  EXPECT_EQ(count(s, "Epoch 2/2\n"), 1u);
  // Batch 1 of 4 after 1 s (the clock read at epoch start, then at the batch): ETA 3 s.
  EXPECT_NE(s.find("\r1/4 [======>.......................] - ETA: 3s - loss: "), std::string::npos) << s;
  EXPECT_NE(s.find("\r3/4 [=====================>........] - ETA: 1s - loss: "), std::string::npos) << s;
  // The epoch's last line: 4 batches in 5 s of fake time.
  EXPECT_NE(s.find("\r4/4 [==============================] - 5s 1s/step - loss: "), std::string::npos) << s;
  EXPECT_EQ(count(s, "\r"), 2u * 5u) << "4 batch redraws and the final line per epoch";
  EXPECT_EQ(count(s, "\r4/4 [==============================] - ETA: 0s - loss: "), 2u);
  EXPECT_EQ(count(s, "\n"), 4u) << "two headers and two final lines";
}

TEST(ProgressBar, NarrowTerminalTruncatesTheRedrawnLine) {
  const std::string s = run(/*terminal=*/true, /*width=*/30);
  std::istringstream lines(s);
  for (std::string line; std::getline(lines, line, '\r');) {
    const std::string first = line.substr(0, line.find('\n'));
    if (first.find("ETA") != std::string::npos || first.find("[=") == 0) EXPECT_LE(first.size(), 29u) << first;
  }
  EXPECT_NE(s.find("\r1/4 [======>............"), std::string::npos) << s;
}

TEST(ProgressBar, NotATerminalPrintsOneLinePerEpoch) {
  const std::string s = run(/*terminal=*/false, /*width=*/80, /*verbose=*/1, /*validate=*/true);
  EXPECT_EQ(s.find('\r'), std::string::npos) << "no redraws into a file";
  EXPECT_EQ(count(s, "\n"), 4u);
  // No batch redraws read the clock: the epoch's line reads it once, 1 s after the start.
  EXPECT_EQ(count(s, "4/4 [==============================] - 1s 250ms/step - loss: "), 2u) << s;
  EXPECT_EQ(count(s, " - val_loss: "), 2u) << s;
  // verbose 2 on a terminal: the same one line per epoch.
  const std::string v2 = run(/*terminal=*/true, /*width=*/80, /*verbose=*/2);
  EXPECT_EQ(v2.find('\r'), std::string::npos);
  EXPECT_EQ(count(v2, "\n"), 4u);
  EXPECT_EQ(run(true, 80, /*verbose=*/0), "");
}
