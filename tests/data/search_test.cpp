// The data sets' one search order (d2l/data/registry.h) over the layouts users hold: the folder
// with the files, its parent, torchvision's layout, an archive, a read-only folder, a folder
// missing a file; the "not found" sentence in every combination; and `d2l show` on each layout.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/data/archive.h"
#include "d2l/data/registry.h"
#include "support/fixtures.h"

namespace fs = std::filesystem;
namespace data = d2l::data;
using d2l::test::TempDir;
using d2l::test::write_bytes;

namespace {

// Sets a variable for the test's lifetime and restores the old value after.
class ScopedEnv {
 public:
  ScopedEnv(const char* key, const char* value) : key_(key) {
    if (const char* old = std::getenv(key)) old_ = old;
    if (value)
      ::setenv(key, value, 1);
    else
      ::unsetenv(key);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(key_, old_->c_str(), 1);
    else
      ::unsetenv(key_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* key_;
  std::optional<std::string> old_;
};

// A fresh cache and no data folder from the environment: each test sees only its own files.
class Search : public ::testing::Test {
 protected:
  TempDir tmp;
  ScopedEnv cache{"XDG_CACHE_HOME", (tmp / "cache").c_str()};
  ScopedEnv data_dir{"D2L_DATA_DIR", nullptr};
  ScopedEnv offline{"D2L_OFFLINE", nullptr};
  std::string cache_dir() const { return tmp / "cache/d2l"; }
};

// CIFAR-10 binary batches of `n` records each (labels 0..9 cycling) into `dir`.
void write_fake_cifar(const std::string& dir, int n = 3) {
  fs::create_directories(dir);
  auto batch = [n](int seed) {
    std::string b;
    for (int i = 0; i < n; ++i) {
      b += static_cast<char>((i + seed) % 10);
      for (int p = 0; p < 3 * 32 * 32; ++p) b += static_cast<char>((p * 7 + i + seed) & 0xff);
    }
    return b;
  };
  for (int k = 1; k <= 5; ++k)
    write_bytes(dir + "/data_batch_" + std::to_string(k) + ".bin", batch(k));
  write_bytes(dir + "/test_batch.bin", batch(0));
}

// A ustar header block of the test's own (with its checksum), then the data padded to 512.
std::string tar_member(const std::string& name, const std::string& bytes) {
  std::string h(512, '\0');
  h.replace(0, name.size(), name);
  std::snprintf(&h[100], 8, "%07o", 0644);
  std::snprintf(&h[108], 8, "%07o", 0);
  std::snprintf(&h[116], 8, "%07o", 0);
  std::snprintf(&h[124], 12, "%011zo", bytes.size());
  std::snprintf(&h[136], 12, "%011o", 0);
  h[156] = '0';
  h.replace(257, 6, std::string("ustar\0", 6));
  h.replace(263, 2, "00");
  h.replace(148, 8, "        ");
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  std::snprintf(&h[148], 8, "%06o", sum);
  h[155] = ' ';
  return h + bytes + std::string((512 - bytes.size() % 512) % 512, '\0');
}

// A tar archive of every file below `dir`, named "PREFIX/relative path".
std::string tar_of(const std::string& dir, const std::string& prefix) {
  std::string t;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    const std::string rel = fs::relative(f, dir).string();
    t += tar_member(prefix.empty() ? rel : prefix + "/" + rel, d2l::read_file(f.string()));
  }
  return t + std::string(1024, '\0');
}

std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.insert(e.path().string());
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const d2l::Error& e) {
    EXPECT_EQ(e.exit_code(), 2) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected a d2l::Error";
  return "";
}

const data::DatasetInfo& info(const char* name) { return data::dataset_info(name); }

std::string locate(const char* name, const std::string& dir) {
  data::LocateOptions o;
  o.data_dir = dir;
  o.download = false;
  return data::locate_dataset(info(name), o);
}

}  // namespace

