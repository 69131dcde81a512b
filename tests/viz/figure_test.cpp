#include "d2l/viz/figure.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <thread>

#include "d2l/core/error.h"
#include "d2l/viz/plot.h"
#include "support/images.h"

using namespace d2l::viz;
using d2l::test::TempDir;

namespace {

// The book's training chart: three lines, the third only at epoch ends.
Figure training_chart(double scale = 1.0) {
  std::vector<double> x, loss, acc, test_x, test;
  for (int i = 1; i <= 50; ++i) {
    const double t = i / 5.0;
    x.push_back(t);
    loss.push_back(0.3 + 2 * std::exp(-t));
    acc.push_back(0.9 - 0.6 * std::exp(-t));
    if (i % 5 == 0) test_x.push_back(t), test.push_back(0.88 - 0.6 * std::exp(-t));
  }
  Figure fig;
  fig.scale = scale;
  Axes ax;
  ax.xlabel = "epoch";
  ax.ylabel = "value";
  ax.xlim = Range{1, 10};
  ax.series = {{x, loss, "-", "train loss"},
               {x, acc, "m--", "train acc"},
               {test_x, test, "g-.", "test acc"}};
  fig.axes.push_back(ax);
  return fig;
}

}  // namespace

TEST(Format, ParsesMatplotlibFormatStrings) {
  const LineFormat solid = parse_format("-");
  EXPECT_FALSE(solid.color.has_value());
  EXPECT_EQ(solid.dash, Dash::Solid);
  const LineFormat m = parse_format("m--");
  ASSERT_TRUE(m.color.has_value());
  EXPECT_DOUBLE_EQ(m.color->r, 0.75);
  EXPECT_DOUBLE_EQ(m.color->g, 0.0);
  EXPECT_EQ(m.dash, Dash::Dashed);
  EXPECT_EQ(parse_format("g-.").dash, Dash::DashDot);
  EXPECT_EQ(parse_format("r:").dash, Dash::Dotted);
  EXPECT_EQ(parse_format("o").dash, Dash::None);
  EXPECT_EQ(parse_format("o").marker, 'o');
  EXPECT_EQ(parse_format("k.-").dash, Dash::Solid);
  EXPECT_EQ(parse_format("").dash, Dash::Solid);
  for (const char* bad : {"q", "rg", "--:", "oo"}) {
    try {
      parse_format(bad);
      FAIL() << bad;
    } catch (const d2l::Error& e) {
      EXPECT_EQ(e.exit_code(), 2);
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(Format, ColoursAndTheDefaultCycle) {
  const Rgb c0 = cycle_color(0);  // tab:blue #1f77b4
  EXPECT_NEAR(c0.r * 255, 0x1f, 0.01);
  EXPECT_NEAR(c0.g * 255, 0x77, 0.01);
  EXPECT_NEAR(c0.b * 255, 0xb4, 0.01);
  EXPECT_NEAR(cycle_color(11).r, cycle_color(1).r, 1e-12);
  EXPECT_NEAR(parse_color("#ff8000").g, 128 / 255.0, 1e-12);
  EXPECT_NEAR(parse_color("C1").r, cycle_color(1).r, 1e-12);
  EXPECT_THROW(parse_color("#zz0000"), d2l::Error);
  // Only lines without a colour of their own advance the cycle.
  const auto colors = resolve_colors({{{}, {}, "-", ""}, {{}, {}, "r:", ""}, {{}, {}, "--", ""}});
  EXPECT_NEAR(colors[0].b, cycle_color(0).b, 1e-12);
  EXPECT_DOUBLE_EQ(colors[1].r, 1.0);
  EXPECT_NEAR(colors[2].r, cycle_color(1).r, 1e-12);
}

TEST(Format, PictureFormatFromTheExtension) {
  EXPECT_EQ(format_for_path("a/b.png"), ImageFormat::Png);
  EXPECT_EQ(format_for_path("x.SVG"), ImageFormat::Svg);
  EXPECT_EQ(format_for_path("x.pdf"), ImageFormat::Pdf);
  EXPECT_THROW(format_for_path("x.jpg"), d2l::Error);
  EXPECT_THROW(format_for_path("dir.png/x"), d2l::Error);
}

TEST(Figure, PngHasTheBookSizeAtOneAndTwoTimes) {
  D2L_NEED_CAIRO();
  TempDir dir;
  for (double scale : {1.0, 2.0}) {
    const std::string path = (dir / "chart" + std::to_string(static_cast<int>(scale)) + ".png");
    save_figure(training_chart(scale), path);
    const auto [w, h] = d2l::test::png_header_size(d2l::read_file(path));
    EXPECT_EQ(w, std::lround(350 * scale));
    EXPECT_EQ(h, std::lround(250 * scale));
    const Raster img = read_png(path);
    EXPECT_EQ(img.width, w);
    EXPECT_EQ(img.height, h);
  }
}

TEST(Figure, LegendColoursArePresentInThePixels) {
  D2L_NEED_CAIRO();
  TempDir dir;
  const std::string path = dir / "chart.png";
  save_figure(training_chart(2.0), path);
  const Raster img = read_png(path);
  EXPECT_GT(d2l::test::count_color(img, 0x1f, 0x77, 0xb4), 50);  // C0: train loss
  EXPECT_GT(d2l::test::count_color(img, 191, 0, 191), 50);       // m: train acc
  EXPECT_GT(d2l::test::count_color(img, 0, 128, 0), 20);         // g: test acc
  EXPECT_EQ(d2l::test::count_color(img, 255, 0, 0, 40), 0);      // nothing red was drawn
  EXPECT_GT(d2l::test::count_color(img, 255, 255, 255, 0), img.width * img.height / 2);
}

TEST(Figure, SvgParsesAndCarriesItsWordsAsText) {
  D2L_NEED_CAIRO();
  TempDir dir;
  const std::string path = dir / "chart.svg";
  save_figure(training_chart(), path);
  const std::string svg = d2l::read_file(path);
  ASSERT_NE(svg.find("<svg"), std::string::npos);
  const std::string desc = d2l::test::svg_desc(svg);
  for (const char* word : {"epoch", "value", "train loss", "train acc", "test acc", "10"})
    EXPECT_NE(desc.find(word), std::string::npos) << word;
  EXPECT_NE(svg.find("<title>value vs epoch</title>"), std::string::npos);
  D2L_EXPECT_WELL_FORMED_XML(path);
}

TEST(Figure, SvgEscapesMarkupInLabels) {
  D2L_NEED_CAIRO();
  TempDir dir;
  Figure fig = training_chart();
  fig.axes[0].xlabel = "a<b & \"c\"";
  const std::string path = dir / "esc.svg";
  save_figure(fig, path);
  EXPECT_NE(d2l::test::svg_desc(d2l::read_file(path)).find("a&lt;b &amp; &quot;c&quot;"),
            std::string::npos);
  D2L_EXPECT_WELL_FORMED_XML(path);
}

TEST(Figure, PdfStartsLikeAPdf) {
  D2L_NEED_CAIRO();
  const std::string pdf = render_figure(training_chart(), ImageFormat::Pdf);
  EXPECT_EQ(pdf.compare(0, 5, "%PDF-"), 0);
  EXPECT_NE(pdf.find("%%EOF"), std::string::npos);
}

TEST(Figure, LogAxesAndEmptyAxesRender) {
  D2L_NEED_CAIRO();
  Figure fig;
  Axes ax;
  ax.yscale = Scale::Log;
  std::vector<double> x, y;
  for (int i = 0; i < 20; ++i) x.push_back(i), y.push_back(std::exp(i));
  y[3] = -1;  // not shown on a log axis: skipped
  ax.series = {{x, y, "o-", "exp"}};
  fig.axes = {ax, Axes{}};
  fig.ncols = 2;
  fig.width = 6;
  const std::string svg = render_figure(fig, ImageFormat::Svg);
  EXPECT_NE(d2l::test::svg_desc(svg).find("10^{8}"), std::string::npos);
}

TEST(Figure, MalformedFiguresThrow) {
  D2L_NEED_CAIRO();
  Figure fig;
  fig.width = 0;
  EXPECT_THROW(render_figure(fig, ImageFormat::Png), d2l::Error);
  Figure img;
  Axes ax;
  ax.image = Raster{2, 2, std::vector<uint8_t>(5)};
  img.axes.push_back(ax);
  EXPECT_THROW(render_figure(img, ImageFormat::Png), d2l::Error);
}

TEST(Figure, SeveralThreadsRenderAtOnce) {
  D2L_NEED_CAIRO();
  TempDir dir;
  constexpr int kThreads = 8, kEach = 6;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kEach; ++k) {
        try {
          const std::string ext = k % 3 == 0 ? ".svg" : k % 3 == 1 ? ".png" : ".pdf";
          save_figure(training_chart(1 + t % 2),
                      (dir / std::to_string(t) + "_" + std::to_string(k) + ext));
        } catch (...) {
          ++failures[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[t], 0);
    const auto [w, h] =
        d2l::test::png_header_size(d2l::read_file((dir / std::to_string(t) + "_1.png")));
    EXPECT_EQ(w, 350 * (1 + t % 2));
    EXPECT_EQ(h, 250 * (1 + t % 2));
  }
}

TEST(Figure, UnwritablePathThrowsAndLeavesNothing) {
  D2L_NEED_CAIRO();
  TempDir dir;
  { std::ofstream(dir / "file") << "x"; }
  try {
    save_figure(training_chart(), (dir / "file") + "/chart.png");
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_NE(std::string(e.what()).find("chart.png"), std::string::npos);
  }
  EXPECT_THROW(save_figure(training_chart(), (dir / "file") + "/chart.png", false), d2l::Error);
}

TEST(Figure, WithoutCairoRenderingSaysSo) {
  if (have_cairo()) GTEST_SKIP() << "built with Cairo";
  try {
    render_figure(training_chart(), ImageFormat::Png);
    FAIL();
  } catch (const d2l::Error& e) {
    EXPECT_NE(std::string(e.what()).find("without Cairo"), std::string::npos);
  }
}

TEST(Plot, BookArgumentsAndSharedX) {
  D2L_NEED_CAIRO();
  TempDir dir;
  std::vector<double> x, y1, y2;
  for (int i = 0; i < 30; ++i)
    x.push_back(i * 0.1), y1.push_back(i * 0.1), y2.push_back(i * i * 0.01);
  const std::string path = dir / "plot.svg";
  d2l::plot({x}, {y1, y2}, "x", "f(x)", {"f(x)", "Tangent line (x=1)"}, {}, {}, "linear", "linear",
            d2l::kDefaultFmts, {3.5, 2.5}, path);
  const std::string desc = d2l::test::svg_desc(d2l::read_file(path));
  EXPECT_NE(desc.find("Tangent line (x=1)"), std::string::npos);
  // plot(y) alone: x is 0, 1, 2, ...
  const Figure f = d2l::make_plot({y2}, {});
  ASSERT_EQ(f.axes[0].series.size(), 1u);
  EXPECT_DOUBLE_EQ(f.axes[0].series[0].x[29], 29.0);
  EXPECT_THROW(d2l::make_plot({x, x}, {y1, y2, y1}), d2l::Error);
  d2l::PlotOptions bad;
  bad.fmts = {"z"};
  EXPECT_THROW(d2l::make_plot({x}, {y1}, bad), d2l::Error);
}

TEST(Figure, TrySaveWarnsInsteadOfThrowing) {
  TempDir dir;
  { std::ofstream(dir / "file") << "x"; }
  std::FILE* err = std::tmpfile();
  EXPECT_FALSE(try_save_figure(training_chart(), (dir / "file") + "/c.png", err));
  std::fflush(err);
  std::rewind(err);
  char buf[512] = {0};
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, err);
  const std::string text(buf, n);
  EXPECT_NE(text.find("warning"), std::string::npos);
  EXPECT_NE(text.find("c.png"), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  std::fclose(err);
  if (have_cairo()) EXPECT_TRUE(try_save_figure(training_chart(), (dir / "ok.png"), nullptr));
}
