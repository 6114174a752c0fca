// Annotation wiring: a TinyEncoder GeneModel (random init, CRF) saved as a fine-tuned checkpoint,
// then annotate_fasta on a 2-record FASTA (one record longer than the chunk): the GFF3 parses with
// nucleo's reader and is consistent, the TSV reads back, and the labels equal GeneModel::predict.
#include "nucleo_apps/annotate.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/temp_dir.hpp"
#include "nucleo/genes/gene_dataset.hpp"
#include "nucleo/data/gff.hpp"

using namespace nucleo;
using namespace nucleo::apps;
using nucleo::testing::TempDir;

namespace {

using Model = GeneModel<TinyEncoder<float>>;

std::string random_dna(Rng& rng, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s.push_back("ACGT"[rng.uniform_int(4)]);
  return s;
}

// Random init; the classifier's output bias is shifted so the Viterbi path visits genes.
Model make_model(bool crf) {
  Model m(crf, Activation::gelu);
  Rng rng(7);
  m.init(rng);
  m.net().visit_params([](std::string_view name, Param<float>& p) {
    if (name == "1.4.bias") {
      REQUIRE(p.value.size() == 9);
      for (int k = 0; k < 9; ++k) p.value[k] = (k == 0 || k == 4) ? 1.0f : (k == 2 || k == 6) ? 0.5f : 0.0f;
    }
  });
  return m;
}

std::filesystem::path save_gene_checkpoint(const TempDir& dir, Model& m, const std::string& name) {
  CheckpointMeta meta;
  meta.model_type = m.uses_crf() ? "GeneModel+CRF" : "GeneModel";
  meta.config = {{"model", "tiny"}, {"head_activation", "gelu"}};
  const auto path = dir / name;
  save_checkpoint(path, m, meta);
  return path;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> cols;
  std::size_t p = 0;
  for (;;) {
    const std::size_t t = line.find('\t', p);
    cols.push_back(line.substr(p, t == std::string::npos ? std::string::npos : t - p));
    if (t == std::string::npos) break;
    p = t + 1;
  }
  return cols;
}

std::size_t temp_files(const TempDir& dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    n += e.path().filename().string().find(".tmp-") != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("annotate: CRF checkpoint -> GFF3 + TSV on a chunked FASTA", "[pipeline][annotate]") {
  TempDir dir;
  Model model = make_model(true);
  const auto ckpt = save_gene_checkpoint(dir, model, "gene.ckpt");

  Rng rng(11);
  const std::string seq_a = random_dna(rng, 2600), seq_b = random_dna(rng, 300);
  std::string lower_b = seq_b;
  std::transform(lower_b.begin(), lower_b.end(), lower_b.begin(), [](char c) { return static_cast<char>(c + 32); });
  const auto fasta = dir.write("in.fa", ">chrA first\n" + seq_a.substr(0, 1000) + "\n" + seq_a.substr(1000) +
                                            "\n\n>chrB\n" + lower_b + "\n");

  CpuContext ctx(2);
  AnnotateOptions opt;
  opt.predict.chunk = 1000;  // chrA: 3 chunks
  opt.predict.chunk_overlap = 200;
  std::vector<AnnotateProgress> seen;
  opt.progress = [&](const AnnotateProgress& p) { seen.push_back(p); };
  const auto gff = dir / "out.gff3", tsv = dir / "out.tsv";
  const AnnotateSummary sum = annotate_fasta(ctx, ckpt, fasta, gff, tsv, opt);

  CHECK(sum.sequences == 2);
  CHECK(sum.nucleotides == 2900);
  CHECK(sum.crf);
  CHECK(temp_files(dir) == 0);
  REQUIRE(seen.size() >= 4);  // chrA: 2 intermediate chunks + end, chrB: end
  for (std::size_t i = 0; i < seen.size(); ++i) {
    CHECK(seen[i].nt_total == 2900);
    if (i) CHECK(seen[i].nt_done > seen[i - 1].nt_done);
  }
  CHECK(seen.back().nt_done == 2900);
  CHECK(seen.back().records_done == 2);

  // TSV: reads back, sequences as in the FASTA (upper case), one label per nucleotide, and the
  // labels are exactly what GeneModel::predict gives for the same chunk plan.
  const auto rows = read_label_tsv(tsv);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].name == "chrA");
  CHECK(rows[0].sequence == seq_a);
  CHECK(rows[1].name == "chrB");
  CHECK(rows[1].sequence == seq_b);
  CHECK(rows[0].labels.size() == 2600);
  CHECK(rows[1].labels.size() == 300);
  ctx.set_training(false);
  GenePredictOptions po = opt.predict;
  CHECK(model.predict(ctx, tokens::encode(seq_a), po).labels == rows[0].labels);
  CHECK(model.predict(ctx, tokens::encode(seq_b), po).labels == rows[1].labels);

