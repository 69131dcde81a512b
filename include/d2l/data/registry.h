#pragma once
/// \file d2l/data/registry.h
/// The data sets d2l knows, where their files are looked for, and how they are fetched.
/// No LibTorch.
#include <cstdint>
#include <string>
#include <vector>

#include "d2l/data/idx.h"

namespace d2l::data {

/// One file of a data set as the official mirrors serve it.
struct RemoteFile {
  std::string name;    ///< file name, e.g. "train-images-idx3-ubyte.gz"
  std::string sha256;  ///< lower-case hex digest of the file as downloaded
};

/// What d2l knows of a data set.
struct DatasetInfo {
  std::string name;                      ///< "fashion-mnist", "mnist", "cifar10"
  std::string format;                    ///< "idx" or "cifar10"
  std::vector<std::string> mirrors;      ///< base URLs, tried in order
  std::vector<RemoteFile> downloads;     ///< what to fetch from a mirror
  std::vector<std::string> train_files;  ///< relative paths (IDX: images, labels)
  std::vector<std::string> test_files;
  std::vector<std::string> classes;  ///< class names, by label
  std::string debian_package;        ///< "" when Debian has none
  std::string debian_dir;            ///< where the Debian package puts the files
  int channels = 1, height = 28, width = 28;
};

/// The names of the known data sets.
std::vector<std::string> dataset_names();

/// The data set called `name`; throws d2l::Error (BadInput) listing the valid names.
const DatasetInfo& dataset_info(const std::string& name);

/// The book's `get_fashion_mnist_labels`: text labels for numeric ones.
std::vector<std::string> get_fashion_mnist_labels(const std::vector<std::int64_t>& labels);
/// CIFAR-10's class names for numeric labels.
std::vector<std::string> get_cifar10_labels(const std::vector<std::int64_t>& labels);

/// Where to look for, and whether to fetch, a data set.
struct LocateOptions {
  std::string data_dir;  ///< --data-dir; "" for none
  bool download = true;  ///< fetch into the cache when no place has the files
                         ///< (also off when $D2L_OFFLINE is set)
};

/// The user's cache, `$XDG_CACHE_HOME/d2l` or `~/.cache/d2l`.
std::string default_cache_dir();

/// The folders searched, in order: `data_dir` (and data_dir/NAME), `$D2L_DATA_DIR` (and
/// its NAME/), `~/.cache/d2l/NAME`, Debian's folder.
std::vector<std::string> search_dirs(const DatasetInfo& info, const LocateOptions& opts);

/// The first searched folder holding all of the data set's files. Where none does, downloads
/// them (SHA-256 verified) into `data_dir/NAME` or the cache when allowed. Throws d2l::Error
/// (BadInput) naming the places looked and the ways to get the data.
std::string locate_dataset(const DatasetInfo& info, const LocateOptions& opts = {});

/// Reads the training (`train` true) or test split from the folder `dir`.
ImageSet read_split(const DatasetInfo& info, const std::string& dir, bool train);

/// Lower-case hex SHA-256 of a file; throws d2l::Error when it cannot be read or this build has
/// no OpenSSL.
std::string sha256_file(const std::string& path);

/// Extracts the regular files of a (gzipped) tar archive into `dir`, keeping their relative
/// paths; refuses absolute paths and "..". Throws d2l::Error (BadInput) on a broken archive.
void extract_tar(const std::string& archive, const std::string& dir);

}  // namespace d2l::data
