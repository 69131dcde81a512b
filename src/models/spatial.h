#pragma once
// Private to src/models: the spatial size arithmetic of convolution and pooling layers, so a
// network can size its first Linear layer and reject images that are too small with one clear
// line instead of a LibTorch error deep inside a forward pass.
#include <cstdint>
#include <string>

#include "d2l/core/error.h"

namespace d2l::detail {

// The output size of a convolution or pooling window along one axis (floor mode):
// (n + 2 padding - kernel) / stride + 1; 0 when the window does not fit.
inline std::int64_t window_out(std::int64_t n, std::int64_t kernel, std::int64_t stride,
                               std::int64_t padding = 0) {
  const std::int64_t span = n + 2 * padding - kernel;
  return span < 0 ? 0 : span / stride + 1;
}

// Throws d2l::bad_input naming `model` when a layer's output would be empty.
inline void require_size(const std::string& model, std::int64_t image_size, std::int64_t out) {
  if (out < 1)
    throw bad_input(model + ": images of " + std::to_string(image_size) + " x " +
                    std::to_string(image_size) + " pixels are too small for this network");
}

}  // namespace d2l::detail