  // GFF3: 9 columns, unique IDs, CDS inside their mRNA/gene, coordinates within the sequence,
  // scores in [0, 1], phases 0..2, one sequence-region per record.
  const std::string text = nucleo::testing::slurp(gff);
  CHECK(text.rfind("##gff-version 3\n# nucleo ", 0) == 0);
  CHECK(text.find("##sequence-region chrA 1 2600\n") != std::string::npos);
  CHECK(text.find("##sequence-region chrB 1 300\n") != std::string::npos);
  const std::map<std::string, long> length = {{"chrA", 2600}, {"chrB", 300}};
  std::map<std::string, std::array<long, 2>> span;  // gene/mRNA ID -> [start, end]
  std::map<std::string, std::string> parent;
  std::set<std::string> ids;
  std::size_t genes = 0, cds = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto c = split_tabs(line);
    REQUIRE(c.size() == 9);
    const long a = std::stol(c[3]), b = std::stol(c[4]);
    CHECK(1 <= a);
    CHECK(a <= b);
    CHECK(b <= length.at(c[0]));
    const double score = std::stod(c[5]);
    CHECK((score >= 0.0 && score <= 1.0));
    CHECK((c[6] == "+" || c[6] == "-"));
    const auto id = nucleo::detail::gff_attribute(c[8], "ID"), par = nucleo::detail::gff_attribute(c[8], "Parent");
    REQUIRE(id.size() == 1);
    CHECK(ids.insert(id[0]).second);
    if (c[2] == "gene") {
      ++genes;
      CHECK(c[7] == ".");
      span[id[0]] = {a, b};
    } else {
      REQUIRE(par.size() == 1);
      REQUIRE(span.count(par[0]) == 1);  // parent written before its children
      CHECK(span[par[0]][0] <= a);
      CHECK(b <= span[par[0]][1]);
      if (c[2] == "mRNA") {
        span[id[0]] = {a, b};
        parent[id[0]] = par[0];
      } else {
        REQUIRE(c[2] == "CDS");
        ++cds;
        CHECK((c[7] == "0" || c[7] == "1" || c[7] == "2"));
        CHECK(parent.count(par[0]) == 1);
      }
    }
  }
  CHECK(genes == sum.gff.genes);
  CHECK(cds == sum.gff.cds);
  CHECK(genes > 0);  // the biased head does produce genes: the checks above are not vacuous

  // nucleo's GFF reader takes the file; the transcripts are the gene models of the TSV labels.
  GffOptions go;
  go.keep_unannotated = true;
  const auto loci = read_gff(gff, fasta, go);
  REQUIRE(loci.size() == 2);
  for (std::size_t r = 0; r < 2; ++r) {
    const auto models = genes_from_labels(rows[r].labels);
    REQUIRE(loci[r].transcripts.size() == models.size());
    for (std::size_t g = 0; g < models.size(); ++g) {
      CHECK(loci[r].transcripts[g].strand == models[g].strand);
      CHECK(loci[r].transcripts[g].cds == models[g].cds);
    }
  }
}

TEST_CASE("annotate: the grammar decoder, chunked as GeneModel::predict chunks", "[pipeline][annotate]") {
  TempDir dir;
  Model model = make_model(true);
  const auto ckpt = save_gene_checkpoint(dir, model, "gene.ckpt");
  Rng rng(12);
  const std::string seq_a = random_dna(rng, 2600), seq_b = random_dna(rng, 400);
  const auto fasta = dir.write("in.fa", ">chrA\n" + seq_a + "\n>chrB\n" + seq_b + "\n");
  CpuContext ctx(2);
  AnnotateOptions opt;
  opt.predict.chunk = 1000;  // chrA: 3 chunks, chrB: one
  opt.predict.chunk_overlap = 200;
  opt.predict.decoder = GeneDecoder::grammar;
  opt.predict.grammar.deep_intron_penalty = 5.0;  // deep intron states across chunk boundaries too
  const auto gff = dir / "out.gff3", tsv = dir / "out.tsv";
  annotate_fasta(ctx, ckpt, fasta, gff, tsv, opt);
  const auto rows = read_label_tsv(tsv);
  REQUIRE(rows.size() == 2);
  ctx.set_training(false);
  CHECK(model.predict(ctx, tokens::encode(seq_a), opt.predict).labels == rows[0].labels);
  CHECK(model.predict(ctx, tokens::encode(seq_b), opt.predict).labels == rows[1].labels);
  // A record decoded in one piece is a gene structure that starts and ends outside genes.
  const GeneGrammarDecoder rules(GeneGrammarOptions{.noncoding_start = true, .noncoding_end = true});
  CHECK_FALSE(rules.first_violation(tokens::encode(seq_b), rows[1].labels).has_value());
  CHECK_THAT(nucleo::testing::slurp(gff), Catch::Contains("gene-grammar Viterbi on the CRF, deep_intron_penalty 5,"));
}

