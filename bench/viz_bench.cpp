// Costs of drawing: the book's training chart through the Animator (10 epochs, 5 points per
// epoch plus the test accuracy at each epoch end, 3 lines, as train_ch6 does), single renders,
// and show_images. Run: build/bin/viz_bench [--benchmark_filter=Animator]
#include <benchmark/benchmark.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "d2l/viz/animator.h"
#include "d2l/viz/images.h"
#include "d2l/viz/terminal_chart.h"

namespace {

constexpr int kEpochs = 10;
constexpr int kPointsPerEpoch = 5;

// One folder, reused by every run: <tmp>/d2l-viz-bench.
std::string temp_dir() {
  static const std::string dir = [] {
    const auto d = std::filesystem::temp_directory_path() / "d2l-viz-bench";
    std::error_code ec;
    std::filesystem::create_directories(d, ec);
    return d.string();
  }();
  return dir;
}

void train_ch6_adds(d2l::Animator& a) {
  for (int e = 0; e < kEpochs; ++e) {
    for (int i = 1; i <= kPointsPerEpoch; ++i) {
      const double t = e + static_cast<double>(i) / kPointsPerEpoch;
      a.add(t, {0.3 + 2 * std::exp(-t), 0.9 - 0.6 * std::exp(-t), std::nullopt});
    }
    a.add(e + 1.0, {std::nullopt, std::nullopt, 0.88 - 0.6 * std::exp(-(e + 1.0))});
  }
}

// One iteration = a whole 10-epoch run; "per_epoch" is the drawing time of one epoch.
void BM_AnimatorTenEpochs(benchmark::State& state, const std::string& file, double scale) {
  const std::string path = file.empty() ? "" : temp_dir() + "/" + file;
  for (auto _ : state) {
    d2l::AnimatorOptions o;
    o.xlabel = "epoch";
    o.legend = {"train loss", "train acc", "test acc"};
    o.xlim = d2l::viz::Range{1, kEpochs};
    o.path = path;
    o.scale = scale;
    o.terminal = false;
    d2l::Animator a(o);
    train_ch6_adds(a);
    if (!a.last_error().empty()) state.SkipWithError(a.last_error().c_str());
  }
  state.counters["per_epoch"] = benchmark::Counter(
      kEpochs, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK_CAPTURE(BM_AnimatorTenEpochs, png_1x, std::string("training.png"), 1.0)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_AnimatorTenEpochs, png_2x, std::string("training2x.png"), 2.0)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_AnimatorTenEpochs, svg, std::string("training.svg"), 1.0)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_AnimatorTenEpochs, no_file, std::string(), 1.0)->Unit(benchmark::kMillisecond);

d2l::viz::Figure full_chart(double scale) {
  d2l::AnimatorOptions o;
  o.xlabel = "epoch";
  o.legend = {"train loss", "train acc", "test acc"};
  o.xlim = d2l::viz::Range{1, kEpochs};
  o.path = "";
  o.terminal = false;
  o.scale = scale;
  d2l::Animator a(o);
  train_ch6_adds(a);
  return a.figure();
}

void BM_RenderFullChart(benchmark::State& state, d2l::viz::ImageFormat format, double scale) {
  const auto fig = full_chart(scale);
  for (auto _ : state) benchmark::DoNotOptimize(d2l::viz::render_figure(fig, format));
}
BENCHMARK_CAPTURE(BM_RenderFullChart, png_1x, d2l::viz::ImageFormat::Png, 1.0)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_RenderFullChart, png_2x, d2l::viz::ImageFormat::Png, 2.0)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_RenderFullChart, svg, d2l::viz::ImageFormat::Svg, 1.0)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_RenderFullChart, pdf, d2l::viz::ImageFormat::Pdf, 1.0)
    ->Unit(benchmark::kMillisecond);

void BM_TerminalChart(benchmark::State& state) {
  const auto fig = full_chart(1.0);
  d2l::viz::TerminalChartOptions o;
  o.width = 72;
  for (auto _ : state)
    benchmark::DoNotOptimize(d2l::viz::render_terminal_chart(fig.axes[0].series, o));
}
BENCHMARK(BM_TerminalChart)->Unit(benchmark::kMicrosecond);

void BM_ShowImages18(benchmark::State& state) {
  std::vector<d2l::Image> imgs;
  std::vector<std::string> titles;
  for (int k = 0; k < 18; ++k) {
    std::vector<uint8_t> px(28 * 28);
    for (std::size_t i = 0; i < px.size(); ++i)
      px[i] = static_cast<uint8_t>((i * 7 + k * 13) % 256);
    imgs.emplace_back(px, 28, 28);
    titles.push_back("ankle boot");
  }
  const std::string path = temp_dir() + "/images.png";
  for (auto _ : state) d2l::show_images(imgs, 2, 9, titles, 1.5, path);
}
BENCHMARK(BM_ShowImages18)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
