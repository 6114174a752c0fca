// Speed benchmark of the BEND encoder + MLM head (issue 7, "Speed"). One configuration per process,
// so that each peak RSS (VmHWM) is its own; bench/run_encoder_bench runs them all next to PyTorch.
//
//   bench_encoder --config small|medium|paper|conv128|conv512|sgemm [--threads 2] [--iters N]
//                 [--warmup W]
//
// Model configs: training step = zero_grad, forward of ResNetEncoder + MLMHead, MaskedCrossEntropy on
// 15 % masked tokens, backward, AdamW step; inference = forward only (ctx.set_training(false)).
// Medians over --iters steps after --warmup steps. FLOPs are counted analytically (multiply-add = 2):
// per position, forward = Depth * 2C^2 (K + 1) + 2C^2 + 2CV; a training step = 3x forward (dX and dW).
// Peak RSS is read from /proc/self/status (VmHWM) right after the model runs; then a plain SGEMM
// (Eigen GEMM, n = 2048, its columns split over the context's threads) is measured in the same
// process as the reference rate. conv128/conv512: one DilatedConv1D<C, C, 9> (dilation 4) forward and
// backward on the medium / paper activation shape. Output: one JSON line.
#include <nucleo/core/context.hpp>
#include <nucleo/core/rng.hpp>
#include <nucleo/heads/mlm_head.hpp>
#include <nucleo/layers/dilated_conv1d.hpp>
#include <nucleo/layers/resnet_encoder.hpp>
#include <nucleo/losses/masked_cross_entropy.hpp>
#include <nucleo/optim/adamw.hpp>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "bench_timing.hpp"

using namespace nucleo;
using nucleo::bench::Clock;
using nucleo::bench::median;
using nucleo::bench::seconds_since;

namespace {

/// Peak resident set size of this process so far, in MiB (VmHWM).
double peak_rss_mib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return -1;
}

/// C = A * B, n x n float, columns of B and C split into 2 * threads blocks over the context.
double sgemm_gflops(CpuContext& ctx, Index n = 2048, int reps = 5) {
  RowMatrix<float> A = RowMatrix<float>::Random(n, n), B = RowMatrix<float>::Random(n, n), C(n, n);
  const Index chunks = 2 * ctx.threads();
  auto run = [&] {
    ctx.for_chunks(n, chunks, [&](Index, Index b, Index e) { C.middleCols(b, e - b).noalias() = A * B.middleCols(b, e - b); });
  };
  run();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    run();
    t.push_back(seconds_since(t0));
  }
  return 2.0 * double(n) * n * n / median(t) * 1e-9;
}

/// Encoder + MLM head under one name prefix each, as a pretraining model ("0." encoder, "1." head).
template <class Enc, int C>
struct PretrainModel {
  using scalar_type = float;
  Enc enc;
  MLMHead<C, 7, float> head;
  explicit PretrainModel(Rng& rng) : enc(rng), head(rng) {}
  template <class V>
  void visit_params(V&& v) {
    enc.visit_params(detail::prefixed("0.", v));
    head.visit_params(detail::prefixed("1.", v));
  }
};

template <class Enc>
nlohmann::json bench_model(const std::string& config, Index B, Index L, int threads, int warmup, int iters) {
  constexpr int C = Enc::channels, Depth = Enc::depth, K = Enc::kernel_size;
  CpuContext ctx(threads);
  Rng rng(42);
  PretrainModel<Enc, C> model(rng);
  MaskedCrossEntropy<float> loss;
  AdamW<float> opt(AdamWOptions{.lr = 1e-3});

  // Random A/C/G/T tokens; 15 % of positions masked (input [MASK], target = original token).
  Tensor3<float> ids(B, 1, L);
  Labels targets(B, L);
  Index masked = 0;
  for (Index b = 0; b < B; ++b)
    for (Index l = 0; l < L; ++l) {
      const int tok = int(rng.uniform(0.0, 4.0)) & 3;
      const bool m = rng.uniform(0.0, 1.0) < 0.15;
      ids(b, 0, l) = float(m ? 5 : tok);
      targets(b, l) = m ? tok : ignore_index;
      masked += m;
    }

  Tensor3<float> h, logits, dlogits, dh, dids;
  double last_loss = 0;
  // Phase times of the training step (zero_grad, encoder fwd, head fwd, loss, head bwd, encoder bwd, AdamW).
  static constexpr const char* phase_names[] = {"zero_grad", "encoder_forward", "head_forward", "loss",
                                                "head_backward", "encoder_backward", "adamw"};
  std::vector<std::vector<double>> phases(7);
  auto train_step = [&] {
    ctx.set_training(true);
    auto t = Clock::now();
    auto lap = [&](int k) {
      phases[std::size_t(k)].push_back(seconds_since(t));
      t = Clock::now();
    };
    model.visit_params([](std::string_view, Param<float>& p) { p.zero_grad(); });
    lap(0);
    model.enc.forward(ctx, ids, h);
    lap(1);
    model.head.forward(ctx, h, logits);
    lap(2);
    last_loss = loss.value_and_grad(ctx, logits, targets, dlogits);
    lap(3);
    model.head.backward(ctx, h, dlogits, dh);
    lap(4);
    model.enc.backward(ctx, ids, dh, dids);
    lap(5);
    opt.step(ctx, model);
    lap(6);
  };
  auto infer = [&] {
    ctx.set_training(false);
    model.enc.forward(ctx, ids, h);
    model.head.forward(ctx, h, logits);
  };

  std::vector<double> tt, ti;
  double first_loss = 0;
  for (int i = 0; i < warmup + iters; ++i) {
    const auto t0 = Clock::now();
    train_step();
    if (i == 0) first_loss = last_loss;
    if (i >= warmup) tt.push_back(seconds_since(t0));
  }
  for (int i = 0; i < warmup + iters; ++i) {
    const auto t0 = Clock::now();
    infer();
    if (i >= warmup) ti.push_back(seconds_since(t0));
  }
  const double rss = peak_rss_mib();
  nlohmann::json phase_s = nlohmann::json::object();
  for (std::size_t k = 0; k < phases.size(); ++k)
    phase_s[phase_names[k]] = median(std::vector<double>(phases[k].begin() + warmup, phases[k].end()));
  const double nt = double(B) * L;
  const double fwd_flops = nt * (double(Depth) * 2.0 * C * C * (K + 1) + 2.0 * C * C + 2.0 * C * 7);
  const double t_train = median(tt), t_inf = median(ti);
  const double sgemm = sgemm_gflops(ctx);
  const double train_gf = 3.0 * fwd_flops / t_train * 1e-9, inf_gf = fwd_flops / t_inf * 1e-9;
  return {{"impl", "nucleo"},
          {"config", config},
          {"channels", C},
          {"depth", Depth},
          {"batch", B},
          {"length", L},
          {"threads", threads},
          {"warmup", warmup},
          {"iters", iters},
          {"masked", masked},
          {"loss_first", first_loss},
          {"loss_last", last_loss},
          {"train_s", t_train},
          {"infer_s", t_inf},
          {"train_nt_per_s", nt / t_train},
          {"infer_nt_per_s", nt / t_inf},
          {"train_gflops", train_gf},
          {"infer_gflops", inf_gf},
          {"sgemm_gflops", sgemm},
          {"train_share_of_sgemm", train_gf / sgemm},
          {"infer_share_of_sgemm", inf_gf / sgemm},
          {"peak_rss_mib", rss},
          {"train_phase_s", phase_s}};
}