TEST_CASE("annotate: --no-crf, pretraining checkpoints and bad input", "[pipeline][annotate]") {
  TempDir dir;
  Model model = make_model(true);
  const auto ckpt = save_gene_checkpoint(dir, model, "gene.ckpt");
  Rng rng(3);
  const std::string seq = random_dna(rng, 400);
  const auto fasta = dir.write("in.fa", ">s1\n" + seq + "\n");
  CpuContext ctx(1);

  SECTION("use_crf = false loads the CRF checkpoint without its CRF and decodes by argmax") {
    AnnotateOptions opt;
    opt.use_crf = false;
    const auto sum = annotate_fasta(ctx, ckpt, fasta, dir / "a.gff3", dir / "a.tsv", opt);
    CHECK_FALSE(sum.crf);
    Model plain = make_model(false);
    ctx.set_training(false);
    CHECK(read_label_tsv(dir / "a.tsv")[0].labels == plain.predict(ctx, tokens::encode(seq)).labels);
    CHECK(nucleo::testing::slurp(dir / "a.gff3").find("argmax, CRF not used") != std::string::npos);
  }
  SECTION("an MLM checkpoint is refused") {
    MlmNet<TinyEncoder<float>> mlm;
    Rng r(1);
    mlm.get<0>().init(r);
    mlm.get<1>().init(r);
    CheckpointMeta meta;
    meta.model_type = "MlmNet";
    meta.config = {{"model", "tiny"}};
    save_checkpoint(dir / "mlm.ckpt", mlm, meta);
    try {
      annotate_fasta(ctx, dir / "mlm.ckpt", fasta, dir / "b.gff3");
      FAIL("no error");
    } catch (const ConfigError& e) {
      CHECK(std::string(e.what()).find("this is a pretraining checkpoint; fine-tune it first") != std::string::npos);
    }
    CHECK_FALSE(std::filesystem::exists(dir / "b.gff3"));
  }
  SECTION("a checkpoint whose config names another size fails to load by name/shape") {
    CheckpointMeta meta;
    meta.model_type = "GeneModel+CRF";
    meta.config = {{"model", "small"}};
    save_checkpoint(dir / "wrong.ckpt", model, meta);
    CHECK_THROWS(annotate_fasta(ctx, dir / "wrong.ckpt", fasta, dir / "c.gff3"));
    meta.config = {{"head_activation", "gelu"}};
    save_checkpoint(dir / "nosize.ckpt", model, meta);
    CHECK_THROWS_AS(annotate_fasta(ctx, dir / "nosize.ckpt", fasta, dir / "c.gff3"), ConfigError);
  }
  SECTION("missing files and a bad FASTA leave no output") {
    CHECK_THROWS_AS(annotate_fasta(ctx, dir / "none.ckpt", fasta, dir / "d.gff3"), IoError);
    CHECK_THROWS_AS(annotate_fasta(ctx, ckpt, dir / "none.fa", dir / "d.gff3"), IoError);
    const auto bad = dir.write("bad.fa", ">s1\nACGT\nAC5T\n");
    try {
      annotate_fasta(ctx, ckpt, bad, dir / "d.gff3", dir / "d.tsv");
      FAIL("no error");
    } catch (const ParseError& e) {
      CHECK(e.line() == 3);
    }
    const auto dup = dir.write("dup.fa", ">s1\nACGT\n>s1\nACGT\n");
    CHECK_THROWS_AS(annotate_fasta(ctx, ckpt, dup, dir / "d.gff3"), ParseError);
    AnnotateOptions no_count;  // without the counting pass the error comes mid-stream
    no_count.count_total = false;
    CHECK_THROWS_AS(annotate_fasta(ctx, ckpt, bad, dir / "d.gff3", dir / "d.tsv", no_count), ParseError);
    CHECK_FALSE(std::filesystem::exists(dir / "d.gff3"));
    CHECK_FALSE(std::filesystem::exists(dir / "d.tsv"));
    CHECK(temp_files(dir) == 0);
  }
}

