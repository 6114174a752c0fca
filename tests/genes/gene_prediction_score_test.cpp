#include "nucleo/genes/gene_prediction_score.hpp"

#include <catch2/catch.hpp>

#include "data/temp_dir.hpp"

using namespace nucleo;
using nucleo::testing::TempDir;

namespace {
// 40 nt; '+' gene: ATG at 5..7 (0-based), exon [5,11), intron [11,17) GT..AG, exon [17,23), stop TAA at [23,26).
const std::string kSeq = "CCCCCATGAAAGTCCAGAAACCCTAACCCCCCCCCCCCCC";

GeneExample truth_example(const std::string& name = "loc1") {
  Locus l{name, kSeq, {Transcript{"t1", '+', {{5, 11}, {17, 23}}}}};
  return make_gene_example(l);
}

std::string gff_line(const std::string& seq, const std::string& type, int a, int b, char strand, const std::string& parent) {
  return seq + "\tTEST\t" + type + "\t" + std::to_string(a) + "\t" + std::to_string(b) + "\t.\t" + strand +
         "\t0\tParent=" + parent + "\n";
}
}  // namespace

TEST_CASE("gene scoring: GFF of the truth structure scores MCC 1, stop codon in or out of the CDS", "[metrics][gene_score]") {
  TempDir tmp;
  const std::vector<GeneExample> truth = {truth_example()};
  // CDS excluding the stop (as the GenBank truth), with start_codon and stop_codon features
  const auto excl = tmp.write("excl.gff3", "##gff-version 3\n" + gff_line("loc1", "start_codon", 6, 8, '+', "g1.t1") +
                                               gff_line("loc1", "CDS", 6, 11, '+', "g1.t1") +
                                               gff_line("loc1", "intron", 12, 17, '+', "g1.t1") +
                                               gff_line("loc1", "CDS", 18, 23, '+', "g1.t1") +
                                               gff_line("loc1", "stop_codon", 24, 26, '+', "g1.t1"));
  // CDS including the stop codon (AUGUSTUS's default stopCodonExcludedFromCDS=false)
  const auto incl = tmp.write("incl.gff3", gff_line("loc1", "CDS", 6, 11, '+', "g1.t1") +
                                               gff_line("loc1", "CDS", 18, 26, '+', "g1.t1"));
  GeneLabelReport rep_excl, rep_incl;
  const auto pe = read_gene_predictions_gff(excl, truth, &rep_excl);
  const auto pi = read_gene_predictions_gff(incl, truth, &rep_incl);
  REQUIRE(pe.size() == 1);
  CHECK(pe[0].labels == truth[0].labels);
  CHECK(pi[0].labels == truth[0].labels);
  CHECK(rep_excl.stop_after_cds == 1);
  CHECK(rep_incl.stop_in_cds == 1);
  // hand check of the truth labels themselves: exon 5..10, donor 11, intron 12..15, acceptor 16, exon 17..22
  CHECK(truth[0].labels[4] == gene_noncoding);
  CHECK(truth[0].labels[5] == gene_exon_fwd);
  CHECK(truth[0].labels[11] == gene_donor_fwd);
  CHECK(truth[0].labels[14] == gene_intron_fwd);
  CHECK(truth[0].labels[16] == gene_acceptor_fwd);
  CHECK(truth[0].labels[23] == gene_noncoding);

  const auto s = score_gene_predictions(truth, pe);
  CHECK(s.report.mcc == Approx(1.0));
  CHECK(s.loci == 1);
  CHECK(s.nucleotides == 40);
  CHECK(s.report.confusion(gene_exon_fwd, gene_exon_fwd) == 12);
  CHECK(s.report.confusion(gene_intron_fwd, gene_intron_fwd) == 4);
  CHECK(s.report.confusion(gene_noncoding, gene_noncoding) == 22);
  CHECK(s.report.confusion.trace() == 40);
}

