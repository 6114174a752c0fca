#include "nucleo/losses/linear_chain_crf.hpp"
#include "nucleo/genes/gene_crf_grammar.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "nucleo/testing/gradcheck.hpp"

using namespace nucleo;
using namespace nucleo::testing;

namespace {

constexpr double ninf = -std::numeric_limits<double>::infinity();

double lse(const std::vector<double>& v) {
  double m = ninf;
  for (double x : v) m = std::max(m, x);
  if (m == ninf) return ninf;
  double s = 0;
  for (double x : v) s += std::exp(x - m);
  return m + std::log(s);
}

// Every tag path of one sequence, enumerated: its score (-inf if it uses a forbidden
// transition/start/end), straight from the model definition in linear_chain_crf.hpp.
template <int K>
struct Enumeration {
  std::vector<std::vector<int>> paths;
  std::vector<double> scores;

  Enumeration(const LinearChainCRF<K, double>& crf, const Tensor3<double>& x, Index b, Index n) {
    const auto& c = crf.constraints();
    const auto& A = crf.transitions().value;
    Index total = 1;
    for (Index t = 0; t < n; ++t) total *= K;
    std::vector<int> y(static_cast<std::size_t>(n));
    for (Index code = 0; code < total; ++code) {
      Index r = code;
      for (Index t = 0; t < n; ++t) {
        y[static_cast<std::size_t>(t)] = static_cast<int>(r % K);
        r /= K;
      }
      bool ok = c.start_allowed(y[0]) && c.end_allowed(y[static_cast<std::size_t>(n - 1)]);
      double s = crf.start().value[y[0]] + crf.end().value[y[static_cast<std::size_t>(n - 1)]];
      for (Index t = 0; t < n; ++t) {
        const int yt = y[static_cast<std::size_t>(t)];
        s += x(b, yt, t);
        if (t > 0) {
          const int yp = y[static_cast<std::size_t>(t - 1)];
          s += A[yp * K + yt];
          ok = ok && c.allowed(yp, yt);
        }
      }
      paths.push_back(y);
      scores.push_back(ok ? s : ninf);
    }
  }
  double log_z() const { return lse(scores); }
  // log-sum over the paths that agree with the observed labels of row b of `labels`.
  double log_z_given(const Labels& labels, Index b) const {
    std::vector<double> v;
    for (std::size_t p = 0; p < paths.size(); ++p) {
      bool agree = true;
      for (std::size_t t = 0; t < paths[p].size(); ++t) {
        const int l = labels(b, static_cast<Index>(t));
        if (l != ignore_index && l != paths[p][t]) agree = false;
      }
      if (agree) v.push_back(scores[p]);
    }
    return lse(v);
  }
  double marginal(Index t, int k) const {
    const double lz = log_z();
    double s = 0;
    for (std::size_t p = 0; p < paths.size(); ++p)
      if (paths[p][static_cast<std::size_t>(t)] == k) s += std::exp(scores[p] - lz);
    return s;
  }
  std::size_t best() const { return static_cast<std::size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin()); }
};

// Constraints on 3 tags that still allow paths of every length: no 0->2, no 2->2, no 1->0;
// no start in 1, no end in 0.
CrfConstraints small_constraints() {
  CrfConstraints c = CrfConstraints::allow_all(3);
  c.forbid(0, 2).forbid(2, 2).forbid(1, 0).allow_start(1, false).allow_end(0, false);
  return c;
}

// Labels for sequence b: an allowed path drawn at random, some positions set to -100, positions
// beyond the length filled with an out-of-range value (which must be ignored).
template <int K>
void random_labels(const Enumeration<K>& en, Labels& y, Index b, Index n, Rng& rng, double p_ignore) {
  std::vector<std::size_t> ok;
  for (std::size_t p = 0; p < en.paths.size(); ++p)
    if (en.scores[p] > ninf) ok.push_back(p);
  REQUIRE(!ok.empty());
  const auto& path = en.paths[ok[rng.uniform_int(ok.size())]];
  for (Index t = 0; t < y.cols(); ++t) {
    if (t >= n)
      y(b, t) = 77;
    else
      y(b, t) = rng.uniform() < p_ignore ? ignore_index : path[static_cast<std::size_t>(t)];
  }
}

}  // namespace