TEST_CASE("annotate: CRF constraints round trip through the checkpoint config", "[pipeline][annotate]") {
  CrfConstraints c = gene_structure_constraints();
  c.allow(gene_exon_fwd, gene_exon_rev).allow_start(gene_intron_fwd, false);
  CHECK(crf_constraints_from_json(crf_constraints_to_json(c)) == c);
  CHECK(crf_constraints_from_json(nullptr).empty());
  CHECK_THROWS_AS(crf_constraints_from_json(nlohmann::json{{"num_tags", 9}}), ConfigError);
}

/// The setting of the reliability tests below: a directory, a CRF checkpoint, a one-thread context.
struct AnnotateFixture {
  TempDir dir;
  Model model = make_model(true);
  std::filesystem::path ckpt = save_gene_checkpoint(dir, model, "gene.ckpt");
  CpuContext ctx{1};
};

TEST_CASE_METHOD(AnnotateFixture, "annotate: an output that is an input or the other output is refused, and nothing is written",
          "[pipeline][annotate][reliability]") {
  Rng rng(5);
  const auto fasta = dir.write("in.fa", ">s1\n" + random_dna(rng, 300) + "\n");
  const std::string fasta_bytes = nucleo::testing::slurp(fasta), ckpt_bytes = nucleo::testing::slurp(ckpt);
  std::filesystem::create_directories(dir / "sub");
  // used to replace the input and exit 0
  CHECK_THROWS_WITH(annotate_fasta(ctx, ckpt, fasta, fasta), Catch::Contains("GFF3 output") &&
                                                                  Catch::Contains("FASTA input") &&
                                                                  Catch::Contains("refusing to overwrite an input"));
  CHECK_THROWS_AS(annotate_fasta(ctx, ckpt, fasta, dir / "sub" / ".." / "in.fa"), ConfigError);
  CHECK_THROWS_WITH(annotate_fasta(ctx, ckpt, fasta, dir / "o.gff3", ckpt), Catch::Contains("TSV output") &&
                                                                                  Catch::Contains("checkpoint"));
  CHECK_THROWS_WITH(annotate_fasta(ctx, ckpt, fasta, ckpt), Catch::Contains("checkpoint"));
  CHECK_THROWS_WITH(annotate_fasta(ctx, ckpt, fasta, dir / "o.gff3", dir / "o.gff3"),
                    Catch::Contains("are the same file"));
  std::filesystem::create_symlink(fasta, dir / "link.gff3");
  CHECK_THROWS_AS(annotate_fasta(ctx, ckpt, fasta, dir / "link.gff3"), ConfigError);
  CHECK(nucleo::testing::slurp(fasta) == fasta_bytes);
  CHECK(nucleo::testing::slurp(ckpt) == ckpt_bytes);
  CHECK_FALSE(std::filesystem::exists(dir / "o.gff3"));
  CHECK(temp_files(dir) == 0);
}

TEST_CASE_METHOD(AnnotateFixture, "annotate: an unwritable output fails before any work", "[pipeline][annotate][reliability]") {
  Rng rng(6);
  const auto fasta = dir.write("in.fa", ">s1\n" + random_dna(rng, 300) + "\n");
  AnnotateOptions opt;
  bool worked = false;
  opt.progress = [&](const AnnotateProgress&) { worked = true; };
  std::filesystem::create_directories(dir / "outdir");
  CHECK_THROWS_WITH(annotate_fasta(ctx, ckpt, fasta, dir / "outdir", {}, opt), Catch::Contains("is a directory"));
  CHECK_THROWS_WITH(annotate_fasta(ctx, ckpt, fasta, dir / "o.gff3", dir / "no" / "o.tsv", opt),
                    Catch::Contains("does not exist"));
  CHECK_FALSE(worked);  // the old code predicted every record first, then failed at the rename
  CHECK_FALSE(std::filesystem::exists(dir / "o.gff3"));
}

