#pragma once
// A tiny regression problem for the trainer tests: each position of a [B, 2, L] batch is a sample
// (x0, x1) with target tanh(1.5 x0 - x1) + 0.3 x1; the model is Affine(2->8), Tanh, Affine(8->1);
// the loss is the mean squared error. Batch i of epoch e is a pure function of (seed, e, i): the
// sequences are shuffled by Rng(seed).fork(e). Inputs get a little noise from ctx.rng(), so a
// resumed run also depends on the context's generator being restored. The loss is reduced with
// ctx.for_chunks (per-chunk partials summed in order), as real losses do.
#include "nucleo/layers/sequential.hpp"
#include "nucleo/train/trainer.hpp"
#include "nucleo/testing/gradcheck.hpp"
#include "support/toy_layers.hpp"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <stdexcept>

namespace nucleo::testing {

template <class Scalar = float>
class Tanh {
 public:
  using scalar_type = Scalar;
  static constexpr int in_channels = any_channels, out_channels = any_channels;
  std::string_view name() const { return "tanh"; }
  template <class Ctx>
  void forward(Ctx&, const Tensor3<Scalar>& x, Tensor3<Scalar>& y) { y = x.tanh(); }
  template <class Ctx>
  void backward(Ctx&, const Tensor3<Scalar>& x, const Tensor3<Scalar>& dy, Tensor3<Scalar>& dx) {
    Tensor3<Scalar> t = x.tanh();
    dx = dy * (t.constant(Scalar(1)) - t * t);
  }
  template <class V>
  void visit_params(V&&) {}
};

using TinyNet = Sequential<Affine<2, 8, float>, Tanh<float>, Affine<8, 1, float>>;

struct TinyData {
  Tensor3<float> x, y;  // [N, 2, L], [N, 1, L]
  TinyData(Index n, Index len, std::uint64_t seed) : x(n, 2, len), y(n, 1, len) {
    Rng rng(seed, 1);
    for (Index b = 0; b < n; ++b)
      for (Index l = 0; l < len; ++l) {
        const double a = rng.uniform(-2, 2), c = rng.uniform(-2, 2);
        x(b, 0, l) = static_cast<float>(a);
        x(b, 1, l) = static_cast<float>(c);
        y(b, 0, l) = static_cast<float>(std::tanh(1.5 * a - c) + 0.3 * c);
      }
  }
  Index size() const { return x.dimension(0); }
};

inline Tensor3<float> rows(const Tensor3<float>& t, const std::vector<Index>& idx) {
  Tensor3<float> out(static_cast<Index>(idx.size()), t.dimension(1), t.dimension(2));
  const Index per = t.dimension(1) * t.dimension(2);
  for (std::size_t i = 0; i < idx.size(); ++i)
    std::copy_n(t.data() + idx[i] * per, per, out.data() + static_cast<Index>(i) * per);
  return out;
}

/// Mean squared error, reduced over fixed chunks of the batch; writes d loss / d pred.
inline double mse(CpuContext& ctx, const Tensor3<float>& pred, const Tensor3<float>& target, Tensor3<float>* grad) {
  const Index B = pred.dimension(0), per = pred.dimension(1) * pred.dimension(2), n = B * per;
  if (grad) ensure_shape_like(*grad, pred);
  const Index chunks = std::min<Index>(B, 4);
  std::vector<double> partial(static_cast<std::size_t>(chunks), 0.0);
  ctx.for_chunks(B, chunks, [&](Index k, Index b0, Index b1) {
    double s = 0;
    for (Index i = b0 * per; i < b1 * per; ++i) {
      const double d = static_cast<double>(pred.data()[i]) - target.data()[i];
      s += d * d;
      if (grad) grad->data()[i] = static_cast<float>(2.0 * d / static_cast<double>(n));
    }
    partial[static_cast<std::size_t>(k)] = s;
  });
  double sum = 0;
  for (double p : partial) sum += p;
  return sum / static_cast<double>(n);
}

struct TinyProblem {
  TinyNet net;
  TinyData train{32, 8, 100}, val{16, 8, 200}, test{16, 8, 300};
  std::uint64_t seed;
  Index batch = 4;
  double noise = 0.01;

  explicit TinyProblem(std::uint64_t s = 1) : seed(s) { randomize_params(net, s, -0.5, 0.5); }

  std::vector<Index> order(std::int64_t epoch) const {
    std::vector<Index> idx(static_cast<std::size_t>(train.size()));
    std::iota(idx.begin(), idx.end(), Index{0});
    Rng rng = Rng(seed, 77).fork(static_cast<std::uint64_t>(epoch));
    std::shuffle(idx.begin(), idx.end(), rng);
    return idx;
  }

  TrainTask task() {
    TrainTask t;
    t.num_batches = [this](std::int64_t) { return train.size() / batch; };
    t.train_batch = [this](CpuContext& ctx, std::int64_t epoch, std::int64_t i) {
      const auto idx = order(epoch);
      std::vector<Index> pick(idx.begin() + i * batch, idx.begin() + (i + 1) * batch);
      Tensor3<float> x = rows(train.x, pick), y = rows(train.y, pick), pred, dpred, dx;
      for (Index k = 0; k < x.size(); ++k) x.data()[k] += static_cast<float>(noise * ctx.rng().normal());
      net.forward(ctx, x, pred);
      const double loss = mse(ctx, pred, y, &dpred);
      net.backward(ctx, x, dpred, dx);
      return StepResult{loss, x.dimension(0) * x.dimension(2)};
    };
    t.evaluate = [this](CpuContext& ctx, Split s) { return evaluate(ctx, s == Split::validation ? val : test); };
    return t;
  }

  /// R^2 as the metric (higher is better), MSE as the loss.
  EvalResult evaluate(CpuContext& ctx, const TinyData& d) {
    Tensor3<float> pred;
    net.forward(ctx, d.x, pred);
    const double loss = mse(ctx, pred, d.y, nullptr);
    double mean = 0;
    for (Index i = 0; i < d.y.size(); ++i) mean += d.y.data()[i];
    mean /= static_cast<double>(d.y.size());
    double var = 0;
    for (Index i = 0; i < d.y.size(); ++i) var += (d.y.data()[i] - mean) * (d.y.data()[i] - mean);
    var /= static_cast<double>(d.y.size());
    EvalResult r;
    r.loss = loss;
    r.metric = 1.0 - loss / var;
    r.extra = {{"positions", d.y.size()}};
    return r;
  }
};

/// A fresh directory under the system temp dir, removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nucleo-train-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline std::string weight_bytes(TinyNet& net) {
  std::string out;
  net.visit_params([&](std::string_view, auto& p) {
    out.append(reinterpret_cast<const char*>(p.value.data()), static_cast<std::size_t>(p.size()) * sizeof(float));
  });
  return out;
}

}  // namespace nucleo::testing