TEST_CASE("LinearChainCRF: by hand, two tags and zero parameters", "[losses][linear_chain_crf]") {
  CpuContext ctx(1);
  LinearChainCRF<2, double> crf;
  Tensor3<double> x(1, 2, 2);
  x.setZero();
  // Four equally likely paths: log Z = log 4; the gold path has score 0.
  CHECK(crf.log_partition(ctx, x)[0] == Approx(std::log(4.0)));
  Labels y(1, 2);
  y << 1, 0;
  CHECK(crf.value(ctx, x, y) == Approx(std::log(4.0) / 2));  // mean over 2 tokens
  crf.set_reduction(Reduction::sum);
  CHECK(crf.value(ctx, x, y) == Approx(std::log(4.0)));
  // Transition 1->0 worth +1: paths 00, 01, 11 score 0 and 10 scores 1.
  crf.transitions().value[1 * 2 + 0] = 1.0;
  CHECK(crf.value(ctx, x, y) == Approx(std::log(3.0 + std::exp(1.0)) - 1.0));
  const CrfPaths v = crf.viterbi(ctx, x);
  CHECK(v.path(0) == std::vector<int>{1, 0});
  CHECK(v.scores[0] == Approx(1.0));
  // Posterior of tag 1 at position 0 = (e^0 [11] + e^1 [10]) / (3 + e).
  Tensor3<double> m;
  crf.marginals(ctx, x, m);
  CHECK(m(0, 1, 0) == Approx((1.0 + std::exp(1.0)) / (3.0 + std::exp(1.0))));
}

TEST_CASE("LinearChainCRF: names, shapes and initialisation of the parameters", "[losses][linear_chain_crf]") {
  LinearChainCRF<9> zero;
  CHECK(zero.name() == "linear_chain_crf");
  CHECK(parameter_names(zero) == std::vector<std::string>{"transitions", "start", "end"});
  CHECK(parameter_count(zero) == 81 + 9 + 9);
  CHECK(zero.transitions().shape == std::vector<Index>{9, 9});
  CHECK(zero.start().shape == std::vector<Index>{9});
  CHECK(zero.transitions().value.isZero());
  CrfOptions o;
  o.init_range = 0.1;
  LinearChainCRF<9> rnd(o);
  CHECK(rnd.transitions().value.abs().maxCoeff() <= 0.1f);
  CHECK(rnd.transitions().value.abs().maxCoeff() > 0.0f);
  CHECK(rnd.start().value.abs().maxCoeff() > 0.0f);
  CHECK_THROWS_AS(LinearChainCRF<3>(CrfOptions{}, CrfConstraints::allow_all(4)), ShapeError);
}

