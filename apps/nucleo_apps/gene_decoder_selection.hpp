#pragma once
/// Choosing a gene model's decoder setting on the validation loci and scoring the test loci once
/// with it, at locus level (each locus predicted alone) and in genome context (the genome the loci
/// were cut from predicted whole, scored inside the loci).
///
///   rule  the setting of highest validation MCC (the first of equals, in grid order), as BEND
///         chooses checkpoints. The test split plays no part in the choice, and only the chosen
///         setting is ever scored on it: no test figure exists for the others.
///
///   select_gene_decoder   locus level: the grid on the valid loci (one network pass per locus),
///                         then the chosen setting on the test loci
///   GeneGenome            a genome FASTA with the valid and test loci placed in it (GenomeLoci)
///   evaluate_gene_genome  genome context: every record predicted under every setting of the grid
///                         (one network pass per chunk, GeneModel::predict_each), scored inside the
///                         valid loci; the chosen setting then scored inside the test loci. A
///                         predicted gene that crosses a locus boundary is scored by its part inside.
#include "nucleo/data/fasta.hpp"
#include "nucleo/genes/genome_loci.hpp"
#include "nucleo/data/tokens.hpp"
#include "nucleo_apps/gene_model.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace nucleo::apps {

/// The chosen row of a decoder scan and the scan's rows (setting, label, valid MCC and exon/gene F1).
struct DecoderChoice {
  std::size_t best = 0;
  nlohmann::json rows = nlohmann::json::array();
};

/// Applies the rule of the file comment to `valid[i]`, the validation evaluation of `grid[i]`.
inline DecoderChoice choose_gene_decoder(std::span<const GeneEvaluation> valid, std::span<const GenePredictOptions> grid) {
  NUCLEO_CHECK(!grid.empty() && valid.size() == grid.size(), "choose_gene_decoder: {} evaluations for {} settings",
               valid.size(), grid.size());
  DecoderChoice c;
  for (std::size_t i = 0; i < grid.size(); ++i) {
    if (valid[i].mcc() > valid[c.best].mcc()) c.best = i;
    c.rows.push_back({{"setting", gene_decoder_setting_json(grid[i])},
                      {"label", gene_decoder_setting_label(grid[i])},
                      {"valid_mcc", valid[i].mcc()},
                      {"valid_exon_f1", valid[i].structure.exons.f1()},
                      {"valid_gene_f1", valid[i].structure.genes.f1()}});
  }
  return c;
}

/// The summary of a selection: the chosen row, the rule, the whole scan, and the test evaluation.
inline nlohmann::json decoder_selection_json(const DecoderChoice& c, const GeneEvaluation& valid_best,
                                             const GeneEvaluation* test) {
  nlohmann::json j = c.rows[c.best];
  j["rule"] = "highest valid MCC (first of equals); the test split is scored once, with the chosen setting";
  j["selected"] = c.best;
  j["grid"] = c.rows;
  j["valid"] = valid_best.to_json(/*reports=*/false);
  if (test) j["test"] = test->to_json();
  return j;
}

/// Locus level: chooses among `grid` on `valid` and scores `test` once with the choice (see the file
/// comment). `chosen_test`, if given, receives the test evaluation with its per-locus predictions.
template <class Encoder>
nlohmann::json select_gene_decoder(CpuContext& ctx, GeneModel<Encoder>& model, std::span<const GeneExample> valid,
                                   std::span<const GeneExample> test, std::span<const GenePredictOptions> grid,
                                   GeneEvaluation* chosen_test = nullptr) {
  NUCLEO_CHECK(!grid.empty(), "select_gene_decoder: no decoder settings to choose from");
  NUCLEO_CHECK(!valid.empty(), "select_gene_decoder: no validation loci to choose on");
  const auto t0 = std::chrono::steady_clock::now();
  const auto v = evaluate_gene_each(ctx, model, valid, grid);
  const DecoderChoice c = choose_gene_decoder(v, grid);
  std::optional<GeneEvaluation> t;
  if (!test.empty()) t = evaluate_gene(ctx, model, test, grid[c.best], chosen_test != nullptr);
  nlohmann::json j = decoder_selection_json(c, v[c.best], t ? &*t : nullptr);
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (chosen_test && t) *chosen_test = std::move(*t);
  return j;
}

/// A genome and the validation and test loci cut from it.
struct GeneGenome {
  std::filesystem::path fasta;
  std::vector<FastaRecord> records;
  std::vector<GeneExample> valid, test;
  GenomeLoci valid_loci, test_loci;

