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
///   - with the gene grammar CRF (`GeneModel(GeneGrammarCrfOptions, ...)`, visited as
///     "grammar_crf.*"): its Viterbi path over the grammar's hidden states, confidence = its
///     posterior marginal; it is the model's only decoder (`decoder` must be `model`);
///   - with `decoder = GeneDecoder::grammar`: the best path that is also a gene structure of the
///     sequence (genes/gene_grammar_decoder.hpp: start/stop codons, frame, splice dinucleotides,
///     no in-frame stop), scored by the CRF (or, without CRF, by the log-softmax of the head);
///     confidence as above, of the class the grammar chose;
///   - with `tie_intron_strands`: intron+ and intron- are scored alike before decoding (their
///     log-mean), so that only splice sites and exons decide an intron's strand;
///   - sequences longer than `chunk` nt (chromosomes) are decoded in chunks of `chunk` overlapping by
///     `chunk_overlap`, each chunk keeping its central part (windowed Viterbi with overlap), so memory
///     is bounded by the chunk, not by the chromosome;
///   - `predict_each` decodes one sequence under several decoder settings from one network pass (and
///     one CRF forward-backward) per chunk, for decoder scans.
///
/// Evaluation (`evaluate_gene`, `evaluate_gene_each`): pooled confusion matrices (MCC) and exon,
/// gene and splice-site counts (GeneStructureScore) over a split, all loci and the short ones.
#include "nucleo/core/concepts.hpp"
#include "nucleo/core/context.hpp"
#include "nucleo/genes/gene_dataset.hpp"
#include "nucleo/genes/gene_labels.hpp"
#include "nucleo/data/sliding_window.hpp"
#include "nucleo/data/tokens.hpp"
#include "nucleo/losses/crf_constraints.hpp"
#include "nucleo/genes/gene_crf_grammar.hpp"
#include "nucleo/genes/gene_grammar_crf.hpp"
#include "nucleo/genes/gene_grammar_decoder.hpp"
#include "nucleo/losses/linear_chain_crf.hpp"
#include "nucleo/metrics/confusion_matrix.hpp"
#include "nucleo/genes/gene_structure_score.hpp"
#include "nucleo/metrics/mcc.hpp"
#include "nucleo_apps/model_zoo.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <optional>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace nucleo::apps {

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

/// The grammar CRF's options as the configuration and the checkpoints hold them.
inline nlohmann::json grammar_crf_options_json(const GeneGrammarCrfOptions& o) {
  return {{"intron_states", o.intron_states},
          {"intergenic_states", o.intergenic_states},
          {"gc_donors", o.gc_donors},
          {"lr_scale", o.lr_scale}};
}
/// Inverse of grammar_crf_options_json; ConfigError on a missing or malformed value.
inline GeneGrammarCrfOptions grammar_crf_options_from_json(const nlohmann::json& j) {
  GeneGrammarCrfOptions o;
  try {
    o.intron_states = j.at("intron_states").get<int>();
    o.intergenic_states = j.at("intergenic_states").get<int>();
    o.gc_donors = j.at("gc_donors").get<bool>();
    o.lr_scale = j.value("lr_scale", o.lr_scale);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(fmt::format("grammar_crf: expected {{\"intron_states\": n, \"intergenic_states\": n, "
                                  "\"gc_donors\": true|false}}, got {} ({})", j.dump(), e.what()));
  }
  if (!(o.lr_scale > 0) || !(o.lr_scale <= 1e4))
    throw ConfigError(fmt::format("grammar_crf.lr_scale must be in (0, 10000], got {}", o.lr_scale));
  if (o.intron_states < 1 || o.intron_states > 16 || o.intergenic_states < 1 || o.intergenic_states > 16)
    throw ConfigError(fmt::format("grammar_crf: intron_states ({}) and intergenic_states ({}) must be in 1..16",
                                  o.intron_states, o.intergenic_states));
  return o;
}

template <class Encoder>
class GeneModel {
 public:
  using scalar_type = typename Encoder::scalar_type;
  using Net = TokenNet<Encoder, gene_class_count>;
  using Crf = LinearChainCRF<gene_class_count, scalar_type>;
  using Tensor = Tensor3<scalar_type>;
  static constexpr int in_channels = Net::in_channels;
  static constexpr int out_channels = gene_class_count;

