#include "d2l/data/idx.h"

#include <gtest/gtest.h>

#include "d2l/core/atomic_file.h"
#include "d2l/core/error.h"
#include "d2l/data/registry.h"
#include "support/fixtures.h"

using d2l::test::idx_bytes;
using d2l::test::TempDir;
using d2l::test::write_bytes;

namespace {

// Expects f() to throw a BadInput d2l::Error whose one-line message contains `needle`.
template <class F>
void expect_bad_input(F f, const std::string& needle) {
  try {
    f();
    FAIL() << "expected d2l::Error containing '" << needle << "'";
  } catch (const d2l::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(needle), std::string::npos) << what;
    EXPECT_EQ(e.exit_code(), 2) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
  }
}

std::vector<std::uint8_t> ramp(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 7);
  return v;
}

}  // namespace

TEST(Idx, ParsesDimsAndValues) {
  const auto data = ramp(3 * 4 * 5);
  auto a = d2l::data::parse_idx(idx_bytes(2051, {3, 4, 5}, data), "x", 2051);
  EXPECT_EQ(a.dims, (std::vector<std::int64_t>{3, 4, 5}));
  EXPECT_EQ(a.data, data);
}

TEST(Idx, WrongMagicNamesFileAndBothNumbers) {
  expect_bad_input(
      [] { d2l::data::parse_idx(idx_bytes(2049, {3}, ramp(3)), "fashion-mnist: a.gz", 2051); },
      "fashion-mnist: a.gz: expected magic 2051, found 2049");
}

TEST(Idx, TruncatedDataAndHeader) {
  auto bytes = idx_bytes(2051, {2, 28, 28}, ramp(2 * 28 * 28));
  expect_bad_input([&] { d2l::data::parse_idx(bytes.substr(0, bytes.size() - 5), "f", 2051); },
                   "truncated");
  expect_bad_input([&] { d2l::data::parse_idx(bytes.substr(0, 9), "f", 2051); }, "truncated");
  expect_bad_input([&] { d2l::data::parse_idx(bytes.substr(0, 2), "f", 2051); }, "truncated");
  expect_bad_input([&] { d2l::data::parse_idx(bytes + "xx", "f", 2051); }, "bytes after the data");
}

TEST(Idx, WrongDimensions) {
  expect_bad_input(
      [] {
        d2l::data::parse_idx(idx_bytes(2051, {2, 0, 28}, {}), "f", 2051);
      },
      "wrong dimensions");
  expect_bad_input([] { d2l::data::parse_idx(idx_bytes(0x0800, {}, {}), "f"); },
                   "wrong dimensions");
  expect_bad_input(
      [] {
        d2l::data::parse_idx(idx_bytes(0x0d03, {1, 1, 1}, {0, 0, 0, 0}), "f");
      },
      "not an unsigned-byte IDX");
}

TEST(Idx, ReadsImagesAndLabelsGzippedOrNot) {
  for (bool gz : {false, true}) {
    TempDir dir;
    d2l::test::write_fake_mnist(dir.str(), 20, 5, gz);
    const std::string ext = gz ? ".gz" : "";
    auto set = d2l::data::read_idx_images(dir / ("train-images-idx3-ubyte" + ext),
                                          dir / ("train-labels-idx1-ubyte" + ext), "fake");
    EXPECT_EQ(set.n, 20);
    EXPECT_EQ(set.height, 28);
    EXPECT_EQ(set.pixels.size(), 20u * 784u);
    EXPECT_EQ(set.labels.size(), 20u);
  }
}

TEST(Idx, CountsThatDisagree) {
  TempDir dir;
  write_bytes(dir / "i", idx_bytes(2051, {3, 2, 2}, ramp(12)));
  write_bytes(dir / "l", idx_bytes(2049, {2}, {1, 2}));
  expect_bad_input([&] { d2l::data::read_idx_images(dir / "i", dir / "l", "fake"); },
                   "3 images in i but 2 labels in l");
}

TEST(Idx, LabelOutOfRange) {
  TempDir dir;
  write_bytes(dir / "i", idx_bytes(2051, {2, 2, 2}, ramp(8)));
  write_bytes(dir / "l", idx_bytes(2049, {2}, {1, 12}));
  expect_bad_input([&] { d2l::data::read_idx_images(dir / "i", dir / "l", "fake"); }, "label 12");
}

#ifdef D2L_TEST_HAVE_ZLIB
TEST(Idx, BrokenAndTruncatedGzip) {
  TempDir dir;
  const std::string gz = d2l::test::gzip_bytes(idx_bytes(2049, {1000}, ramp(1000)));
  std::string broken = gz;
  for (std::size_t i = 12; i < 40 && i < broken.size(); ++i) broken[i] = static_cast<char>(0xff);
  write_bytes(dir / "broken.gz", broken);
  expect_bad_input([&] { d2l::data::read_maybe_gzip(dir / "broken.gz"); }, "broken gzip");
  write_bytes(dir / "trunc.gz", gz.substr(0, gz.size() / 2));
  expect_bad_input([&] { d2l::data::read_maybe_gzip(dir / "trunc.gz"); }, "truncated");
}
#endif

