// Trains on the real Fashion-MNIST (Debian's dataset-fashion-mnist, or $D2L_DATA_DIR).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "d2l/data/loader.h"
#include "d2l/models/registry.h"
#include "d2l/train/trainer.h"

TEST(FashionMnist, SoftmaxOneEpochReachesTheBooksAccuracy) {
  torch::manual_seed(42);
  d2l::data::DataOptions o;
  o.download = false;
  o.seed = 42;
  auto [train, test] = d2l::data::load_data_fashion_mnist(256, 0, o);
  ASSERT_EQ(train.num_examples(), 60000);
  ASSERT_EQ(test.num_examples(), 10000);
  auto net = d2l::make_model("softmax");
  auto opt = std::make_shared<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.1));
  d2l::TrainerOptions to;
  to.max_epochs = 1;
  to.verbose = false;
  to.progress = false;
  to.epoch_lines = false;
  d2l::Trainer t(net, opt, to);
  auto h = t.fit(train, test);
  EXPECT_GE(h.test_acc(), 0.75);
  EXPECT_LT(h.loss(), 1.0);
}