TEST_F(Search, OrderIsDataFolderThenItsFoldersThenDebianThenCache) {
  const auto locs = data::search_locations("fashion-mnist", tmp.str());
  ASSERT_EQ(locs.size(), 6u);
  EXPECT_EQ(locs[0].path, tmp.str());
  EXPECT_EQ(locs[0].origin, data::Origin::DataDir);
  EXPECT_EQ(locs[1].path, tmp / "fashion-mnist");
  EXPECT_EQ(locs[2].path, tmp / "FashionMNIST/raw");
  EXPECT_NE(locs[2].why.find("torchvision"), std::string::npos) << locs[2].why;
  EXPECT_EQ(locs[3].path, tmp / "raw");
  EXPECT_EQ(locs[4].path, "/usr/share/datasets/fashion-mnist");
  EXPECT_EQ(locs[4].origin, data::Origin::Debian);
  EXPECT_EQ(locs[5].path, cache_dir() + "/fashion-mnist");
  EXPECT_EQ(locs[5].origin, data::Origin::Cache);
  for (const auto& l : locs) EXPECT_FALSE(l.why.empty());

  // CIFAR-10: the official archive in the data folder, no Debian folder, the cache's binary one.
  const auto c = data::search_locations("cifar10", tmp.str());
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c[1].path, tmp / "cifar-10-batches-bin");
  EXPECT_EQ(c[3].path, tmp / "cifar-10-binary.tar.gz");
  EXPECT_TRUE(c[3].archive);
  EXPECT_EQ(c[4].path, cache_dir() + "/cifar10/cifar-10-batches-bin");

  // $D2L_DATA_DIR stands in for --data-dir; a file is an archive.
  write_bytes(tmp / "x.tar.gz", "");
  ScopedEnv env("D2L_DATA_DIR", (tmp / "x.tar.gz").c_str());
  const auto e = data::search_locations("mnist");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_TRUE(e[0].archive);
  EXPECT_EQ(e[0].origin, data::Origin::DataDirEnv);
  EXPECT_EQ(e[1].origin, data::Origin::Cache);
  EXPECT_NE(data::search_order_help().find("FashionMNIST/raw/"), std::string::npos);
}

TEST_F(Search, IdxLayouts) {
  // The folder itself, gzipped or not.
  d2l::test::write_fake_mnist(tmp.str(), 12, 5);
  EXPECT_EQ(locate("mnist", tmp.str()), tmp.str());
  // Its parent, with the usual folder below; torchvision's layout (root or MNIST/); via the env.
  TempDir a;
  fs::create_directories(a / "mnist");
  d2l::test::write_fake_mnist(a / "mnist", 12, 5, true);
  EXPECT_EQ(locate("mnist", a.str()), a / "mnist");
  TempDir tv;
  fs::create_directories(tv / "MNIST/raw");
  d2l::test::write_fake_mnist(tv / "MNIST/raw", 12, 5, true);
  EXPECT_EQ(locate("mnist", tv.str()), tv / "MNIST/raw");
  EXPECT_EQ(locate("mnist", tv / "MNIST"), tv / "MNIST/raw");
  {
    ScopedEnv env("D2L_DATA_DIR", tv.str().c_str());
    EXPECT_EQ(locate("mnist", ""), tv / "MNIST/raw");
    const auto f = data::find_dataset(info("mnist"));
    ASSERT_TRUE(f);
    EXPECT_EQ(f->place.origin, data::Origin::DataDirEnv);
  }
  // The files are read from each (checked by format and size, not hash).
  const auto set = data::read_split(info("mnist"), tv / "MNIST/raw", true);
  EXPECT_EQ(set.n, 12);
  EXPECT_EQ(data::read_split(info("mnist"), tmp.str(), false).n, 5);
  // Fashion-MNIST's torchvision folder is its own.
  TempDir fm;
  fs::create_directories(fm / "FashionMNIST/raw");
  d2l::test::write_fake_mnist(fm / "FashionMNIST/raw", 12, 5, true);
  EXPECT_EQ(locate("fashion-mnist", fm.str()), fm / "FashionMNIST/raw");
}

