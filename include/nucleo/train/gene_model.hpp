#pragma once
/// `GeneModel<Encoder>`: the gene-finding network (encoder + per-nucleotide TokenClassifier to BEND's
/// 9 classes) with an optional linear-chain CRF on its emissions, and its prediction/evaluation.
///
/// As a Layer it is the network: `forward(ctx, tokens [B,1,L], logits [B,9,L])`, `backward` alike.
/// `visit_params` visits the network ("0.*" encoder, "1.*" head) and, when the CRF is on, the CRF
/// ("crf.transitions", "crf.start", "crf.end"), so the trainer's optimizer, gradient clipping and
/// checkpoints cover both. Training with the CRF uses the CRF's NLL on the logits; without it,
/// per-nucleotide cross-entropy (BEND).
///
/// Prediction (`predict`) on a sequence of any length:
///   - logits by sliding windows (data/sliding_window.hpp: windows of `window.window` nt overlapping
///     by `window.overlap`, central parts kept), so memory does not grow with the window count;
///   - without CRF: per-position argmax of the softmax, confidence = its probability;
///   - with CRF: Viterbi path over the whole sequence, confidence = the posterior marginal of the
///     chosen class (forward-backward);
///   - with `decoder = GeneDecoder::grammar`: the best path that is also a gene structure of the
///     sequence (losses/gene_grammar_decoder.hpp: start/stop codons, frame, splice dinucleotides,
///     no in-frame stop), scored by the CRF (or, without CRF, by the log-softmax of the head);
///     confidence as above, of the class the grammar chose;
///   - with `tie_intron_strands`: intron+ and intron- are scored alike before decoding (their
///     log-mean), so that only splice sites and exons decide an intron's strand;
///   - sequences longer than `chunk` nt (chromosomes) are decoded in chunks of `chunk` overlapping by
///     `chunk_overlap`, each chunk keeping its central part (windowed Viterbi with overlap), so memory
///     is bounded by the chunk, not by the chromosome.
#include "nucleo/core/concepts.hpp"
#include "nucleo/core/context.hpp"
#include "nucleo/data/gene_dataset.hpp"
#include "nucleo/data/gene_labels.hpp"
#include "nucleo/data/sliding_window.hpp"
#include "nucleo/data/tokens.hpp"
#include "nucleo/losses/crf_constraints.hpp"
#include "nucleo/losses/gene_grammar_decoder.hpp"
#include "nucleo/losses/linear_chain_crf.hpp"
#include "nucleo/metrics/confusion_matrix.hpp"
#include "nucleo/metrics/mcc.hpp"
#include "nucleo/train/model_zoo.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <optional>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace nucleo {

struct GenePrediction {
  std::vector<std::int8_t> labels;  ///< one class 0..8 per nucleotide
  std::vector<float> confidence;    ///< probability of that class (softmax, or CRF marginal)
};

/// How per-nucleotide scores become labels: `model` = the CRF's Viterbi path (per-nucleotide argmax
/// without CRF); `grammar` = GeneGrammarDecoder over the same scores and the DNA.
enum class GeneDecoder { model, grammar };

inline std::string_view gene_decoder_name(GeneDecoder d) { return d == GeneDecoder::grammar ? "grammar" : "model"; }
inline GeneDecoder gene_decoder_from_name(std::string_view s) {
  if (s == "model") return GeneDecoder::model;
  if (s == "grammar") return GeneDecoder::grammar;
  throw ConfigError(fmt::format("predict.decoder must be \"model\" or \"grammar\", got \"{}\"", s));
}

struct GenePredictOptions {
  SlidingWindowOptions window{8192, 1024, 4};  ///< encoder windows (window, overlap, windows per batch)
  Index chunk = Index{1} << 20;                ///< decode chromosomes in chunks of this many nt
  Index chunk_overlap = 20000;                 ///< context shared by neighbouring chunks
  GeneDecoder decoder = GeneDecoder::model;    ///< see GeneDecoder
  GeneGrammarOptions grammar{};                ///< rules of the grammar decoder
  bool noncoding_ends = true;                  ///< grammar decoder: a record starts and ends outside genes
  bool tie_intron_strands = false;             ///< score intron+ and intron- alike (log of their mean)
  bool operator==(const GenePredictOptions&) const = default;
};

