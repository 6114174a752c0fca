#include "nucleo/genes/gff3_writer.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include "nucleo/core/rng.hpp"
#include "nucleo/genes/gene_labels.hpp"
#include "nucleo/data/gff.hpp"
#include "support/label_tracks.hpp"

using namespace nucleo;

namespace {

using nucleo::testing::track;

std::vector<std::vector<std::string>> feature_rows(const std::string& gff) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(gff);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::size_t p = 0;
    for (;;) {
      const std::size_t t = line.find('\t', p);
      cols.push_back(line.substr(p, t == std::string::npos ? std::string::npos : t - p));
      if (t == std::string::npos) break;
      p = t + 1;
    }
    rows.push_back(cols);
  }
  return rows;
}

std::string gff_of(const std::string& seqid, const std::vector<std::int8_t>& labels, const Gff3Options& o = {},
                   std::span<const float> conf = {}) {
  std::ostringstream out;
  write_gff3_header(out);
  write_gene_gff3(out, seqid, labels, conf, o);
  return out.str();
}

// Labels -> GFF3 (+ ##FASTA of all-A sequences: no stop codon on either strand) -> read_gff -> labels.
std::vector<std::vector<std::int8_t>> round_trip(const std::vector<std::vector<std::int8_t>>& tracks) {
  std::ostringstream out;
  write_gff3_header(out);
  Gff3Options o;
  for (std::size_t i = 0; i < tracks.size(); ++i) {
    const auto s = write_gene_gff3(out, "seq" + std::to_string(i), tracks[i], {}, o);
    o.first_gene = s.next_gene;
  }
  out << "##FASTA\n";
  for (std::size_t i = 0; i < tracks.size(); ++i)
    out << ">seq" << i << "\n" << std::string(tracks[i].size(), 'A') << "\n";
  GffOptions go;
  go.keep_unannotated = true;
  const auto loci = parse_gff(out.str(), "rt.gff3", go);
  std::vector<std::vector<std::int8_t>> back;
  for (const auto& l : loci) back.push_back(gene_labels(l));
  return back;
}

// A random well-formed track: noncoding gaps and genes on both strands in gene_labels' pattern.
std::vector<std::int8_t> random_track(Rng& rng, std::size_t length) {
  std::vector<std::int8_t> t;
  while (t.size() < length) {
    const auto gap = 1 + rng.uniform_int(20);
    t.insert(t.end(), gap, gene_noncoding);
    const bool fwd = rng.bernoulli(0.5);
    const auto exons = 1 + rng.uniform_int(4);
    for (std::uint64_t e = 0; e < exons; ++e) {
      if (e) {
        const auto len = 1 + rng.uniform_int(10);
        if (len == 1) {
          t.push_back(fwd ? gene_donor_fwd : gene_donor_rev);
        } else {
          t.push_back(fwd ? gene_donor_fwd : gene_acceptor_rev);
          t.insert(t.end(), len - 2, fwd ? gene_intron_fwd : gene_intron_rev);
          t.push_back(fwd ? gene_acceptor_fwd : gene_donor_rev);
        }
      }
      t.insert(t.end(), 1 + rng.uniform_int(15), fwd ? gene_exon_fwd : gene_exon_rev);
    }
  }
  if (rng.bernoulli(0.5)) t.push_back(gene_noncoding);  // sometimes a gene touches the end
  return t;
}

}  // namespace

TEST_CASE("GFF3 writer: + strand gene with a 1-nt intron, coordinates and phases", "[data][gff3_writer]") {
  //                         0         1         2
  //                         012345678901234567890123456789
  const auto labels = track("888000000122230000000100008888");
  const std::string gff = gff_of("chr1", labels);
  CHECK(gff.rfind("##gff-version 3\n##sequence-region chr1 1 30\n", 0) == 0);
  const auto rows = feature_rows(gff);
  REQUIRE(rows.size() == 5);
  for (const auto& r : rows) {
    REQUIRE(r.size() == 9);
    CHECK(r[0] == "chr1");
    CHECK(r[1] == "nucleo");
    CHECK(r[5] == ".");
    CHECK(r[6] == "+");
  }
  CHECK(rows[0] == std::vector<std::string>{"chr1", "nucleo", "gene", "4", "26", ".", "+", ".", "ID=nucleo.g1"});
  CHECK(rows[1][2] == "mRNA");
  CHECK(rows[1][8] == "ID=nucleo.g1.t1;Parent=nucleo.g1");
  CHECK((rows[1][3] == "4" && rows[1][4] == "26"));
  // CDS 4..9 (6 nt), 15..21 (7 nt), 23..26 (4 nt): phases 0, (3 - 6 % 3) % 3 = 0, (3 - 13 % 3) % 3 = 2.
  CHECK(rows[2] == std::vector<std::string>{"chr1", "nucleo", "CDS", "4", "9", ".", "+", "0",
                                            "ID=nucleo.g1.t1.cds1;Parent=nucleo.g1.t1"});
  CHECK((rows[3][3] == "15" && rows[3][4] == "21" && rows[3][7] == "0"));
  CHECK((rows[4][3] == "23" && rows[4][4] == "26" && rows[4][7] == "2"));
}