TEST_F(Search, CifarLayouts) {
  write_fake_cifar(tmp / "p/cifar-10-batches-bin");
  // The folder holding the .bin files (the case), and its parent.
  EXPECT_EQ(locate("cifar10", tmp / "p/cifar-10-batches-bin"), tmp / "p/cifar-10-batches-bin");
  EXPECT_EQ(locate("cifar10", tmp / "p"), tmp / "p/cifar-10-batches-bin");
  const auto set = data::read_split(info("cifar10"), tmp / "p/cifar-10-batches-bin", true);
  EXPECT_EQ(set.n, 15);
  EXPECT_EQ(set.channels, 3);
}

TEST_F(Search, ArchivesAreUnpackedOnceIntoTheCache) {
#ifndef D2L_TEST_HAVE_ZLIB
  GTEST_SKIP() << "no zlib";
#else
  write_fake_cifar(tmp / "src/cifar-10-batches-bin");
  TempDir d;
  write_bytes(d / "my-cifar.tar.gz", d2l::test::gzip_bytes(tar_of(tmp / "src/cifar-10-batches-bin",
                                                                  "cifar-10-batches-bin")));
  const auto before = listing(d.str());
  const auto found = data::find_dataset(info("cifar10"), d / "my-cifar.tar.gz");
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->dir.empty()) << "not unpacked by a look";
  EXPECT_EQ(found->archive, d / "my-cifar.tar.gz");
  const std::string dir = locate("cifar10", d / "my-cifar.tar.gz");
  EXPECT_EQ(dir.rfind(cache_dir() + "/cifar10/unpacked/my-cifar-", 0), 0u) << dir;
  EXPECT_EQ(data::read_split(info("cifar10"), dir, false).n, 3);
  // Reused: a second run finds the same folder without unpacking again.
  write_bytes(dir + "/marker", "kept");
  EXPECT_EQ(locate("cifar10", d / "my-cifar.tar.gz"), dir);
  EXPECT_TRUE(fs::exists(dir + "/marker"));
  EXPECT_EQ(data::find_dataset(info("cifar10"), d / "my-cifar.tar.gz")->dir, dir);
  // Nothing was written beside the archive.
  EXPECT_EQ(listing(d.str()), before);

  // MNIST-format: a plain tar of the four .gz files, and the files' folder as a tar.
  TempDir m;
  fs::create_directories(m / "four");
  d2l::test::write_fake_mnist(m / "four", 12, 5, true);
  write_bytes(m / "mnist.tar", tar_of(m / "four", ""));
  const std::string mdir = locate("mnist", m / "mnist.tar");
  EXPECT_EQ(data::read_split(info("mnist"), mdir, true).n, 12);

  // Under its official name an archive is checked against its SHA-256.
  TempDir o;
  write_bytes(o / "cifar-10-binary.tar.gz", d2l::read_file(d / "my-cifar.tar.gz"));
  const std::string w = error_of([&] { locate("cifar10", o.str()); });
  EXPECT_NE(w.find("cifar-10-binary.tar.gz: SHA-256"), std::string::npos) << w;
  // An archive without the files says so.
  write_bytes(o / "other.tar", tar_member("readme.txt", "hi") + std::string(1024, '\0'));
  EXPECT_NE(error_of([&] { locate("cifar10", o / "other.tar"); }).find("holds none"),
            std::string::npos);
  // A data file named instead of its folder.
  write_bytes(o / "train-images-idx3-ubyte.gz", "x");
  const std::string f = error_of([&] { locate("mnist", o / "train-images-idx3-ubyte.gz"); });
  EXPECT_NE(f.find("is a file, not a folder"), std::string::npos) << f;
  // A file that is no tar archive.
  write_bytes(o / "junk.tar", std::string(2048, 'x'));
  EXPECT_NE(error_of([&] { locate("cifar10", o / "junk.tar"); }).find("not a tar archive"),
            std::string::npos);
#endif
}