  using GrammarCrf = GeneGrammarCrf<scalar_type>;

  explicit GeneModel(bool use_crf = false, Activation head_activation = Activation::gelu,
                     CrfConstraints constraints = gene_structure_constraints(), EncoderOptions encoder = {})
      : net_(Encoder(encoder), TokenClassifier<Encoder::channels, gene_class_count, 64, scalar_type>(head_activation)),
        crf_(CrfOptions{}, std::move(constraints)),
        use_crf_(use_crf) {}

  /// With the gene grammar CRF (genes/gene_grammar_crf.hpp) on the head's logits: trained end to
  /// end, and the model's own decoder (no chain CRF, no decoder knobs).
  GeneModel(GeneGrammarCrfOptions grammar, Activation head_activation, EncoderOptions encoder = {})
      : net_(Encoder(encoder), TokenClassifier<Encoder::channels, gene_class_count, 64, scalar_type>(head_activation)),
        grammar_crf_(std::in_place, grammar),
        use_crf_(false) {}

  std::string_view name() const { return "gene_model"; }
  bool uses_crf() const { return use_crf_; }
  bool uses_grammar_crf() const { return grammar_crf_.has_value(); }
  Net& net() { return net_; }
  Crf& crf() { return crf_; }
  /// The grammar CRF (uses_grammar_crf() must hold).
  GrammarCrf& grammar_crf() {
    NUCLEO_CHECK(grammar_crf_.has_value(), "GeneModel: this model has no gene grammar CRF");
    return *grammar_crf_;
  }
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
    if (use_crf_) crf_.visit_params(nucleo::detail::prefixed("crf.", v));
    if (grammar_crf_) grammar_crf_->visit_params(nucleo::detail::prefixed("grammar_crf.", v));
  }

  /// Per-nucleotide classes and confidences for one sequence of token ids (ctx in evaluation mode).
  /// `on_chunk(done)`, if given, is called after each chunk of a sequence longer than `o.chunk`, with
  /// the number of nucleotides whose labels are final so far (for progress reports).
  GenePrediction predict(CpuContext& ctx, std::span<const std::uint8_t> ids, const GenePredictOptions& o = {},
                         const std::function<void(Index done)>& on_chunk = {}) {
    return std::move(predict_each(ctx, ids, std::span<const GenePredictOptions>(&o, 1), on_chunk).front());
  }

  /// `ids` predicted under each of `settings` (decoder settings of one sequence, e.g. a scan of
  /// the grammar's priors) from one pass of the network per chunk: equal to predict(ctx, ids,
  /// settings[i]) for every i. The settings must agree in window, chunk and tie_intron_strands (what
  /// the network pass depends on). The CRF's marginals (the confidences) are computed once per chunk.
  std::vector<GenePrediction> predict_each(CpuContext& ctx, std::span<const std::uint8_t> ids,
                                           std::span<const GenePredictOptions> settings,
                                           const std::function<void(Index done)>& on_chunk = {}) {
    std::vector<GenePrediction> out(settings.size());
    if (settings.empty()) return out;
    const GenePredictOptions& f = settings.front();
    for (const GenePredictOptions& o : settings)
      if (grammar_crf_ && o.decoder != GeneDecoder::model)
        throw ConfigError("predict.decoder: a model with the gene grammar CRF decodes with it (\"model\"); the "
                          "separate grammar decoder and its knobs do not apply");
    for (const GenePredictOptions& o : settings)
      NUCLEO_CHECK(o.window.window == f.window.window && o.window.overlap == f.window.overlap && o.chunk == f.chunk &&
                       o.chunk_overlap == f.chunk_overlap && o.tie_intron_strands == f.tie_intron_strands,
                   "GeneModel::predict_each: the settings must share window, chunk and tie_intron_strands");
    const Index L = static_cast<Index>(ids.size());
    for (GenePrediction& p : out) {
      p.labels.assign(ids.size(), 8);
      p.confidence.assign(ids.size(), 0.0f);
    }
    if (L == 0) return out;
    if (L <= f.chunk) {
      decode_chunk(ctx, ids, true, true, settings, out);
      return out;
    }
    NUCLEO_CHECK_CONFIG(f.chunk_overlap >= 0 && f.chunk_overlap < f.chunk,
                 "GenePredictOptions: chunk_overlap ({}) must be in [0, chunk = {})", f.chunk_overlap, f.chunk);
    for (const GenePredictOptions& o : settings)
      if (o.decoder == GeneDecoder::grammar && o.grammar.one_gene)
        throw ConfigError(fmt::format("predict.one_gene_per_record: a record of {} nt is decoded in chunks of {} nt, "
                                      "and one gene per chunk is not one gene per record (use it for single-gene loci "
                                      "only)",
                                      L, f.chunk));
    const SlidingWindow plan(L, f.chunk, f.chunk_overlap);
    std::vector<GenePrediction> part(settings.size());
    Index done = 0;
    for (const Window& w : plan.windows()) {
      for (GenePrediction& p : part) {
        p.labels.assign(static_cast<std::size_t>(w.length), 8);
        p.confidence.assign(static_cast<std::size_t>(w.length), 0.0f);
      }
      decode_chunk(ctx, ids.subspan(static_cast<std::size_t>(w.start), static_cast<std::size_t>(w.length)),
                   w.start == 0, w.start + w.length == L, settings, part);
      for (std::size_t s = 0; s < settings.size(); ++s)
        for (Index i = w.keep_begin; i < w.keep_end; ++i) {
          out[s].labels[static_cast<std::size_t>(i)] = part[s].labels[static_cast<std::size_t>(i - w.start)];
          out[s].confidence[static_cast<std::size_t>(i)] = part[s].confidence[static_cast<std::size_t>(i - w.start)];
        }
      done += w.keep_end - w.keep_begin;
      if (on_chunk) on_chunk(done);
    }
    return out;
  }

 private:
  /// Predicts `ids`, a whole record or one chunk of it, under every setting into `out` (sized);
  /// `record_start` / `record_end`: the chunk begins / ends where the record does (the grammar
  /// decoder's noncoding_ends apply there only).
  void decode_chunk(CpuContext& ctx, std::span<const std::uint8_t> ids, bool record_start, bool record_end,
                    std::span<const GenePredictOptions> settings, std::span<GenePrediction> out) {
    const RowMatrix<float> logits = scores(ctx, ids, settings.front());
    if (grammar_crf_) {
      decode_grammar_crf(ids, logits, record_start, record_end, settings, out);
      return;
    }
    std::optional<Tensor> marg;
    if (use_crf_) {
      marg.emplace();
      crf_marginals(ctx, logits, *marg);
    }
    for (std::size_t s = 0; s < settings.size(); ++s)
      decode_scores(ctx, ids, logits, marg ? &*marg : nullptr, record_start, record_end, out[s], settings[s]);
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
        const float a = logits(gene_intron_fwd, l), b = logits(gene_intron_rev, l), m = std::max(a, b);
        logits(gene_intron_fwd, l) = logits(gene_intron_rev, l) = m + std::log(0.5f * (std::exp(a - m) + std::exp(b - m)));
      }
    }
    ctx.clear_lengths();
    return logits;
  }

  /// The grammar CRF's Viterbi labels, with its posterior marginals as confidences.
  void decode_grammar_crf(std::span<const std::uint8_t> ids, const RowMatrix<float>& logits, bool record_start,
                          bool record_end, std::span<const GenePredictOptions> settings, std::span<GenePrediction> out) {
    const Index L = static_cast<Index>(ids.size());
    std::vector<scalar_type> em(static_cast<std::size_t>(logits.size())), marg(em.size());
    for (Index i = 0; i < logits.size(); ++i) em[static_cast<std::size_t>(i)] = static_cast<scalar_type>(logits.data()[i]);
    for (std::size_t s = 0; s < settings.size(); ++s) {
      const GeneGrammarCrfEnds ends{settings[s].noncoding_ends && record_start, settings[s].noncoding_ends && record_end};
      GenePrediction& p = out[s];
      grammar_crf_->decode(ids, std::span<const scalar_type>(em), p.labels, ends);
      grammar_crf_->marginals(ids, em, marg, ends);
      for (Index l = 0; l < L; ++l)
        p.confidence[static_cast<std::size_t>(l)] =
            static_cast<float>(marg[static_cast<std::size_t>(p.labels[static_cast<std::size_t>(l)] * L + l)]);
    }
  }

  /// The CRF's emissions [1, K, L] from logits (K x L).
  Tensor crf_emissions(const RowMatrix<float>& logits) const {
    const Index L = logits.cols();
    Tensor em(1, gene_class_count, L);
    for (Index k = 0; k < gene_class_count; ++k)
      for (Index l = 0; l < L; ++l) em(0, k, l) = static_cast<scalar_type>(logits(k, l));
    return em;
  }

  /// The CRF's posterior marginals [1, K, L] of the chunk (the confidence of every decoder's labels).
  void crf_marginals(CpuContext& ctx, const RowMatrix<float>& logits, Tensor& marg) {
    const Tensor em = crf_emissions(logits);
    ctx.set_lengths({logits.cols()});
    crf_.marginals(ctx, em, marg);
    ctx.clear_lengths();
  }

  /// Labels of `ids` from its logits under the decoder settings of `o`; `marg`: the CRF's marginals
  /// (with the CRF).
  void decode_scores(CpuContext& ctx, std::span<const std::uint8_t> ids, const RowMatrix<float>& logits,
                     const Tensor* marg, bool record_start, bool record_end, GenePrediction& p,
                     const GenePredictOptions& o) {
    const Index L = static_cast<Index>(ids.size());
    GeneGrammarOptions rules = o.grammar;
    rules.noncoding_start = o.noncoding_ends && record_start;
    rules.noncoding_end = o.noncoding_ends && record_end;
    auto put = [&](Index l, int t, float conf) {
      p.labels[static_cast<std::size_t>(l)] = static_cast<std::int8_t>(t);
      p.confidence[static_cast<std::size_t>(l)] = conf;
    };
    if (use_crf_) {
      if (o.decoder == GeneDecoder::grammar) {
        GeneGrammarDecoder::from_crf(crf_, rules)
            .decode(ids, std::span<const float>(logits.data(), static_cast<std::size_t>(logits.size())), p.labels);
        for (Index l = 0; l < L; ++l) {
          const int t = p.labels[static_cast<std::size_t>(l)];
          put(l, t, static_cast<float>((*marg)(0, t, l)));
        }
      } else {
        ctx.set_lengths({L});
        const Labels tags = crf_.decode(ctx, crf_emissions(logits));
        ctx.clear_lengths();
        for (Index l = 0; l < L; ++l) put(l, tags(0, l), static_cast<float>((*marg)(0, tags(0, l), l)));
      }
    } else if (o.decoder == GeneDecoder::grammar) {
      // Per-nucleotide log-softmax, then the grammar path over it.
      RowMatrix<float> logp = logits;
      for (Index l = 0; l < L; ++l) {
        float m = logp(0, l);
        for (int k = 1; k < gene_class_count; ++k) m = std::max(m, logp(k, l));
        double z = 0;
        for (int k = 0; k < gene_class_count; ++k) z += std::exp(static_cast<double>(logp(k, l) - m));
        const float shift = m + static_cast<float>(std::log(z));
        for (int k = 0; k < gene_class_count; ++k) logp(k, l) -= shift;
      }
      GeneGrammarDecoder(rules).decode(ids, std::span<const float>(logp.data(), static_cast<std::size_t>(logp.size())),
                                       p.labels);
      for (Index l = 0; l < L; ++l) {
        const int t = p.labels[static_cast<std::size_t>(l)];
        put(l, t, std::exp(logp(t, l)));
      }
    } else {
      for (Index l = 0; l < L; ++l) {
        int best = 0;
        float m = logits(0, l);
        for (int k = 1; k < gene_class_count; ++k)
          if (logits(k, l) > m) m = logits(k, l), best = k;
        double z = 0;
        for (int k = 0; k < gene_class_count; ++k) z += std::exp(static_cast<double>(logits(k, l) - m));
        put(l, best, static_cast<float>(1.0 / z));
      }
    }
  }

  Net net_;
  Crf crf_;
  std::optional<GrammarCrf> grammar_crf_;
  bool use_crf_;
};

