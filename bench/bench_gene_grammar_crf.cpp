// bench_gene_grammar_crf: the cost of GeneGrammarCrf's forward-backward against one training step
// of the `cpu` model (issue 18: "the grammar CRF's forward-backward costs at most 25% of a training
// step of the `cpu` model"). Batch 8 x 2048, 2 threads by default. Measured, each a median of --reps
// repetitions after one warm-up:
//   (a) train_step: one training step of examples/configs/cpu.json's fine-tuning model, as
//       StageTraining + Trainer run it: GeneModel<SmallEncoder<float>> (no CRF; 64 ch x 6 layers +
//       TokenClassifier to 9 classes) zero_grad, forward, CrossEntropy<float>, backward,
//       clip_grad_norm(1.0), AdamW (lr 0.002, weight decay 0.01) step;
//   (b) grammar_crf: GeneGrammarCrf<float> (default options, init_lengths(GeneRunLengths{}))
//       value_and_grad on the same batch (emissions = N(0, 3^2)); also value() alone (the two
//       forward passes, no backward) as a breakdown;
//   (c) linear_crf: LinearChainCRF<9> value_and_grad on the same batch, with the constraints the
//       cpu config's CRF arms use (gene_structure_constraints() | those seen in the labels).
// Tokens: random A/C/G/T. Labels (one set for all three): per sequence, the grammar CRF's Viterbi
// path of another random emission set, so every sequence fits the grammar (unfit() == 0 checked).
// Prints one JSON object: shapes, threads, seconds, ratios (b)/(a) and (c)/(a), CPU, date, load.
// Usage: bench_gene_grammar_crf [--batch 8] [--length 2048] [--threads 2] [--reps 7]
#include "nucleo/core/concepts.hpp"
#include "nucleo/core/context.hpp"
#include "nucleo/core/rng.hpp"
#include "nucleo/genes/gene_crf_grammar.hpp"
#include "nucleo/genes/gene_grammar_crf.hpp"
#include "nucleo/losses/cross_entropy.hpp"
#include "nucleo/losses/crf_constraints.hpp"
#include "nucleo/losses/linear_chain_crf.hpp"
#include "nucleo/optim/adamw.hpp"
#include "nucleo/optim/grad_clip.hpp"
#include "nucleo_apps/gene_model.hpp"
#include "nucleo_apps/model_zoo.hpp"
#include "nucleo_apps/stage_config.hpp"

#include <fmt/format.h>

#include "bench_timing.hpp"
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <span>
#include <string>
#include <vector>

using namespace nucleo;
using nucleo::bench::Clock;
using nucleo::bench::median;
using nucleo::bench::seconds_since;

namespace {

/// Median and fastest of `reps` timed calls of f after one warm-up call.
template <class F>
std::pair<double, double> timed(int reps, F&& f) {
  f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    f();
    t.push_back(seconds_since(t0));
  }
  return {median(t), *std::min_element(t.begin(), t.end())};
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  return "unknown";
}

std::string load_average() {  // the 1, 5 and 15 minute load averages, as `uptime` prints them
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string today() {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::localtime(&now));
  return buf;
}

