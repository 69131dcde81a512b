#include "d2l/data/registry.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/core/http.h"
#include "d2l/core/paths.h"

#ifdef D2L_HAVE_OPENSSL
#include <openssl/evp.h>
#endif

namespace fs = std::filesystem;

namespace d2l::data {
namespace {

const std::vector<DatasetInfo>& all() {
  static const std::vector<DatasetInfo> sets = [] {
    std::vector<DatasetInfo> v;
    DatasetInfo fm;
    fm.name = "fashion-mnist";
    fm.format = "idx";
    fm.mirrors = {"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"};
    fm.downloads = {{"train-images-idx3-ubyte.gz",
                     "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"},
                    {"train-labels-idx1-ubyte.gz",
                     "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"},
                    {"t10k-images-idx3-ubyte.gz",
                     "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"},
                    {"t10k-labels-idx1-ubyte.gz",
                     "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"}};
    fm.train_files = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"};
    fm.test_files = {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    fm.folders = {"fashion-mnist", "FashionMNIST/raw", "raw"};
    fm.cache_folder = "fashion-mnist";
    fm.classes = {"t-shirt", "trouser", "pullover", "dress", "coat",
                  "sandal",  "shirt",   "sneaker",  "bag",   "ankle boot"};
    fm.debian_package = "dataset-fashion-mnist";
    fm.debian_dir = "/usr/share/datasets/fashion-mnist";
    v.push_back(fm);

    DatasetInfo mn = fm;
    mn.name = "mnist";
    mn.mirrors = {"https://ossci-datasets.s3.amazonaws.com/mnist/",
                  "https://storage.googleapis.com/cvdf-datasets/mnist/"};
    mn.downloads = {{"train-images-idx3-ubyte.gz",
                     "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
                    {"train-labels-idx1-ubyte.gz",
                     "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
                    {"t10k-images-idx3-ubyte.gz",
                     "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
                    {"t10k-labels-idx1-ubyte.gz",
                     "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"}};
    mn.folders = {"mnist", "MNIST/raw", "raw"};
    mn.cache_folder = "mnist";
    mn.classes = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    mn.debian_package = "";
    mn.debian_dir = "";
    v.push_back(mn);

    DatasetInfo cf;
    cf.name = "cifar10";
    cf.format = "cifar10";
    cf.mirrors = {"https://www.cs.toronto.edu/~kriz/"};
    cf.downloads = {{"cifar-10-binary.tar.gz",
                     "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"}};
    cf.train_files = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                      "data_batch_4.bin", "data_batch_5.bin"};
    cf.test_files = {"test_batch.bin"};
    cf.folders = {"cifar-10-batches-bin", "cifar10/cifar-10-batches-bin"};
    cf.cache_folder = "cifar10/cifar-10-batches-bin";
    cf.classes = {"airplane", "automobile", "bird",  "cat",  "deer",
                  "dog",      "frog",       "horse", "ship", "truck"};
    cf.channels = 3;
    cf.height = 32;
    cf.width = 32;
    v.push_back(cf);
    return v;
  }();
  return sets;
}

bool exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The path of `rel` in `dir`: as is, or with ".gz".
std::string find_file(const std::string& dir, const std::string& rel) {
  for (const std::string& cand : {dir + "/" + rel, dir + "/" + rel + ".gz"})
    if (exists(cand)) return cand;
  return "";
}

std::vector<std::string> labels_of(const std::vector<std::string>& names,
                                   const std::vector<std::int64_t>& labels) {
  std::vector<std::string> out;
  out.reserve(labels.size());
  for (auto l : labels) {
    if (l < 0 || l >= static_cast<std::int64_t>(names.size()))
      throw bad_input("label " + std::to_string(l) + " is not a class index");
    out.push_back(names[static_cast<std::size_t>(l)]);
  }
  return out;
}

#ifdef D2L_HAVE_CURL
// Downloads url to path (via path.part, renamed when complete); returns "" or the error text.
std::string http_get(const std::string& url, const std::string& path) {
  try {
    download_file(url, path);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}
#endif

std::string download(const DatasetInfo& info, const std::string& dir) {
#ifdef D2L_HAVE_CURL
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return "cannot create " + dir + ": " + ec.message();
  for (const auto& file : info.downloads) {
    const std::string dest = dir + "/" + file.name;
    std::string last_error;
    bool ok = exists(dest) && sha256_file(dest) == file.sha256;
    for (std::size_t m = 0; !ok && m < info.mirrors.size(); ++m) {
      const std::string url = info.mirrors[m] + file.name;
      std::fprintf(stderr, "%s: downloading %s\n", info.name.c_str(), url.c_str());
      last_error = http_get(url, dest);
      if (!last_error.empty()) continue;
      const std::string got = sha256_file(dest);
      if (got != file.sha256) {
        ::unlink(dest.c_str());
        last_error = url + ": SHA-256 " + got + " is not the expected " + file.sha256;
        continue;
      }
      ok = true;
    }
    if (!ok) return last_error;
    if (file.name.size() > 7 && file.name.compare(file.name.size() - 7, 7, ".tar.gz") == 0)
      extract_tar(dest, dir);
  }
  return "";
#else
  (void)info;
  (void)dir;
  return "this build has no libcurl";
#endif
}

}  // namespace

std::vector<std::string> dataset_names() {
  std::vector<std::string> names;
  for (const auto& d : all()) names.push_back(d.name);
  return names;
}

const DatasetInfo& dataset_info(const std::string& name) {
  for (const auto& d : all())
    if (d.name == name) return d;
  std::string valid;
  for (const auto& d : all()) valid += (valid.empty() ? "" : ", ") + d.name;
  throw bad_input("unknown data set '" + name + "' (valid: " + valid + ")");
}

std::vector<std::string> get_fashion_mnist_labels(const std::vector<std::int64_t>& labels) {
  return labels_of(dataset_info("fashion-mnist").classes, labels);
}

std::vector<std::string> get_cifar10_labels(const std::vector<std::int64_t>& labels) {
  return labels_of(dataset_info("cifar10").classes, labels);
}

std::string default_cache_dir() { return cache_dir(); }

std::string download_dataset(const DatasetInfo& info, const std::string& dir) {
  return download(info, dir);
}

namespace {
// Debian's gzipped files are decoded once into the user's cache folder (which is searched
// before Debian's), so later runs skip the decompression (0.3-0.5 s here).
// Returns the decoded copy's path, or "" when there is none.
std::string cache_decoded(const DatasetInfo& info, const std::string& dir, const std::string& rel,
                          const std::string& gz_path) {
  const char* off = std::getenv("D2L_NO_DATA_CACHE");
  if (off && *off && std::string(off) != "0") return "";
  // Only Debian's read-only copy is cached: a folder of the user's may hold other files of the
  // same names, which a cached copy must never shadow.
  if (info.debian_dir.empty() || dir != info.debian_dir) return "";
  const std::string cache = default_cache_dir() + "/" + info.cache_folder;
  try {
    const std::string dest = cache + "/" + rel;
    if (exists(dest)) return dest;
    const std::string bytes = read_maybe_gzip(gz_path);
    // Only a file that parses goes into the cache.
    parse_idx(bytes, info.name + ": " + gz_path);
    std::error_code ec;
    fs::create_directories(fs::path(dest).parent_path(), ec);
    if (ec) return "";
    write_file_atomic(dest, bytes);
    return dest;
  } catch (const Error&) {
    // A cache we cannot write is no error, and a corrupt file is reported when it is read.
    return "";
  }
}
}  // namespace

ImageSet read_split(const DatasetInfo& info, const std::string& dir, bool train) {
  const auto& files = train ? info.train_files : info.test_files;
  std::vector<std::string> paths;
  bool complete_cache = true;
  for (const auto& f : files) {
    const std::string p = find_file(dir, f);
    if (p.empty()) throw bad_input(info.name + ": " + dir + "/" + f + ": missing");
    paths.push_back(p);
  }
  // Decode into the cache only once every file of the data set is there to copy.
  for (const auto* fs_ : {&info.train_files, &info.test_files})
    for (const auto& f : *fs_) complete_cache = complete_cache && !find_file(dir, f).empty();
  if (complete_cache && info.format == "idx") {
    for (std::size_t i = 0; i < files.size(); ++i)
      if (paths[i].size() > 3 && paths[i].compare(paths[i].size() - 3, 3, ".gz") == 0)
        if (auto decoded = cache_decoded(info, dir, files[i], paths[i]); !decoded.empty())
          paths[i] = decoded;
  }
  if (info.format == "idx") {
    ImageSet set =
        read_idx_images(paths.at(0), paths.at(1), info.name, static_cast<int>(info.classes.size()));
    return set;
  }
  return read_cifar10(paths, info.name);
}

std::string sha256_file(const std::string& path) {
#ifdef D2L_HAVE_OPENSSL
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx, buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
#else
  throw Error(path + ": cannot verify SHA-256: this build has no OpenSSL");
#endif
}

}  // namespace d2l::data