TEST_CASE("LinearChainCRF: log Z, marginals, Viterbi and NLL equal enumeration of all K^L paths",
          "[losses][linear_chain_crf]") {
  CpuContext ctx(2);
  Rng rng(2024, 1);
  for (int constrained = 0; constrained < 2; ++constrained) {
    for (int masked = 0; masked < 2; ++masked) {
      for (Index L = 1; L <= 7; ++L) {
        INFO("L = " << L << (constrained ? ", constrained" : "") << (masked ? ", with lengths" : ""));
        LinearChainCRF<3, double> crf(CrfOptions{}, constrained ? small_constraints() : CrfConstraints());
        randomize_params(crf, static_cast<std::uint64_t>(100 + L), -1.0, 1.0);
        const Index B = 3;
        const Tensor3<double> x = random_tensor<double>(B, 3, L, static_cast<std::uint64_t>(200 + L), -2, 2);
        std::vector<Index> lengths{L, L, L};
        if (masked) lengths = {L, std::max<Index>(0, L - 2), 1};
        ctx.set_lengths(lengths);

        const auto logz = crf.log_partition(ctx, x);
        Tensor3<double> marg;
        crf.marginals(ctx, x, marg);
        const CrfPaths vit = crf.viterbi(ctx, x);
        Labels y(B, L);
        double brute_sum = 0;
        Index tokens = 0, seqs = 0;
        for (Index b = 0; b < B; ++b) {
          const Index n = lengths[static_cast<std::size_t>(b)];
          if (n == 0) {
            CHECK(logz[static_cast<std::size_t>(b)] == 0.0);
            for (Index t = 0; t < L; ++t) CHECK(vit.tags(b, t) == ignore_index);
            for (Index t = 0; t < L; ++t) y(b, t) = ignore_index;
            continue;
          }
          const Enumeration<3> en(crf, x, b, n);
          CHECK(logz[static_cast<std::size_t>(b)] == Approx(en.log_z()).epsilon(1e-10));
          for (Index t = 0; t < L; ++t)
            for (int k = 0; k < 3; ++k)
              CHECK(marg(b, k, t) == Approx(t < n ? en.marginal(t, k) : 0.0).margin(1e-12));
          const std::size_t best = en.best();
          CHECK(vit.scores[static_cast<std::size_t>(b)] == Approx(en.scores[best]).epsilon(1e-12));
          CHECK(vit.path(b) == en.paths[best]);
          for (Index t = n; t < L; ++t) CHECK(vit.tags(b, t) == ignore_index);

          random_labels(en, y, b, n, rng, b == 0 ? 0.0 : 0.4);  // sequence 0 fully labelled
          Index obs = 0;
          for (Index t = 0; t < n; ++t) obs += y(b, t) != ignore_index;
          if (obs > 0) {
            brute_sum += en.log_z() - en.log_z_given(y, b);
            tokens += obs;
            ++seqs;
          }
        }
        crf.set_reduction(Reduction::sum);
        CHECK(crf.value(ctx, x, y) == Approx(brute_sum).epsilon(1e-10).margin(1e-12));
        crf.set_reduction(Reduction::mean_sequences);
        CHECK(crf.value(ctx, x, y) == Approx(seqs ? brute_sum / seqs : 0.0).epsilon(1e-10).margin(1e-12));
        crf.set_reduction(Reduction::mean);
        CHECK(crf.value(ctx, x, y) == Approx(tokens ? brute_sum / tokens : 0.0).epsilon(1e-10).margin(1e-12));
        Tensor3<double> dx;
        CHECK(crf.value_and_grad(ctx, x, y, dx) == Approx(crf.value(ctx, x, y)));
      }
    }
  }
}

TEST_CASE("LinearChainCRF: gradcheck of the NLL (emissions, transitions, start, end)", "[losses][linear_chain_crf]") {
  CpuContext ctx(2);
  for (int constrained = 0; constrained < 2; ++constrained) {
    for (Reduction red : {Reduction::sum, Reduction::mean_sequences, Reduction::mean}) {
      INFO("constrained " << constrained << " reduction " << static_cast<int>(red));
      CrfOptions o;
      o.reduction = red;
      LinearChainCRF<3, double> crf(o, constrained ? small_constraints() : CrfConstraints());
      randomize_params(crf, 5, -1.0, 1.0);
      const Index B = 4, L = 6;
      Tensor3<double> x = random_tensor<double>(B, 3, L, 6, -2, 2);
      ctx.set_lengths({6, 4, 6, 0});
      // Fully labelled, partially labelled (-100 inside), fully unlabelled, empty; all allowed paths.
      Labels y(B, L);
      y << 0, 0, 1, 1, 2, 1,
           2, -100, -100, 1, 5, 5,
           -100, -100, -100, -100, -100, -100,
           1, 1, 1, 1, 1, 1;
      if (constrained) REQUIRE(crf.constraints().violations(y, ctx.lengths()).empty());

      Tensor3<double> dx(B, 3, L);
      dx.setConstant(std::numeric_limits<double>::quiet_NaN());
      crf.visit_params([](std::string_view, Param<double>& p) { p.grad.setConstant(0.5); });
      const double f0 = crf.value_and_grad(ctx, x, y, dx);
      CHECK(f0 == Approx(crf.value(ctx, x, y)));
      for (Index i = 0; i < dx.size(); ++i) REQUIRE(std::isfinite(dx.data()[i]));  // assigned everywhere

      const double eps = 1e-6;
      auto check = [&](double analytic, double& v, const std::string& where) {
        const double keep = v;
        v = keep + eps;
        const double fp = crf.value(ctx, x, y);
        v = keep - eps;
        const double fm = crf.value(ctx, x, y);
        v = keep;
        const double numeric = (fp - fm) / (2 * eps);
        INFO(where << ": analytic " << analytic << " numeric " << numeric);
        CHECK(std::abs(analytic - numeric) <= 1e-6 + 1e-5 * std::abs(numeric));
      };
      for (Index i = 0; i < x.size(); ++i) check(dx.data()[i], x.data()[i], "emission " + std::to_string(i));
      crf.visit_params([&](std::string_view name, Param<double>& p) {
        for (Index i = 0; i < p.size(); ++i) check(p.grad[i] - 0.5, p.value[i], std::string(name) + std::to_string(i));
      });
      // Positions beyond a length and unlabelled sequences get exactly zero gradient.
      for (int k = 0; k < 3; ++k) {
        CHECK(dx(1, k, 4) == 0.0);
        CHECK(dx(1, k, 5) == 0.0);
        for (Index t = 0; t < L; ++t) CHECK(dx(2, k, t) == 0.0);
      }
      if (constrained) {
        CHECK(crf.transitions().grad[0 * 3 + 2] == 0.5);  // forbidden: no gradient
        CHECK(crf.start().grad[1] == 0.5);
      }
    }
  }
  ctx.clear_lengths();
}

