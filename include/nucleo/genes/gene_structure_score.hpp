#pragma once
/// `GeneStructureScore`: exon-, gene- and splice-site-level accuracy of predicted gene structures,
/// the figures gene-finding papers report beside nucleotide accuracy (AUGUSTUS's evaluation,
/// Burset & Guigó 1996, gffcompare, Tiberius).
///
/// Both tracks are per-nucleotide labels in BEND's 9 classes (gene_labels.hpp), so every source
/// (GenBank truth, a GFF3/GTF of any tool, nucleo's own predictions) is scored by the same
/// definition. Gene models are read off each track by `genes_from_labels` (gff3_writer.hpp):
///   exon      a CDS interval (strand, first base, last base); UTRs are noncoding in BEND's labels,
///             so only coding exons exist. Stop codons are noncoding, so a CDS ends before its stop
///             whether the source included it or not.
///   gene      the strand and the whole chain of CDS intervals of one gene model.
///   donor     the first intron nucleotide in transcript direction (strand, position).
///   acceptor  the last intron nucleotide in transcript direction (strand, position).
/// An item counts as found when the other track holds an identical item: an exon when both of its
/// boundaries and its strand are exact, a gene when every one of its coding exons is exact and no
/// exon is added or missing, a splice site at its exact position and strand.
///
///   sensitivity (recall) = found true items / true items
///   precision            = found predicted items / predicted items
///   F1                   = 2 sensitivity precision / (sensitivity + precision)   (0 when both are 0)
/// A ratio with a zero denominator is reported as 0 (sklearn's zero_division=0) and flagged by the
/// zero count beside it. Items within one label track are unique (a position holds one class), so
/// found true items = found predicted items.
///
/// Counts add over loci (`add`, `merge`): the scores of a split are pooled, not averaged per locus.
#include <algorithm>
#include <cstdint>
#include <span>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "nucleo/core/error.hpp"
#include "nucleo/genes/gff3_writer.hpp"

namespace nucleo {

/// True, predicted and found items of one kind.
struct StructureCounts {
  std::int64_t truth = 0;      ///< items in the truth
  std::int64_t predicted = 0;  ///< items in the prediction
  std::int64_t found = 0;      ///< items present in both

  double sensitivity() const { return truth > 0 ? static_cast<double>(found) / static_cast<double>(truth) : 0.0; }
  double precision() const { return predicted > 0 ? static_cast<double>(found) / static_cast<double>(predicted) : 0.0; }
  double f1() const {
    const double s = sensitivity(), p = precision();
    return s + p > 0 ? 2 * s * p / (s + p) : 0.0;
  }
  void merge(const StructureCounts& o) {
    truth += o.truth;
    predicted += o.predicted;
    found += o.found;
  }
  bool operator==(const StructureCounts&) const = default;
};

inline void to_json(nlohmann::json& j, const StructureCounts& c) {
  j = {{"truth", c.truth},
       {"predicted", c.predicted},
       {"found", c.found},
       {"sensitivity", c.sensitivity()},
       {"precision", c.precision()},
       {"f1", c.f1()}};
}

inline void from_json(const nlohmann::json& j, StructureCounts& c) {
  c.truth = j.at("truth").get<std::int64_t>();
  c.predicted = j.at("predicted").get<std::int64_t>();
  c.found = j.at("found").get<std::int64_t>();
}

namespace detail {

struct GeneStructureItems {
  std::vector<std::tuple<char, std::int64_t, std::int64_t>> exons;  // strand, begin, end (0-based half-open)
  std::vector<std::vector<std::int64_t>> genes;  // strand, then begin, end of each CDS
  std::vector<std::pair<char, std::int64_t>> donors, acceptors;
};

inline GeneStructureItems gene_structure_items(std::span<const std::int8_t> labels) {
  GeneStructureItems it;
  for (const PredictedGene& g : genes_from_labels(labels)) {
    for (const Interval& e : g.cds) it.exons.emplace_back(g.strand, e.begin, e.end);
    for (std::size_t k = 0; k + 1 < g.cds.size(); ++k) {
      const std::int64_t first = g.cds[k].end, last = g.cds[k + 1].begin - 1;  // the intron's ends
      it.donors.emplace_back(g.strand, g.strand == '+' ? first : last);
      it.acceptors.emplace_back(g.strand, g.strand == '+' ? last : first);
    }
    std::vector<std::int64_t> gene = {g.strand};
    for (const Interval& e : g.cds) gene.insert(gene.end(), {e.begin, e.end});
    it.genes.push_back(std::move(gene));
  }
  return it;
}

template <class T>
StructureCounts count_structure_items(std::vector<T> truth, std::vector<T> pred) {
  std::sort(truth.begin(), truth.end());
  std::sort(pred.begin(), pred.end());
  StructureCounts c;
  c.truth = static_cast<std::int64_t>(truth.size());
  c.predicted = static_cast<std::int64_t>(pred.size());
  std::vector<T> both;
  std::set_intersection(truth.begin(), truth.end(), pred.begin(), pred.end(), std::back_inserter(both));
  c.found = static_cast<std::int64_t>(both.size());
  return c;
}

}  // namespace detail

/// Exon, gene, donor and acceptor counts pooled over loci.
struct GeneStructureScore {
  StructureCounts exons, genes, donors, acceptors;

  /// Adds one locus: `truth` and `predicted` label the same nucleotides (ShapeError otherwise).
  void add(std::span<const std::int8_t> truth, std::span<const std::int8_t> predicted) {
    if (truth.size() != predicted.size())
      throw ShapeError(fmt::format("GeneStructureScore: {} true labels but {} predicted ones", truth.size(),
                                   predicted.size()));
    auto t = detail::gene_structure_items(truth), p = detail::gene_structure_items(predicted);
    exons.merge(detail::count_structure_items(std::move(t.exons), std::move(p.exons)));
    genes.merge(detail::count_structure_items(std::move(t.genes), std::move(p.genes)));
    donors.merge(detail::count_structure_items(std::move(t.donors), std::move(p.donors)));
    acceptors.merge(detail::count_structure_items(std::move(t.acceptors), std::move(p.acceptors)));
  }

  void merge(const GeneStructureScore& o) {
    exons.merge(o.exons);
    genes.merge(o.genes);
    donors.merge(o.donors);
    acceptors.merge(o.acceptors);
  }
  bool operator==(const GeneStructureScore&) const = default;
};

/// {"exon": counts, "gene": ..., "donor": ..., "acceptor": ...}, each with sensitivity, precision, f1.
inline void to_json(nlohmann::json& j, const GeneStructureScore& s) {
  j = {{"exon", s.exons}, {"gene", s.genes}, {"donor", s.donors}, {"acceptor", s.acceptors}};
}

inline void from_json(const nlohmann::json& j, GeneStructureScore& s) {
  s.exons = j.at("exon").get<StructureCounts>();
  s.genes = j.at("gene").get<StructureCounts>();
  s.donors = j.at("donor").get<StructureCounts>();
  s.acceptors = j.at("acceptor").get<StructureCounts>();
}

}  // namespace nucleo
