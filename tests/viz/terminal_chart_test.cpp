// d2l/viz/terminal_chart.h: braille line charts for a terminal. (The Animator drawing them on
// a terminal, and not in a pipe, is in animator_test.cpp.)
#include "d2l/viz/terminal_chart.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "support/fixtures.h"

using d2l::test::count_occurrences;

TEST(TerminalChart, RendersBrailleAxesAndALegendWithLatestValues) {
  std::vector<d2l::viz::Series> s = {{{1, 2, 3}, {0.9, 0.5, 0.25}, "-", "train loss"},
                                     {{1, 2, 3}, {0.1, 0.6, NAN}, "m--", "train acc"}};
  d2l::viz::TerminalChartOptions o;
  o.width = 30;
  o.height = 6;
  o.color = false;
  o.xlabel = "epoch";
  const std::string text = d2l::viz::render_terminal_chart(s, o);
  EXPECT_EQ(count_occurrences(text, "\n"), 6u + 3u);
  EXPECT_EQ(text.find('\033'), std::string::npos);  // no colour asked
  EXPECT_NE(text.find("train loss 0.250"), std::string::npos) << text;
  EXPECT_NE(text.find("train acc 0.600"), std::string::npos) << text;  // last finite value
  EXPECT_NE(text.find("epoch"), std::string::npos);
  EXPECT_NE(text.find("0.900"), std::string::npos);  // top of the y range
  EXPECT_NE(text.find("0.100"), std::string::npos);  // bottom
  // Some braille cells have dots (U+2801..U+28FF: E2 A0 81 .. E2 A3 BF).
  bool dots = false;
  for (std::size_t i = 0; i + 2 < text.size(); ++i)
    if (static_cast<unsigned char>(text[i]) == 0xE2 &&
        (static_cast<unsigned char>(text[i + 1]) & 0xFC) == 0xA0 &&
        !(text[i + 1] == '\xA0' && text[i + 2] == '\x80'))
      dots = true;
  EXPECT_TRUE(dots);
  o.color = true;
  EXPECT_NE(d2l::viz::render_terminal_chart(s, o).find("\033[38;5;"), std::string::npos);
}

TEST(TerminalChart, LegendWrapsToTheColumns) {
  std::vector<d2l::viz::Series> s = {{{1, 2}, {1, 2}, "-", "train loss"},
                                     {{1, 2}, {1, 2}, "-", "train acc"},
                                     {{1, 2}, {1, 2}, "-", "test acc"}};
  d2l::viz::TerminalChartOptions o;
  o.width = 20;
  o.height = 4;
  o.color = false;
  EXPECT_EQ(count_occurrences(d2l::viz::render_terminal_chart(s, o), "\n"),
            4u + 3u);  // one legend line
  o.columns = 30;
  const std::string text = d2l::viz::render_terminal_chart(s, o);
  EXPECT_EQ(count_occurrences(text, "\n"), 4u + 2u + 3u);  // one entry a line
  EXPECT_NE(text.find("test acc 2.000"), std::string::npos);
}
