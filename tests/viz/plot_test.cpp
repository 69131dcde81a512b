// Unit tests for d2l/viz/plot.h: the chart make_plot builds (scales as an enum, the book's
// string spellings at the book-order entry point), and its input checks.
#include "d2l/viz/plot.h"

#include <gtest/gtest.h>

#include <string>

#include "d2l/core/error.h"

using d2l::PlotOptions;
using d2l::viz::Scale;

TEST(Plot, ScalesAreAnEnumInTheOptions) {
  PlotOptions o;
  EXPECT_EQ(o.xscale, Scale::Linear);
  EXPECT_EQ(o.yscale, Scale::Linear);
  o.yscale = Scale::Log;
  const d2l::viz::Figure fig = d2l::make_plot({{1, 2, 3}}, {{1, 10, 100}}, o);
  ASSERT_EQ(fig.axes.size(), 1u);
  EXPECT_EQ(fig.axes[0].xscale, Scale::Linear);
  EXPECT_EQ(fig.axes[0].yscale, Scale::Log);
}

TEST(Plot, BookOrderTakesTheBooksScaleWords) {
  // "symlog" is matplotlib's, not ours: rejected as bad input, before anything is written.
  try {
    d2l::plot({{1, 2}}, {{1, 2}}, "x", "y", {}, {}, {}, "linear", "symlog", d2l::kDefaultFmts,
              {3.5, 2.5}, "/nonexistent-dir/p.svg");
    ADD_FAILURE() << "no error";
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("symlog"), std::string::npos) << e.what();
  }
}

TEST(Plot, CountsMustMatch) {
  EXPECT_THROW(d2l::make_plot({{1, 2}}, {{1, 2, 3}}), d2l::Error);
  EXPECT_THROW(d2l::make_plot({{1, 2}, {1, 2}, {1, 2}}, {{1, 2}, {1, 2}}), d2l::Error);
}