template <int C>
nlohmann::json bench_conv(const std::string& config, Index B, Index L, int threads, int warmup, int iters) {
  constexpr int K = 9;
  CpuContext ctx(threads);
  Rng rng(7);
  DilatedConv1D<C, C, K, float> conv(4, rng);
  Tensor3<float> x(B, C, L), y, dy(B, C, L), dx;
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = float(rng.uniform(-1.0, 1.0));
  for (Index i = 0; i < dy.size(); ++i) dy.data()[i] = float(rng.uniform(-1.0, 1.0));
  std::vector<double> tf, tb;
  for (int i = 0; i < warmup + iters; ++i) {
    auto t0 = Clock::now();
    conv.forward(ctx, x, y);
    const double f = seconds_since(t0);
    t0 = Clock::now();
    conv.backward(ctx, x, dy, dx);
    const double b = seconds_since(t0);
    if (i >= warmup) {
      tf.push_back(f);
      tb.push_back(b);
    }
  }
  const double flops = 2.0 * C * C * K * double(B) * L;
  const double sgemm = sgemm_gflops(ctx);
  const double fg = flops / median(tf) * 1e-9, bg = 2.0 * flops / median(tb) * 1e-9;
  return {{"impl", "nucleo"},         {"config", config},   {"channels", C},          {"kernel", K},
          {"dilation", 4},            {"batch", B},         {"length", L},            {"threads", threads},
          {"forward_gflops", fg},     {"backward_gflops", bg}, {"sgemm_gflops", sgemm},
          {"forward_share_of_sgemm", fg / sgemm}, {"backward_share_of_sgemm", bg / sgemm}};
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: bench_encoder --config small|medium|paper|conv128|conv512|sgemm [--threads N] "
               "[--iters N] [--warmup N]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string config;
  int threads = 2, iters = -1, warmup = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage();
    if (a == "--config") config = argv[++i];
    else if (a == "--threads") threads = std::stoi(argv[++i]);
    else if (a == "--iters") iters = std::stoi(argv[++i]);
    else if (a == "--warmup") warmup = std::stoi(argv[++i]);
    else usage();
  }
  auto dflt = [](int v, int d) { return v >= 0 ? v : d; };
  nlohmann::json out;
  if (config == "small") out = bench_model<SmallEncoder<float>>(config, 16, 1024, threads, dflt(warmup, 2), dflt(iters, 7));
  else if (config == "medium") out = bench_model<MediumEncoder<float>>(config, 8, 2048, threads, dflt(warmup, 2), dflt(iters, 5));
  else if (config == "paper") out = bench_model<PaperEncoder<float>>(config, 2, 2048, threads, dflt(warmup, 1), dflt(iters, 3));
  else if (config == "conv128") out = bench_conv<128>(config, 8, 2048, threads, dflt(warmup, 2), dflt(iters, 7));
  else if (config == "conv512") out = bench_conv<512>(config, 2, 2048, threads, dflt(warmup, 2), dflt(iters, 7));
  else if (config == "sgemm") {
    CpuContext ctx(threads);
    out = {{"impl", "nucleo"}, {"config", "sgemm"}, {"n", 2048}, {"threads", threads}, {"sgemm_gflops", sgemm_gflops(ctx, 2048, 9)}};
  } else usage();
  std::cout << out.dump() << std::endl;
}
