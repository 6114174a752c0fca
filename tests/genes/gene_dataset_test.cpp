#include "nucleo/genes/gene_dataset.hpp"

#include "nucleo_apps/fly_data.hpp"  // where the real fly data is found

#include <catch2/catch.hpp>

#include <sstream>

#include "data/temp_dir.hpp"

using namespace nucleo;
using nucleo::apps::find_fly_genome;
using nucleo::apps::find_gene_files;
using nucleo::testing::TempDir;

namespace {
Locus make_locus(const std::string& name, std::size_t len, std::int64_t shift) {
  Locus l{name, "", {}};
  for (std::size_t i = 0; i < len; ++i) l.sequence.push_back("ACGT"[(i * 3 + i / 5) % 4]);
  l.transcripts.push_back(Transcript{fmt::format("{}.g", name), shift % 2 ? '-' : '+', {{2 + shift, 10 + shift}, {20 + shift, 30 + shift}}});
  return l;
}
}  // namespace

TEST_CASE("fnv1a64 matches the published FNV-1a test vectors", "[data][gene_dataset]") {
  CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ULL);
}

TEST_CASE("GeneDataset: valid is carved from train by the name hash, stats by hand", "[data][gene_dataset]") {
  TempDir tmp;
  std::vector<Locus> train, test;
  for (int i = 0; i < 60; ++i) train.push_back(make_locus(fmt::format("tr{}", i), 40 + i, i % 3));
  test.push_back(make_locus("te0", 50, 0));
  test.back().sequence[45] = 'N';
  test.push_back(make_locus("te1", 41, 1));
  test.push_back(make_locus("te2", 70, 2));
  write_genbank(tmp / "train.gb", train);
  write_genbank(tmp / "test.gb", test);
  auto d = GeneDataset::load({tmp / "train.gb", tmp / "test.gb"}, 10);
  CHECK(d.train().size() + d.valid().size() == 60);
  for (const auto& e : d.valid()) CHECK(is_validation_locus(e.name, 10));
  for (const auto& e : d.train()) CHECK_FALSE(is_validation_locus(e.name, 10));
  CHECK(d.valid().size() > 0);
  CHECK(d.valid().size() < 20);
  CHECK(&d.split("valid") == &d.valid());
  CHECK_THROWS_AS(d.split("dev"), ConfigError);
  // all loci into train with 0 %, all into valid with 100 %
  CHECK(GeneDataset::load({tmp / "train.gb", tmp / "test.gb"}, 0).valid().empty());
  CHECK(GeneDataset::load({tmp / "train.gb", tmp / "test.gb"}, 100).train().empty());

  auto s = compute_stats(d.test());
  CHECK(s.loci == 3);
  CHECK(s.nucleotides == 161);
  CHECK(s.min_length == 41);
  CHECK(s.median_length == 50);
  CHECK(s.max_length == 70);
  CHECK(s.n_count == 1);
  // each locus: 8 + 10 exon, 10 intron nucleotides (1 donor, 8 intron, 1 acceptor)
  CHECK(s.class_counts[0] + s.class_counts[4] == 3 * 18);
  CHECK(s.class_counts[1] + s.class_counts[5] == 3);
  CHECK(s.class_counts[2] + s.class_counts[6] == 3 * 8);
  CHECK(s.class_counts[8] == 161 - 3 * 28);
  CHECK(d.label_report().transcripts == 63);
}

TEST_CASE("GeneDataset: export -> read_label_tsv round trip", "[data][gene_dataset]") {
  TempDir tmp;
  std::vector<GeneExample> ex;
  for (int i = 0; i < 5; ++i) {
    auto l = make_locus(fmt::format("x{}", i), 37 + 11 * i, i);
    ex.push_back(make_gene_example(l));
  }
  auto files = export_gene_split(ex, tmp / "out" / "sub", "test");
  CHECK(files[0] == tmp / "out" / "sub" / "test.fa");
  CHECK(read_label_tsv(files[1]) == ex);
  auto fa = read_fasta(files[0]);
  REQUIRE(fa.size() == 5);
  CHECK(fa[3].sequence == ex[3].sequence);
}

TEST_CASE("read_label_tsv: malformed lines are ParseErrors with file and line", "[data][gene_dataset]") {
  TempDir tmp;
  CHECK_THROWS_WITH(read_label_tsv(tmp.write("a.tsv", "a\tACGT\t0000\nb\tACGT\t000\n")),
                    Catch::Contains("a.tsv:2:") && Catch::Contains("3 labels for 4 nucleotides"));
  CHECK_THROWS_WITH(read_label_tsv(tmp.write("b.tsv", "a\tACGT\t0900\n")), Catch::Contains("not a class digit"));
  CHECK_THROWS_WITH(read_label_tsv(tmp.write("c.tsv", "a\tACGT\n")), Catch::Contains("3 tab-separated"));
  CHECK_THROWS_WITH(read_label_tsv(tmp.write("d.tsv", "a\tAC-T\t0000\n")), Catch::Contains("non-letter"));
  CHECK(read_label_tsv(tmp.write("e.tsv", "# comment\n\na\tacgr\t0128\n")) ==
        std::vector<GeneExample>{{"a", "ACGN", {0, 1, 2, 8}}});
}