TEST_CASE_METHOD(AnnotateFixture, "annotate: a FIFO or pipe is read once, and a regular file that changes between passes is an error",
          "[pipeline][annotate][reliability]") {
  Rng rng(8);
  const std::string a = random_dna(rng, 700), b = random_dna(rng, 200);
  const std::string text = ">a\n" + a + "\n>b\n" + b + "\n";

  SECTION("a named FIFO (used to hang: the second pass waited for a writer)") {
    const auto fifo = dir / "in.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::thread writer([&] { std::ofstream(fifo, std::ios::binary) << text; });
    AnnotateOptions opt;
    std::int64_t total_seen = 0;
    opt.progress = [&](const AnnotateProgress& p) { total_seen = p.nt_total; };
    const auto sum = annotate_fasta(ctx, ckpt, fifo, dir / "f.gff3", dir / "f.tsv", opt);
    writer.join();
    CHECK(sum.sequences == 2);
    CHECK(sum.nucleotides == 900);
    CHECK(total_seen == -1);  // one pass: no total
    const auto rows = read_label_tsv(dir / "f.tsv");
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].sequence == a);
    CHECK(rows[1].sequence == b);
  }
  SECTION("the file shrinks after the first pass") {
    std::string big;  // larger than the reader's buffers, so the second pass reads the new content
    std::vector<std::string> seqs;
    for (int r = 0; r < 6; ++r) {
      seqs.push_back(random_dna(rng, 60000));
      big += ">r" + std::to_string(r) + "\n" + seqs.back() + "\n";
    }
    const auto fasta = dir.write("in.fa", big);
    AnnotateOptions opt;
    opt.predict.window.window = 4096;
    bool cut = false;
    opt.progress = [&](const AnnotateProgress& p) {
      if (!cut && p.records_done == 1) {  // after the first record, another program rewrites the file
        cut = true;
        std::ofstream(fasta, std::ios::binary | std::ios::trunc) << ">r0\n" << seqs[0] << "\n";
      }
    };
    CHECK_THROWS_WITH(annotate_fasta(ctx, ckpt, fasta, dir / "c.gff3", {}, opt),
                      Catch::Contains("changed while being read"));
    CHECK(cut);
    CHECK_FALSE(std::filesystem::exists(dir / "c.gff3"));
  }
}

TEST_CASE_METHOD(AnnotateFixture, "annotate: an empty FASTA is an error, not '0 sequences'", "[pipeline][annotate][reliability]") {
  for (const char* text : {"", "\n\n"}) {
    const auto fasta = dir.write("empty.fa", text);
    CHECK_THROWS_WITH(annotate_fasta(ctx, ckpt, fasta, dir / "e.gff3"),
                      Catch::Contains("empty.fa") && Catch::Contains("no FASTA record"));
    AnnotateOptions one_pass;
    one_pass.count_total = false;
    CHECK_THROWS_WITH(annotate_fasta(ctx, ckpt, fasta, dir / "e.gff3", {}, one_pass), Catch::Contains("no FASTA record"));
    CHECK_FALSE(std::filesystem::exists(dir / "e.gff3"));
  }
}

TEST_CASE_METHOD(AnnotateFixture, "annotate: old Mac line ends give the records, not one record named by its sequence",
          "[pipeline][annotate][reliability]") {
  Rng rng(9);
  const std::string a = random_dna(rng, 300), b = random_dna(rng, 120);
  const auto fasta = dir.write("mac.fa", ">a\r" + a.substr(0, 100) + "\r" + a.substr(100) + "\r>b\r" + b + "\r");
  const auto sum = annotate_fasta(ctx, ckpt, fasta, dir / "m.gff3", dir / "m.tsv");
  CHECK(sum.sequences == 2);
  const auto rows = read_label_tsv(dir / "m.tsv");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].name == "a");
  CHECK(rows[0].sequence == a);
  CHECK(rows[1].sequence == b);
}

TEST_CASE_METHOD(AnnotateFixture, "annotate: temporaries of a killed run are removed at the next start", "[pipeline][annotate][reliability]") {
  Rng rng(10);
  const auto fasta = dir.write("in.fa", ">s\n" + random_dna(rng, 200) + "\n");
  const pid_t gone = ::fork();
  if (gone == 0) std::_Exit(0);
  ::waitpid(gone, nullptr, 0);
  dir.write(fmt::format("o.gff3.tmp-{}-0", gone), "half a GFF3");
  dir.write(fmt::format("o.tsv.tmp-{}-1", gone), "half a TSV");
  annotate_fasta(ctx, ckpt, fasta, dir / "o.gff3", dir / "o.tsv");
  CHECK(temp_files(dir) == 0);
}