TEST_CASE("GFF3 writer: - strand phases count from the right end", "[data][gff3_writer]") {
  //                         0         1         2         3
  //                         0123456789012345678901234567890123456789
  const auto labels = track("8888844444766654444444488888888888888888");
  const auto rows = feature_rows(gff_of("c", labels));
  REQUIRE(rows.size() == 4);
  CHECK((rows[0][2] == "gene" && rows[0][3] == "6" && rows[0][4] == "23" && rows[0][6] == "-"));
  // Transcript direction: CDS 16..23 (8 nt) first, phase 0; then 6..10 with (3 - 8 % 3) % 3 = 1.
  CHECK((rows[2][3] == "6" && rows[2][4] == "10" && rows[2][7] == "1" && rows[2][6] == "-"));
  CHECK((rows[3][3] == "16" && rows[3][4] == "23" && rows[3][7] == "0"));
  const PredictedGene g{'-', {{5, 10}, {15, 23}}};
  CHECK(genes_from_labels(labels) == std::vector<PredictedGene>{g});
  CHECK(cds_phases(PredictedGene{'-', {{0, 4}, {10, 12}, {20, 28}}}) == std::vector<int>{2, 1, 0});
  CHECK(cds_phases(PredictedGene{'+', {{0, 4}, {10, 12}, {20, 28}}}) == std::vector<int>{0, 2, 0});
}

TEST_CASE("GFF3 writer: genes of both strands ordered by start, IDs unique across sequences", "[data][gff3_writer]") {
  const auto labels = track("8444448800012300084444");
  std::ostringstream out;
  write_gff3_header(out);
  Gff3Options o;
  o.id_prefix = "run7";
  auto s1 = write_gene_gff3(out, "a", labels, {}, o);
  CHECK(s1.genes == 3);
  CHECK(s1.genes_plus == 1);
  CHECK(s1.genes_minus == 2);
  CHECK(s1.cds == 4);
  CHECK(s1.introns == 1);
  CHECK(s1.next_gene == 4);
  o.first_gene = s1.next_gene;
  auto s2 = write_gene_gff3(out, "b", labels, {}, o);
  CHECK(s2.next_gene == 7);
  const auto rows = feature_rows(out.str());
  std::vector<std::string> strands;
  std::set<std::string> ids;
  std::size_t n_id = 0;
  for (const auto& r : rows) {
    if (r[2] == "gene" && r[0] == "a") strands.push_back(r[6]);
    const auto id = detail::gff_attribute(r[8], "ID");
    REQUIRE(id.size() == 1);
    ids.insert(id[0]);
    ++n_id;
  }
  CHECK(strands == std::vector<std::string>{"-", "+", "-"});
  CHECK(ids.size() == n_id);
  CHECK(ids.count("run7.g6.t1.cds1") == 1);
}

TEST_CASE("GFF3 writer: orphan intron runs and isolated splice sites are dropped and counted", "[data][gff3_writer]") {
  Gff3Summary s;
  // leading intron run, exon, trailing intron run, isolated donor, isolated - acceptor
  const auto g = genes_from_labels(track("2230000122881887888"), &s);
  REQUIRE(g.size() == 1);
  CHECK(g[0] == PredictedGene{'+', {{3, 7}}});
  CHECK(s.orphan_intron_runs == 2);
  CHECK(s.orphan_splice_runs == 2);
  CHECK(s.orphan_nucleotides == 3 + 3 + 1 + 1);
  CHECK(s.introns == 0);

  // Non-canonical intron runs still join exons (the model saw an intron), and are counted.
  Gff3Summary t;
  const auto h = genes_from_labels(track("80022200300008444654448"), &t);
  REQUIRE(h.size() == 2);
  CHECK(h[0] == PredictedGene{'+', {{1, 3}, {6, 8}, {9, 13}}});
  CHECK(h[1] == PredictedGene{'-', {{14, 17}, {19, 22}}});
  CHECK(t.introns == 3);
  CHECK(t.noncanonical_introns == 3);  // "222", lone acceptor "3", "6 5" without the acceptor-
  CHECK(t.orphan_nucleotides == 0);

  // A class of the other strand ends a gene: exon+ next to exon- gives two genes.
  const auto k = genes_from_labels(track("00441"));
  CHECK(k == std::vector<PredictedGene>{{'+', {{0, 2}}}, {'-', {{2, 4}}}});
  CHECK_THROWS_AS(genes_from_labels(track("09")), ShapeError);
}

