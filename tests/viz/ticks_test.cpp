#include "d2l/viz/ticks.h"

#include <gtest/gtest.h>

#include <cmath>

#include "d2l/core/error.h"

using namespace d2l::viz;

TEST(Ticks, NiceStepsAreOneTwoTwoAndAHalfOrFiveTimesAPowerOfTen) {
  EXPECT_DOUBLE_EQ(nice_step(1.0, 6), 0.2);
  EXPECT_DOUBLE_EQ(nice_step(10.0, 6), 2.0);
  EXPECT_DOUBLE_EQ(nice_step(9.0, 6), 2.0);
  EXPECT_DOUBLE_EQ(nice_step(1.0, 5), 0.25);
  EXPECT_DOUBLE_EQ(nice_step(1000.0, 3), 500.0);
  EXPECT_DOUBLE_EQ(nice_step(0.003, 4), 0.001);
  for (double span : {0.0137, 0.9, 7.3, 42.0, 1234.5, 9.99e7}) {
    for (int n : {3, 5, 6, 9}) {
      const double s = nice_step(span, n);
      const double m = s / std::pow(10.0, std::floor(std::log10(s) + 1e-12));
      EXPECT_TRUE(std::fabs(m - 1) < 1e-9 || std::fabs(m - 2) < 1e-9 || std::fabs(m - 2.5) < 1e-9 ||
                  std::fabs(m - 5) < 1e-9)
          << span << " " << n << " -> " << s;
      EXPECT_LE(span / s, n - 1 + 1e-9) << span << " " << n;
    }
  }
}

TEST(Ticks, LinearTicksStayInsideTheRangeAndAreEvenlySpaced) {
  const auto t = linear_ticks(0.0, 1.0, 6);
  ASSERT_EQ(t.size(), 6u);
  EXPECT_DOUBLE_EQ(t.front(), 0.0);
  EXPECT_NEAR(t.back(), 1.0, 1e-12);
  for (double lo : {-3.7, -0.01, 0.3, 17.0}) {
    for (double span : {0.05, 1.0, 2.1, 350.0}) {
      const auto ticks = linear_ticks(lo, lo + span, 6);
      ASSERT_GE(ticks.size(), 2u) << lo << " " << span;
      for (double v : ticks) {
        EXPECT_GE(v, lo - 1e-9 * span);
        EXPECT_LE(v, lo + span + 1e-9 * span);
      }
      for (std::size_t i = 2; i < ticks.size(); ++i)
        EXPECT_NEAR(ticks[i] - ticks[i - 1], ticks[1] - ticks[0], 1e-9 * span);
    }
  }
  EXPECT_TRUE(linear_ticks(1.0, 1.0).empty());
  EXPECT_TRUE(linear_ticks(0.0, NAN).empty());
}

TEST(Ticks, ZeroIsNeverNegative) {
  for (double v : linear_ticks(-1.0, 1.0, 5)) EXPECT_FALSE(v == 0 && std::signbit(v));
  for (const auto& s : format_ticks(linear_ticks(-0.3, 0.3, 7))) EXPECT_NE(s, "-0.0");
}

TEST(Ticks, LogTicksArePowersOfTenOrOneTwoFive) {
  const auto t = log_ticks(1.0, 1e4);
  ASSERT_EQ(t.size(), 5u);
  for (std::size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(t[i], std::pow(10.0, i), 1e-9);
  const auto wide = log_ticks(1e-10, 1e10, 8);  // 21 decades: every 3rd
  EXPECT_LE(wide.size(), 8u);
  EXPECT_GE(wide.size(), 3u);
  const auto narrow = log_ticks(1.5, 40.0);
  const std::vector<double> want = {2, 5, 10, 20};
  ASSERT_EQ(narrow.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(narrow[i], want[i], 1e-9);
  EXPECT_TRUE(log_ticks(-1.0, 10.0).empty());
  EXPECT_FALSE(log_ticks(3.0, 4.0).empty());  // less than one 1-2-5 step: linear fallback
}

TEST(Ticks, LabelsShareTheFewestExactDecimals) {
  EXPECT_EQ(format_ticks({0, 0.5, 1}), (std::vector<std::string>{"0.0", "0.5", "1.0"}));
  EXPECT_EQ(format_ticks({0, 0.25, 0.5}), (std::vector<std::string>{"0.00", "0.25", "0.50"}));
  EXPECT_EQ(format_ticks({0, 2, 4}), (std::vector<std::string>{"0", "2", "4"}));
  EXPECT_EQ(format_ticks({-1, 0, 1}), (std::vector<std::string>{"-1", "0", "1"}));
  EXPECT_EQ(format_ticks({0, 200000, 400000})[1], "2e+05");
}

TEST(Ticks, LogLabelsUseSuperscriptsOutsideAHundred) {
  EXPECT_EQ(format_log_tick(1), "1");
  EXPECT_EQ(format_log_tick(100), "100");
  EXPECT_EQ(format_log_tick(0.01), "0.01");
  EXPECT_EQ(format_log_tick(1e-3), "10^{-3}");
  EXPECT_EQ(format_log_tick(1e6), "10^{6}");
  EXPECT_EQ(format_log_tick(20), "20");
}

TEST(Ticks, AutoLimitsAddFivePercent) {
  const Range r = auto_limits(0, 10, Scale::Linear);
  EXPECT_DOUBLE_EQ(r.lo, -0.5);
  EXPECT_DOUBLE_EQ(r.hi, 10.5);
  const Range one = auto_limits(2, 2, Scale::Linear);
  EXPECT_LT(one.lo, 2);
  EXPECT_GT(one.hi, 2);
  const Range lg = auto_limits(1, 1e4, Scale::Log);
  EXPECT_NEAR(std::log10(lg.lo), -0.2, 1e-9);
  EXPECT_NEAR(std::log10(lg.hi), 4.2, 1e-9);
  const Range bad = auto_limits(-1, 5, Scale::Log);
  EXPECT_GT(bad.lo, 0);
}

TEST(Ticks, ScaleNames) {
  EXPECT_EQ(parse_scale("linear"), Scale::Linear);
  EXPECT_EQ(parse_scale("log"), Scale::Log);
  try {
    parse_scale("symlog");
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("symlog"), std::string::npos);
  }
}