TEST(Cifar10, ParsesRecordsAndRejectsBadOnes) {
  std::string rec(3073, '\0');
  rec[0] = 7;
  rec[1] = 42;
  d2l::data::ImageSet set;
  d2l::data::parse_cifar10(rec + rec, "cifar10: b.bin", set);
  EXPECT_EQ(set.n, 2);
  EXPECT_EQ(set.channels, 3);
  EXPECT_EQ(set.labels[1], 7);
  EXPECT_EQ(set.pixels[3072], 42);
  d2l::data::ImageSet s2;
  expect_bad_input([&] { d2l::data::parse_cifar10(rec.substr(0, 3000), "cifar10: b.bin", s2); },
                   "truncated");
  rec[0] = 10;
  expect_bad_input([&] { d2l::data::parse_cifar10(rec, "cifar10: b.bin", s2); }, "label 10");
  expect_bad_input([&] { d2l::data::parse_cifar10("", "cifar10: b.bin", s2); }, "empty");
}

TEST(Registry, UnknownDatasetListsValidNames) {
  expect_bad_input([] { d2l::data::dataset_info("imagenet"); }, "fashion-mnist, mnist, cifar10");
}

TEST(Registry, FashionMnistLabels) {
  auto names = d2l::data::get_fashion_mnist_labels({0, 9, 3});
  EXPECT_EQ(names, (std::vector<std::string>{"t-shirt", "ankle boot", "dress"}));
  EXPECT_THROW(d2l::data::get_fashion_mnist_labels({10}), d2l::Error);
  EXPECT_EQ(d2l::data::get_cifar10_labels({1})[0], "automobile");
}

TEST(Registry, DataDirIsSearchedFirstAndNamedSubfolderToo) {
  TempDir dir;
  std::filesystem::create_directories(dir / "fashion-mnist");
  d2l::test::write_fake_mnist(dir / "fashion-mnist", 10, 10);
  d2l::data::LocateOptions o;
  o.data_dir = dir.str();
  o.download = false;
  EXPECT_EQ(d2l::data::locate_dataset(d2l::data::dataset_info("fashion-mnist"), o),
            dir / "fashion-mnist");
}

TEST(Registry, MissingDataSetNamesPlacesAndWays) {
  TempDir dir;
  d2l::data::LocateOptions o;
  o.data_dir = dir / "nothing";
  o.download = false;
  try {
    d2l::data::locate_dataset(d2l::data::dataset_info("mnist"), o);
    FAIL();
  } catch (const d2l::Error& e) {
    const std::string w = e.what();
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(w.find(dir / "nothing"), std::string::npos) << w;
    EXPECT_NE(w.find("/.cache/d2l/mnist"), std::string::npos) << w;
    EXPECT_NE(w.find("https://"), std::string::npos) << w;
    EXPECT_NE(w.find("--data-dir"), std::string::npos) << w;
  }
}

TEST(Registry, Sha256OfAFile) {
  TempDir dir;
  write_bytes(dir / "abc", "abc");
  EXPECT_EQ(d2l::data::sha256_file(dir / "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Registry, ExtractsTarAndRefusesUnsafePaths) {
  auto header = [](const std::string& name, std::size_t size) {
    std::string h(512, '\0');
    h.replace(0, name.size(), name);
    char sz[12];
    std::snprintf(sz, sizeof sz, "%011zo", size);
    h.replace(124, 11, sz);
    h[156] = '0';
    return h;
  };
  auto pad = [](std::string s) { return s + std::string((512 - s.size() % 512) % 512, '\0'); };
  TempDir dir;
  write_bytes(dir / "a.tar", header("sub/x.bin", 5) + pad("hello") + std::string(1024, '\0'));
  d2l::data::extract_tar(dir / "a.tar", dir / "out");
  EXPECT_EQ(d2l::read_file(dir / "out/sub/x.bin"), "hello");
  write_bytes(dir / "b.tar", header("../evil", 1) + pad("x") + std::string(1024, '\0'));
  expect_bad_input([&] { d2l::data::extract_tar(dir / "b.tar", dir / "out"); }, "unsafe");
  write_bytes(dir / "c.tar", header("big", 5000) + pad("x"));
  expect_bad_input([&] { d2l::data::extract_tar(dir / "c.tar", dir / "out"); }, "truncated");
}

// Regressions the fuzzers found (tests/fuzz/regressions/).
#ifdef D2L_TEST_HAVE_ZLIB
TEST(IdxRegression, ConcatenatedGzipMembersAreAllKept) {
  TempDir dir;
  write_bytes(dir / "two.gz", d2l::test::gzip_bytes("abc") + d2l::test::gzip_bytes("defg"));
  EXPECT_EQ(d2l::data::read_maybe_gzip(dir / "two.gz"), "abcdefg");
}
#endif

TEST(IdxRegression, HugeDimensionsDoNotWrapAround) {
  expect_bad_input(
      [] {
        d2l::data::parse_idx(idx_bytes(2051, {1u << 20, 1u << 20, 1u << 24}, {}), "f", 2051);
      },
      "too large");
}

TEST(IdxRegression, RejectedCifarBatchLeavesTheSetAsItWas) {
  std::string good(3073, '\0'), bad(3073, '\0');
  bad[0] = 11;
  d2l::data::ImageSet set;
  d2l::data::parse_cifar10(good, "a", set);
  EXPECT_THROW(d2l::data::parse_cifar10(good + bad, "b", set), d2l::Error);
  EXPECT_EQ(set.n, 1);
  EXPECT_EQ(set.labels.size(), 1u);
  EXPECT_EQ(set.pixels.size(), 3072u);
}
