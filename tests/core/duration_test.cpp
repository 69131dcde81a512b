// Unit tests for d2l/core/duration.h: the one duration format of every tool, and the parser of
// duration flags.
#include "d2l/core/duration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "d2l/core/error.h"

using d2l::format_duration;
using d2l::format_utc_time;
using d2l::parse_duration;

TEST(FormatDuration, EachRange) {
  EXPECT_EQ(format_duration(0), "0.0s");
  EXPECT_EQ(format_duration(4.21), "4.2s");
  EXPECT_EQ(format_duration(59.9), "59.9s");
  EXPECT_EQ(format_duration(59.97), "1m00s") << "rounds up into minutes, never 60.0s";
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3599.4), "59m59s");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_duration(5400), "1h30m");
  EXPECT_EQ(format_duration(86399), "23h59m");
  EXPECT_EQ(format_duration(2 * 86400 + 3 * 3600 + 59 * 60), "2d03h");
}

TEST(FormatDuration, NegativeAndNotFinite) {
  EXPECT_EQ(format_duration(-185), "-3m05s");
  EXPECT_EQ(format_duration(std::numeric_limits<double>::infinity()), "n/a");
  EXPECT_EQ(format_duration(std::nan("")), "n/a");
}

TEST(ParseDuration, UnitsAndSums) {
  EXPECT_DOUBLE_EQ(parse_duration("8h"), 8 * 3600);
  EXPECT_DOUBLE_EQ(parse_duration("90m"), 90 * 60);
  EXPECT_DOUBLE_EQ(parse_duration("2d"), 2 * 86400);
  EXPECT_DOUBLE_EQ(parse_duration("1h30m"), 5400);
  EXPECT_DOUBLE_EQ(parse_duration("1.5"), 5400) << "a bare number is hours";
  EXPECT_DOUBLE_EQ(parse_duration("45s"), 45);
}

TEST(ParseDuration, RejectsGarbageNamingIt) {
  for (const char* bad : {"", "h", "8x", "-1h", "0h", "1h30", "inf", "nanh", "1e400h"}) {
    try {
      parse_duration(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const d2l::Error& e) {
      EXPECT_EQ(e.exit_code(), 2) << bad;
      if (*bad) EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(ParseDuration, RoundTripsThroughFormat) {
  EXPECT_EQ(format_duration(parse_duration("1h30m")), "1h30m");
  EXPECT_EQ(format_duration(parse_duration("2d")), "2d00h");
}

TEST(FormatUtcTime, Iso8601InUtcToTheSecond) {
  EXPECT_EQ(format_utc_time(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_utc_time(365L * 86400), "1971-01-01T00:00:00Z");
  EXPECT_EQ(format_utc_time(951868799), "2000-02-29T23:59:59Z") << "a leap day's last second";
}
