#pragma once
/// `annotate_fasta`: a fine-tuned gene model applied to a genome - FASTA in, GFF3 gene models (and
/// optionally the per-nucleotide label TSV) out. The library side of examples/nucleo-annotate.cpp.
///
///   AnnotateSummary s = annotate_fasta(ctx, "best.ckpt", "genome.fa.gz", "genes.gff3", "labels.tsv", opts);
///
/// Checkpoint (`inspect_gene_checkpoint`): the header's model type must be "GeneModel",
/// "GeneModel+CRF" or "GeneModel+GrammarCRF" (the gene grammar CRF, config "grammar_crf"; it is the
/// model's own decoder and needs no setting) (an MLM checkpoint is refused: "this is a pretraining checkpoint; fine-tune it
/// first"); its config gives the encoder size ("model": tiny | small | medium | large | paper,
/// model_zoo.hpp) and the head activation ("head_activation": gelu | relu, default gelu). The CRF's
/// constraint set is read from config "crf_constraints" ({"transitions": [[from, to], ...],
/// "start": [tags], "end": [tags]}, crf_constraints_to_json) when present, else BEND's
/// gene_structure_constraints() grammar. All tensors are loaded by name, strictly; with `use_crf = false` a
/// CRF checkpoint's "crf.*" tensors are left out and positions are decoded by argmax.
///
/// Streaming: the FASTA (plain or gzip) is read record by record. Each record is predicted in
/// chunks of `predict.chunk` nt overlapping by `predict.chunk_overlap` (GeneModel::predict, which
/// reports each chunk for the progress line): model activations are bounded by the chunk and the
/// encoder window batch; per record, 6 bytes per nucleotide are held (the token ids, encoded in
/// the sequence's own buffer, 1; the labels, 1; the float confidences, 4) on top of that
/// (docs/annotate.md, "Memory", has the measured figures). A regular file is read twice: with
/// `count_total`, a first pass (I/O only) checks the whole file and duplicate names before any
/// inference and gives the total for progress; the second pass must then find the same records
/// with the same lengths, else the file changed while being read (IoError). A pipe, FIFO or
/// /dev/stdin is read once (no total, and errors in the input surface when they are reached).
/// An input without any record is an IoError.
///
/// Paths (checked before anything is read or written): an output that is the same file as the
/// FASTA or the checkpoint, or as the other output, is a ConfigError; each output must be writable
/// (not a directory, in an existing directory where files can be created) or an IoError says why.
/// Outputs go to temporary files "<out>.tmp-<pid>-<n>" next to the targets, renamed into place at
/// the end (an error leaves no partial output and removes the temporaries); temporaries left by a
/// process that no longer runs (SIGKILL) are removed at the next start.
///
/// GFF3: genes/gff3_writer.hpp (genes/mRNA/CDS, phases, mean-confidence scores); gene numbers run
/// across the whole file. TSV: "name<TAB>sequence<TAB>labels" lines, the format of
/// write_label_tsv/read_label_tsv (genes/gene_dataset.hpp), written record by record.
#include "nucleo/core/context.hpp"
#include "nucleo/core/error.hpp"
#include "nucleo/data/fasta.hpp"
#include "nucleo/genes/gene_labels.hpp"
#include "nucleo/genes/gff3_writer.hpp"
#include "nucleo/data/tokens.hpp"
#include "nucleo/detail/output_paths.hpp"
#include "nucleo/io/checkpoint.hpp"
#include "nucleo/losses/crf_constraints.hpp"
#include "nucleo/genes/gene_crf_grammar.hpp"
#include "nucleo_apps/gene_model.hpp"
#include "nucleo_apps/model_zoo.hpp"
#include "nucleo/version.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace nucleo::apps {


/// What a gene-model checkpoint holds (header only).
struct GeneCheckpointInfo {
  std::string model_type;  ///< "GeneModel", "GeneModel+CRF" or "GeneModel+GrammarCRF"
  std::string size;        ///< encoder size name (model_zoo.hpp)
  Activation head_activation = Activation::gelu;
  bool crf = false;
  std::optional<GeneGrammarCrfOptions> grammar_crf;  ///< with "GeneModel+GrammarCRF"
  EncoderOptions encoder;  ///< the dilation schedule (config "encoder"; BEND's when absent)
  CrfConstraints constraints = gene_structure_constraints();
  nlohmann::json header;
};

