// libFuzzer target: d2l::data::parse_cifar10 on arbitrary bytes, appended twice to one set.
// Any input must either parse into whole 1 + 3x32x32-byte records with labels below 10, or throw
// d2l::Error (leaving earlier records intact); anything else is a bug.
// Known bug (tests/fuzz/regressions/fuzz_cifar10-partial-append.bin, reported, not yet fixed): a
// batch rejected for a bad label in record i has already appended the labels and pixels of
// records 0..i-1 without counting them in n. With the environment variable D2L_FUZZ_SKIP_KNOWN=1
// the set is discarded after a rejected batch, so fuzzing can go on past it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "d2l/core/error.h"
#include "d2l/data/idx.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_cifar10: invariant broken: %s\n", what);
    std::abort();
  }
}

void check_set(const d2l::data::ImageSet& s) {
  check(s.n >= 0, "n >= 0");
  check(s.labels.size() == static_cast<std::size_t>(s.n), "one label per image");
  check(s.pixels.size() == static_cast<std::size_t>(s.n) * 3 * 32 * 32, "3x32x32 pixels per image");
  if (s.n > 0) check(s.channels == 3 && s.height == 32 && s.width == 32, "shape 3x32x32");
  for (const auto l : s.labels) check(l < 10, "labels below 10");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  d2l::data::ImageSet set;
  for (int batch = 0; batch < 2; ++batch) {
    try {
      d2l::data::parse_cifar10(bytes, "fuzz", set);
    } catch (const d2l::Error&) {
      // A rejected batch.
      static const bool skip_known = std::getenv("D2L_FUZZ_SKIP_KNOWN") != nullptr;
      if (skip_known) set = d2l::data::ImageSet{};
    }
    check_set(set);
  }
  return 0;
}
