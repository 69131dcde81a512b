#pragma once
/// \file d2l/data/loader.h
/// Mini-batch iteration over image data sets held in memory (LibTorch), and the book's
/// `load_data_fashion_mnist` and kin.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "d2l/data/augment.h"
#include "d2l/data/registry.h"

namespace d2l::data {

/// One mini-batch: X float [B, C, H, W] in [0, 1], y int64 [B].
struct Batch {
  at::Tensor X;
  at::Tensor y;
};

/// Options of a DataLoader.
struct LoaderOptions {
  std::int64_t batch_size = 256;
  bool shuffle = false;  ///< reshuffle every epoch (deterministic from seed and epoch)
  std::uint64_t seed = 0;
  std::int64_t resize = 0;  ///< 0: keep the size; else bilinear resize to resize x resize
  bool prefetch = false;    ///< build the next batch on a background thread
  bool drop_last = false;
  /// Augmentation of every batch (d2l/data/augment.h), seeded from `seed`, the epoch and the
  /// batch; with a crop, the crop does the resize (to `resize`, or the images' size).
  Augment augment;
  /// Data-parallel sharding (as PyTorch's DistributedSampler, with the batch size global): every
  /// batch of the shared order is split over `shard_count` processes and this one takes part
  /// `shard_index` (sizes differ by at most one, the first parts larger; a part may be empty).
  std::int64_t shard_index = 0;
  std::int64_t shard_count = 1;
};

struct Taps;  // bilinear interpolation taps (src/data/loader_torch.cpp)

/// An iterable over mini-batches of images decoded once into one contiguous uint8 tensor.
/// Batches are built by gathering rows (`index_select`), converted to float and, when asked,
/// resized by bilinear interpolation on the whole batch. Each `begin()` starts a new epoch with a
/// new permutation (when shuffling): the order depends only on the seed and the epoch number,
/// so a resumed run sees the same batches as an uninterrupted one.
class DataLoader {
 public:
  /// images uint8 [N, C, H, W], labels int64 [N].
  DataLoader(at::Tensor images, at::Tensor labels, LoaderOptions opts);

  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = const Batch*;
    using reference = const Batch&;
    Iterator() = default;
    const Batch& operator*() const { return current_; }
    const Batch* operator->() const { return &current_; }
    Iterator& operator++();
    bool operator==(const Iterator& o) const { return index_ == o.index_; }
    bool operator!=(const Iterator& o) const { return index_ != o.index_; }

   private:
    friend class DataLoader;
    Iterator(const DataLoader* loader, std::shared_ptr<std::vector<std::int64_t>> order,
             std::int64_t index, std::int64_t epoch = 0);
    void load();
    const DataLoader* loader_ = nullptr;
    std::shared_ptr<std::vector<std::int64_t>> order_;
    std::int64_t index_ = 0;
    std::int64_t epoch_ = 0;  // seeds the augmentation
    Batch current_;
    std::shared_ptr<std::future<Batch>> next_;
    at::Tensor order_on_device_;  // the epoch's order, on the data set's device (GPU)
  };

