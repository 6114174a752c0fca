// Pipeline checks of the gene-prediction scoring used by `nucleo-data score` and bench/augustus_peer.sh,
// on the real fly test split (AUGUSTUS's genes.gb.test from Debian's augustus-doc): the truth written as
// GFF3 (as a gene finder would) and as a label TSV must score MCC 1, a gene predicted nowhere or shifted
// must move exactly the expected counts (nucleotides, exons, genes, splice sites), and the truth written
// on the genome record (chr2R.2M-7M.fa) and scored in genome context must give exactly the locus-level
// scores.
#include "nucleo/genes/gene_prediction_score.hpp"
#include "nucleo_apps/fly_data.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include "data/temp_dir.hpp"

using namespace nucleo;
using namespace nucleo::apps;
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

std::optional<std::vector<FastaRecord>> fly_genome() {
  try {
    return read_fasta(find_fly_genome());
  } catch (const IoError& e) {
    WARN("SKIPPED: augustus-doc not installed (run scripts/setup): " << e.what());
    return std::nullopt;
  }
}

// The loci's transcripts moved onto genome record `seqid` (locus <seqid>_<A>-<B> starts at A - 1),
// transcript ids made unique by the locus name.
std::vector<Locus> on_genome(const std::vector<Locus>& loci, const std::string& seqid) {
  std::vector<Locus> out;
  for (const auto& l : loci) {
    std::string s;
    std::int64_t a = 0, b = 0;
    REQUIRE(parse_locus_interval(l.name, s, a, b));
    Locus g{seqid, "", l.transcripts};
    for (auto& t : g.transcripts) {
      t.id = l.name + "." + t.id;
      for (auto& iv : t.cds) iv = Interval{iv.begin + a - 1, iv.end + a - 1};
    }
    out.push_back(std::move(g));
  }
  return out;
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
  for (const StructureCounts* c : {&s.structure.exons, &s.structure.genes, &s.structure.donors, &s.structure.acceptors}) {
    CHECK(c->f1() == 1.0);
    CHECK(c->found == c->truth);
    CHECK(c->found == c->predicted);
  }
  CHECK(s.structure.genes.truth == 100);
  CHECK(s.structure.exons.truth == 472);
  CHECK(s.structure.donors.truth == 372);

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
    for (int c = 0; c < gene_class_count - 1; ++c) {
      const auto n = std::count(t0.begin(), t0.end(), static_cast<std::int8_t>(c));
      CHECK(cm(c, gene_noncoding) == n);
      CHECK(cm(c, c) == s.report.support[static_cast<std::size_t>(c)] - n);
    }
    CHECK(s.report.mcc < 1.0);
  }
  SECTION("locus 0 shifted right by 7 nt: predicted labels are the truth labels moved by 7") {
    const std::int64_t d = 7;
    const auto pred = read_gene_predictions_gff(tmp.write("p.gff3", to_gff3(*loci, d)), truth);
    ConfusionMatrix expect(gene_class_count);
    for (std::size_t i = 0; i < t0.size(); ++i)
      expect.add(t0[i], i >= static_cast<std::size_t>(d) ? t0[i - static_cast<std::size_t>(d)] : gene_noncoding);
    for (std::size_t k = 1; k < truth.size(); ++k)
      for (auto c : truth[k].labels) expect.add(c, c);
    const auto s = score_gene_predictions(truth, pred);
    CHECK(s.report.confusion == expect);
    CHECK(s.report.confusion.total() - s.report.confusion.trace() > 0);
    // structure: exactly locus 0's exons, gene and splice sites are lost, nothing else
    std::int64_t exons0 = 0, introns0 = 0;
    for (const auto& t : (*loci)[0].transcripts) {
      exons0 += static_cast<std::int64_t>(t.cds.size());
      introns0 += static_cast<std::int64_t>(t.cds.size()) - 1;
    }
    REQUIRE((*loci)[0].transcripts.size() == 1);
    CHECK(s.structure.exons == StructureCounts{472, 472, 472 - exons0});
    CHECK(s.structure.genes == StructureCounts{100, 100, 99});
    CHECK(s.structure.donors == StructureCounts{372, 372, 372 - introns0});
    CHECK(s.structure.acceptors == StructureCounts{372, 372, 372 - introns0});
  }
}

