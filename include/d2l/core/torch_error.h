#pragma once
/// \file d2l/core/torch_error.h
/// LibTorch's errors, shortened for a one-line message (LibTorch).
#include <exception>
#include <string>

namespace d2l {

/// The message of `e` on one line: for LibTorch's c10::Error its what_without_backtrace() (no
/// C++ stack, no "Exception raised from" trailer), for anything else the first line of what().
std::string error_message(const std::exception& e);

}  // namespace d2l