TEST_F(Search, FolderMissingAFileNamesIt) {
  write_fake_cifar(tmp / "cifar-10-batches-bin");
  fs::remove(tmp / "cifar-10-batches-bin/test_batch.bin");
  for (const std::string& d : {tmp.str(), tmp / "cifar-10-batches-bin"}) {
    const std::string w = error_of([&] { locate("cifar10", d); });
    EXPECT_NE(w.find("cifar-10-batches-bin: test_batch.bin missing"), std::string::npos) << w;
    EXPECT_EQ(w.find('\n'), std::string::npos);
  }
  TempDir m;
  d2l::test::write_fake_mnist(m.str(), 12, 5, true);
  fs::remove(m / "t10k-labels-idx1-ubyte.gz");
  fs::remove(m / "train-labels-idx1-ubyte.gz");
  const std::string w = error_of([&] { locate("mnist", m.str()); });
  EXPECT_NE(w.find(m.str() + ": train-labels-idx1-ubyte.gz and t10k-labels-idx1-ubyte.gz missing"),
            std::string::npos)
      << w;
}

TEST_F(Search, WrongSizeNamesFileAndFault) {
  write_fake_cifar(tmp / "cifar-10-batches-bin");
  write_bytes(tmp / "cifar-10-batches-bin/test_batch.bin", std::string(3072, '\0'));
  const std::string dir = locate("cifar10", tmp.str());
  const std::string w = error_of([&] { data::read_split(info("cifar10"), dir, false); });
  EXPECT_NE(w.find("test_batch.bin: truncated"), std::string::npos) << w;
}

TEST_F(Search, PythonVersionGetsTheBinaryOnesName) {
  fs::create_directories(tmp / "cifar-10-batches-py");
  for (const char* f : {"data_batch_1", "data_batch_2", "test_batch", "batches.meta"})
    write_bytes(tmp / (std::string("cifar-10-batches-py/") + f), "pickle");
  for (const std::string& d : {tmp.str(), tmp / "cifar-10-batches-py"}) {
    const std::string w = error_of([&] { locate("cifar10", d); });
    EXPECT_NE(w.find("Python version"), std::string::npos) << w;
    EXPECT_NE(w.find("cifar-10-batches-bin"), std::string::npos) << w;
  }
}

TEST_F(Search, ReadOnlyFolderGetsNothingWritten) {
  // Root ignores permissions, so beside chmod the test checks that nothing new appears.
  fs::create_directories(tmp / "ro/FashionMNIST/raw");
  d2l::test::write_fake_mnist(tmp / "ro/FashionMNIST/raw", 12, 5, true);
  write_fake_cifar(tmp / "ro/cifar-10-batches-bin");
  const auto before = listing(tmp / "ro");
  for (const auto& p : before) ::chmod(p.c_str(), 0555);
  ::chmod((tmp / "ro").c_str(), 0555);
  const std::string fm = locate("fashion-mnist", tmp / "ro");
  EXPECT_EQ(data::read_split(info("fashion-mnist"), fm, true).n, 12);
  EXPECT_EQ(data::read_split(info("fashion-mnist"), fm, false).n, 5);
  const std::string cf = locate("cifar10", tmp / "ro");
  EXPECT_EQ(data::read_split(info("cifar10"), cf, true).n, 15);
  EXPECT_EQ(listing(tmp / "ro"), before);
  ::chmod((tmp / "ro").c_str(), 0755);
  for (const auto& p : before) ::chmod(p.c_str(), 0755);
}

