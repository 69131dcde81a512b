#include <c10/util/Exception.h>

#include "d2l/core/torch_error.h"

namespace d2l {

std::string error_message(const std::exception& e) {
  std::string what;
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e))
    what = c10->what_without_backtrace();
  else
    what = e.what();
  // LibTorch's messages may still span lines (a check's condition, then its text): keep the
  // first non-empty line.
  const auto start = what.find_first_not_of("\n ");
  if (start == std::string::npos) return "unknown LibTorch error";
  what = what.substr(start);
  return what.substr(0, what.find('\n'));
}

}  // namespace d2l
