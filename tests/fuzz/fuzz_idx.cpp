// libFuzzer target: d2l::data::parse_idx on arbitrary bytes.
// Any input must either parse into an array whose dimensions describe exactly its values, or
// throw d2l::Error; anything else (a crash, a sanitizer report, another exception) is a bug.
// Known bug (tests/fuzz/regressions/fuzz_idx-dims-overflow.idx, reported, not yet fixed): the
// product of the dimensions can overflow 64 bits and pass the size check. With the environment
// variable D2L_FUZZ_SKIP_KNOWN=1 such inputs are let through, so fuzzing can go on past it.
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
    std::fprintf(stderr, "fuzz_idx: invariant broken: %s\n", what);
    std::abort();
  }
}

void parse(const std::string& bytes, std::uint32_t magic) {
  try {
    const d2l::data::IdxArray a = d2l::data::parse_idx(bytes, "fuzz", magic);
    check(!a.dims.empty() && a.dims.size() <= 4, "1 to 4 dimensions");
    // The product of the dimensions, computed without overflow.
    unsigned __int128 count = 1;
    for (const std::int64_t d : a.dims) {
      check(d > 0, "positive dimensions");
      count *= static_cast<unsigned __int128>(d);
    }
    static const bool skip_known = std::getenv("D2L_FUZZ_SKIP_KNOWN") != nullptr;
    if (skip_known && count > (static_cast<unsigned __int128>(1) << 40)) return;
    check(count == a.data.size(), "number of values == product of dimensions");
    check(bytes.size() == 4 + 4 * a.dims.size() + a.data.size(), "header + values == file");
  } catch (const d2l::Error&) {
    // A rejected file: fine.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  parse(bytes, 0);     // any unsigned-byte IDX
  parse(bytes, 2051);  // as an image file
  return 0;
}