TEST_CASE("score pipeline: the truth on the genome record scores exactly as on the loci", "[pipeline][score]") {
  const auto loci = fly_test_loci();
  if (!loci) return;
  const auto genome = fly_genome();
  if (!genome) return;
  REQUIRE(genome->size() == 1);
  const auto truth = examples(*loci);
  TempDir tmp;
  const GeneScoreOptions all_loci{}, short_loci{.max_length = 14000};
  const auto locus_pred = read_gene_predictions_gff(tmp.write("loci.gff3", to_gff3(*loci)), truth);
  const nlohmann::json want_all = score_gene_predictions(truth, locus_pred, all_loci),
                       want_short = score_gene_predictions(truth, locus_pred, short_loci);

  const GenomeLoci placed = GenomeLoci::locate(*genome, truth, "test locus");
  const std::string genome_gff = to_gff3(on_genome(*loci, "chr2R"));
  auto genome_pred = [&](const std::string& gff) {
    const auto records = read_gene_predictions_gff_genome(tmp.write("genome.gff3", gff), *genome);
    return slice_genome_predictions(*genome, placed, truth, records);
  };
  {
    const auto pred = genome_pred(genome_gff);
    CHECK(nlohmann::json(score_gene_predictions(truth, pred, all_loci)) == want_all);
    CHECK(nlohmann::json(score_gene_predictions(truth, pred, short_loci)) == want_short);
    CHECK(want_all["mcc"] == 1.0);
  }

  // the test loci in genome order; a gap between two of them and the first locus with room before it
  std::vector<std::size_t> order(truth.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return placed[x].begin < placed[y].begin; });
  std::size_t gap_after = 0;
  while (placed[order[gap_after + 1]].begin - placed[order[gap_after]].end < 1000) ++gap_after;
  const std::int64_t gap = placed[order[gap_after]].end;  // 0-based first base after that locus

  SECTION("a two-exon gene on each strand outside every test locus changes nothing") {
    std::string outside;
    for (const char strand : {'+', '-'}) {
      const std::int64_t b = gap + (strand == '+' ? 100 : 500);  // 1-based start of the first CDS
      outside += fmt::format("chr2R\tOUT\tCDS\t{}\t{}\t.\t{}\t0\tParent=out{}\n", b, b + 59, strand, strand);
      outside += fmt::format("chr2R\tOUT\tCDS\t{}\t{}\t.\t{}\t0\tParent=out{}\n", b + 200, b + 259, strand, strand);
    }
    const auto pred = genome_pred(genome_gff + outside);
    CHECK(nlohmann::json(score_gene_predictions(truth, pred, all_loci)) == want_all);
    CHECK(nlohmann::json(score_gene_predictions(truth, pred, short_loci)) == want_short);
  }
  SECTION("a gene crossing a locus boundary is cut there: its inside part is scored") {
    const std::size_t k = order[gap_after + 1];  // >= 1000 nt of genome before it
    const std::int64_t a0 = placed[k].begin;     // 0-based first base of the locus
    std::int64_t e0 = a0 + 20;                   // 0-based one past the CDS end, not after a stop codon
    while (detail::is_stop_codon((*genome)[0].sequence.substr(static_cast<std::size_t>(e0 - 3), 3))) ++e0;
    const std::string crossing =
        fmt::format("chr2R\tX\tCDS\t{}\t{}\t.\t+\t0\tParent=crossing\n", a0 - 50 + 1, e0);
    const auto pred = genome_pred(genome_gff + crossing);
    std::vector<std::int8_t> want = truth[k].labels;
    for (std::int64_t i = 0; i < e0 - a0; ++i) want[static_cast<std::size_t>(i)] = gene_exon_fwd;
    CHECK(pred[k].labels == want);
    for (std::size_t j = 0; j < truth.size(); ++j)
      if (j != k) CHECK(pred[j].labels == truth[j].labels);
    const auto s = score_gene_predictions(truth, pred, all_loci);
    CHECK(s.structure.exons == StructureCounts{472, 473, 472});  // the cut part is one more exon and gene
    CHECK(s.structure.genes == StructureCounts{100, 101, 100});
    CHECK(s.report.confusion(gene_noncoding, gene_exon_fwd) == e0 - a0);
  }
}