TEST_CASE("LinearChainCRF: gradcheck with the 9-class gene grammar", "[losses][linear_chain_crf]") {
  CpuContext ctx(1);
  LinearChainCRF<9, double> crf(CrfOptions{}, gene_structure_constraints());
  randomize_params(crf, 9, -1.0, 1.0);
  const Index L = 10;
  Tensor3<double> x = random_tensor<double>(1, 9, L, 10, -3, 3);
  Labels y(1, L);
  y << 8, 8, 0, 0, 1, -100, -100, 3, 0, 8;
  Tensor3<double> dx;
  crf.value_and_grad(ctx, x, y, dx);
  const double eps = 1e-6;
  for (Index i = 0; i < x.size(); ++i) {
    const double keep = x.data()[i];
    x.data()[i] = keep + eps;
    const double fp = crf.value(ctx, x, y);
    x.data()[i] = keep - eps;
    const double fm = crf.value(ctx, x, y);
    x.data()[i] = keep;
    const double numeric = (fp - fm) / (2 * eps);
    CHECK(std::abs(dx.data()[i] - numeric) <= 1e-6 + 1e-5 * std::abs(numeric));
  }
  Param<double>& A = crf.transitions();
  for (Index i = 0; i < A.size(); ++i) {
    const double keep = A.value[i];
    A.value[i] = keep + eps;
    const double fp = crf.value(ctx, x, y);
    A.value[i] = keep - eps;
    const double fm = crf.value(ctx, x, y);
    A.value[i] = keep;
    CHECK(std::abs(A.grad[i] - (fp - fm) / (2 * eps)) <= 1e-6 + 1e-5 * std::abs((fp - fm) / (2 * eps)));
  }
}

TEST_CASE("LinearChainCRF: a 120,000-position sequence with emissions ~100 stays finite and exact",
          "[losses][linear_chain_crf]") {
  CpuContext ctx(2);
  const Index L = 120000;
  const Tensor3<float> xf = random_tensor<float>(1, 9, L, 31, -100, 100);
  Tensor3<double> xd = xf.cast<double>();
  Labels y(1, L);
  Rng rng(32, 0);
  for (Index t = 0; t < L; ++t) y(0, t) = static_cast<int>(rng.uniform_int(9));
  for (Index t = 5000; t < 6000; ++t) y(0, t) = ignore_index;  // an unlabelled stretch
  CrfOptions o;
  o.reduction = Reduction::sum;
  o.init_range = 0.5;
  LinearChainCRF<9, float> f(o);
  LinearChainCRF<9, double> d(o);
  d.transitions().value = f.transitions().value.cast<double>();
  d.start().value = f.start().value.cast<double>();
  d.end().value = f.end().value.cast<double>();
  Tensor3<float> df;
  Tensor3<double> dd;
  const double nf = f.value_and_grad(ctx, xf, y, df);
  const double nd = d.value_and_grad(ctx, xd, y, dd);
  REQUIRE(std::isfinite(nf));
  REQUIRE(std::isfinite(nd));
  // Random labels against emissions of +-100: a large but finite NLL, the same in float and double.
  CHECK(nd > 1e5);
  CHECK(nf == Approx(nd).epsilon(1e-8));
  bool finite = true;
  double worst = 0;
  for (Index i = 0; i < df.size(); ++i) {
    finite = finite && std::isfinite(df.data()[i]);
    worst = std::max(worst, std::abs(static_cast<double>(df.data()[i]) - dd.data()[i]));
  }
  CHECK(finite);
  CHECK(worst < 1e-5);
  for (Param<float>* p : {&f.transitions(), &f.start(), &f.end()}) CHECK(p->grad.allFinite());
  CHECK((f.transitions().grad.cast<double>() - d.transitions().grad).abs().maxCoeff() < 5e-3);
  // Gradient of each position sums to zero over tags (p and q are both distributions).
  double col = 0;
  for (Index t = 0; t < L; t += 997) {
    double s = 0;
    for (int k = 0; k < 9; ++k) s += dd(0, k, t);
    col = std::max(col, std::abs(s));
  }
  CHECK(col < 1e-9);
  // Marginals and Viterbi on the same sequence: finite, and the path scores as the model says.
  Tensor3<float> m;
  f.marginals(ctx, xf, m);
  CHECK(Eigen::Map<const Eigen::ArrayXf>(m.data(), m.size()).allFinite());
  const CrfPaths v = d.viterbi(ctx, xd);
  double s = d.start().value[v.tags(0, 0)] + d.end().value[v.tags(0, L - 1)];
  for (Index t = 0; t < L; ++t) {
    s += xd(0, v.tags(0, t), t);
    if (t > 0) s += d.transitions().value[v.tags(0, t - 1) * 9 + v.tags(0, t)];
  }
  CHECK(v.scores[0] == Approx(s).epsilon(1e-12));
}