// Every "not found" message is one sentence: the name, the places, why nothing was fetched and
// the ways, with no empty item, for each data set, data folder and download state.
TEST_F(Search, NotFoundIsOneSentenceInEveryCombination) {
  fs::create_directories(tmp / "empty");
  const std::vector<std::string> dirs = {"", tmp / "empty", tmp / "nowhere"};
  for (const char* name : {"fashion-mnist", "mnist", "cifar10"}) {
    const auto& ds = info(name);
    for (const auto& dir : dirs)
      for (int env = 0; env < 2; ++env)
        for (int state = 0; state < 3; ++state) {
          ScopedEnv e("D2L_DATA_DIR", env && dir.empty() ? (tmp / "empty").c_str() : nullptr);
          data::NotFoundCause cause;
          cause.download_allowed = state == 0;
          cause.download_error = state == 0 ? "Could not resolve host: x.example" : "";
          cause.offline_env = state == 2;
          const std::string m = data::not_found_message(ds, dir, cause);
          SCOPED_TRACE(m);
          EXPECT_EQ(m.rfind(std::string(name) + ": data set not found in ", 0), 0u);
          EXPECT_EQ(m.back(), '.');
          EXPECT_EQ(m.find('\n'), std::string::npos);
          for (const char* bad :
               {"  ", ", ,", ": or", "; or", "to get it: ", "or or", ", and,", "in ;", "()", " ."})
            EXPECT_EQ(m.find(bad), std::string::npos) << bad;
          const auto ways = m.find("; to get it, ");
          ASSERT_NE(ways, std::string::npos);
          EXPECT_EQ(m.find("; to get it, ", ways + 1), std::string::npos);
          EXPECT_NE(m.find("download http", ways), std::string::npos);
          EXPECT_NE(m.find("pass --data-dir", ways), std::string::npos);
          EXPECT_NE(m.find("the cache " + cache_dir()), std::string::npos);
          EXPECT_EQ(m.find("apt-get install") != std::string::npos, !ds.debian_package.empty());
          if (state == 0)
            EXPECT_NE(m.find(", and the download failed (Could not resolve"), std::string::npos);
          if (state == 1) EXPECT_NE(m.find("--no-download"), std::string::npos);
          if (state == 2) EXPECT_NE(m.find("D2L_OFFLINE"), std::string::npos);
          if (!dir.empty()) EXPECT_NE(m.find("--data-dir " + dir), std::string::npos);
          if (env && dir.empty())
            EXPECT_NE(m.find("$D2L_DATA_DIR " + (tmp / "empty")), std::string::npos);
          if (dir == tmp / "nowhere") EXPECT_NE(m.find("(no such folder)"), std::string::npos);
        }
  }
  // locate_dataset throws that sentence: with --no-download, and with D2L_OFFLINE.
  const std::string w = error_of([&] { locate("mnist", tmp / "empty"); });
  EXPECT_EQ(w, data::not_found_message(info("mnist"), tmp / "empty", {false, false, ""}));
  ScopedEnv off("D2L_OFFLINE", "1");
  data::LocateOptions o;
  o.data_dir = tmp / "empty";
  const std::string w2 = error_of([&] { data::locate_dataset(info("cifar10"), o); });
  EXPECT_NE(w2.find("downloading is off (D2L_OFFLINE is set)"), std::string::npos) << w2;
}

