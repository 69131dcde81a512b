#pragma once
/// \file d2l/data/augment.h
/// Image augmentation on whole mini-batches (the book's chapter 14.1, "Image Augmentation"):
/// random horizontal flip, random resized crop, colour jitter and normalisation, written with
/// tensor operations so that they run where the batch lives (CPU or GPU). Every random choice
/// is drawn per image on the CPU from a seeded generator, so a batch's augmentation depends only
/// on the seed, not on the device. The DataLoader applies them in its batch pass
/// (LoaderOptions::augment), seeding one generator per (seed, epoch, batch).
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace d2l::data {

/// The colour jitter of torchvision's `ColorJitter(brightness, contrast, saturation, hue)`:
/// each image gets factors drawn uniformly from [max(0, 1 - x), 1 + x] (hue: a shift drawn from
/// [-hue, hue], hue <= 0.5), applied in a random order per image. 0 leaves that property alone.
struct ColorJitter {
  double brightness = 0, contrast = 0, saturation = 0, hue = 0;
  /// True when any of the four is on.
  bool any() const { return brightness > 0 || contrast > 0 || saturation > 0 || hue > 0; }
};

/// Which augmentations a loader applies to every training batch, in this order: random resized
/// crop (which then also does the resize), horizontal flip, colour jitter, normalisation.
/// Test batches get only the normalisation (see for_test()).
struct Augment {
  bool flip = false;                            ///< RandomHorizontalFlip(flip_p)
  double flip_p = 0.5;                          ///< the probability of flipping an image
  bool crop = false;                            ///< RandomResizedCrop(size, crop_scale, crop_ratio)
  std::array<double, 2> crop_scale{0.08, 1.0};  ///< the crop's share of the area
  std::array<double, 2> crop_ratio{3.0 / 4.0, 4.0 / 3.0};  ///< the crop's width / height
  ColorJitter jitter;                                      ///< off when all four are 0
  bool normalize = false;                                  ///< Normalize(mean, std), per channel
  std::vector<double> mean, std;  ///< one per channel (or one for all); empty: the data set's

  /// True when a training batch is changed at all.
  bool any() const { return flip || crop || jitter.any() || normalize; }
  /// True when the augmentation draws random numbers.
  bool random() const { return flip || crop || jitter.any(); }
  /// What the test set gets: the normalisation only (a test set is never augmented).
  Augment for_test() const;
  /// The spec as `parse_augment` reads it: "flip,crop,jitter,normalize" with the values that
  /// differ from the defaults ("flip=0.3", "crop=0.64-1", "jitter=0.4-0.4-0.4-0.1"); "none" when
  /// off.
  std::string to_string() const;
};

/// Parses a comma-separated list of augmentations: `flip[=P]`, `crop[=MIN-MAX]` (the scale
/// range; the ratio stays torchvision's 3/4 to 4/3), `jitter[=B-C-S[-H]]` (default
/// 0.5-0.5-0.5-0, the book's ColorJitter example without hue), `hue=H`, `normalize`; "none" or ""
/// for none. Throws d2l::Error (BadInput) naming `flag` and the fault for anything else.
Augment parse_augment(const std::string& spec, const std::string& flag = "--augment");

/// The per-channel mean and standard deviation the book's CIFAR-10 chapter normalises with
/// (0.4914, 0.4822, 0.4465 / 0.2023, 0.1994, 0.2010), and Fashion-MNIST's (0.2860 / 0.3530).
/// Throws d2l::Error (BadInput) for another data set.
std::pair<std::vector<double>, std::vector<double>> dataset_mean_std(const std::string& dataset);

/// A CPU generator seeded with `seed` (at::Generator, as torch.Generator().manual_seed(seed)).
at::Generator make_generator(std::uint64_t seed);

/// The seed of one batch's augmentation: a hash of the run's seed, the epoch, the batch and the
/// shard, so that a resumed run repeats the same augmented batches.
std::uint64_t batch_seed(std::uint64_t seed, std::int64_t epoch, std::int64_t batch,
                         std::int64_t shard = 0);

/// Flips each image of `X` (float [B, C, H, W]) left to right with probability `p`: the flipped
/// image is exactly the original with its columns reversed.
at::Tensor random_horizontal_flip(const at::Tensor& X, double p, at::Generator& gen);

/// Crops a random rectangle of each image of `X` (float [B, C, H, W]) and resizes it
/// bilinearly (align_corners=false) to `size` x `size`, as torchvision's RandomResizedCrop: the
/// area is a share in `scale` of the image's, the aspect ratio (width / height) log-uniform in
/// `ratio`; after 10 failed draws, the largest centred crop within the ratio range. With scale
/// (1, 1) and ratio (1, 1) on a square image it is the plain bilinear resize.
at::Tensor random_resized_crop(const at::Tensor& X, std::int64_t size, std::array<double, 2> scale,
                               std::array<double, 2> ratio, at::Generator& gen);

/// Multiplies each image by its own factor (clamped to [0, 1]): brightness.
at::Tensor adjust_brightness(const at::Tensor& X, const at::Tensor& factor);
/// Blends each image with the mean of its grey image by its own factor (clamped): contrast.
at::Tensor adjust_contrast(const at::Tensor& X, const at::Tensor& factor);
/// Blends each image with its grey image by its own factor (clamped); grey images unchanged.
at::Tensor adjust_saturation(const at::Tensor& X, const at::Tensor& factor);
/// Rotates each image's hue by its own shift (in turns, [-0.5, 0.5]); grey images unchanged.
at::Tensor adjust_hue(const at::Tensor& X, const at::Tensor& shift);
/// The ColorJitter of `j` on each image of `X` (float [B, C, H, W] in [0, 1]), factors and order
/// drawn per image from `gen`.
at::Tensor color_jitter(const at::Tensor& X, const ColorJitter& j, at::Generator& gen);

/// (X - mean[c]) / std[c] for each channel c of `X` (float [B, C, H, W]); `mean` and `std` have
/// C entries or one. Throws d2l::Error (BadInput) for other lengths or a std that is not > 0.
at::Tensor normalize(const at::Tensor& X, const std::vector<double>& mean,
                     const std::vector<double>& std);

/// Applies `a` to a batch (float [B, C, H, W] in [0, 1], on any device): crop (to `size`; 0
/// keeps the size), flip, jitter, normalise, drawing from `gen`.
at::Tensor augment_batch(const at::Tensor& X, const Augment& a, std::int64_t size,
                         at::Generator& gen);

}  // namespace d2l::data