/// A gene-finding evaluation pooled over loci: confusion matrices and exon/gene/splice-site counts
/// (genes/gene_structure_score.hpp), over all loci and over the loci up to `short_max` nt (the
/// paper's BEND loci are 1,433-14,000 nt; the fly set has longer ones).
struct GeneEvaluation {
  ConfusionMatrix all{gene_class_count};
  ConfusionMatrix short_loci{gene_class_count};
  GeneStructureScore structure, structure_short;
  Index short_max = 14000;
  std::size_t loci = 0, short_count = 0;
  std::vector<GenePrediction> predictions;  ///< per locus, when asked for

  double mcc() const { return matthews_corrcoef(all); }
  double mcc_short() const { return matthews_corrcoef(short_loci); }

  /// Pool one locus's prediction. Unlabelled positions (label < 0) are skipped by the confusion
  /// matrices and read as noncoding by the structure counts.
  void add(const GeneExample& ex, const GenePrediction& p) {
    NUCLEO_CHECK(p.labels.size() == ex.labels.size(), "GeneEvaluation: '{}' has {} labels but {} predicted", ex.name,
                 ex.labels.size(), p.labels.size());
    const bool is_short = static_cast<Index>(ex.sequence.size()) <= short_max;
    bool unlabelled = false;
    for (std::size_t i = 0; i < ex.labels.size(); ++i) {
      if (ex.labels[i] < 0) {
        unlabelled = true;
        continue;
      }
      all.add(ex.labels[i], p.labels[i]);
      if (is_short) short_loci.add(ex.labels[i], p.labels[i]);
    }
    GeneStructureScore one;
    if (!unlabelled) {
      one.add(ex.labels, p.labels);
    } else {
      std::vector<std::int8_t> truth = ex.labels;
      for (auto& c : truth) c = c < 0 ? std::int8_t{gene_noncoding} : c;
      one.add(truth, p.labels);
    }
    structure.merge(one);
    if (is_short) structure_short.merge(one);
    ++loci;
    if (is_short) ++short_count;
  }