[[noreturn]] void usage() {
  fmt::print(stderr, "usage: bench_gene_grammar_crf [--batch 8] [--length 2048] [--threads 2] [--reps 7]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Index B = 8, L = 2048;
  int threads = 2, reps = 7;
  for (int i = 1; i < argc; i += 2) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage();
    const long v = std::strtol(argv[i + 1], nullptr, 10);
    if (a == "--batch") B = v;
    else if (a == "--length") L = v;
    else if (a == "--threads") threads = static_cast<int>(v);
    else if (a == "--reps") reps = static_cast<int>(v);
    else usage();
  }
  if (B < 1 || L < 4 || threads < 1 || reps < 1) usage();
  const std::string load_start = load_average();
  CpuContext ctx(threads);
  Rng rng(1234, 0);

  // Batch: random A/C/G/T tokens; grammar labels from the Viterbi path of random emissions.
  Tensor3<float> tokens(B, 1, L);
  std::vector<std::uint8_t> ids(static_cast<std::size_t>(L));
  GeneGrammarCrf<float> grammar;
  grammar.init_lengths(GeneRunLengths{});
  Labels labels(B, L);
  std::vector<float> label_em(static_cast<std::size_t>(9 * L));
  std::vector<std::int8_t> path(static_cast<std::size_t>(L));
  std::vector<Index> label_counts(9, 0);
  for (Index b = 0; b < B; ++b) {
    for (Index t = 0; t < L; ++t) {
      ids[static_cast<std::size_t>(t)] = static_cast<std::uint8_t>(rng.uniform_int(4));
      tokens(b, 0, t) = static_cast<float>(ids[static_cast<std::size_t>(t)]);
    }
    for (float& e : label_em) e = static_cast<float>(rng.normal(0.0, 3.0));
    grammar.decode(std::span<const std::uint8_t>(ids), std::span<const float>(label_em), std::span<std::int8_t>(path));
    for (Index t = 0; t < L; ++t) {
      labels(b, t) = path[static_cast<std::size_t>(t)];
      ++label_counts[static_cast<std::size_t>(path[static_cast<std::size_t>(t)])];
    }
  }
  Tensor3<float> emissions(B, 9, L);
  for (Index i = 0; i < emissions.size(); ++i) emissions.data()[i] = static_cast<float>(rng.normal(0.0, 3.0));
  const std::vector<Index> lengths(static_cast<std::size_t>(B), L);  // full crops, as the batcher's

  // (a) One training step of the cpu model (StageTraining::task + Trainer: zero_grad, forward,
  // loss, backward, clip, lr, AdamW).
  apps::StageConfig stage;  // examples/configs/cpu.json "finetune"
  stage.steps = 1000;
  stage.batch_size = B;
  stage.max_length = L;
  stage.lr = 0.002;
  stage.warmup = 100;
  apps::GeneModel<SmallEncoder<float>> model(false);
  {
    Rng init(stage.seed, 202);
    model.init(init);
  }
  AdamW<float> opt = apps::stage_optimizer<float>(stage);
  const LrSchedule schedule = stage.schedule();
  CrossEntropy<float> ce;
  Tensor3<float> logits, dlogits, dx;
  double ce_loss = 0;
  std::int64_t step = 0;
  auto train_step = [&] {
    ctx.set_training(true);
    zero_grad(model);
    ctx.set_lengths(lengths);
    model.forward(ctx, tokens, logits);
    ce_loss = ce.value_and_grad(ctx, logits, labels, dlogits);
    model.backward(ctx, tokens, dlogits, dx);
    ctx.clear_lengths();
    if (stage.clip_norm > 0) clip_grad_norm(model, stage.clip_norm);
    opt.set_lr(schedule(step));
    opt.step(ctx, model);
    ++step;
  };
  const auto [train_s, train_min_s] = timed(reps, train_step);

  // (b) The grammar CRF's NLL + gradient (and its forward passes alone).
  Tensor3<float> d_em;
  double grammar_nll = 0;
  const auto [grammar_s, grammar_min_s] = timed(reps, [&] {
    zero_grad(grammar);
    ctx.set_lengths(lengths);
    grammar_nll = grammar.value_and_grad(ctx, tokens, emissions, labels, d_em);
    ctx.clear_lengths();
    NUCLEO_CHECK(grammar.unfit() == 0, "bench_gene_grammar_crf: {} sequences do not fit the grammar", grammar.unfit());
  });
  const auto [grammar_value_s, grammar_value_min_s] = timed(reps, [&] {
    ctx.set_lengths(lengths);
    grammar_nll = grammar.value(ctx, tokens, emissions, labels);
    ctx.clear_lengths();
  });
  NUCLEO_CHECK(grammar.unfit() == 0, "bench_gene_grammar_crf: {} sequences do not fit the grammar", grammar.unfit());

  // (c) LinearChainCRF<9>, constrained as in finetune_gene (grammar | transitions seen in labels).
  CrfConstraints constraints = gene_structure_constraints();
  constraints |= CrfConstraints::from_labels(labels, 9);
  LinearChainCRF<9> linear(CrfOptions{}, constraints);
  double linear_nll = 0;
  const auto [linear_s, linear_min_s] = timed(reps, [&] {
    zero_grad(linear);
    ctx.set_lengths(lengths);
    linear_nll = linear.value_and_grad(ctx, emissions, labels, d_em);
    ctx.clear_lengths();
  });

  const double nt = static_cast<double>(B) * static_cast<double>(L);
  const nlohmann::json out = {
      {"bench", "bench_gene_grammar_crf"},
      {"batch", B},
      {"length", L},
      {"threads", threads},
      {"reps", reps},
      {"train_step_model", "cpu: GeneModel<SmallEncoder<float>> (64 ch x 6 layers) + TokenClassifier<64, 9>, CrossEntropy, clip 1.0, AdamW"},
      {"grammar_states", grammar.num_states()},
      {"grammar_kinds", grammar.num_kinds()},
      {"label_counts", label_counts},
      {"train_step_s", train_s},
      {"train_step_min_s", train_min_s},
      {"grammar_crf_value_and_grad_s", grammar_s},
      {"grammar_crf_value_and_grad_min_s", grammar_min_s},
      {"grammar_crf_value_only_s", grammar_value_s},
      {"grammar_crf_value_only_min_s", grammar_value_min_s},
      {"linear_crf_value_and_grad_s", linear_s},
      {"linear_crf_value_and_grad_min_s", linear_min_s},
      {"ratio_grammar_crf_to_train_step", grammar_s / train_s},
      {"ratio_linear_crf_to_train_step", linear_s / train_s},
      {"target_ratio_grammar_crf", 0.25},
      {"target_met", grammar_s / train_s <= 0.25},
      {"train_step_nt_per_s", nt / train_s},
      {"grammar_crf_nt_per_s", nt / grammar_s},
      {"linear_crf_nt_per_s", nt / linear_s},
      {"grammar_crf_unfit", grammar.unfit()},
      {"ce_loss_last", ce_loss},
      {"grammar_crf_nll", grammar_nll},
      {"linear_crf_nll", linear_nll},
      {"cpu", cpu_model()},
      {"date", today()},
      {"load_average", {{"start", load_start}, {"end", load_average()}}}};
  std::cout << out.dump() << std::endl;
  return 0;
}