/// Reads and checks a checkpoint's header (see the file comment). IoError/ConfigError name the file.
inline GeneCheckpointInfo inspect_gene_checkpoint(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw IoError(fmt::format("{}: checkpoint not found", path.string()));
  GeneCheckpointInfo info;
  info.header = read_checkpoint_header(path);
  const auto& h = info.header;
  info.model_type = h.value("model", std::string());
  const std::string& mt = info.model_type;
  if (mt == "MlmNet" || mt.find("Mlm") != std::string::npos || mt.find("Pretrain") != std::string::npos ||
      mt.find("MLM") != std::string::npos)
    throw ConfigError(fmt::format("checkpoint {}: this is a pretraining checkpoint; fine-tune it first (it holds an "
                                  "'{}' model; a gene-finding fine-tune writes GeneModel or GeneModel+CRF checkpoints)",
                                  path.string(), mt));
  if (mt != "GeneModel" && mt != "GeneModel+CRF" && mt != "GeneModel+GrammarCRF")
    throw ConfigError(fmt::format("checkpoint {}: holds a '{}' model; annotation needs a fine-tuned gene model "
                                  "(GeneModel, GeneModel+CRF or GeneModel+GrammarCRF)",
                                  path.string(), mt));
  info.crf = mt == "GeneModel+CRF";
  const nlohmann::json cfg = h.contains("config") && h["config"].is_object() ? h["config"] : nlohmann::json::object();
  if (!cfg.contains("model") || !cfg["model"].is_string())
    throw ConfigError(fmt::format("checkpoint {}: its config has no \"model\" size (tiny, small, medium, large or paper)",
                                  path.string()));
  info.size = cfg["model"].get<std::string>();
  bool known = false;
  for (auto n : model_size_names) known |= n == info.size;
  if (!known)
    throw ConfigError(fmt::format("checkpoint {}: unknown model size '{}' (expected tiny, small, medium, large or paper)",
                                  path.string(), info.size));
  const std::string act = cfg.value("head_activation", std::string("gelu"));
  if (act == "gelu") info.head_activation = Activation::gelu;
  else if (act == "relu") info.head_activation = Activation::relu;
  else throw ConfigError(fmt::format("checkpoint {}: head_activation '{}' (expected gelu or relu)", path.string(), act));
  try {
    info.encoder = encoder_options_from_config(cfg);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("checkpoint {}: {}", path.string(), e.what()));
  }
  if (mt == "GeneModel+GrammarCRF") {
    if (!cfg.contains("grammar_crf"))
      throw ConfigError(fmt::format("checkpoint {}: a GeneModel+GrammarCRF without its \"grammar_crf\" settings", path.string()));
    try {
      info.grammar_crf = grammar_crf_options_from_json(cfg["grammar_crf"]);
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format("checkpoint {}: {}", path.string(), e.what()));
    }
  }
  if (cfg.contains("crf_constraints")) {
    try {
      info.constraints = crf_constraints_from_json(cfg["crf_constraints"]);
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format("checkpoint {}: {}", path.string(), e.what()));
    }
  }
  return info;
}

struct AnnotateProgress {
  std::string_view record;     ///< record being predicted
  std::size_t records_done = 0;
  std::int64_t nt_done = 0;    ///< nucleotides predicted so far, all records
  std::int64_t nt_total = -1;  ///< all records (-1: unknown, count_total off)
  double seconds = 0;          ///< since the start of the prediction
};

struct AnnotateOptions {
  GenePredictOptions predict{};  ///< windows, chunk and chunk overlap
  bool use_crf = true;           ///< false: argmax decoding even with a CRF checkpoint
  Gff3Options gff{};             ///< source, ID prefix (first_gene is the first number of the file)
  bool count_total = true;       ///< first pass over the FASTA for the total length
  std::vector<std::string> comments{};  ///< extra "# ..." lines after "##gff-version 3"
  std::function<void(const AnnotateProgress&)> progress{};  ///< after every chunk
};

struct AnnotateSummary {
  std::size_t sequences = 0;
  std::int64_t nucleotides = 0;
  Gff3Summary gff;
  BaseCounter replaced;  ///< FASTA letters read as N
  double seconds = 0;    ///< prediction (and writing) time, without the counting pass
  bool crf = false;      ///< decoded with the CRF
};