TEST_CASE("LinearChainCRF: a decoded path never contains a forbidden transition", "[losses][linear_chain_crf]") {
  CpuContext ctx(2);
  const CrfConstraints g = gene_structure_constraints();
  const Index B = 4, L = 3000;
  // Large random emissions: the unconstrained argmax path jumps between all classes.
  const Tensor3<float> x = random_tensor<float>(B, 9, L, 77, -20, 20);
  ctx.set_lengths({L, 2500, 17, 1});
  CrfOptions o;
  o.init_range = 1.0;
  LinearChainCRF<9> free_crf(o);
  LinearChainCRF<9> gene(o, g);
  const Labels free_tags = free_crf.decode(ctx, x);
  REQUIRE(!g.violations(free_tags, ctx.lengths()).empty());  // the test is not vacuous
  const CrfPaths p = gene.viterbi(ctx, x);
  CHECK(g.violations(p.tags, ctx.lengths()).empty());
  // And no allowed path scores higher: the constrained optimum is below the unconstrained one.
  const CrfPaths pf = free_crf.viterbi(ctx, x);
  for (Index b = 0; b < B; ++b) CHECK(p.scores[static_cast<std::size_t>(b)] <= pf.scores[static_cast<std::size_t>(b)]);
  // Constrained marginals are distributions at every valid position.
  Tensor3<float> m;
  gene.marginals(ctx, x, m);
  for (Index b = 0; b < B; ++b)
    for (Index t = 0; t < ctx.length_of(b, L); ++t) {
      float s = 0;
      for (int k = 0; k < 9; ++k) s += m(b, k, t);
      REQUIRE(s == Approx(1.0f).epsilon(1e-4));
    }
  ctx.clear_lengths();
}

TEST_CASE("LinearChainCRF: streaming (checkpointed) Viterbi equals the full decode exactly",
          "[losses][linear_chain_crf]") {
  CpuContext ctx(1);
  const Index L = 50000;
  const Tensor3<float> x = random_tensor<float>(1, 9, L, 99, -4, 4);
  CrfOptions o;
  o.init_range = 2.0;
  LinearChainCRF<9> crf(o, gene_structure_constraints());
  const CrfPaths full = crf.viterbi(ctx, x);  // one segment (L < decode_segment)
  for (Index seg : {Index{777}, Index{16667}, Index{50000}}) {
    std::vector<std::int32_t> path(static_cast<std::size_t>(L), -1);
    Index fills = 0, sinks = 0;
    Index last_begin = L;
    const double score = crf.viterbi_streaming(
        L,
        [&](Index b, Index e, RowMatrix<float>& out) {
          ++fills;
          for (int k = 0; k < 9; ++k)
            for (Index t = b; t < e; ++t) out(k, t - b) = x(0, k, t);
        },
        [&](Index b, std::span<const std::int32_t> tags) {
          ++sinks;
          CHECK(b < last_begin);  // last segment first
          last_begin = b;
          std::copy(tags.begin(), tags.end(), path.begin() + b);
        },
        seg);
    const Index nseg = (L + seg - 1) / seg;
    CHECK(sinks == nseg);
    CHECK(fills == (nseg == 1 ? 1 : 2 * nseg));
    CHECK(score == full.scores[0]);
    Index same = 0;
    for (Index t = 0; t < L; ++t) same += path[static_cast<std::size_t>(t)] == full.tags(0, t);
    CHECK(same == L);
  }
  // The batch decoder with a small segment (memory bound) gives the same tags too.
  CrfOptions small = o;
  small.decode_segment = 1000;
  LinearChainCRF<9> seg_crf(small, gene_structure_constraints());
  seg_crf.transitions().value = crf.transitions().value;
  seg_crf.start().value = crf.start().value;
  seg_crf.end().value = crf.end().value;
  const CrfPaths segd = seg_crf.viterbi(ctx, x);
  CHECK((segd.tags == full.tags).all());
  CHECK(segd.scores[0] == full.scores[0]);
}

