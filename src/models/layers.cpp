#include "d2l/models/layers.h"

#include <torch/torch.h>

namespace d2l {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// out[i][j] = (x[2i][2j] + x[2i][2j+1] + x[2i+1][2j] + x[2i+1][2j+1]) / 4, per plane.
void pool_forward(const float* x, float* y, std::int64_t planes, std::int64_t H, std::int64_t W) {
  const std::int64_t OH = H / 2, OW = W / 2;
  for (std::int64_t p = 0; p < planes; ++p) {
    const float* xp = x + p * H * W;
    float* yp = y + p * OH * OW;
    for (std::int64_t i = 0; i < OH; ++i) {
      const float* r0 = xp + (2 * i) * W;
      const float* r1 = r0 + W;
      float* o = yp + i * OW;
      for (std::int64_t j = 0; j < OW; ++j)
        o[j] = 0.25f * ((r0[2 * j] + r0[2 * j + 1]) + (r1[2 * j] + r1[2 * j + 1]));
    }
  }
}

// grad_x[2i+a][2j+b] = grad_y[i][j] / 4; a dropped odd row or column gets 0.
void pool_backward(const float* gy, float* gx, std::int64_t planes, std::int64_t H,
                   std::int64_t W) {
  const std::int64_t OH = H / 2, OW = W / 2;
  for (std::int64_t p = 0; p < planes; ++p) {
    const float* gp = gy + p * OH * OW;
    float* xp = gx + p * H * W;
    for (std::int64_t i = 0; i < OH; ++i) {
      float* r0 = xp + (2 * i) * W;
      float* r1 = r0 + W;
      const float* g = gp + i * OW;
      for (std::int64_t j = 0; j < OW; ++j) {
        const float v = 0.25f * g[j];
        r0[2 * j] = v;
        r0[2 * j + 1] = v;
        r1[2 * j] = v;
        r1[2 * j + 1] = v;
      }
      if (W % 2) r0[W - 1] = r1[W - 1] = 0.0f;
    }
    if (H % 2) std::fill(xp + (H - 1) * W, xp + H * W, 0.0f);
  }
}

struct AvgPool2x2 : public torch::autograd::Function<AvgPool2x2> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x) {
    ctx->saved_data["sizes"] = x.sizes().vec();
    auto sizes = x.sizes().vec();
    const auto H = sizes[sizes.size() - 2], W = sizes[sizes.size() - 1];
    sizes[sizes.size() - 2] = H / 2;
    sizes[sizes.size() - 1] = W / 2;
    auto y = torch::empty(sizes, x.options());
    pool_forward(x.data_ptr<float>(), y.data_ptr<float>(), x.numel() / (H * W), H, W);
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto sizes = ctx->saved_data["sizes"].toIntVector();
    const auto H = sizes[sizes.size() - 2], W = sizes[sizes.size() - 1];
    auto gy = grads[0].contiguous();
    auto gx = torch::empty(sizes, gy.options());
    pool_backward(gy.data_ptr<float>(), gx.data_ptr<float>(), gx.numel() / (H * W), H, W);
    return {gx};
  }
};

}  // namespace

at::Tensor avg_pool_2x2(const at::Tensor& input) { return AvgPool2x2::apply(input.contiguous()); }

AvgPool2dImpl::AvgPool2dImpl(const torch::nn::AvgPool2dOptions& options_) : options(options_) {}

at::Tensor AvgPool2dImpl::forward(const at::Tensor& input) {
  const auto& k = *options.kernel_size();
  const auto& s = *options.stride();
  const auto& pad = *options.padding();
  const bool book_case = k[0] == 2 && k[1] == 2 && s[0] == 2 && s[1] == 2 && pad[0] == 0 &&
                         pad[1] == 0 && !options.ceil_mode() && !options.divisor_override();
  if (book_case && input.is_cpu() && input.scalar_type() == torch::kFloat && input.dim() >= 3 &&
      input.is_contiguous() && input.size(-1) >= 2 && input.size(-2) >= 2)
    return avg_pool_2x2(input);
  return torch::avg_pool2d(input, options.kernel_size(), options.stride(), options.padding(),
                           options.ceil_mode(), options.count_include_pad(),
                           options.divisor_override());
}

}  // namespace d2l