TEST_CASE("gene scoring: a shifted single-exon gene gives a hand-checkable confusion matrix", "[metrics][gene_score]") {
  TempDir tmp;
  const std::string seq(50, 'A');
  const std::vector<GeneExample> truth = {make_gene_example(Locus{"x", seq, {Transcript{"t", '+', {{10, 19}}}}})};
  // predicted 3 nt to the right, on the - strand: [13, 22) -> 1-based 14..22
  const auto gff = tmp.write("p.gtf", "x\tT\tCDS\t14\t22\t.\t-\t0\ttranscript_id \"p1\"; gene_id \"p\";\n");
  const auto pred = read_gene_predictions_gff(gff, truth);
  const auto s = score_gene_predictions(truth, pred);
  const auto& cm = s.report.confusion;
  CHECK(cm(gene_exon_fwd, gene_exon_fwd) == 0);
  CHECK(cm(gene_exon_fwd, gene_exon_rev) == 6);   // 13..18
  CHECK(cm(gene_exon_fwd, gene_noncoding) == 3);   // 10..12
  CHECK(cm(gene_noncoding, gene_exon_rev) == 3);  // 19..21
  CHECK(cm(gene_noncoding, gene_noncoding) == 38);
  CHECK(cm.total() == 50);
  // t = (9, 0, .., 41), p = (0, 0, 0, 0, 9, 0, 0, 0, 41), c = 38, s = 50
  const double num = 38.0 * 50 - (9.0 * 0 + 41.0 * 41);
  const double den = std::sqrt((2500.0 - 81 - 1681) * (2500.0 - 81 - 1681));
  CHECK(s.report.mcc == Approx(num / den));
  CHECK(s.report.recall[gene_exon_fwd] == 0);
  CHECK(s.report.precision[gene_noncoding] == Approx(38.0 / 41));
}

TEST_CASE("gene scoring: loci without predictions, length limit, missing loci", "[metrics][gene_score]") {
  TempDir tmp;
  const std::string longer = kSeq + kSeq;  // 80 nt, no gene
  std::vector<GeneExample> truth = {truth_example("a"), make_gene_example(Locus{"b", longer, {}})};
  const auto gff = tmp.write("p.gff3", gff_line("a", "CDS", 6, 11, '+', "t") + gff_line("a", "CDS", 18, 23, '+', "t"));
  const auto pred = read_gene_predictions_gff(gff, truth);
  REQUIRE(pred.size() == 2);
  CHECK(pred[1].labels == std::vector<std::int8_t>(80, gene_noncoding));  // no prediction on b

  const auto all = score_gene_predictions(truth, pred);
  CHECK(all.loci == 2);
  CHECK(all.nucleotides == 120);
  CHECK(all.report.mcc == Approx(1.0));
  const auto short_only = score_gene_predictions(truth, pred, {.max_length = 40});
  CHECK(short_only.loci == 1);
  CHECK(short_only.loci_skipped == 1);
  CHECK(short_only.nucleotides == 40);
  CHECK(short_only.max_length == 40);

  const std::vector<GeneExample> only_a = {pred[0]};
  CHECK_THROWS_WITH(score_gene_predictions(truth, only_a), Catch::Contains("no prediction") && Catch::Contains("'b'"));
  const auto s = score_gene_predictions(truth, only_a, {.missing_as_noncoding = true});
  CHECK(s.loci_missing == 1);
  CHECK(s.report.confusion(gene_noncoding, gene_noncoding) == 22 + 80);

  const nlohmann::json j = short_only;
  CHECK(j["loci"] == 1);
  CHECK(j["loci_skipped"] == 1);
  CHECK(j["classes"][8] == "noncoding");
  CHECK(j["confusion_matrix"][0][0] == 12);
}

TEST_CASE("gene scoring: wrong names, sequences and lengths are errors", "[metrics][gene_score]") {
  TempDir tmp;
  const std::vector<GeneExample> truth = {truth_example()};
  const auto unknown = tmp.write("u.gff3", gff_line("other", "CDS", 6, 11, '+', "t"));
  CHECK_THROWS_WITH(read_gene_predictions_gff(unknown, truth), Catch::Contains("other"));
  const auto beyond = tmp.write("b.gff3", gff_line("loc1", "CDS", 6, 41, '+', "t"));
  CHECK_THROWS_WITH(read_gene_predictions_gff(beyond, truth), Catch::Contains("b.gff3"));
  const auto own_fasta = tmp.write("f.gff3", gff_line("loc1", "CDS", 1, 3, '+', "t") + "##FASTA\n>loc1\nACGTACGT\n");
  CHECK_THROWS_WITH(read_gene_predictions_gff(own_fasta, truth), Catch::Contains("differs"));

  GeneExample p = truth[0];
  p.sequence[0] = 'G';
  CHECK_THROWS_WITH(score_gene_predictions(truth, {p}), Catch::Contains("differs"));
  p = truth[0];
  p.labels.pop_back();
  p.sequence.clear();
  CHECK_THROWS_WITH(score_gene_predictions(truth, {p}), Catch::Contains("39 predicted labels"));
  CHECK_THROWS_WITH(score_gene_predictions(truth, {truth[0], truth[0]}), Catch::Contains("twice"));
  GeneExample q = truth[0];
  q.name = "zzz";
  CHECK_THROWS_WITH(score_gene_predictions(truth, {q}), Catch::Contains("zzz"));
}