// The real `d2l show` on each layout, and its one-line errors.
TEST_F(Search, ShowReadsEveryLayout) {
  const std::string env = "env XDG_CACHE_HOME=" + (tmp / "cache") + " D2L_DATA_DIR= D2L_OFFLINE=1 ";
  auto show = [&](const std::string& args) {
    return d2l::test::run(env + d2l::test::bin("d2l") + " show " + args);
  };
  // IDX: torchvision's layout; CIFAR-10: the folder with the .bin files and an archive.
  fs::create_directories(tmp / "tv/MNIST/raw");
  d2l::test::write_fake_mnist(tmp / "tv/MNIST/raw", 20, 5, true);
  auto r = show("mnist --data-dir " + (tmp / "tv") + " -o " + (tmp / "m.png"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("from " + (tmp / "tv/MNIST/raw")), std::string::npos) << r.output;
  EXPECT_GT(fs::file_size(tmp / "m.png"), 1000u);
  write_fake_cifar(tmp / "c/cifar-10-batches-bin", 20);
  r = show("cifar10 --rows 1 --cols 4 --data-dir " + (tmp / "c/cifar-10-batches-bin") + " -o " +
           (tmp / "c.png"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(fs::exists(tmp / "c.png"));
#ifdef D2L_TEST_HAVE_ZLIB
  write_bytes(tmp / "c.tgz", d2l::test::gzip_bytes(tar_of(tmp / "c", "")));
  r = show("cifar10 --split test --rows 1 --cols 2 --data-dir " + (tmp / "c.tgz") + " -o " +
           (tmp / "a.png"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("from " + cache_dir() + "/cifar10/unpacked/c-"), std::string::npos)
      << r.output;
#endif
  // A missing file: one line naming it, exit 2.
  fs::remove(tmp / "c/cifar-10-batches-bin/data_batch_3.bin");
  r = show("cifar10 --data-dir " + (tmp / "c") + " -o " + (tmp / "x.png"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_EQ(d2l::test::count_lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find("cifar-10-batches-bin: data_batch_3.bin missing"), std::string::npos)
      << r.output;
  // Not found anywhere: the one sentence.
  r = show("cifar10 --data-dir " + (tmp / "none") + " -o " + (tmp / "x.png"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_EQ(d2l::test::count_lines(r.output), 1) << r.output;
  EXPECT_NE(r.output.find("cifar10: data set not found in --data-dir " + (tmp / "none")),
            std::string::npos)
      << r.output;
  // --help lists the search order.
  r = show("--help");
  EXPECT_NE(r.output.find("torchvision"), std::string::npos) << r.output;
}

// `d2l train` reads the same layouts (through the loaders), the data folder left as it was.
TEST_F(Search, TrainReadsTheLayouts) {
  if (!fs::exists(d2l::test::bin("d2l-torch"))) GTEST_SKIP() << "d2l-torch is not built";
  const std::string env = "env XDG_CACHE_HOME=" + (tmp / "cache") + " D2L_DATA_DIR= D2L_OFFLINE=1 ";
  auto train = [&](const std::string& data_dir, const std::string& out) {
    return d2l::test::run(env + d2l::test::bin("d2l") +
                          " train mlp --data mnist --epochs 1 --batch-size 10 --threads 1 "
                          "--data-dir " +
                          data_dir + " --out " + (tmp / out));
  };
  fs::create_directories(tmp / "ro/MNIST/raw");
  d2l::test::write_fake_mnist(tmp / "ro/MNIST/raw", 30, 10, true);
  const auto before = listing(tmp / "ro");
  auto r = train(tmp / "ro", "a");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(listing(tmp / "ro"), before);
  write_bytes(tmp / "mnist.tar", tar_of(tmp / "ro/MNIST/raw", "MNIST/raw"));
  r = train(tmp / "mnist.tar", "b");
  EXPECT_EQ(r.code, 0) << r.output;
  fs::remove(tmp / "ro/MNIST/raw/train-images-idx3-ubyte.gz");
  r = train(tmp / "ro", "c");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("raw: train-images-idx3-ubyte.gz missing"), std::string::npos)
      << r.output;
}

TEST(Archive, NamesAndChecksums) {
  EXPECT_TRUE(data::is_archive_name("a/cifar-10-binary.tar.gz"));
  EXPECT_TRUE(data::is_archive_name("x.tgz"));
  EXPECT_TRUE(data::is_archive_name("x.tar"));
  EXPECT_FALSE(data::is_archive_name("train-images-idx3-ubyte.gz"));
  TempDir d;
  // A header whose checksum is wrong is refused; GNU long names are followed.
  std::string h = tar_member("a.bin", "abc");
  h[0] = 'b';
  write_bytes(d / "bad.tar", h + std::string(1024, '\0'));
  EXPECT_THROW(data::extract_tar(d / "bad.tar", d / "out"), d2l::Error);
  const std::string long_name(150, 'n');
  std::string gnu = tar_member("././@LongLink", long_name + '\0');
  gnu[156] = 'L';
  // Recompute the checksum after changing the type.
  std::fill(gnu.begin() + 148, gnu.begin() + 156, ' ');
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i) sum += static_cast<unsigned char>(gnu[static_cast<std::size_t>(i)]);
  std::snprintf(&gnu[148], 8, "%06o", sum);
  gnu[155] = ' ';
  write_bytes(d / "long.tar", gnu + tar_member("short", "xyz") + std::string(1024, '\0'));
  data::extract_tar(d / "long.tar", d / "out");
  EXPECT_EQ(d2l::read_file(d / ("out/" + long_name)), "xyz");
}