TEST_CASE("LinearChainCRF: a sequence's results do not depend on batch padding", "[losses][linear_chain_crf]") {
  CpuContext ctx(2);
  CrfOptions o;
  o.init_range = 1.0;
  LinearChainCRF<9> crf(o);
  Tensor3<float> x = random_tensor<float>(2, 9, 50, 3, -5, 5);
  Labels y(2, 50);
  Rng rng(4, 0);
  for (Index i = 0; i < y.size(); ++i) y.data()[i] = static_cast<int>(rng.uniform_int(9));
  ctx.set_lengths({50, 30});
  Tensor3<float> d1, d2;
  zero_grad(crf);
  const double v1 = crf.value_and_grad(ctx, x, y, d1);
  const Labels t1 = crf.decode(ctx, x);
  for (int k = 0; k < 9; ++k)
    for (Index t = 30; t < 50; ++t) {
      x(1, k, t) = 1e6f;  // garbage in the padding
      y(1, t) = -7;
    }
  const Eigen::ArrayXf g1 = crf.transitions().grad;
  zero_grad(crf);
  const double v2 = crf.value_and_grad(ctx, x, y, d2);
  CHECK(v1 == v2);
  CHECK((crf.transitions().grad == g1).all());
  for (Index i = 0; i < d1.size(); ++i) REQUIRE(d1.data()[i] == d2.data()[i]);
  for (int k = 0; k < 9; ++k) CHECK(d2(1, k, 40) == 0.0f);
  CHECK((crf.decode(ctx, x) == t1).all());
  ctx.clear_lengths();
}

TEST_CASE("LinearChainCRF: results are identical for 1 and 2 threads", "[losses][linear_chain_crf]") {
  CpuContext one(1), two(2);
  CrfOptions o;
  o.init_range = 1.0;
  LinearChainCRF<9> a(o), b(o);
  const Tensor3<float> x = random_tensor<float>(5, 9, 400, 8, -5, 5);
  Labels y(5, 400);
  Rng rng(9, 0);
  for (Index i = 0; i < y.size(); ++i) y.data()[i] = rng.uniform() < 0.1 ? ignore_index : static_cast<int>(rng.uniform_int(9));
  Tensor3<float> da, db;
  CHECK(a.value_and_grad(one, x, y, da) == b.value_and_grad(two, x, y, db));
  CHECK((a.transitions().grad == b.transitions().grad).all());
  for (Index i = 0; i < da.size(); ++i) REQUIRE(da.data()[i] == db.data()[i]);
}