/// The decoder settings of `o` as JSON (what a decoder scan reports per row).
inline nlohmann::json gene_decoder_setting_json(const GenePredictOptions& o) {
  nlohmann::json j = {{"decoder", std::string(gene_decoder_name(o.decoder))}};
  if (o.decoder == GeneDecoder::grammar) {
    j["gene_penalty"] = o.grammar.gene_penalty;
    j["deep_intron_penalty"] = o.grammar.deep_intron_penalty ? nlohmann::json(*o.grammar.deep_intron_penalty) : nlohmann::json();
    j["one_gene_per_record"] = o.grammar.one_gene;
  }
  return j;
}

/// The same as a short label: "model", "grammar", "grammar gene_penalty 640 deep 320", ...
inline std::string gene_decoder_setting_label(const GenePredictOptions& o) {
  std::string s(gene_decoder_name(o.decoder));
  if (o.decoder != GeneDecoder::grammar) return s;
  if (o.grammar.gene_penalty > 0) s += fmt::format(" gene_penalty {}", o.grammar.gene_penalty);
  if (o.grammar.deep_intron_penalty) s += fmt::format(" deep_intron {}", *o.grammar.deep_intron_penalty);
  if (o.grammar.one_gene) s += " one_gene";
  return s;
}

template <class Encoder>
class GeneModel {
 public:
  using scalar_type = typename Encoder::scalar_type;
  using Net = TokenNet<Encoder, kGeneClasses>;
  using Crf = LinearChainCRF<kGeneClasses, scalar_type>;
  using Tensor = Tensor3<scalar_type>;
  static constexpr int in_channels = Net::in_channels;
  static constexpr int out_channels = kGeneClasses;

  explicit GeneModel(bool use_crf = false, Activation head_activation = Activation::gelu,
                     CrfConstraints constraints = CrfConstraints::gene_structure())
      : net_(Encoder(), TokenClassifier<Encoder::channels, kGeneClasses, 64, scalar_type>(head_activation)),
        crf_(CrfOptions{}, std::move(constraints)),
        use_crf_(use_crf) {}

  std::string_view name() const { return "gene_model"; }
  bool uses_crf() const { return use_crf_; }
  Net& net() { return net_; }
  Crf& crf() { return crf_; }
  Encoder& encoder() { return net_.template get<0>(); }

  void init(Rng& rng) {
    encoder().init(rng);
    net_.template get<1>().init(rng);
  }

  template <class Ctx>
  void forward(Ctx& ctx, const Tensor& x, Tensor& y) { net_.forward(ctx, x, y); }
  template <class Ctx>
  void backward(Ctx& ctx, const Tensor& x, const Tensor& dy, Tensor& dx) { net_.backward(ctx, x, dy, dx); }
  template <class V>
  void visit_params(V&& v) {
    net_.visit_params(v);
    if (use_crf_) crf_.visit_params(detail::prefixed("crf.", v));
  }