namespace detail {

/// An output file written to "<path>.tmp-<pid>-<n>" and renamed over `path` by commit(); removed
/// if not committed.
class PendingOutput {
 public:
  explicit PendingOutput(std::filesystem::path path) : path_(std::move(path)) {
    static std::atomic<unsigned> counter{0};
    tmp_ = path_;
    tmp_ += fmt::format(".tmp-{}-{}", static_cast<long>(::getpid()), counter++);
    out_.open(tmp_, std::ios::binary | std::ios::trunc);
    if (!out_)
      throw IoError(fmt::format("{}: cannot create {}: {}", path_.string(), tmp_.string(), std::strerror(errno)));
  }
  PendingOutput(const PendingOutput&) = delete;
  PendingOutput& operator=(const PendingOutput&) = delete;
  ~PendingOutput() {
    if (committed_) return;
    out_.close();
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);
  }
  std::ostream& stream() { return out_; }
  void check() {
    if (!out_) throw IoError(fmt::format("{}: write failed (disk full?)", tmp_.string()));
  }
  void commit() {
    out_.flush();
    check();
    out_.close();
    std::error_code ec;
    std::filesystem::rename(tmp_, path_, ec);
    if (ec) throw IoError(fmt::format("{}: cannot rename {} into place: {}", path_.string(), tmp_.string(), ec.message()));
    committed_ = true;
  }

 private:
  std::filesystem::path path_, tmp_;
  std::ofstream out_;
  bool committed_ = false;
};

/// What the first pass over a FASTA found: each record's name and length, in order.
struct FastaCensus {
  std::vector<std::string> names;
  std::vector<std::int64_t> lengths;
  std::int64_t total = 0;
};

inline FastaCensus count_fasta(const std::filesystem::path& fasta) {
  FastaReader reader(fasta);
  FastaRecord rec;
  std::unordered_set<std::string> names;
  FastaCensus c;
  while (reader.next(rec)) {
    if (!names.insert(rec.name).second)
      throw ParseError(fasta.string(), 0, fmt::format("record name '{}' occurs twice (GFF3 sequence ids must be unique)", rec.name));
    c.names.push_back(rec.name);
    c.lengths.push_back(static_cast<std::int64_t>(rec.sequence.size()));
    c.total += static_cast<std::int64_t>(rec.sequence.size());
  }
  return c;
}

/// The checks of the file comment's "Paths" paragraph; `checkpoint` may be empty.
inline void check_annotate_paths(const std::filesystem::path& checkpoint, const std::filesystem::path& fasta,
                                 const std::filesystem::path& gff_out, const std::filesystem::path& tsv_out) {
  const nucleo::detail::RolePath inputs[] = {{"FASTA input", fasta}, {"checkpoint", checkpoint}};
  const nucleo::detail::RolePath outputs[] = {{"GFF3 output", gff_out}, {"TSV output", tsv_out}};
  nucleo::detail::refuse_path_clashes(inputs, outputs);
  for (const nucleo::detail::RolePath& o : outputs) {
    if (o.path.empty()) continue;
    nucleo::detail::check_output_writable(o.path, o.role);
    nucleo::detail::remove_stale_temporaries(o.path.has_parent_path() ? o.path.parent_path() : std::filesystem::path("."),
                             o.path.filename().string() + ".tmp-");
  }
}

}  // namespace detail