TEST_CASE("LinearChainCRF: bad inputs give clear errors", "[losses][linear_chain_crf]") {
  CpuContext ctx(1);
  LinearChainCRF<3> crf(CrfOptions{}, small_constraints());
  Tensor3<float> x = random_tensor<float>(2, 3, 5, 1);
  Labels y(2, 5);
  y << 0, 0, 1, 1, 2,
       0, 2, 1, 1, 1;  // 0 -> 2 is forbidden
  Tensor3<float> d;
  CHECK_THROWS_WITH(crf.value_and_grad(ctx, x, y, d), Catch::Contains("sequence 1") && Catch::Contains("0 -> 2"));
  y(1, 1) = ignore_index;  // 0 -> ? -> 1 is possible through 0 -> 1 -> 1
  CHECK(std::isfinite(crf.value_and_grad(ctx, x, y, d)));
  y(1, 4) = 0;  // ends in 0: forbidden end
  CHECK_THROWS_WITH(crf.value(ctx, x, y), Catch::Contains("sequence 1"));
  y(1, 4) = 7;
  CHECK_THROWS_WITH(crf.value(ctx, x, y), Catch::Contains("label 7") && Catch::Contains("position 4"));
  y(1, 4) = 1;
  Labels wrong(2, 4);
  CHECK_THROWS_AS(crf.value(ctx, x, wrong), ShapeError);
  Tensor3<float> x4 = random_tensor<float>(2, 4, 5, 1);
  CHECK_THROWS_WITH(crf.viterbi(ctx, x4), Catch::Contains("4 channels"));
  x(0, 2, 3) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(crf.value(ctx, x, y), Catch::Contains("sequence 0 position 3"));
  // Constraints that allow no path at all (every start forbidden).
  CrfConstraints none = CrfConstraints::allow_all(3);
  for (int t = 0; t < 3; ++t) none.allow_start(t, false);
  LinearChainCRF<3> dead(CrfOptions{}, none);
  const Tensor3<float> ok = random_tensor<float>(1, 3, 4, 2);
  CHECK_THROWS_WITH(dead.viterbi(ctx, ok), Catch::Contains("no tag path"));
}

namespace {
// Generic code that knows only the Loss concept (what a training loop over any loss sees).
template <Loss F>
double loss_and_grad_of(F& f, CpuContext& ctx, const Tensor3<typename F::scalar_type>& logits,
                        const typename F::target_type& targets, Tensor3<typename F::scalar_type>& dlogits) {
  return f.value_and_grad(ctx, logits, targets, dlogits);
}
template <Loss F>
double loss_of(F& f, CpuContext& ctx, const Tensor3<typename F::scalar_type>& logits,
               const typename F::target_type& targets) {
  return f.value(ctx, logits, targets);
}
}  // namespace

TEST_CASE("LinearChainCRF: through the Loss concept, the same NLL and gradients as the direct calls",
          "[losses][linear_chain_crf]") {
  static_assert(Loss<LinearChainCRF<3, double>>);
  static_assert(std::is_same_v<LinearChainCRF<3, double>::target_type, Labels>);
  CpuContext ctx(2);
  Rng rng(77, 3);
  const Index B = 3, L = 5;
  const std::vector<Index> lengths{5, 3, 4};
  ctx.set_lengths(lengths);
  for (Reduction red : {Reduction::mean, Reduction::sum, Reduction::mean_sequences}) {
    INFO("reduction " << reduction_name(red));
    CrfOptions o;
    o.reduction = red;
    LinearChainCRF<3, double> direct(o, small_constraints());
    randomize_params(direct, 31, -1.0, 1.0);
    LinearChainCRF<3, double> generic = direct;  // same parameters, fresh gradients
    const Tensor3<double> x = random_tensor<double>(B, 3, L, 32, -2, 2);
    Labels y(B, L);
    double brute_sum = 0;
    Index tokens = 0;
    for (Index b = 0; b < B; ++b) {
      const Index n = lengths[static_cast<std::size_t>(b)];
      const Enumeration<3> en(direct, x, b, n);
      random_labels(en, y, b, n, rng, b == 0 ? 0.0 : 0.3);
      for (Index t = 0; t < n; ++t) tokens += y(b, t) != ignore_index;
      brute_sum += en.log_z() - en.log_z_given(y, b);
    }
    Tensor3<double> d_direct, d_generic;
    const double v_direct = direct.value_and_grad(ctx, x, y, d_direct);
    const double v_generic = loss_and_grad_of(generic, ctx, x, y, d_generic);
    CHECK(v_generic == v_direct);
    CHECK(loss_of(generic, ctx, x, y) == v_direct);
    REQUIRE(d_generic.dimensions() == d_direct.dimensions());
    for (Index i = 0; i < d_direct.size(); ++i) CHECK(d_generic.data()[i] == d_direct.data()[i]);
    CHECK((generic.transitions().grad == direct.transitions().grad).all());
    CHECK((generic.start().grad == direct.start().grad).all());
    CHECK((generic.end().grad == direct.end().grad).all());
    // ... and that value is the enumerated NLL under the unified Reduction's meaning.
    const double denom = red == Reduction::sum ? 1.0 : red == Reduction::mean ? static_cast<double>(tokens) : 3.0;
    CHECK(v_generic == Approx(brute_sum / denom).epsilon(1e-10));
  }
}
