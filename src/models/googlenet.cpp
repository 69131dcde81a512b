#include "d2l/models/googlenet.h"

#include <torch/torch.h>

#include "d2l/models/lenet.h"
#include "d2l/models/sequential.h"

namespace d2l {
namespace nn = torch::nn;

InceptionImpl::InceptionImpl(std::int64_t in_channels_, std::int64_t c1_, Pair c2_, Pair c3_,
                             std::int64_t c4_)
    : in_channels(in_channels_), c1(c1_), c4(c4_), c2(c2_), c3(c3_) {
  reset();
}

void InceptionImpl::reset() {
  p1_1 = register_module("p1_1", nn::Conv2d(nn::Conv2dOptions(in_channels, c1, 1)));
  p2_1 = register_module("p2_1", nn::Conv2d(nn::Conv2dOptions(in_channels, c2.first, 1)));
  p2_2 = register_module("p2_2", nn::Conv2d(nn::Conv2dOptions(c2.first, c2.second, 3).padding(1)));
  p3_1 = register_module("p3_1", nn::Conv2d(nn::Conv2dOptions(in_channels, c3.first, 1)));
  p3_2 = register_module("p3_2", nn::Conv2d(nn::Conv2dOptions(c3.first, c3.second, 5).padding(2)));
  p4_1 = register_module("p4_1", nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(1).padding(1)));
  p4_2 = register_module("p4_2", nn::Conv2d(nn::Conv2dOptions(in_channels, c4, 1)));
}

Inception::Inception(std::int64_t in_channels, std::int64_t c1, InceptionImpl::Pair c2,
                     InceptionImpl::Pair c3, std::int64_t c4)
    : ModuleHolder(std::make_shared<InceptionImpl>(in_channels, c1, c2, c3, c4)) {}

at::Tensor InceptionImpl::forward(const at::Tensor& x) {
  auto p1 = torch::relu(p1_1(x));
  auto p2 = torch::relu(p2_2(torch::relu(p2_1(x))));
  auto p3 = torch::relu(p3_2(torch::relu(p3_1(x))));
  auto p4 = torch::relu(p4_2(p4_1(x)));
  return torch::cat({p1, p2, p3, p4}, 1);
}

torch::nn::Sequential googlenet(std::int64_t in_channels, std::int64_t num_classes) {
  auto pool = [] { return nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)); };
  d2l::Sequential b1(nn::Conv2d(nn::Conv2dOptions(in_channels, 64, 7).stride(2).padding(3)),
                     nn::ReLU(), pool());
  d2l::Sequential b2(nn::Conv2d(nn::Conv2dOptions(64, 64, 1)), nn::ReLU(),
                     nn::Conv2d(nn::Conv2dOptions(64, 192, 3).padding(1)), nn::ReLU(), pool());
  d2l::Sequential b3(Inception(192, 64, {96, 128}, {16, 32}, 32),
                     Inception(256, 128, {128, 192}, {32, 96}, 64), pool());
  d2l::Sequential b4(
      Inception(480, 192, {96, 208}, {16, 48}, 64), Inception(512, 160, {112, 224}, {24, 64}, 64),
      Inception(512, 128, {128, 256}, {24, 64}, 64), Inception(512, 112, {144, 288}, {32, 64}, 64),
      Inception(528, 256, {160, 320}, {32, 128}, 128), pool());
  d2l::Sequential b5(Inception(832, 256, {160, 320}, {32, 128}, 128),
                     Inception(832, 384, {192, 384}, {48, 128}, 128),
                     nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})), nn::Flatten());
  nn::Sequential net(b1, b2, b3, b4, b5, nn::Linear(1024, num_classes));
  xavier_init(*net);
  return net;
}

}  // namespace d2l