TEST_CASE("gene scoring: structure counts beside the MCC", "[metrics][gene_score]") {
  TempDir tmp;
  const std::vector<GeneExample> truth = {truth_example("a"), truth_example("b")};
  // a: exact; b: the second CDS one base shorter at its start (acceptor one later)
  const auto gff = tmp.write("p.gff3", gff_line("a", "CDS", 6, 11, '+', "ta") + gff_line("a", "CDS", 18, 23, '+', "ta") +
                                           gff_line("b", "CDS", 6, 11, '+', "tb") + gff_line("b", "CDS", 19, 23, '+', "tb"));
  const auto pred = read_gene_predictions_gff(gff, truth);
  const auto s = score_gene_predictions(truth, pred);
  CHECK(s.structure.exons.truth == 4);
  CHECK(s.structure.exons.predicted == 4);
  CHECK(s.structure.exons.found == 3);
  CHECK(s.structure.genes.found == 1);
  CHECK(s.structure.genes.truth == 2);
  CHECK(s.structure.donors.found == 2);
  CHECK(s.structure.acceptors.found == 1);
  CHECK(s.structure.acceptors.f1() == 0.5);

  const nlohmann::json j = s;
  CHECK(j["structure"]["exon"]["found"] == 3);
  CHECK(j["structure"]["gene"]["sensitivity"] == 0.5);
  CHECK(j["structure"]["acceptor"]["f1"] == 0.5);
  CHECK(j.contains("mcc"));
  CHECK(j.contains("confusion_matrix"));

  // a locus without prediction: its items are true but not predicted; the length limit drops loci
  const std::vector<GeneExample> only_a = {pred[0]};
  const auto m = score_gene_predictions(truth, only_a, {.missing_as_noncoding = true});
  CHECK(m.structure.genes == StructureCounts{2, 1, 1});
  CHECK(m.structure.exons == StructureCounts{4, 2, 2});
  const auto none = score_gene_predictions(truth, only_a, {.max_length = 10, .missing_as_noncoding = true});
  CHECK(none.structure == GeneStructureScore{});
}

namespace {
// A 100-nt genome record "g" holding two loci: g_11-50 (the 40-nt kSeq, with its gene) and g_61-90.
struct SmallGenome {
  std::vector<FastaRecord> genome;
  std::vector<GeneExample> truth;
  SmallGenome() {
    std::string g = std::string(10, 'C') + kSeq + std::string(50, 'C');
    g.replace(60, 30, std::string("ATGCCCCCCCCCCCCTAACCCCCCCCCCCC"));  // a 12-nt + gene (ATG..., TAA after)
    genome = {{"g", "", g}, {"other", "", std::string(30, 'G')}};
    truth = {make_gene_example(Locus{"g_11-50", g.substr(10, 40), {Transcript{"t1", '+', {{5, 11}, {17, 23}}}}}),
             make_gene_example(Locus{"g_61-90", g.substr(60, 30), {Transcript{"t2", '+', {{0, 15}}}}})};
  }
};
}  // namespace