  /// Per-nucleotide classes and confidences for one sequence of token ids (ctx in evaluation mode).
  /// `on_chunk(done)`, if given, is called after each chunk of a sequence longer than `o.chunk`, with
  /// the number of nucleotides whose labels are final so far (for progress reports).
  GenePrediction predict(CpuContext& ctx, std::span<const std::uint8_t> ids, const GenePredictOptions& o = {},
                         const std::function<void(Index done)>& on_chunk = {}) {
    const Index L = static_cast<Index>(ids.size());
    if (L <= o.chunk) return predict_chunk(ctx, ids, true, true, o);
    NUCLEO_CHECK(o.chunk_overlap >= 0 && o.chunk_overlap < o.chunk,
                 "GenePredictOptions: chunk_overlap ({}) must be in [0, chunk = {})", o.chunk_overlap, o.chunk);
    if (o.decoder == GeneDecoder::grammar && o.grammar.one_gene)
      throw ConfigError(fmt::format("predict.one_gene_per_record: a record of {} nt is decoded in chunks of {} nt, and "
                                    "one gene per chunk is not one gene per record (use it for single-gene loci only)",
                                    L, o.chunk));
    GenePrediction p;
    p.labels.assign(static_cast<std::size_t>(L), 8);
    p.confidence.assign(static_cast<std::size_t>(L), 0.0f);
    const SlidingWindow plan(L, o.chunk, o.chunk_overlap);
    Index done = 0;
    for (const Window& w : plan.windows()) {
      const GenePrediction part =
          predict_chunk(ctx, ids.subspan(static_cast<std::size_t>(w.start), static_cast<std::size_t>(w.length)),
                        w.start == 0, w.start + w.length == L, o);
      for (Index i = w.keep_begin; i < w.keep_end; ++i) {
        p.labels[static_cast<std::size_t>(i)] = part.labels[static_cast<std::size_t>(i - w.start)];
        p.confidence[static_cast<std::size_t>(i)] = part.confidence[static_cast<std::size_t>(i - w.start)];
      }
      done += w.keep_end - w.keep_begin;
      if (on_chunk) on_chunk(done);
    }
    return p;
  }

  /// `ids` predicted under each of `settings` (decoder settings of one sequence, e.g. a scan of
  /// the grammar's priors) from one pass of the network: equal to predict(ctx, ids, settings[i])
  /// for every i. The settings must agree in window, chunk and tie_intron_strands (what the network
  /// pass depends on). Records longer than the chunk are predicted per setting.
  std::vector<GenePrediction> predict_each(CpuContext& ctx, std::span<const std::uint8_t> ids,
                                           std::span<const GenePredictOptions> settings) {
    std::vector<GenePrediction> out;
    if (settings.empty()) return out;
    const GenePredictOptions& f = settings.front();
    for (const GenePredictOptions& o : settings)
      NUCLEO_CHECK(o.window.window == f.window.window && o.window.overlap == f.window.overlap && o.chunk == f.chunk &&
                       o.chunk_overlap == f.chunk_overlap && o.tie_intron_strands == f.tie_intron_strands,
                   "GeneModel::predict_each: the settings must share window, chunk and tie_intron_strands");
    const Index L = static_cast<Index>(ids.size());
    if (L > f.chunk || L == 0) {
      for (const GenePredictOptions& o : settings) out.push_back(predict(ctx, ids, o));
      return out;
    }
    const RowMatrix<float> logits = scores(ctx, ids, f);
    for (const GenePredictOptions& o : settings) {
      GenePrediction p;
      p.labels.assign(ids.size(), 8);
      p.confidence.assign(ids.size(), 0.0f);
      decode_scores(ctx, ids, logits, true, true, p, o);
      out.push_back(std::move(p));
    }
    return out;
  }

 private:
  /// One chunk of a record: `record_start` / `record_end` say whether the chunk begins / ends where
  /// the record does.
  GenePrediction predict_chunk(CpuContext& ctx, std::span<const std::uint8_t> ids, bool record_start, bool record_end,
                               const GenePredictOptions& o = {}) {
    GenePrediction p;
    p.labels.assign(ids.size(), 8);
    p.confidence.assign(ids.size(), 0.0f);
    if (!ids.empty()) decode(ctx, ids, record_start, record_end, p, o);
    return p;
  }

  /// Predicts `ids`, a whole record or one chunk of it; `record_start` / `record_end`: the chunk
  /// begins / ends where the record does (the grammar decoder's noncoding_ends apply there only).
  void decode(CpuContext& ctx, std::span<const std::uint8_t> ids, bool record_start, bool record_end,
              GenePrediction& p, const GenePredictOptions& o = {}) {
    decode_scores(ctx, ids, scores(ctx, ids, o), record_start, record_end, p, o);
  }