TEST_CASE("GFF3 writer: round trip labels -> GFF3 -> read_gff + gene_labels, both strands", "[data][gff3_writer]") {
  const std::vector<std::vector<std::int8_t>> fixed = {
      track("888000000122230000000100008888"), track("8888844444766654444444488888888888888888"),
      track("000122300"),   // genes touching both ends
      track("4454765444"),  // - strand with a 1-nt intron (donor-) and a 3-nt intron
      track("8888888"),     // no gene
      track("0444400")};    // strands side by side
  CHECK(round_trip(fixed) == fixed);

  Rng rng(42);
  std::vector<std::vector<std::int8_t>> random;
  for (int i = 0; i < 20; ++i) random.push_back(random_track(rng, 200 + 50 * static_cast<std::size_t>(i)));
  CHECK(round_trip(random) == random);

  // Patterns that do not round trip (documented): orphans become 8, non-canonical introns canonical.
  const auto back = round_trip({track("8180222800"), track("0030")});
  CHECK(back[0] == track("8880888800"));
  CHECK(back[1] == track("0010"));
}

TEST_CASE("GFF3 writer: a CDS ending in a stop codon reads back with the stop relabelled", "[data][gff3_writer]") {
  // Documented non-round-trip: gene_labels labels an in-CDS stop codon 8.
  const auto labels = track("80000008");
  std::ostringstream out;
  write_gff3_header(out);
  write_gene_gff3(out, "s", labels, {}, {});
  out << "##FASTA\n>s\nCATGTAAC\n";
  const auto loci = parse_gff(out.str());
  REQUIRE(loci.size() == 1);
  CHECK(gene_labels(loci[0]) == track("80008888"));
}

TEST_CASE("GFF3 writer: escaping of seqid, source and attribute values", "[data][gff3_writer]") {
  CHECK(gff3_escape_seqid("chr1.2:|x") == "chr1.2:|x");
  CHECK(gff3_escape_seqid(">chr 1;x=%\t") == "%3Echr%201%3Bx%3D%25%09");
  CHECK(gff3_escape_column("my src%\n") == "my src%25%0A");
  CHECK(gff3_escape_attribute("a;b=c&d,e%f g") == "a%3Bb%3Dc%26d%2Ce%25f g");

  Gff3Options o;
  o.id_prefix = "p;1=x";
  o.source = "nucleo\tv1";
  const std::string gff = gff_of("scaffold/7", track("80008"), o);
  const auto rows = feature_rows(gff);
  REQUIRE(rows.size() == 3);
  for (const auto& r : rows) {
    REQUIRE(r.size() == 9);
    CHECK(r[0] == "scaffold%2F7");
    CHECK(r[1] == "nucleo%09v1");
  }
  CHECK(rows[2][8] == "ID=p%3B1%3Dx.g1.t1.cds1;Parent=p%3B1%3Dx.g1.t1");
  CHECK(gff.find("##sequence-region scaffold%2F7 1 5\n") != std::string::npos);
  // The reader decodes attribute values: the transcript id comes back unescaped.
  const auto loci = parse_gff(gff_of("s", track("80008"), o) + "##FASTA\n>s\nAAAAA\n");
  REQUIRE(loci.size() == 1);
  REQUIRE(loci[0].transcripts.size() == 1);
  CHECK(loci[0].transcripts[0].id == "p;1=x.g1.t1");
}

TEST_CASE("GFF3 writer: empty track and confidence scores", "[data][gff3_writer]") {
  std::ostringstream out;
  Gff3Options o;
  o.first_gene = 5;
  const auto s = write_gene_gff3(out, "empty", {}, {}, o);
  CHECK(out.str().empty());
  CHECK(s.genes == 0);
  CHECK(s.next_gene == 5);

  const auto labels = track("8000120088");
  const std::vector<float> conf = {0.9f, 0.5f, 1.0f, 0.0f, 0.25f, 0.75f, 1.0f, 1.0f, 0.1f, 0.2f};
  const auto rows = feature_rows(gff_of("c", labels, {}, conf));
  REQUIRE(rows.size() == 4);
  // gene/mRNA 2..8: mean(0.5, 1, 0, 0.25, 0.75, 1, 1) = 4.5 / 7 = 0.642857
  CHECK(rows[0][5] == "0.643");
  CHECK(rows[1][5] == "0.643");
  CHECK(rows[2][5] == "0.500");  // CDS 2..4: (0.5 + 1 + 0) / 3
  CHECK(rows[3][5] == "1.000");  // CDS 7..8
  std::ostringstream bad;
  const std::vector<float> short_conf = {0.5f};
  CHECK_THROWS_AS(write_gene_gff3(bad, "c", labels, short_conf, {}), ShapeError);
  CHECK_THROWS_AS(write_gene_gff3(bad, "", labels, {}, {}), ShapeError);
}
