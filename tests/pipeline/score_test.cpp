// Pipeline checks of the gene-prediction scoring used by `nucleo-data score` and bench/augustus_peer.sh,
// on the real fly test split (AUGUSTUS's genes.gb.test from Debian's augustus-doc): the truth written as
// GFF3 (as a gene finder would) and as a label TSV must score MCC 1, a gene predicted nowhere or shifted
// must move exactly the expected counts.
#include "nucleo/metrics/gene_prediction_score.hpp"

#include <catch2/catch.hpp>

#include <sstream>

#include "data/temp_dir.hpp"

using namespace nucleo;
using nucleo::testing::TempDir;

namespace {

std::optional<std::vector<Locus>> fly_test_loci() {
  try {
    return read_genbank(find_gene_files().test);
  } catch (const IoError& e) {
    WARN("SKIPPED: augustus-doc not installed (run scripts/setup): " << e.what());
    return std::nullopt;
  }
}

// GFF3 as AUGUSTUS writes it with stopCodonExcludedFromCDS=false: the CDS includes the stop codon
// (the GenBank truth excludes it; the codon after it), and a separate stop_codon feature.
std::string to_gff3(const std::vector<Locus>& loci, std::int64_t shift_locus0 = 0) {
  std::ostringstream out;
  out << "##gff-version 3\n";
  for (std::size_t i = 0; i < loci.size(); ++i) {
    const Locus& l = loci[i];
    const std::int64_t d = i == 0 ? shift_locus0 : 0;
    for (const auto& t : l.transcripts) {
      std::vector<Interval> cds = t.cds;
      for (auto& iv : cds) iv = Interval{iv.begin + d, iv.end + d};
      if (d != 0) {  // shifted: CDS only (the codon after a shifted CDS is no stop codon)
        for (const auto& iv : cds)
          out << l.name << "\tSHIFTED\tCDS\t" << iv.begin + 1 << '\t' << iv.end << "\t.\t" << t.strand
              << "\t0\tParent=" << t.id << ".t1\n";
        continue;
      }
      if (t.strand == '+') cds.back().end += 3;
      else cds.front().begin -= 3;
      for (const auto& iv : cds)
        out << l.name << "\tTRUTH\tCDS\t" << iv.begin + 1 << '\t' << iv.end << "\t.\t" << t.strand << "\t0\tParent=" << t.id
            << ".t1\n";
      const Interval stop = t.strand == '+' ? Interval{cds.back().end - 3, cds.back().end}
                                            : Interval{cds.front().begin, cds.front().begin + 3};
      out << l.name << "\tTRUTH\tstop_codon\t" << stop.begin + 1 << '\t' << stop.end << "\t.\t" << t.strand
          << "\t0\tParent=" << t.id << ".t1\n";
    }
  }
  return out.str();
}

std::vector<GeneExample> examples(const std::vector<Locus>& loci) {
  std::vector<GeneExample> ex;
  for (const auto& l : loci) ex.push_back(make_gene_example(l));
  return ex;
}

}  // namespace

TEST_CASE("score pipeline: fly test truth as GFF3 with stop codons and as TSV scores MCC 1", "[pipeline][score]") {
  const auto loci = fly_test_loci();
  if (!loci) return;
  REQUIRE(loci->size() == 100);
  const auto truth = examples(*loci);
  TempDir tmp;
  GeneLabelReport rep;
  const auto pred = read_gene_predictions_gff(tmp.write("truth.gff3", to_gff3(*loci)), truth, &rep);
  CHECK(rep.stop_in_cds == 100);  // every written CDS ends with its stop codon, relabelled 8
  const auto s = score_gene_predictions(truth, pred);
  CHECK(s.loci == 100);
  CHECK(s.nucleotides == 625369);
  CHECK(s.report.mcc == Approx(1.0).epsilon(1e-12));
  CHECK(s.report.confusion.trace() == 625369);

  write_label_tsv(tmp / "pred.tsv", pred);
  const auto back = score_gene_predictions(truth, read_label_tsv(tmp / "pred.tsv"));
  CHECK(back.report.confusion == s.report.confusion);

  const auto short_only = score_gene_predictions(truth, pred, {.max_length = 14000});
  CHECK(short_only.loci + short_only.loci_skipped == 100);
  CHECK(short_only.loci_skipped > 0);
  CHECK(short_only.nucleotides < s.nucleotides);
}

TEST_CASE("score pipeline: a gene predicted nowhere or shifted moves exactly its own counts", "[pipeline][score]") {
  const auto loci = fly_test_loci();
  if (!loci) return;
  const auto truth = examples(*loci);
  TempDir tmp;
  const auto& t0 = truth[0].labels;

  SECTION("locus 0 without prediction: its classes all land in column 8") {
    std::vector<Locus> rest(loci->begin() + 1, loci->end());
    const auto pred = read_gene_predictions_gff(tmp.write("p.gff3", to_gff3(rest)), truth);
    const auto s = score_gene_predictions(truth, pred);
    const auto& cm = s.report.confusion;
    for (int c = 0; c < kGeneClasses - 1; ++c) {
      const auto n = std::count(t0.begin(), t0.end(), static_cast<std::int8_t>(c));
      CHECK(cm(c, kNoncoding) == n);
      CHECK(cm(c, c) == s.report.support[static_cast<std::size_t>(c)] - n);
    }
    CHECK(s.report.mcc < 1.0);
  }
  SECTION("locus 0 shifted right by 7 nt: predicted labels are the truth labels moved by 7") {
    const std::int64_t d = 7;
    const auto pred = read_gene_predictions_gff(tmp.write("p.gff3", to_gff3(*loci, d)), truth);
    ConfusionMatrix expect(kGeneClasses);
    for (std::size_t i = 0; i < t0.size(); ++i)
      expect.add(t0[i], i >= static_cast<std::size_t>(d) ? t0[i - static_cast<std::size_t>(d)] : kNoncoding);
    for (std::size_t k = 1; k < truth.size(); ++k)
      for (auto c : truth[k].labels) expect.add(c, c);
    const auto s = score_gene_predictions(truth, pred);
    CHECK(s.report.confusion == expect);
    CHECK(s.report.confusion.total() - s.report.confusion.trace() > 0);
  }
}