  /// The head's logits for `ids` (K x L, by o.window's sliding windows), intron strands tied with
  /// o.tie_intron_strands: what every decoder reads.
  RowMatrix<float> scores(CpuContext& ctx, std::span<const std::uint8_t> ids, const GenePredictOptions& o) {
    const Index L = static_cast<Index>(ids.size());
    auto model = [&](const WindowBatch& wb, Tensor3<float>& out) {
      ctx.set_lengths(wb.lengths);
      if constexpr (std::is_same_v<scalar_type, float>) {
        net_.forward(ctx, wb.tokens, out);
      } else {
        Tensor3<scalar_type> x = wb.tokens.template cast<scalar_type>(), y;
        net_.forward(ctx, x, y);
        out = y.template cast<float>();
      }
    };
    RowMatrix<float> logits = predict_full<float>(ids, o.window, model);  // K x L
    if (o.tie_intron_strands) {
      // Both intron classes get the log of the mean of their probabilities: the strand of an
      // intron is then decided by its splice sites and exons (with the grammar decoder), not by
      // the head's weak strand signal deep inside long introns.
      for (Index l = 0; l < L; ++l) {
        const float a = logits(kIntronPlus, l), b = logits(kIntronMinus, l), m = std::max(a, b);
        logits(kIntronPlus, l) = logits(kIntronMinus, l) = m + std::log(0.5f * (std::exp(a - m) + std::exp(b - m)));
      }
    }
    ctx.clear_lengths();
    return logits;
  }

  /// Labels of `ids` from its logits (consumed) under the decoder settings of `o`.
  void decode_scores(CpuContext& ctx, std::span<const std::uint8_t> ids, RowMatrix<float> logits, bool record_start,
                     bool record_end, GenePrediction& p, const GenePredictOptions& o) {
    const Index L = static_cast<Index>(ids.size());
    GeneGrammarOptions rules = o.grammar;
    rules.noncoding_start = o.noncoding_ends && record_start;
    rules.noncoding_end = o.noncoding_ends && record_end;
    auto put = [&](Index l, int t, float conf) {
      p.labels[static_cast<std::size_t>(l)] = static_cast<std::int8_t>(t);
      p.confidence[static_cast<std::size_t>(l)] = conf;
    };
    if (use_crf_) {
      Tensor em(1, kGeneClasses, L), marg;
      for (Index k = 0; k < kGeneClasses; ++k)
        for (Index l = 0; l < L; ++l) em(0, k, l) = static_cast<scalar_type>(logits(k, l));
      ctx.set_lengths({L});
      crf_.marginals(ctx, em, marg);
      if (o.decoder == GeneDecoder::grammar) {
        GeneGrammarDecoder::from_crf(crf_, rules)
            .decode(ids, std::span<const float>(logits.data(), static_cast<std::size_t>(logits.size())), p.labels);
        for (Index l = 0; l < L; ++l) {
          const int t = p.labels[static_cast<std::size_t>(l)];
          put(l, t, static_cast<float>(marg(0, t, l)));
        }
      } else {
        const Labels tags = crf_.decode(ctx, em);
        for (Index l = 0; l < L; ++l) put(l, tags(0, l), static_cast<float>(marg(0, tags(0, l), l)));
      }
    } else if (o.decoder == GeneDecoder::grammar) {
      // Per-nucleotide log-softmax (in place), then the grammar path over it.
      for (Index l = 0; l < L; ++l) {
        float m = logits(0, l);
        for (int k = 1; k < kGeneClasses; ++k) m = std::max(m, logits(k, l));
        double z = 0;
        for (int k = 0; k < kGeneClasses; ++k) z += std::exp(static_cast<double>(logits(k, l) - m));
        const float shift = m + static_cast<float>(std::log(z));
        for (int k = 0; k < kGeneClasses; ++k) logits(k, l) -= shift;
      }
      GeneGrammarDecoder(rules).decode(ids, std::span<const float>(logits.data(), static_cast<std::size_t>(logits.size())),
                                           p.labels);
      for (Index l = 0; l < L; ++l) {
        const int t = p.labels[static_cast<std::size_t>(l)];
        put(l, t, std::exp(logits(t, l)));
      }
    } else {
      for (Index l = 0; l < L; ++l) {
        int best = 0;
        float m = logits(0, l);
        for (int k = 1; k < kGeneClasses; ++k)
          if (logits(k, l) > m) m = logits(k, l), best = k;
        double z = 0;
        for (int k = 0; k < kGeneClasses; ++k) z += std::exp(static_cast<double>(logits(k, l) - m));
        put(l, best, static_cast<float>(1.0 / z));
      }
    }
    ctx.clear_lengths();
  }