TEST_CASE("gene scoring, genome context: the same genes on the genome score as on the loci", "[metrics][gene_score]") {
  TempDir tmp;
  const SmallGenome sg;
  const GenomeLoci placed = GenomeLoci::locate(sg.genome, sg.truth);
  // locus-level GFF and the same genes on record g (shifted by A - 1 = 10 and 60)
  const auto on_loci = tmp.write("loci.gff3", gff_line("g_11-50", "CDS", 6, 11, '+', "t1") +
                                                  gff_line("g_11-50", "CDS", 18, 23, '+', "t1") +
                                                  gff_line("g_61-90", "CDS", 1, 15, '+', "t2"));
  const std::string genes_on_g = gff_line("g", "CDS", 16, 21, '+', "t1") + gff_line("g", "CDS", 28, 33, '+', "t1") +
                                 gff_line("g", "CDS", 61, 75, '+', "t2");
  const auto locus_score = score_gene_predictions(sg.truth, read_gene_predictions_gff(on_loci, sg.truth));
  CHECK(locus_score.report.mcc == Approx(1.0));

  auto genome_score = [&](const std::string& gff_text) {
    GeneLabelReport rep;
    const auto records = read_gene_predictions_gff_genome(tmp.write("genome.gff3", gff_text), sg.genome, &rep);
    REQUIRE(records.size() == 2);
    CHECK(records[0].name == "g");
    CHECK(records[0].labels.size() == 100);
    CHECK(records[1].labels.size() == 30);
    return score_gene_predictions(sg.truth, slice_genome_predictions(sg.genome, placed, sg.truth, records));
  };
  const nlohmann::json want = locus_score;
  CHECK(nlohmann::json(genome_score(genes_on_g)) == want);
  const auto records = read_gene_predictions_gff_genome(tmp.write("g.gff3", genes_on_g), sg.genome);
  CHECK(records[1].labels == std::vector<std::int8_t>(30, gene_noncoding));  // no genes on "other": all noncoding
  CHECK(records[0].labels[15] == gene_exon_fwd);                              // genome base 16

  SECTION("genes outside every locus change nothing") {
    const std::string outside = gff_line("g", "CDS", 2, 7, '-', "x1") + gff_line("g", "CDS", 52, 59, '+', "x2") +
                                gff_line("g", "CDS", 92, 100, '-', "x3") + gff_line("other", "CDS", 4, 12, '+', "x4");
    CHECK(nlohmann::json(genome_score(genes_on_g + outside)) == want);
  }
  SECTION("a gene crossing a locus boundary is cut at the boundary") {
    // a - strand gene 45..56 with an intron 48..53: inside g_11-50 only 45..47 (exon) and 48..50 (intron)
    const std::string crossing = gff_line("g", "CDS", 45, 47, '-', "x") + gff_line("g", "CDS", 54, 56, '-', "x");
    const auto records = read_gene_predictions_gff_genome(tmp.write("c.gff3", genes_on_g + crossing), sg.genome);
    const auto sliced = slice_genome_predictions(sg.genome, placed, sg.truth, records);
    std::vector<std::int8_t> want_labels = sg.truth[0].labels;
    for (int i : {34, 35, 36}) want_labels[static_cast<std::size_t>(i)] = gene_exon_rev;  // genome 45..47
    want_labels[37] = gene_acceptor_rev;                                                // 48: left intron end
    want_labels[38] = want_labels[39] = gene_intron_rev;                                // 49, 50
    CHECK(sliced[0].labels == want_labels);
    CHECK(sliced[1].labels == sg.truth[1].labels);
    const auto s = score_gene_predictions(sg.truth, sliced);
    // the cut exon is one more predicted exon and gene; the orphan intron part is no splice site
    CHECK(s.structure.exons == StructureCounts{3, 4, 3});
    CHECK(s.structure.genes == StructureCounts{2, 3, 2});
    CHECK(s.structure.acceptors == StructureCounts{1, 1, 1});
    CHECK(s.report.confusion(gene_noncoding, gene_exon_rev) == 3);
    CHECK(s.report.confusion(gene_noncoding, gene_acceptor_rev) == 1);
    CHECK(s.report.confusion(gene_noncoding, gene_intron_rev) == 2);
  }
}

TEST_CASE("gene scoring, genome context: errors", "[metrics][gene_score]") {
  TempDir tmp;
  const SmallGenome sg;
  const GenomeLoci placed = GenomeLoci::locate(sg.genome, sg.truth);
  CHECK_THROWS_WITH(read_gene_predictions_gff_genome(tmp.write("u.gff3", gff_line("chrZ", "CDS", 1, 3, '+', "t")), sg.genome),
                    Catch::Contains("chrZ"));
  // a locus name on a genome run: not a genome record
  CHECK_THROWS_WITH(read_gene_predictions_gff_genome(tmp.write("l.gff3", gff_line("g_11-50", "CDS", 1, 3, '+', "t")), sg.genome),
                    Catch::Contains("g_11-50"));

  GeneExample g{"g", "", std::vector<std::int8_t>(100, gene_noncoding)};
  const std::vector<GeneExample> ok = {g};
  CHECK(slice_genome_predictions(sg.genome, placed, sg.truth, ok).size() == 2);  // "other" holds no locus
  g.labels.pop_back();
  CHECK_THROWS_WITH(slice_genome_predictions(sg.genome, placed, sg.truth, std::vector<GeneExample>{g}),
                    Catch::Contains("'g' has 99 predicted labels for 100"));
  g.labels.push_back(gene_noncoding);
  g.sequence = std::string(100, 'A');
  CHECK_THROWS_WITH(slice_genome_predictions(sg.genome, placed, sg.truth, std::vector<GeneExample>{g}),
                    Catch::Contains("'g' differs"));
  g.sequence.clear();
  CHECK_THROWS_WITH(slice_genome_predictions(sg.genome, placed, sg.truth, std::vector<GeneExample>{g, g}),
                    Catch::Contains("twice"));
  const GeneExample other{"other", "", std::vector<std::int8_t>(30, gene_noncoding)};
  CHECK_THROWS_WITH(slice_genome_predictions(sg.genome, placed, sg.truth, std::vector<GeneExample>{other}),
                    Catch::Contains("no prediction for genome record 'g'") && Catch::Contains("g_11-50"));
  const GeneExample stranger{"chrZ", "", {}};
  CHECK_THROWS_WITH(slice_genome_predictions(sg.genome, placed, sg.truth, std::vector<GeneExample>{stranger}),
                    Catch::Contains("'chrZ' is not a genome record"));
  const std::vector<GeneExample> one_locus = {sg.truth[0]};
  CHECK_THROWS_WITH(slice_genome_predictions(sg.genome, placed, one_locus, ok), Catch::Contains("2 placed"));
}