  /// Reads `fasta` and places the loci in it (IoError naming the locus when one does not fit).
  static GeneGenome load(const std::filesystem::path& fasta, std::span<const GeneExample> valid,
                         std::span<const GeneExample> test) {
    GeneGenome g;
    g.fasta = fasta;
    g.records = read_fasta(fasta);
    g.valid.assign(valid.begin(), valid.end());
    g.test.assign(test.begin(), test.end());
    g.valid_loci = GenomeLoci::locate(g.records, g.valid, "validation locus");
    g.test_loci = GenomeLoci::locate(g.records, g.test, "test locus");
    return g;
  }

  std::int64_t nucleotides() const {
    std::int64_t n = 0;
    for (const auto& r : records) n += static_cast<std::int64_t>(r.sequence.size());
    return n;
  }
};

/// The evaluation of genome-wide predictions `pred[record]` inside `loci` (truth `truth`).
inline GeneEvaluation evaluate_in_genome(const GenomeLoci& loci, std::span<const GeneExample> truth,
                                         std::span<const GenePrediction> pred, Index short_max = 14000) {
  GeneEvaluation ev;
  ev.short_max = short_max;
  for (std::size_t k = 0; k < loci.size(); ++k) {
    const GenePrediction& p = pred[loci[k].record];
    GenePrediction cut;
    cut.labels = loci.slice(k, std::span<const std::int8_t>(p.labels));
    ev.add(truth[k], cut);
  }
  return ev;
}

/// Genome context (see the file comment). Settings that allow one gene per record are left out
/// (a genome record holds many genes, and is decoded in chunks). `chosen`, if given, receives the
/// chosen setting's predictions of every genome record (for GFF3 output).
template <class Encoder>
nlohmann::json evaluate_gene_genome(CpuContext& ctx, GeneModel<Encoder>& model, const GeneGenome& genome,
                                    std::span<const GenePredictOptions> grid,
                                    std::vector<GenePrediction>* chosen = nullptr, bool quiet = false) {
  std::vector<GenePredictOptions> settings;
  for (const GenePredictOptions& o : grid)
    if (!(o.decoder == GeneDecoder::grammar && o.grammar.one_gene)) settings.push_back(o);
  if (settings.empty())
    throw ConfigError("genome context: every decoder setting allows one gene per record, which a genome is not "
                      "(predict.one_gene_per_record)");
  NUCLEO_CHECK(genome.valid_loci.size() > 0, "evaluate_gene_genome: no validation loci in the genome to choose on");
  const auto t0 = std::chrono::steady_clock::now();
  const bool was_training = ctx.training();
  ctx.set_training(false);
  // per_setting[s][r]: the predictions of record r under setting s
  std::vector<std::vector<GenePrediction>> per_setting(settings.size(), std::vector<GenePrediction>(genome.records.size()));
  const std::int64_t total = genome.nucleotides();
  std::int64_t before = 0;
  for (std::size_t r = 0; r < genome.records.size(); ++r) {
    const auto ids = tokens::encode(genome.records[r].sequence);
    auto each = model.predict_each(ctx, ids, settings, [&](Index done) {
      if (!quiet)
        std::fprintf(stderr, "genome context: %s, %.2f of %.2f Mb predicted (%zu decoder settings)\n",
                     genome.records[r].name.c_str(), static_cast<double>(before + done) / 1e6,
                     static_cast<double>(total) / 1e6, settings.size());
    });
    for (std::size_t s = 0; s < settings.size(); ++s) per_setting[s][r] = std::move(each[s]);
    before += static_cast<std::int64_t>(ids.size());
  }
  ctx.set_training(was_training);
  const double predict_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::vector<GeneEvaluation> valid;
  for (const auto& preds : per_setting) valid.push_back(evaluate_in_genome(genome.valid_loci, genome.valid, preds));
  const DecoderChoice c = choose_gene_decoder(valid, settings);
  std::optional<GeneEvaluation> test;
  if (genome.test_loci.size() > 0) test = evaluate_in_genome(genome.test_loci, genome.test, per_setting[c.best]);
  nlohmann::json j = decoder_selection_json(c, valid[c.best], test ? &*test : nullptr);
  j["fasta"] = genome.fasta.filename().string();
  j["records"] = genome.records.size();
  j["nucleotides"] = total;
  j["seconds_predict"] = predict_seconds;
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (chosen) *chosen = std::move(per_setting[c.best]);
  return j;
}

}  // namespace nucleo::apps