/// Annotates every record of `fasta` with `model` (see the file comment). `tsv_out` empty = no TSV.
template <class Encoder>
AnnotateSummary annotate_fasta(CpuContext& ctx, GeneModel<Encoder>& model, const std::filesystem::path& fasta,
                               const std::filesystem::path& gff_out, const std::filesystem::path& tsv_out = {},
                               const AnnotateOptions& o = {}) {
  const GenePredictOptions& po = o.predict;
  NUCLEO_CHECK_CONFIG(po.chunk > 0, "annotate: chunk must be positive, got {}", po.chunk);
  NUCLEO_CHECK_CONFIG(po.chunk_overlap >= 0 && po.chunk_overlap < po.chunk,
               "annotate: chunk overlap ({}) must be in [0, chunk = {})", po.chunk_overlap, po.chunk);
  if (!std::filesystem::exists(fasta)) throw IoError(fmt::format("{}: FASTA file not found", fasta.string()));
  detail::check_annotate_paths({}, fasta, gff_out, tsv_out);
  // A pipe, FIFO or /dev/stdin can be read only once.
  const bool two_passes = o.count_total && std::filesystem::is_regular_file(fasta);
  std::optional<detail::FastaCensus> census;
  if (two_passes) {
    census = detail::count_fasta(fasta);
    if (census->names.empty())
      throw IoError(fmt::format("{}: no FASTA record (an empty file, or no '>' header line)", fasta.string()));
  }
  const std::int64_t total = census ? census->total : -1;

  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };
  const bool was_training = ctx.training();
  ctx.set_training(false);
  struct Restore {
    CpuContext& c;
    bool t;
    ~Restore() { c.set_training(t); }
  } restore{ctx, was_training};

  AnnotateSummary sum;
  sum.crf = model.uses_crf();
  detail::PendingOutput gff(gff_out);
  std::optional<detail::PendingOutput> tsv;
  if (!tsv_out.empty()) tsv.emplace(tsv_out);
  write_gff3_header(gff.stream());
  for (std::string c : o.comments) {  // one line each
    std::replace_if(c.begin(), c.end(), [](char ch) { return ch == '\n' || ch == '\r'; }, ' ');
    gff.stream() << "# " << c << '\n';
  }

  Gff3Options gopt = o.gff;
  FastaReader reader(fasta);
  FastaRecord rec;
  std::unordered_set<std::string> names;
  GenePrediction p;
  std::string block;  // TSV text, written in pieces of bounded size
  auto changed = [&](const std::string& what) {
    return IoError(fmt::format("{}: the file changed while being read ({}); nothing was written", fasta.string(), what));
  };
  for (;;) {
    if (census && sum.sequences < census->lengths.size())  // no regrowth of the buffer while reading
      rec.sequence.reserve(static_cast<std::size_t>(census->lengths[sum.sequences]));
    if (!reader.next(rec)) break;
    if (!names.insert(rec.name).second)
      throw ParseError(fasta.string(), 0, fmt::format("record name '{}' occurs twice (GFF3 sequence ids must be unique)", rec.name));
    if (census) {
      if (sum.sequences >= census->names.size())
        throw changed(fmt::format("record '{}' was not there in the first pass", rec.name));
      if (census->names[sum.sequences] != rec.name ||
          census->lengths[sum.sequences] != static_cast<std::int64_t>(rec.sequence.size()))
        throw changed(fmt::format("record {} is '{}' of {} nt, was '{}' of {} nt", sum.sequences + 1, rec.name,
                                  rec.sequence.size(), census->names[sum.sequences], census->lengths[sum.sequences]));
    }
    // Token ids in the sequence's own buffer (1 byte per nucleotide instead of 2); the reader's
    // letters are A, C, G, T, N, which tokens::decode gives back for the TSV.
    for (char& ch : rec.sequence) ch = static_cast<char>(tokens::encode(ch));
    const std::span<const std::uint8_t> ids(reinterpret_cast<const std::uint8_t*>(rec.sequence.data()),
                                            rec.sequence.size());
    const auto L = static_cast<Index>(ids.size());
    auto report = [&](std::int64_t done_in_record) {
      if (o.progress)
        o.progress(AnnotateProgress{rec.name, sum.sequences, sum.nucleotides + done_in_record, total, seconds()});
    };
    p = model.predict(ctx, ids, po, [&](Index done) {
      if (done < L) report(done);
    });
    const Gff3Summary gs = write_gene_gff3(gff.stream(), rec.name, p.labels, p.confidence, gopt);
    gopt.first_gene = gs.next_gene;
    sum.gff.merge(gs);
    gff.check();
    if (tsv) {
      std::ostream& out = tsv->stream();
      // values [0, n) as characters, through `block` in pieces of bounded size
      auto write_chars = [&](std::size_t n, auto char_of) {
        constexpr std::size_t piece = 1 << 16;
        for (std::size_t b = 0; b < n; b += piece) {
          const std::size_t e = std::min(n, b + piece);
          block.resize(e - b);
          for (std::size_t i = b; i < e; ++i) block[i - b] = char_of(i);
          out << block;
        }
      };
      out << rec.name << '\t';
      write_chars(ids.size(), [&](std::size_t i) { return tokens::letters[ids[i]]; });
      out << '\t';
      write_chars(p.labels.size(), [&](std::size_t i) { return static_cast<char>('0' + p.labels[i]); });
      out << '\n';
      tsv->check();
    }
    ++sum.sequences;
    sum.nucleotides += L;
    report(0);
  }
  if (census && sum.sequences != census->names.size())
    throw changed(fmt::format("{} records, {} in the first pass", sum.sequences, census->names.size()));
  if (sum.sequences == 0)
    throw IoError(fmt::format("{}: no FASTA record (an empty input, or no '>' header line); nothing was written",
                              fasta.string()));
  sum.replaced = reader.replaced();
  gff.commit();
  if (tsv) tsv->commit();
  sum.seconds = seconds();
  return sum;
}