  /// The batches of epoch `epoch` (from 0), from batch `first_batch` on (for resuming within an
  /// epoch). A pure function of the seed, the epoch and the batch: the loader is not changed.
  Iterator epoch_begin(std::int64_t epoch, std::int64_t first_batch = 0) const;
  /// Starts the next epoch, as the book's `for X, y in train_iter` does: each pass over a loader
  /// is a new epoch with a new order (when shuffling).
  Iterator begin() { return epoch_begin(epoch_++); }
  /// A const loader iterates the epoch set by set_epoch() (0 by default), every time.
  Iterator begin() const { return epoch_begin(epoch_); }
  /// Starts the next epoch at batch `first_batch`.
  Iterator start_epoch(std::int64_t first_batch) { return epoch_begin(epoch_++, first_batch); }
  Iterator end() const;
  /// Batches per epoch.
  std::int64_t size() const;
  /// Examples per epoch.
  std::int64_t num_examples() const { return n_; }
  /// Sets the epoch the next `begin()` starts (for resuming).
  void set_epoch(std::int64_t epoch) { epoch_ = epoch; }
  /// The epoch the next `begin()` starts.
  std::int64_t epoch() const { return epoch_; }
  /// Batch `b` of the given order in epoch `epoch` (which seeds the augmentation; used by the
  /// iterator; public for benchmarks).
  Batch make_batch(const std::vector<std::int64_t>& order, std::int64_t b,
                   std::int64_t epoch = 0) const;
  const LoaderOptions& options() const { return opts_; }
  /// Moves the decoded data set to `device` (e.g. a GPU, where 60,000 Fashion-MNIST images take
  /// 47 MB): batches are then gathered, converted and resized there, with no copy per batch.
  void to(c10::Device device);
  /// The decoded images (uint8 [N, C, H, W]) and labels (int64 [N]).
  const at::Tensor& images() const { return images_; }
  const at::Tensor& labels() const { return labels_; }

 private:
  at::Tensor images_, labels_;
  at::Tensor resize_h_, resize_wt_;  // bilinear resize as two matrix products (GPU path)
  std::shared_ptr<const Taps> taps_h_, taps_w_;  // bilinear taps (CPU path)
  LoaderOptions opts_;
  std::int64_t n_;
  std::int64_t epoch_ = 0;  // the epoch the next non-const begin() starts
  // Batch b's first example in the epoch's order and its length (this shard's part).
  std::pair<std::int64_t, std::int64_t> span(std::int64_t b) const;
  // The GPU path: examples `idx` (on the device; undefined: start .. start+len) as batch `b`.
  Batch device_batch(const at::Tensor& idx, std::int64_t start, std::int64_t len,
                     std::int64_t epoch, std::int64_t b) const;
};

/// The [out, in] matrix M with M x = bilinear resize of a length-`in` signal to `out` samples,
/// as PyTorch's bilinear interpolation with align_corners=false (no antialiasing).
at::Tensor bilinear_matrix(std::int64_t in, std::int64_t out);

/// Converts a decoded ImageSet to tensors: uint8 [N, C, H, W] and int64 [N].
std::pair<at::Tensor, at::Tensor> to_tensors(const ImageSet& set);

/// Options for the load_data_* functions.
struct DataOptions {
  std::string data_dir;  ///< --data-dir ("" to search the usual places)
  bool download = true;
  std::uint64_t seed = 0;
  bool prefetch = false;
  /// Augmentation of the training batches; the test batches get only its normalisation. An
  /// empty mean/std with `normalize` takes the data set's (dataset_mean_std).
  Augment augment;
};

/// The training iterable (reshuffled every epoch) and the test iterable (in order).
using DataPair = std::pair<DataLoader, DataLoader>;

/// The book's `load_data_fashion_mnist(batch_size, resize)`.
DataPair load_data_fashion_mnist(std::int64_t batch_size, std::int64_t resize = 0,
                                 const DataOptions& opts = {});
/// The same for MNIST.
DataPair load_data_mnist(std::int64_t batch_size, std::int64_t resize = 0,
                         const DataOptions& opts = {});
/// The same for CIFAR-10 (3 x 32 x 32).
DataPair load_data_cifar10(std::int64_t batch_size, std::int64_t resize = 0,
                           const DataOptions& opts = {});
/// By data set name ("fashion-mnist", "mnist", "cifar10").
DataPair load_data(const std::string& dataset, std::int64_t batch_size, std::int64_t resize = 0,
                   const DataOptions& opts = {});

}  // namespace d2l::data

namespace d2l {
// The book's names, as `d2l.load_data_fashion_mnist` is in the book's Python.
using data::DataLoader;
using data::load_data_cifar10;
using data::load_data_fashion_mnist;
using data::load_data_mnist;
}  // namespace d2l