  Net net_;
  Crf crf_;
  bool use_crf_;
};

/// Pooled confusion matrices of a gene-finding evaluation: over all loci, and over the loci up to
/// `short_max` nt (the paper's BEND loci are 1,433-14,000 nt; the fly set has longer ones).
struct GeneEvaluation {
  ConfusionMatrix all{kGeneClasses};
  ConfusionMatrix short_loci{kGeneClasses};
  Index short_max = 14000;
  std::size_t loci = 0, short_count = 0;
  std::vector<GenePrediction> predictions;  ///< per locus, when asked for

  double mcc() const { return matthews_corrcoef(all); }
  double mcc_short() const { return matthews_corrcoef(short_loci); }

  /// Pool one locus's prediction (unlabelled positions, label < 0, are skipped).
  void add(const GeneExample& ex, const GenePrediction& p) {
    const bool is_short = static_cast<Index>(ex.sequence.size()) <= short_max;
    for (std::size_t i = 0; i < ex.labels.size(); ++i) {
      if (ex.labels[i] < 0) continue;
      all.add(ex.labels[i], p.labels[i]);
      if (is_short) short_loci.add(ex.labels[i], p.labels[i]);
    }
    ++loci;
    if (is_short) ++short_count;
  }

  nlohmann::json to_json() const {
    std::vector<std::string> names(kGeneClassNames.begin(), kGeneClassNames.end());
    nlohmann::json j;
    j["mcc"] = mcc();
    j["loci"] = loci;
    j["nucleotides"] = all.total();
    j["report"] = mcc_report(all, names);
    j["mcc_short_loci"] = mcc_short();
    j["short_loci_max_length"] = short_max;
    j["short_loci"] = short_count;
    j["report_short_loci"] = mcc_report(short_loci, names);
    return j;
  }
};

/// Predict every example and pool the confusion matrices (ctx is switched to evaluation mode and
/// restored). `keep_predictions` keeps the per-locus predictions (for GFF3/TSV output).
template <class Encoder>
GeneEvaluation evaluate_gene(CpuContext& ctx, GeneModel<Encoder>& model, std::span<const GeneExample> examples,
                             const GenePredictOptions& o = {}, bool keep_predictions = false,
                             Index short_max = 14000) {
  const bool was_training = ctx.training();
  ctx.set_training(false);
  GeneEvaluation ev;
  ev.short_max = short_max;
  for (const GeneExample& ex : examples) {
    GenePrediction p = model.predict(ctx, tokens::encode(ex.sequence), o);
    ev.add(ex, p);
    if (keep_predictions) ev.predictions.push_back(std::move(p));
  }
  ctx.set_training(was_training);
  return ev;
}

/// evaluate_gene under each of `settings` (decoder settings that share the network pass, see
/// GeneModel::predict_each), one pass of the network per locus: result i equals
/// evaluate_gene(ctx, model, examples, settings[i]). Result `keep_predictions_of` (if given) keeps
/// its per-locus predictions.
template <class Encoder>
std::vector<GeneEvaluation> evaluate_gene_each(CpuContext& ctx, GeneModel<Encoder>& model,
                                               std::span<const GeneExample> examples,
                                               std::span<const GenePredictOptions> settings, Index short_max = 14000,
                                               std::optional<std::size_t> keep_predictions_of = std::nullopt) {
  const bool was_training = ctx.training();
  ctx.set_training(false);
  std::vector<GeneEvaluation> ev(settings.size());
  for (auto& e : ev) e.short_max = short_max;
  for (const GeneExample& ex : examples) {
    auto ps = model.predict_each(ctx, tokens::encode(ex.sequence), settings);
    for (std::size_t i = 0; i < ps.size(); ++i) {
      ev[i].add(ex, ps[i]);
      if (keep_predictions_of == i) ev[i].predictions.push_back(std::move(ps[i]));
    }
  }
  ctx.set_training(was_training);
  return ev;
}

}  // namespace nucleo
