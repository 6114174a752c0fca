// bench_crf: LinearChainCRF<9> throughput, the shape of issue 5's comparison with a PyTorch
// implementation of the torchcrf algorithm (bench/crf_torch.py): batch 8 x 10,000 positions,
// 2 threads, fully labelled random tags, no constraints (torchcrf has none; a run with the gene
// grammar is reported too). Per repetition: NLL + gradient (value_and_grad, reduction sum) and
// Viterbi (best paths + scores). Prints one JSON object with median seconds and positions/s.
// Usage: bench_crf [--batch 8] [--length 10000] [--threads 2] [--reps 7]
#include "nucleo/core/concepts.hpp"
#include "nucleo/losses/linear_chain_crf.hpp"
#include "nucleo/genes/gene_crf_grammar.hpp"

#include <fmt/format.h>

#include "bench_timing.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace nucleo;
using nucleo::bench::median;

namespace {
struct Timing {
  double nll_grad = 0, viterbi = 0, total = 0, total_min = 0, checksum = 0;
};

Timing run(LinearChainCRF<9>& crf, CpuContext& ctx, const Tensor3<float>& x, const Labels& y, int reps) {
  using clock = std::chrono::steady_clock;
  std::vector<double> tg, tv, tt;
  Tensor3<float> dx;
  double checksum = 0;
  for (int r = 0; r < reps + 1; ++r) {  // the first repetition warms up and is not counted
    zero_grad(crf);
    const auto t0 = clock::now();
    const double nll = crf.value_and_grad(ctx, x, y, dx);
    const auto t1 = clock::now();
    const CrfPaths p = crf.viterbi(ctx, x);
    const auto t2 = clock::now();
    checksum = nll + p.scores[0];
    if (r == 0) continue;
    tg.push_back(std::chrono::duration<double>(t1 - t0).count());
    tv.push_back(std::chrono::duration<double>(t2 - t1).count());
    tt.push_back(std::chrono::duration<double>(t2 - t0).count());
  }
  return {median(tg), median(tv), median(tt), *std::min_element(tt.begin(), tt.end()), checksum};
}
}  // namespace

int main(int argc, char** argv) {
  Index batch = 8, length = 10000;
  int threads = 2, reps = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const long v = std::strtol(argv[i + 1], nullptr, 10);
    if (a == "--batch") batch = v;
    else if (a == "--length") length = v;
    else if (a == "--threads") threads = static_cast<int>(v);
    else if (a == "--reps") reps = static_cast<int>(v);
    else {
      fmt::print(stderr, "bench_crf: unknown option {}\n", a);
      return 2;
    }
  }
  CpuContext ctx(threads);
  Tensor3<float> x(batch, 9, length);
  Rng rng(1234, 0);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.normal(0.0, 3.0));
  Labels y(batch, length);
  for (Index i = 0; i < y.size(); ++i) y.data()[i] = static_cast<int>(rng.uniform_int(9));

  CrfOptions o;
  o.reduction = Reduction::sum;
  o.init_range = 0.1;
  LinearChainCRF<9> crf(o);
  const Timing free_t = run(crf, ctx, x, y, reps);

  // The same with the gene grammar; labels = its own Viterbi path (allowed by construction).
  LinearChainCRF<9> gene(o, gene_structure_constraints());
  const Labels gy = gene.decode(ctx, x);
  const Timing gene_t = run(gene, ctx, x, gy, reps);

  const double pos = static_cast<double>(batch * length);
  fmt::print(
      "{{\"impl\": \"nucleo\", \"K\": 9, \"batch\": {}, \"length\": {}, \"threads\": {}, \"reps\": {}, "
      "\"nll_grad_s\": {:.6f}, \"viterbi_s\": {:.6f}, \"total_s\": {:.6f}, "
      "\"nll_grad_pos_per_s\": {:.0f}, \"viterbi_pos_per_s\": {:.0f}, \"positions_per_s\": {:.0f}, "
      "\"total_min_s\": {:.6f}, \"positions_per_s_best\": {:.0f}, "
      "\"gene_grammar_total_s\": {:.6f}, \"gene_grammar_positions_per_s\": {:.0f}, \"checksum\": {:.6g}}}\n",
      batch, length, threads, reps, free_t.nll_grad, free_t.viterbi, free_t.total, pos / free_t.nll_grad,
      pos / free_t.viterbi, pos / free_t.total, free_t.total_min, pos / free_t.total_min, gene_t.total, pos / gene_t.total, free_t.checksum);
  return 0;
}
