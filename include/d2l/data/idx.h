#pragma once
/// \file d2l/data/idx.h
/// Readers for the IDX format of MNIST and Fashion-MNIST (gzipped or not). No LibTorch.
#include <cstdint>
#include <string>
#include <vector>

namespace d2l::data {

/// A decoded IDX array of unsigned bytes: `dims` (e.g. {60000, 28, 28}) and the values, row-major.
struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> data;
};

/// Images and their labels, pixels row-major as [n, channels, height, width].
struct ImageSet {
  std::int64_t n = 0, channels = 0, height = 0, width = 0;
  std::vector<std::uint8_t> pixels;
  std::vector<std::uint8_t> labels;
};

/// Reads a whole file, inflating it when it starts with the gzip magic. Throws d2l::Error
/// (BadInput) naming `path` when the file is missing or the gzip stream is broken or truncated.
std::string read_maybe_gzip(const std::string& path);

/// Parses IDX bytes. `name` prefixes every error (e.g. "fashion-mnist:
/// train-images-idx3-ubyte.gz"). `expected_magic` (2051 for images, 2049 for labels; 0 for any
/// ubyte IDX) is checked. Throws d2l::Error (BadInput) on a wrong magic number, a dimension of zero
/// or a size that disagrees with the dimensions (truncated or trailing bytes).
IdxArray parse_idx(const std::string& bytes, const std::string& name,
                   std::uint32_t expected_magic = 0);

/// Reads an image file (magic 2051, dims n x h x w) and a label file (2049, dims n) and checks
/// that their counts agree and every label is below `num_classes`. `dataset` names the data set
/// in errors.
ImageSet read_idx_images(const std::string& images_path, const std::string& labels_path,
                         const std::string& dataset, int num_classes = 10);

/// Parses CIFAR-10 binary batches (records of 1 label byte + 3x32x32 pixels) and appends them
/// to `out`. Throws d2l::Error (BadInput) naming `name` when the size is not a whole number of
/// records or a label is not below 10.
void parse_cifar10(const std::string& bytes, const std::string& name, ImageSet& out);

/// Reads CIFAR-10 batch files (each may be gzipped) into one set.
ImageSet read_cifar10(const std::vector<std::string>& paths,
                      const std::string& dataset = "cifar10");

}  // namespace d2l::data
