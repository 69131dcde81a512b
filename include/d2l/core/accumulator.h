#pragma once
/// \file d2l/core/accumulator.h
/// The book's `Accumulator`: sums over n variables.
#include <cstddef>
#include <initializer_list>
#include <vector>

#include "d2l/core/error.h"

namespace d2l {

/// For accumulating sums over `n` variables, as `d2l.Accumulator` does.
class Accumulator {
 public:
  /// n sums, all zero.
  explicit Accumulator(std::size_t n) : data_(n, 0.0) {}
  /// Adds one value to each sum; throws d2l::Error when the count is not n.
  void add(std::initializer_list<double> values) { add(std::vector<double>(values)); }
  /// Adds one value to each sum; throws d2l::Error when the count is not n.
  void add(const std::vector<double>& values) {
    if (values.size() != data_.size())
      throw Error("Accumulator::add: expected " + std::to_string(data_.size()) + " values, got " +
                  std::to_string(values.size()));
    for (std::size_t i = 0; i < data_.size(); ++i) data_[i] += values[i];
  }
  /// Sets every sum to zero.
  void reset() { data_.assign(data_.size(), 0.0); }
  /// The i-th sum; throws d2l::Error when i >= n.
  double operator[](std::size_t i) const {
    if (i >= data_.size()) throw Error("Accumulator: index " + std::to_string(i) + " out of range");
    return data_[i];
  }
  /// n.
  std::size_t size() const { return data_.size(); }

 private:
  std::vector<double> data_;
};

}  // namespace d2l