  /// MCC, structure counts, and with `reports` the per-class figures and confusion matrices.
  nlohmann::json to_json(bool reports = true) const {
    std::vector<std::string> names(gene_class_names.begin(), gene_class_names.end());
    nlohmann::json j;
    j["mcc"] = mcc();
    j["loci"] = loci;
    j["nucleotides"] = all.total();
    j["structure"] = structure;
    j["mcc_short_loci"] = mcc_short();
    j["short_loci_max_length"] = short_max;
    j["short_loci"] = short_count;
    j["structure_short_loci"] = structure_short;
    if (reports) {
      j["report"] = mcc_report(all, names);
      j["report_short_loci"] = mcc_report(short_loci, names);
    }
    return j;
  }
};

/// evaluate_gene under each of `settings` (decoder settings that share the network pass, see
/// GeneModel::predict_each), one pass of the network per locus: result i equals
/// evaluate_gene(ctx, model, examples, settings[i]). Result `keep_predictions_of` (if given) keeps
/// its per-locus predictions. ctx is switched to evaluation mode and restored.
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

/// Predict every example and pool the evaluation. `keep_predictions` keeps the per-locus
/// predictions (for GFF3/TSV output).
template <class Encoder>
GeneEvaluation evaluate_gene(CpuContext& ctx, GeneModel<Encoder>& model, std::span<const GeneExample> examples,
                             const GenePredictOptions& o = {}, bool keep_predictions = false,
                             Index short_max = 14000) {
  return std::move(evaluate_gene_each(ctx, model, examples, std::span<const GenePredictOptions>(&o, 1), short_max,
                                      keep_predictions ? std::optional<std::size_t>(0) : std::nullopt)
                       .front());
}

}  // namespace nucleo::apps