/// Loads a fine-tuned gene model from `checkpoint` (inspect_gene_checkpoint, strict by name) and
/// annotates `fasta`; the GFF3 header records the checkpoint and model.
inline AnnotateSummary annotate_fasta(CpuContext& ctx, const std::filesystem::path& checkpoint,
                                      const std::filesystem::path& fasta, const std::filesystem::path& gff_out,
                                      const std::filesystem::path& tsv_out = {}, const AnnotateOptions& o = {}) {
  detail::check_annotate_paths(checkpoint, fasta, gff_out, tsv_out);
  const GeneCheckpointInfo info = inspect_gene_checkpoint(checkpoint);
  return with_encoder(info.size, [&]<class Enc>() {
    const bool crf = info.crf && o.use_crf;
    if (info.grammar_crf && o.predict.decoder == GeneDecoder::grammar)
      throw ConfigError(fmt::format("checkpoint {}: a model with the gene grammar CRF decodes with it; the separate "
                                    "grammar decoder (--decoder grammar) does not apply", checkpoint.string()));
    const bool grammar = info.grammar_crf && o.use_crf;
    const EncoderOptions enc = info.encoder;
    GeneModel<Enc> model = grammar ? GeneModel<Enc>(*info.grammar_crf, info.head_activation, enc)
                                   : GeneModel<Enc>(crf, info.head_activation, info.constraints, enc);
    LoadOptions lo;
    lo.model_type = info.model_type;
    lo.strict = crf == info.crf && grammar == info.grammar_crf.has_value();
    const LoadReport rep = load_checkpoint(checkpoint, model, lo);
    if (!lo.strict) {  // the CRF left out: strict except for the "crf.*" tensors
      std::vector<std::string> unused;
      for (const auto& n : rep.unused)
        if (n.rfind("crf.", 0) != 0 && n.rfind("grammar_crf.", 0) != 0) unused.push_back(n);
      if (!rep.missing.empty() || !unused.empty())
        throw ShapeError(fmt::format("checkpoint {}: does not match a '{}' gene model ({})", checkpoint.string(),
                                     info.size, rep.summary()));
    }
    AnnotateOptions oo = o;
    std::string decoder = grammar ? "gene grammar CRF Viterbi"
                          : o.predict.decoder == GeneDecoder::grammar
                              ? (crf ? "gene-grammar Viterbi on the CRF" : "gene-grammar Viterbi on the head")
                              : (crf ? "CRF Viterbi" : (info.crf || info.grammar_crf ? "argmax, CRF not used" : "argmax"));
    if (o.predict.decoder == GeneDecoder::grammar) {  // the decoder's knobs, so that the file says how it was made
      const auto& g = o.predict.grammar;
      if (g.gene_penalty > 0) decoder += fmt::format(", gene_penalty {}", g.gene_penalty);
      if (g.deep_intron_penalty) decoder += fmt::format(", deep_intron_penalty {}", *g.deep_intron_penalty);
    }
    oo.comments.insert(oo.comments.begin(), fmt::format("nucleo {} gene models from {} (model {}, {}, head {})",
                                                        version_string, checkpoint.filename().string(), info.size,
                                                        decoder, activation_name(info.head_activation)));
    return annotate_fasta(ctx, model, fasta, gff_out, tsv_out, oo);
  });
}

}  // namespace nucleo::apps
