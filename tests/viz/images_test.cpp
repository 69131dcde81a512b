#include "d2l/viz/images.h"

#include <gtest/gtest.h>

#include "d2l/core/error.h"
#include "support/images.h"

using d2l::test::TempDir;

namespace {

// A solid grey image of `level` (distinct per image so no two are alike).
d2l::Image solid(uint8_t level, int h = 8, int w = 8) {
  return d2l::Image(std::vector<uint8_t>(static_cast<std::size_t>(h) * w, level), h, w);
}

}  // namespace

TEST(Images, BuffersAreCheckedAndMapped) {
  EXPECT_THROW(d2l::Image(std::vector<uint8_t>(10), 3, 3), d2l::Error);
  EXPECT_THROW(d2l::Image(std::vector<float>(18), 3, 3, 2), d2l::Error);
  const auto r = d2l::Image(std::vector<uint8_t>{0, 255}, 1, 2).to_raster();
  EXPECT_EQ(r.rgb, (std::vector<uint8_t>{0, 0, 0, 255, 255, 255}));
  // One float channel is stretched from min to max, as imshow does.
  const auto f = d2l::Image(std::vector<float>{2.f, 4.f}, 1, 2).to_raster();
  EXPECT_EQ(f.rgb[0], 0);
  EXPECT_EQ(f.rgb[3], 255);
  // RGB floats are clipped.
  const auto c = d2l::Image(std::vector<float>{1.5f, 0.5f, -1.f}, 1, 1, 3).to_raster();
  EXPECT_EQ(c.rgb, (std::vector<uint8_t>{255, 128, 0}));
}

TEST(Images, ShowImagesFillsTheRightNumberOfCells) {
  D2L_NEED_CAIRO();
  TempDir dir;
  std::vector<d2l::Image> imgs;
  const uint8_t levels[] = {0, 40, 80, 120, 160};
  for (uint8_t l : levels) imgs.push_back(solid(l));
  const std::string png = dir / "grid.png";
  // 2 x 3 cells, 5 images: the sixth cell stays blank.
  d2l::show_images(imgs, 2, 3, {"a", "b", "c", "d", "e"}, 1.0, png);
  const d2l::viz::Raster img = d2l::viz::read_png(png);
  ASSERT_EQ(img.width, 300);
  ASSERT_EQ(img.height, 200);
  for (int k = 0; k < 6; ++k) {
    const int cx = (k % 3) * 100 + 50,
              cy = (k / 3) * 100 + 55;  // a cell's centre (below the title)
    const uint8_t* px = &img.rgb[(static_cast<std::size_t>(cy) * img.width + cx) * 3];
    const int want = k < 5 ? levels[k] : 255;
    EXPECT_NEAR(px[0], want, 2) << "cell " << k;
  }
  const std::string svg_path = dir / "grid.svg";
  d2l::show_images(imgs, 2, 3, {"a", "b", "c", "d", "e"}, 1.0, svg_path);
  const std::string svg = d2l::read_file(svg_path);
  EXPECT_EQ(d2l::test::count_occurrences(svg, "<image"), 5u);
  // More images than cells: the extra ones are left out.
  imgs.push_back(solid(200));
  EXPECT_EQ(d2l::make_images_figure(imgs, 1, 2).axes.size(), 2u);
  EXPECT_THROW(d2l::make_images_figure(imgs, 0, 2), d2l::Error);
}

TEST(Images, ConfusionMatrixShowsEveryCount) {
  D2L_NEED_CAIRO();
  const std::vector<int> y_true = {0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2};
  const std::vector<int> y_pred = {0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 0, 0};
  const auto m = d2l::confusion_matrix(y_true, y_pred, 3);
  EXPECT_EQ(m, (std::vector<std::vector<long>>{{1, 1, 0}, {0, 2, 1}, {2, 0, 5}}));
  EXPECT_THROW(d2l::confusion_matrix({0, 3}, {0, 0}, 3), d2l::Error);
  EXPECT_THROW(d2l::confusion_matrix({0}, {0, 0}, 3), d2l::Error);
  // Counts that cannot be mistaken for tick labels: 100 + 10 t + p.
  std::vector<std::vector<long>> counts(4, std::vector<long>(4));
  for (int t = 0; t < 4; ++t)
    for (int p = 0; p < 4; ++p) counts[t][p] = 100 + 10 * t + p;
  TempDir dir;
  const std::string path = dir / "confusion.svg";
  d2l::plot_confusion_matrix(counts, {"cat", "dog", "owl", "eel"}, path, "pets");
  const std::string desc = d2l::test::svg_desc(d2l::read_file(path));
  for (int t = 0; t < 4; ++t)
    for (int p = 0; p < 4; ++p)
      EXPECT_NE(desc.find(std::to_string(100 + 10 * t + p) + "\n"), std::string::npos) << t << p;
  for (const char* w : {"cat", "dog", "owl", "eel", "predicted", "true", "pets"})
    EXPECT_NE(desc.find(w), std::string::npos) << w;
  // The darkest cell (the largest count) is drawn in the colour map's last colour.
  const auto fig = d2l::make_confusion_figure(counts, {});
  const auto& r = *fig.axes[0].image;
  const auto top = d2l::viz::cmap_color(d2l::viz::ColorMap::Blues, 1.0);
  const std::size_t last = (3 * 4 + 3) * 3;
  EXPECT_NEAR(r.rgb[last], top.r * 255, 1);
  EXPECT_NEAR(r.rgb[last + 2], top.b * 255, 1);
  EXPECT_THROW(d2l::make_confusion_figure({{1, 2}}, {}), d2l::Error);
  EXPECT_THROW(d2l::make_confusion_figure(counts, {"a"}), d2l::Error);
  D2L_EXPECT_WELL_FORMED_XML(path);  // last: it skips the test where python3 is missing
}

TEST(Images, HeatmapsShareOneColourScale) {
  D2L_NEED_CAIRO();
  d2l::Matrix a{2, 3, {0, 1, 2, 3, 4, 5}}, b{2, 3, {5, 5, 5, 5, 5, 10}};
  const auto fig = d2l::make_heatmaps_figure({{a, b}}, "Keys", "Queries", {"h1", "h2"});
  ASSERT_TRUE(fig.colorbar.has_value());
  EXPECT_DOUBLE_EQ(fig.colorbar->vmin, 0);
  EXPECT_DOUBLE_EQ(fig.colorbar->vmax, 10);
  EXPECT_EQ(fig.axes[0].ylabel, "Queries");
  EXPECT_EQ(fig.axes[1].ylabel, "");
  EXPECT_EQ(fig.axes[1].xlabel, "Keys");
  TempDir dir;
  d2l::show_heatmaps({{a, b}}, "Keys", "Queries", {"h1", "h2"}, {4, 2}, "Reds", (dir / "h.png"));
  EXPECT_EQ(d2l::test::png_header_size(d2l::read_file(dir / "h.png")),
            (std::pair<long, long>{400, 200}));
  EXPECT_THROW(d2l::make_heatmaps_figure({{a}, {a, b}}, "", ""), d2l::Error);
  EXPECT_THROW(d2l::make_heatmaps_figure({{d2l::Matrix{2, 2, {1}}}}, "", ""), d2l::Error);
}
