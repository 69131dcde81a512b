#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "d2l/core/device.h"
#include "d2l/core/error.h"
#include "d2l/data/augment.h"
#include "d2l/data/loader.h"

namespace d2l::data {

namespace {

// SplitMix64's finaliser: a good 64-bit mix of one word.
std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform draws in [0, 1) on the CPU, as doubles.
at::Tensor uniform(at::IntArrayRef shape, at::Generator& gen) {
  return torch::rand(shape, gen, torch::TensorOptions().dtype(torch::kDouble));
}

// A per-image factor [B] as [B, 1, 1, 1] on X's device and dtype.
at::Tensor per_image(const at::Tensor& factor, const at::Tensor& X) {
  return to_device_async(factor.to(X.scalar_type()), X.device()).view({-1, 1, 1, 1});
}

void check_batch(const at::Tensor& X, const char* what) {
  if (!X.defined() || X.dim() != 4 || !X.is_floating_point())
    throw Error(std::string(what) + ": the batch must be a float tensor [B, C, H, W]");
}

// The grey image [B, 1, H, W] (ITU-R 601 luma, as torchvision's rgb_to_grayscale).
at::Tensor grey(const at::Tensor& X) {
  if (X.size(1) == 1) return X;
  return (X.select(1, 0) * 0.2989 + X.select(1, 1) * 0.587 + X.select(1, 2) * 0.114).unsqueeze(1);
}

// f X + (1 - f) Y clamped to [0, 1], f per image.
at::Tensor blend(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& f) {
  const auto w = per_image(f, X);
  return (X * w + Y * (1 - w)).clamp_(0, 1);
}

double parse_number(const std::string& text, const std::string& flag, const std::string& item) {
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw bad_input(flag + " " + item + ": '" + text + "' is not a number");
}

std::vector<double> parse_numbers(const std::string& text, const std::string& flag,
                                  const std::string& item) {
  std::vector<double> out;
  std::size_t start = 0;
  while (true) {
    const auto dash = text.find('-', start);
    out.push_back(parse_number(text.substr(start, dash - start), flag, item));
    if (dash == std::string::npos) return out;
    start = dash + 1;
  }
}

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

Augment Augment::for_test() const {
  Augment t;
  t.normalize = normalize;
  t.mean = mean;
  t.std = std;
  return t;
}

std::string Augment::to_string() const {
  std::vector<std::string> items;
  const Augment d;
  if (crop)
    items.push_back(crop_scale == d.crop_scale
                        ? "crop"
                        : "crop=" + number(crop_scale[0]) + "-" + number(crop_scale[1]));
  if (flip) items.push_back(flip_p == d.flip_p ? "flip" : "flip=" + number(flip_p));
  if (jitter.brightness > 0 || jitter.contrast > 0 || jitter.saturation > 0)
    items.push_back("jitter=" + number(jitter.brightness) + "-" + number(jitter.contrast) + "-" +
                    number(jitter.saturation));
  if (jitter.hue > 0) items.push_back("hue=" + number(jitter.hue));
  if (normalize) items.push_back("normalize");
  if (items.empty()) return "none";
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : ",") + i;
  return s;
}

Augment parse_augment(const std::string& spec, const std::string& flag) {
  Augment a;
  if (spec.empty() || spec == "none") return a;
  std::size_t start = 0;
  while (start <= spec.size()) {
    auto comma = spec.find(',', start);
    if (comma == std::string::npos) comma = spec.size();
    const std::string item = spec.substr(start, comma - start);
    start = comma + 1;
    const auto eq = item.find('=');
    const std::string name = item.substr(0, eq);
    const bool has_value = eq != std::string::npos;
    const std::string value = has_value ? item.substr(eq + 1) : "";
    if (name == "flip") {
      a.flip = true;
      if (has_value) {
        a.flip_p = parse_number(value, flag, name);
        if (a.flip_p < 0 || a.flip_p > 1)
          throw bad_input(flag + " flip=" + value + ": the probability must be in [0, 1]");
      }
    } else if (name == "crop") {
      a.crop = true;
      if (has_value) {
        const auto v = parse_numbers(value, flag, name);
        if (v.size() != 2 || !(v[0] > 0) || v[0] > v[1] || v[1] > 1)
          throw bad_input(flag + " crop=" + value +
                          ": the scale range must be MIN-MAX with 0 < MIN <= MAX <= 1");
        a.crop_scale = {v[0], v[1]};
      }
    } else if (name == "jitter") {
      a.jitter.brightness = a.jitter.contrast = a.jitter.saturation = 0.5;
      if (has_value) {
        const auto v = parse_numbers(value, flag, name);
        if (v.size() < 3 || v.size() > 4 || *std::min_element(v.begin(), v.end()) < 0)
          throw bad_input(flag + " jitter=" + value +
                          ": give BRIGHTNESS-CONTRAST-SATURATION[-HUE], each >= 0");
        a.jitter.brightness = v[0];
        a.jitter.contrast = v[1];
        a.jitter.saturation = v[2];
        if (v.size() == 4) a.jitter.hue = v[3];
      }
    } else if (name == "hue") {
      a.jitter.hue = has_value ? parse_number(value, flag, name) : 0.1;
    } else if (name == "normalize" || name == "normalise") {
      if (has_value) throw bad_input(flag + " normalize takes no value (the data set's mean/std)");
      a.normalize = true;
    } else {
      throw bad_input(flag + ": unknown augmentation '" + item +
                      "' (flip[=P], crop[=MIN-MAX], jitter[=B-C-S[-H]], hue=H, normalize, none)");
    }
  }
  if (a.jitter.hue < 0 || a.jitter.hue > 0.5)
    throw bad_input(flag + ": hue must be in [0, 0.5], got " + number(a.jitter.hue));
  return a;
}

std::pair<std::vector<double>, std::vector<double>> dataset_mean_std(const std::string& dataset) {
  if (dataset == "cifar10") return {{0.4914, 0.4822, 0.4465}, {0.2023, 0.1994, 0.2010}};
  if (dataset == "fashion-mnist") return {{0.2860}, {0.3530}};
  if (dataset == "mnist") return {{0.1307}, {0.3081}};
  throw bad_input("normalize: no mean and std known for data set '" + dataset + "'");
}

at::Generator make_generator(std::uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

std::uint64_t batch_seed(std::uint64_t seed, std::int64_t epoch, std::int64_t batch,
                         std::int64_t shard) {
  std::uint64_t h = mix64(seed ^ 0x61756d656e74ull);  // "aument"
  h = mix64(h ^ static_cast<std::uint64_t>(epoch));
  h = mix64(h ^ static_cast<std::uint64_t>(batch));
  return mix64(h ^ static_cast<std::uint64_t>(shard));
}

at::Tensor random_horizontal_flip(const at::Tensor& X, double p, at::Generator& gen) {
  check_batch(X, "random_horizontal_flip");
  const auto flip = to_device_async(uniform({X.size(0)}, gen) < p, X.device()).view({-1, 1, 1, 1});
  return torch::where(flip, X.flip({3}), X);
}

at::Tensor random_resized_crop(const at::Tensor& X, std::int64_t size, std::array<double, 2> scale,
                               std::array<double, 2> ratio, at::Generator& gen) {
  check_batch(X, "random_resized_crop");
  if (size < 1) throw bad_input("random_resized_crop: size must be at least 1");
  if (!(scale[0] > 0) || scale[0] > scale[1] || !(ratio[0] > 0) || ratio[0] > ratio[1])
    throw bad_input("random_resized_crop: scale and ratio must be ranges of positive numbers");
  const std::int64_t B = X.size(0), H = X.size(2), W = X.size(3), R = size;
  const double area = static_cast<double>(H * W);
  const double log_r0 = std::log(ratio[0]), log_r1 = std::log(ratio[1]);
  const auto u = uniform({B, 10, 4}, gen);
  const auto ua = u.accessor<double, 3>();
  // Per image: rows M_h [R, H] and columns M_w^T [W, R] that crop and resize in one product.
  auto mh = torch::zeros({B, R, H}, torch::kFloat);
  auto mwt = torch::zeros({B, W, R}, torch::kFloat);
  auto mha = mh.accessor<float, 3>();
  auto mwa = mwt.accessor<float, 3>();
  for (std::int64_t b = 0; b < B; ++b) {
    std::int64_t top = 0, left = 0, h = H, w = W;
    bool found = false;
    for (int t = 0; t < 10 && !found; ++t) {
      const double target = area * (scale[0] + ua[b][t][0] * (scale[1] - scale[0]));
      const double aspect = std::exp(log_r0 + ua[b][t][1] * (log_r1 - log_r0));
      const auto cw = static_cast<std::int64_t>(std::llround(std::sqrt(target * aspect)));
      const auto ch = static_cast<std::int64_t>(std::llround(std::sqrt(target / aspect)));
      if (cw > 0 && cw <= W && ch > 0 && ch <= H) {
        h = ch;
        w = cw;
        top = std::min(H - h,
                       static_cast<std::int64_t>(ua[b][t][2] * static_cast<double>(H - h + 1)));
        left = std::min(W - w,
                        static_cast<std::int64_t>(ua[b][t][3] * static_cast<double>(W - w + 1)));
        found = true;
      }
    }
    if (!found) {  // the whole image, cut to the ratio range, centred
      const double in_ratio = static_cast<double>(W) / static_cast<double>(H);
      if (in_ratio < ratio[0]) {
        w = W;
        h = std::max<std::int64_t>(1, std::llround(static_cast<double>(w) / ratio[0]));
      } else if (in_ratio > ratio[1]) {
        h = H;
        w = std::max<std::int64_t>(1, std::llround(static_cast<double>(h) * ratio[1]));
      }
      h = std::min(h, H);
      w = std::min(w, W);
      top = (H - h) / 2;
      left = (W - w) / 2;
    }
    const auto rows = bilinear_matrix(h, R);  // [R, h]
    const auto cols = bilinear_matrix(w, R);  // [R, w]
    const auto ra = rows.accessor<float, 2>();
    const auto ca = cols.accessor<float, 2>();
    for (std::int64_t r = 0; r < R; ++r) {
      for (std::int64_t k = 0; k < h; ++k) mha[b][r][top + k] = ra[r][k];
      for (std::int64_t k = 0; k < w; ++k) mwa[b][left + k][r] = ca[r][k];
    }
  }
  mh = to_device_async(mh.to(X.scalar_type()), X.device()).unsqueeze(1);    // [B, 1, R, H]
  mwt = to_device_async(mwt.to(X.scalar_type()), X.device()).unsqueeze(1);  // [B, 1, W, R]
  return torch::matmul(mh, torch::matmul(X, mwt));
}

at::Tensor adjust_brightness(const at::Tensor& X, const at::Tensor& factor) {
  check_batch(X, "adjust_brightness");
  return (X * per_image(factor, X)).clamp_(0, 1);
}

at::Tensor adjust_contrast(const at::Tensor& X, const at::Tensor& factor) {
  check_batch(X, "adjust_contrast");
  const auto mean = grey(X).mean({1, 2, 3}, /*keepdim=*/true);
  return blend(X, mean, factor);
}

at::Tensor adjust_saturation(const at::Tensor& X, const at::Tensor& factor) {
  check_batch(X, "adjust_saturation");
  if (X.size(1) == 1) return X;
  return blend(X, grey(X), factor);
}

at::Tensor adjust_hue(const at::Tensor& X, const at::Tensor& shift) {
  check_batch(X, "adjust_hue");
  if (X.size(1) != 3) return X;
  // RGB to HSV (all in [0, 1]).
  const auto r = X.select(1, 0), g = X.select(1, 1), bl = X.select(1, 2);
  const auto maxc = std::get<0>(X.max(1)), minc = std::get<0>(X.min(1));
  const auto chroma = maxc - minc;
  const auto grey_px = chroma == 0;
  const auto s = chroma / torch::where(maxc == 0, torch::ones_like(maxc), maxc);
  const auto c = torch::where(grey_px, torch::ones_like(chroma), chroma);
  const auto rc = (maxc - r) / c, gc = (maxc - g) / c, bc = (maxc - bl) / c;
  const auto is_r = maxc == r, is_g = (maxc == g).logical_and(is_r.logical_not());
  const auto is_b = is_r.logical_or(is_g).logical_not();
  auto h = torch::where(is_r, bc - gc, torch::zeros_like(maxc)) +
           torch::where(is_g, 2.0 + rc - bc, torch::zeros_like(maxc)) +
           torch::where(is_b, 4.0 + gc - rc, torch::zeros_like(maxc));
  h = torch::where(grey_px, torch::zeros_like(h), h);
  h = torch::remainder(h / 6.0 + per_image(shift, X).squeeze(1), 1.0);
  const auto v = maxc;
  // HSV to RGB.
  const auto h6 = h * 6.0;
  const auto sector = torch::floor(h6);
  const auto f = h6 - sector;
  const auto i = torch::remainder(sector, 6.0);
  const auto p = (v * (1 - s)).clamp(0, 1);
  const auto q = (v * (1 - s * f)).clamp(0, 1);
  const auto t = (v * (1 - s * (1 - f))).clamp(0, 1);
  // (r, g, b) per sector: 0 (v,t,p), 1 (q,v,p), 2 (p,v,t), 3 (p,q,v), 4 (t,p,v), 5 (v,p,q).
  const std::array<std::array<const at::Tensor*, 3>, 6> pick{
      {{&v, &t, &p}, {&q, &v, &p}, {&p, &v, &t}, {&p, &q, &v}, {&t, &p, &v}, {&v, &p, &q}}};
  std::array<at::Tensor, 3> out{torch::zeros_like(v), torch::zeros_like(v), torch::zeros_like(v)};
  for (int k = 0; k < 6; ++k) {
    const auto in_sector = i == static_cast<double>(k);
    for (int ch = 0; ch < 3; ++ch) out[ch] = torch::where(in_sector, *pick[k][ch], out[ch]);
  }
  return torch::stack({out[0], out[1], out[2]}, 1);
}

at::Tensor color_jitter(const at::Tensor& X, const ColorJitter& j, at::Generator& gen) {
  check_batch(X, "color_jitter");
  if (!j.any()) return X;
  const std::int64_t B = X.size(0);
  // Factors per image (all drawn, whichever are on, so the draws do not depend on which are).
  const auto u = uniform({B, 4}, gen);
  auto range = [&](double x, std::int64_t col) {
    const double lo = std::max(0.0, 1 - x), hi = 1 + x;
    return lo + u.select(1, col) * (hi - lo);
  };
  const auto fb = range(j.brightness, 0), fc = range(j.contrast, 1), fs = range(j.saturation, 2);
  const auto fh = -j.hue + u.select(1, 3) * (2 * j.hue);
  const auto order = uniform({B, 4}, gen)
                         .argsort(/*dim=*/std::int64_t{1},
                                  /*descending=*/false);  // a random permutation per image
  // Stage k applies to each image the k-th operation of its order: every image goes through each
  // operation once, computed only for the images that take it at that stage.
  const std::array<bool, 4> on{j.brightness > 0, j.contrast > 0, j.saturation > 0, j.hue > 0};
  const std::array<const at::Tensor*, 4> factor{&fb, &fc, &fs, &fh};
  at::Tensor out = X.clone();
  for (std::int64_t stage = 0; stage < 4; ++stage) {
    const auto op = order.select(1, stage);
    for (std::int64_t k = 0; k < 4; ++k) {
      if (!on[static_cast<std::size_t>(k)]) continue;
      const auto who = (op == k).nonzero().flatten();  // CPU indices
      if (who.numel() == 0) continue;
      const auto f = factor[static_cast<std::size_t>(k)]->index_select(0, who);
      const auto rows = to_device_async(who, out.device());
      const auto sub = out.index_select(0, rows);
      at::Tensor done;
      switch (k) {
        case 0:
          done = adjust_brightness(sub, f);
          break;
        case 1:
          done = adjust_contrast(sub, f);
          break;
        case 2:
          done = adjust_saturation(sub, f);
          break;
        default:
          done = adjust_hue(sub, f);
          break;
      }
      out.index_copy_(0, rows, done);
    }
  }
  return out;
}

at::Tensor normalize(const at::Tensor& X, const std::vector<double>& mean,
                     const std::vector<double>& std) {
  check_batch(X, "normalize");
  const auto C = static_cast<std::size_t>(X.size(1));
  auto expand = [&](const std::vector<double>& v, const char* what) {
    if (v.size() != 1 && v.size() != C)
      throw bad_input(std::string("normalize: ") + what + " has " + std::to_string(v.size()) +
                      " values for " + std::to_string(C) + " channels");
    std::vector<float> out(C);
    for (std::size_t c = 0; c < C; ++c) out[c] = static_cast<float>(v.size() == 1 ? v[0] : v[c]);
    return to_device_async(torch::tensor(out).to(X.scalar_type()), X.device()).view({1, -1, 1, 1});
  };
  for (double s : std)
    if (!(s > 0) || !std::isfinite(s)) throw bad_input("normalize: every std must be > 0");
  return (X - expand(mean, "mean")) / expand(std, "std");
}

at::Tensor augment_batch(const at::Tensor& X, const Augment& a, std::int64_t size,
                         at::Generator& gen) {
  at::Tensor out = X;
  if (a.crop)
    out = random_resized_crop(out, size > 0 ? size : X.size(2), a.crop_scale, a.crop_ratio, gen);
  if (a.flip) out = random_horizontal_flip(out, a.flip_p, gen);
  if (a.jitter.any()) out = color_jitter(out, a.jitter, gen);
  if (a.normalize) out = normalize(out, a.mean, a.std);
  return out;
}

}  // namespace d2l::data
