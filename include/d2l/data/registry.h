#pragma once
/// \file d2l/data/registry.h
/// The data sets d2l knows, where their files are looked for, and how they are fetched.
/// No LibTorch.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "d2l/data/archive.h"
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
  std::vector<std::string> train_files;  ///< file names (IDX: images, labels); each may be .gz
  std::vector<std::string> test_files;
  /// The folders, relative to a parent, the files usually sit in, in search order
  /// ("fashion-mnist", torchvision's "FashionMNIST/raw"; "cifar-10-batches-bin").
  std::vector<std::string> folders;
  std::string cache_folder;          ///< the folder below the cache (downloads unpack there)
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
  std::string data_dir;  ///< --data-dir; "" for $D2L_DATA_DIR (or none)
  bool download = true;  ///< fetch into the cache when no place has the files
                         ///< (also off when $D2L_OFFLINE is set)
};

/// The user's cache, d2l::cache_dir() (`$XDG_CACHE_HOME/d2l` or `~/.cache/d2l`): downloads and
/// unpacked archives go there, never beside a user's data.
std::string default_cache_dir();

/// Who named a place of the search.
enum class Origin {
  DataDir,     ///< --data-dir (LocateOptions::data_dir)
  DataDirEnv,  ///< $D2L_DATA_DIR (when no --data-dir is given)
  Debian,      ///< Debian's package folder (/usr/share/datasets)
  Cache,       ///< the cache, where downloads go
};

/// One place of the search, in order.
struct SearchLocation {
  std::string path;      ///< a folder that may hold the files, or an archive file
  bool archive = false;  ///< `path` is an archive, unpacked once into the cache
  Origin origin = Origin::Cache;
  std::string why;  ///< why it is looked at, e.g. "--data-dir's torchvision layout"
};

/// The one search order of every data set, used by the loaders, `d2l show`, `d2l train` and
/// `d2l doctor`. With D = `data_dir` (or $D2L_DATA_DIR when `data_dir` is ""): the archive D when
/// D is a file; else D, D's usual folders (DatasetInfo::folders: `fashion-mnist`,
/// `FashionMNIST/raw` (torchvision), `raw`; `cifar-10-batches-bin`) and D's archive under its
/// official name (`cifar-10-binary.tar.gz`); then Debian's folder; then the cache's folder.
/// Looks at the file system only to tell a file from a folder. Throws d2l::Error (BadInput) for
/// an unknown name.
std::vector<SearchLocation> search_locations(const std::string& name,
                                             const std::string& data_dir = "");

/// The search order in words, for --help and the docs.
std::string search_order_help();

/// Where the search found a data set.
struct FoundDataset {
  std::string dir;       ///< the folder holding the files; "" while `archive` is not unpacked yet
  std::string archive;   ///< the archive the files come from, or ""
  SearchLocation place;  ///< the place of the search that has them
};

/// Runs the search without writing or downloading anything: the first place holding all of the
/// data set's files (or an archive). Returns nullopt when no place has them. Throws d2l::Error
/// (BadInput) when the data folder (--data-dir or $D2L_DATA_DIR, and its usual folders) holds
/// only some of the files, naming the missing ones ("cifar-10-batches-bin: test_batch.bin
/// missing"), or holds CIFAR-10's Python version, naming the binary one.
std::optional<FoundDataset> find_dataset(const DatasetInfo& info, const std::string& data_dir = "");

/// The folder of the unpacked copy of `archive` in the cache (whether it exists yet or not).
std::string unpacked_dir(const DatasetInfo& info, const std::string& archive);

/// Unpacks `archive` once into the cache (unpacked_dir) and returns the folder inside holding the
/// data set's files; reuses an earlier unpacking. An archive under its official name
/// (`cifar-10-binary.tar.gz`) is checked against its SHA-256 first. Throws d2l::Error (BadInput)
/// on a damaged archive or one without the files, d2l::Error when the cache cannot be written.
std::string unpack_dataset_archive(const DatasetInfo& info, const std::string& archive);

/// How a failed search ended, for not_found_message.
struct NotFoundCause {
  bool download_allowed = true;  ///< false: LocateOptions::download was off
  bool offline_env = false;      ///< $D2L_OFFLINE turned downloading off
  std::string download_error;    ///< why the download failed ("" when none was tried)
};

/// The one-sentence error of a data set found nowhere: the places looked, why nothing was
/// downloaded, and the ways to get it.
std::string not_found_message(const DatasetInfo& info, const std::string& data_dir,
                              const NotFoundCause& cause);

/// The folder holding all of the data set's files: the first place of search_locations() that
/// has them (an archive is unpacked into the cache first). Where none does, downloads them
/// (SHA-256 verified) into the cache when allowed. Throws d2l::Error (BadInput) with
/// not_found_message(), or find_dataset()'s errors.
std::string locate_dataset(const DatasetInfo& info, const LocateOptions& opts = {});

/// Downloads the data set's files from its mirrors into `dir` (SHA-256 verified; an archive is
/// unpacked there). Returns "" or why it failed.
std::string download_dataset(const DatasetInfo& info, const std::string& dir);

/// Reads the training (`train` true) or test split from the folder `dir`.
ImageSet read_split(const DatasetInfo& info, const std::string& dir, bool train);

/// Lower-case hex SHA-256 of a file; throws d2l::Error when it cannot be read or this build has
/// no OpenSSL.
std::string sha256_file(const std::string& path);

}  // namespace d2l::data

namespace d2l {
// The book's name: `d2l.get_fashion_mnist_labels`.
using data::get_fashion_mnist_labels;
}  // namespace d2l
