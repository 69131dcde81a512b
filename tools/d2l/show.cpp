// `d2l show DATA`: a grid of a data set's images with their labels, as the book's show_images.
// Torch-free: the readers and the figure layer work on plain buffers.
#include <cstdio>
#include <memory>

#include "../common/command.h"
#include "d2l/core/error.h"
#include "d2l/data/registry.h"
#include "d2l/viz/images.h"
#include "flag_checks.h"

namespace {

struct ShowOpts {
  std::string data, split = "train", out, data_dir;
  int rows = 2, cols = 9;
  long start = 0;
  double scale = 1.5;
  bool no_download = false;
};

int run_show(const ShowOpts& o) {
  if (static_cast<long>(o.rows) * o.cols > 1000)
    throw d2l::bad_input("--rows " + std::to_string(o.rows) + " times --cols " +
                         std::to_string(o.cols) + " is more than 1000 images");
  if (o.split != "train" && o.split != "test")
    throw d2l::bad_input("--split must be train or test, got '" + o.split + "'");
  const auto& info = d2l::data::dataset_info(o.data);
  d2l::data::LocateOptions lo;
  lo.data_dir = o.data_dir;
  lo.download = !o.no_download;
  const std::string dir = d2l::data::locate_dataset(info, lo);
  const auto set = d2l::data::read_split(info, dir, o.split == "train");
  const long n =
      std::min<long>(static_cast<long>(o.rows) * o.cols, static_cast<long>(set.n) - o.start);
  if (n <= 0)
    throw d2l::bad_input("--start " + std::to_string(o.start) + " is past the " +
                         std::to_string(set.n) + " images of the " + o.split + " split");
  const std::size_t per = static_cast<std::size_t>(set.channels * set.height * set.width);
  std::vector<d2l::Image> imgs;
  std::vector<std::string> titles;
  for (long i = o.start; i < o.start + n; ++i) {
    // Stored [C, H, W]; Image wants [H, W, C].
    std::vector<uint8_t> hwc(per);
    const uint8_t* src = set.pixels.data() + static_cast<std::size_t>(i) * per;
    const std::size_t hw = static_cast<std::size_t>(set.height * set.width);
    for (std::size_t p = 0; p < hw; ++p)
      for (std::size_t c = 0; c < static_cast<std::size_t>(set.channels); ++c)
        hwc[p * static_cast<std::size_t>(set.channels) + c] = src[c * hw + p];
    imgs.emplace_back(std::move(hwc), static_cast<int>(set.height), static_cast<int>(set.width),
                      static_cast<int>(set.channels));
    titles.push_back(info.classes.at(set.labels[static_cast<std::size_t>(i)]));
  }
  const std::string out = o.out.empty() ? o.data + "-" + o.split + ".png" : o.out;
  d2l::show_images(imgs, o.rows, o.cols, titles, o.scale, out);
  std::printf("wrote %s (%ld %s images of %s from %s)\n", out.c_str(), n, o.split.c_str(),
              o.data.c_str(), dir.c_str());
  return 0;
}

d2l::cli::Registrar reg{
    "show", "Draw a grid of a data set's images with their labels", [](CLI::App& cmd) {
      auto o = std::make_shared<ShowOpts>();
      cmd.add_option("data", o->data, "fashion-mnist, mnist or cifar10")->required();
      cmd.add_option("--split", o->split, "train or test")->capture_default_str();
      cmd.add_option("--rows", o->rows, "Rows of images")
          ->check(d2l::cli::number_in(1, 1000))
          ->capture_default_str();
      cmd.add_option("--cols", o->cols, "Columns of images")
          ->check(d2l::cli::number_in(1, 1000))
          ->capture_default_str();
      cmd.add_option("--start", o->start, "Index of the first image")
          ->check(d2l::cli::number_in(0, 1e9))
          ->capture_default_str();
      cmd.add_option("--scale", o->scale, "Inches per image")
          ->check(d2l::cli::positive_up_to(20))
          ->capture_default_str();
      cmd.add_option("-o,--output", o->out,
                     "Picture file, .png .svg or .pdf (default DATA-SPLIT.png)")
          ->check(d2l::cli::non_empty());
      cmd.add_option("--data-dir", o->data_dir,
                     "The data set's folder, its parent, or its archive (searched first; default "
                     "$D2L_DATA_DIR)")
          ->check(d2l::cli::non_empty());
      cmd.add_flag("--no-download", o->no_download, "Never download a missing data set");
      cmd.footer(d2l::data::search_order_help() +
                 "\nExit codes: 0 written, 1 cannot write, 2 bad input or missing data set.");
      return [o]() { return run_show(*o); };
    }};

}  // namespace