TEST_CASE("find_gene_files: clear error naming scripts/setup when absent, .gz accepted", "[data][gene_dataset]") {
  TempDir tmp;
  CHECK_THROWS_WITH(find_gene_files({tmp / "nowhere"}), Catch::Contains("scripts/setup") && Catch::Contains("nowhere"));
  tmp.write_gz("genes.gb.train.gz", "LOCUS a 4 bp\nORIGIN\n 1 acgt\n//\n");
  tmp.write("genes.gb.test", "LOCUS b 4 bp\nORIGIN\n 1 acgt\n//\n");
  auto f = find_gene_files({tmp / "nowhere", tmp.path()});
  CHECK(f.train == tmp / "genes.gb.train.gz");
  CHECK(f.test == tmp / "genes.gb.test");
  auto d = GeneDataset::load(f, 0);
  CHECK(d.train().size() == 1);
  CHECK(d.test()[0].labels == std::vector<std::int8_t>{8, 8, 8, 8});
}

TEST_CASE("GeneDataset: the real fly set (augustus-doc) has the documented figures", "[data][gene_dataset][fly]") {
  GeneDataFiles files;
  try {
    files = find_gene_files();
  } catch (const IoError& e) {
    WARN("SKIPPED: augustus-doc not installed (run scripts/setup): " << e.what());
    return;
  }
  auto d = GeneDataset::load(files);
  auto tr = compute_stats(d.train()), va = compute_stats(d.valid()), te = compute_stats(d.test());
  CHECK(tr.loci + va.loci == 486);
  CHECK(tr.nucleotides + va.nucleotides == 2655825);
  CHECK(te.loci == 100);
  CHECK(te.nucleotides == 625369);
  CHECK(va.loci == 49);  // FNV-1a-64(name) % 100 < 10
  CHECK(std::max(tr.max_length, std::max(va.max_length, te.max_length)) == 118333);
  CHECK(std::min(tr.min_length, std::min(va.min_length, te.min_length)) == 381);
  CHECK(tr.n_count + va.n_count + te.n_count == 0);
  const auto& r = d.label_report();
  CHECK(r.transcripts == 586);
  CHECK(r.stop_in_cds == 0);       // AUGUSTUS's GenBank CDS excludes the stop codon ...
  CHECK(r.stop_after_cds == 586);  // ... which always follows it
  CHECK(r.conflicting_nucleotides == 0);
  // Splice-site sanity: donors sit on GT and acceptors on AG (read on the gene's strand).
  std::size_t donors = 0, gt = 0, acceptors = 0, ag = 0;
  for (const auto* split : {&d.train(), &d.valid(), &d.test()})
    for (const auto& e : *split)
      for (std::size_t i = 1; i + 1 < e.labels.size(); ++i) {
        const std::string_view s = e.sequence;
        switch (e.labels[i]) {
          case gene_donor_fwd: ++donors; gt += s.substr(i, 2) == "GT"; break;
          case gene_acceptor_fwd: ++acceptors; ag += s.substr(i - 1, 2) == "AG"; break;
          case gene_donor_rev: ++donors; gt += reverse_complement(s.substr(i - 1, 2)) == "GT"; break;
          case gene_acceptor_rev: ++acceptors; ag += reverse_complement(s.substr(i, 2)) == "AG"; break;
          default: break;
        }
      }
  REQUIRE(donors > 1000);
  CHECK(acceptors == donors);
  CHECK(static_cast<double>(gt) / donors > 0.98);
  CHECK(static_cast<double>(ag) / acceptors > 0.98);
}

TEST_CASE("GeneDataset::from_examples keeps the splits and rejects a label/sequence mismatch", "[data][gene_dataset]") {
  const GeneExample a{"a", "ACGT", {8, 0, 0, 8}}, b{"b", "AC", {8, 8}}, c{"c", "G", {8}};
  const auto d = GeneDataset::from_examples({a, b}, {c}, {});
  CHECK(d.train().size() == 2);
  CHECK(d.split("valid").at(0).name == "c");
  CHECK(d.test().empty());
  CHECK_THROWS_AS(GeneDataset::from_examples({GeneExample{"bad", "ACG", {8, 8}}}, {}, {}), ShapeError);
}

TEST_CASE("label TSV: parse from memory and write to a stream, the same format as the files", "[data][gene_dataset]") {
  const std::vector<GeneExample> ex = {{"a", "ACGT", {0, 1, 2, 8}}, {"b", "", {}}};
  std::ostringstream out;
  write_label_tsv(out, ex);
  CHECK(out.str() == "a\tACGT\t0128\nb\t\t\n");
  CHECK(parse_label_tsv(out.str(), "m.tsv") == ex);
  CHECK_THROWS_WITH(parse_label_tsv("a\tAC\t0\n", "m.tsv"), Catch::Contains("m.tsv:1:"));
  std::ostringstream none;
  CHECK_THROWS_AS(write_label_tsv(none, {{"a b", "A", {0}}}), ShapeError);
  CHECK(none.str().empty());  // nothing written before the check
}
