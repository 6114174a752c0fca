// nucleo-train-tiny: train a toy-sized CNN on a tiny SYNTHETIC DNA task, end to end, in seconds.
//
// Task (synthetic, generated here): random A/C/G/T sequences; the label of each position is 1 when
// at least 3 of the 5 bases centred on it are G or C ("GC-rich"), else 0. Model: OneHot(4) ->
// DilatedConv1D(4->16, K=9) -> ReLU -> Linear(16->2); cross-entropy; AdamW with warm-up + cosine;
// model selection by validation MCC (as BEND), test MCC with the selected weights.
//
// Shows: the progress bar (a live line on a terminal, plain lines otherwise), metrics.jsonl and
// metrics.csv, learning_curve.svg, last.ckpt / best.ckpt and result.json in --out DIR.
// Run it twice: the second run resumes from DIR/last.ckpt (use --fresh to start over). Ctrl-C
// (SIGINT) or SIGTERM saves last.ckpt after the step in progress and exits 130 / 143.
//
//   nucleo-train-tiny [--out DIR] [--epochs N] [--threads T] [--seed S] [--fresh]
#include "nucleo/core/context.hpp"
#include "nucleo/layers/dilated_conv1d.hpp"
#include "nucleo/layers/linear.hpp"
#include "nucleo/layers/one_hot.hpp"
#include "nucleo/layers/relu.hpp"
#include "nucleo/layers/sequential.hpp"
#include "nucleo/losses/cross_entropy.hpp"
#include "nucleo/metrics/confusion_matrix.hpp"
#include "nucleo/metrics/mcc.hpp"
#include "nucleo/optim/adamw.hpp"
#include "nucleo/train/trainer.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <string>

using namespace nucleo;
using TinyCnn = Sequential<OneHot<4, 4>, DilatedConv1D<4, 16, 9>, ReLU<>, Linear<16, 2>>;

namespace {
struct Split_ {
  Tensor3<float> ids;  // [N, 1, L], ids 0..3 = A C G T
  Labels labels;       // [N, L]
};

Split_ make_split(Index n, Index len, std::uint64_t seed) {
  Split_ s{Tensor3<float>(n, 1, len), Labels(n, len)};
  Rng rng(seed, 1);
  for (Index b = 0; b < n; ++b) {
    for (Index l = 0; l < len; ++l) s.ids(b, 0, l) = static_cast<float>(rng.uniform_int(4));
    for (Index l = 0; l < len; ++l) {
      int gc = 0;
      for (Index k = l - 2; k <= l + 2; ++k)
        if (k >= 0 && k < len && (s.ids(b, 0, k) == 1 || s.ids(b, 0, k) == 2)) ++gc;
      s.labels(b, l) = gc >= 3 ? 1 : 0;
    }
  }
  return s;
}

void take(const Split_& s, const std::vector<Index>& idx, Tensor3<float>& x, Labels& y) {
  const Index L = s.ids.dimension(2);
  x.resize(static_cast<Index>(idx.size()), 1, L);
  y.resize(static_cast<Index>(idx.size()), L);
  for (std::size_t i = 0; i < idx.size(); ++i) {
    for (Index l = 0; l < L; ++l) x(static_cast<Index>(i), 0, l) = s.ids(idx[i], 0, l);
    y.row(static_cast<Index>(i)) = s.labels.row(idx[i]);
  }
}
}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path out = "results/train-tiny";
  std::int64_t epochs = 12;
  int threads = 0;
  std::uint64_t seed = 1;
  bool fresh = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "nucleo-train-tiny: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--out") out = next();
    else if (a == "--epochs") epochs = std::stoll(next());
    else if (a == "--threads") threads = std::stoi(next());
    else if (a == "--seed") seed = std::stoull(next());
    else if (a == "--fresh") fresh = true;
    else {
      std::fprintf(stderr,
                   "usage: nucleo-train-tiny [--out DIR] [--epochs N] [--threads T] [--seed S] [--fresh]\n"
                   "Trains a toy CNN on a tiny synthetic GC-richness task; writes logs, plot and checkpoints to DIR.\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  try {
    if (fresh) std::filesystem::remove_all(out);
    CpuContext ctx(threads, seed);
    const Split_ train = make_split(256, 128, seed * 3 + 1), val = make_split(64, 128, seed * 3 + 2),
                 test = make_split(64, 128, seed * 3 + 3);
    const Index batch = 16;

    TinyCnn model;
    Rng init(seed, 9);
    model.get<1>().init(init);
    model.get<3>().init_pytorch(init);
    CrossEntropy<float> loss_fn;
    AdamW<float> opt({.lr = 1e-2, .weight_decay = 0.01});

    TrainTask task;
    task.num_batches = [&](std::int64_t) { return train.ids.dimension(0) / batch; };
    task.train_batch = [&](CpuContext& c, std::int64_t epoch, std::int64_t i) {
      // the order of epoch e is a pure function of (seed, e): resumable
      std::vector<Index> order(static_cast<std::size_t>(train.ids.dimension(0)));
      std::iota(order.begin(), order.end(), Index{0});
      Rng shuffle = Rng(seed, 2).fork(static_cast<std::uint64_t>(epoch));
      std::shuffle(order.begin(), order.end(), shuffle);
      std::vector<Index> idx(order.begin() + i * batch, order.begin() + (i + 1) * batch);
      Tensor3<float> x, logits, dlogits, dx;
      Labels y;
      take(train, idx, x, y);
      model.forward(c, x, logits);
      const double loss = loss_fn.value_and_grad(c, logits, y, dlogits);
      model.backward(c, x, dlogits, dx);
      return StepResult{loss, x.dimension(0) * x.dimension(2)};
    };
    task.evaluate = [&](CpuContext& c, Split which) {
      const Split_& s = which == Split::validation ? val : test;
      Tensor3<float> logits, dlogits;
      model.forward(c, s.ids, logits);
      EvalResult r;
      r.loss = loss_fn.value_and_grad(c, logits, s.labels, dlogits);
      ConfusionMatrix cm(2);
      cm.add_logits(logits, s.labels);
      r.metric = matthews_corrcoef(cm);
      return r;
    };

    TrainerOptions o;
    o.run_dir = out;
    o.epochs = epochs;
    o.schedule = LrSchedule::cosine(1e-2, 16, epochs * 16, 1e-3);
    o.checkpoint_every = 32;
    o.metric_name = "mcc";
    o.model_type = "TinyCnn";
    o.config = {{"data", "synthetic GC-richness, 256/64/64 x 128 nt"}, {"seed", seed}, {"batch", batch}};
    o.title = "nucleo-train-tiny (synthetic data)";
    o.progress.line_interval_s = 2;
    Trainer trainer(model, opt, o);
    const TrainResult r = trainer.run(ctx, task);

    std::printf("synthetic task: best validation MCC %.4f at epoch %lld; test MCC %.4f; %lld steps\n", r.best_metric,
                static_cast<long long>(r.best_epoch + 1), r.test ? r.test->metric : NAN,
                static_cast<long long>(r.steps));
    std::printf("wrote %s/{metrics.jsonl,metrics.csv,learning_curve.svg,last.ckpt,best.ckpt,result.json}\n",
                out.string().c_str());
    return 0;
  } catch (const Interrupted& e) {  // Ctrl-C / SIGTERM: the state is saved; the same command resumes
    std::fprintf(stderr, "nucleo-train-tiny: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nucleo-train-tiny: %s\n", e.what());
    return 1;
  }
}
