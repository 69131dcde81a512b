#pragma once
/// \file d2l/core/error.h
/// The one error type of d2l-cpp.
#include <stdexcept>
#include <string>

namespace d2l {

/// Every failure d2l reports. The message names the thing and what is wrong, e.g.
/// `fashion-mnist: train-images-idx3-ubyte.gz: expected magic 2051, found 2049`.
/// `kind()` tells a program which exit code to use: 2 for bad input or usage, 1 otherwise.
class Error : public std::runtime_error {
 public:
  enum class Kind { Failure = 1, BadInput = 2 };
  explicit Error(const std::string& message, Kind kind = Kind::Failure)
      : std::runtime_error(message), kind_(kind) {}
  /// Failure or BadInput.
  Kind kind() const noexcept { return kind_; }
  /// The process exit code for this error: 1 (failure) or 2 (bad input, usage).
  int exit_code() const noexcept { return static_cast<int>(kind_); }

 private:
  Kind kind_;
};

/// Shorthand for `Error(message, Error::Kind::BadInput)`.
inline Error bad_input(const std::string& message) { return Error(message, Error::Kind::BadInput); }

}  // namespace d2l
