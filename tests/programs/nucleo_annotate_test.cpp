// nucleo-annotate as a user runs it: outputs that would overwrite an input, pipes as input, empty
// input, unwritable outputs, Ctrl-C. The checkpoint is a random TinyEncoder gene model.
#include <catch2/catch.hpp>

#include "data/temp_dir.hpp"
#include "nucleo_apps/annotate.hpp"
#include "programs/program_runner.hpp"

using namespace nucleo;
using namespace nucleo::apps;
using namespace nucleo::testing;
namespace fs = std::filesystem;

namespace {

fs::path tiny_checkpoint(const TempDir& dir) {
  GeneModel<TinyEncoder<float>> m(true, Activation::gelu);
  Rng rng(7);
  m.init(rng);
  CheckpointMeta meta;
  meta.model_type = "GeneModel+CRF";
  meta.config = {{"model", "tiny"}, {"head_activation", "gelu"}};
  save_checkpoint(dir / "gene.ckpt", m, meta);
  return dir / "gene.ckpt";
}

std::string random_fasta(std::uint64_t seed, int records, int length) {
  Rng rng(seed);
  std::string s;
  for (int r = 0; r < records; ++r) {
    s += ">seq" + std::to_string(r) + "\n";
    for (int i = 0; i < length; ++i) {
      s += "ACGT"[rng.uniform_int(4)];
      if (i % 60 == 59) s += '\n';
    }
    s += '\n';
  }
  return s;
}

}  // namespace

TEST_CASE("nucleo-annotate: an output that is an input or the other output: exit 2, nothing written",
          "[programs][annotate][reliability]") {
  TempDir dir;
  const auto ckpt = tiny_checkpoint(dir);
  const auto fasta = dir.write("in.fa", random_fasta(1, 1, 300));
  const std::string fasta_bytes = read_file(fasta), ckpt_bytes = read_file(ckpt);
  const std::vector<std::vector<std::string>> clashes = {
      {"--out", fasta.string()},                                  // --out X where X is the FASTA
      {"--out", (dir / "o.gff3").string(), "--tsv", fasta.string()},
      {"--out", ckpt.string()},                                   // ... or the checkpoint
      {"--out", (dir / "o.gff3").string(), "--tsv", ckpt.string()},
      {"--out", (dir / "o.gff3").string(), "--tsv", (dir / "." / "o.gff3").string()}};  // --out = --tsv
  for (const auto& extra : clashes) {
    std::vector<std::string> args = {"--checkpoint", ckpt.string(), "--fasta", fasta.string(), "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    INFO(extra[1]);
    const auto r = run_program("nucleo-annotate", args, dir.path());
    CHECK(r.exit_code() == 2);
    CHECK_THAT(r.err, Catch::Contains("nothing was written"));
  }
  CHECK(read_file(fasta) == fasta_bytes);
  CHECK(read_file(ckpt) == ckpt_bytes);
  CHECK_FALSE(fs::exists(dir / "o.gff3"));
}

TEST_CASE("nucleo-annotate: /dev/stdin from a pipe, plain and gzip, is annotated (not an empty GFF3)",
          "[programs][annotate][reliability]") {
  TempDir dir;
  const auto ckpt = tiny_checkpoint(dir);
  const std::string text = random_fasta(2, 3, 500);
  for (const bool gz : {false, true}) {
    INFO("gzip " << gz);
    const auto out = dir / "stdin.gff3";
    const auto r = run_program("nucleo-annotate",
                               {"--checkpoint", ckpt.string(), "--fasta", "/dev/stdin", "--out", out.string(), "--tsv",
                                (dir / "stdin.tsv").string()},
                               dir.path(), gz ? read_file(dir.write_gz("in.fa.gz", text)) : text);
    CHECK(r.exit_code() == 0);
    INFO(r.err);
    CHECK_THAT(r.err, Catch::Contains("3 sequences, 1500 nt"));
    const std::string gff = read_file(out);
    for (const char* s : {"##sequence-region seq0 1 500", "##sequence-region seq1 1 500", "##sequence-region seq2 1 500"})
      CHECK_THAT(gff, Catch::Contains(s));
    CHECK(read_label_tsv(dir / "stdin.tsv").size() == 3);
  }
}

TEST_CASE("nucleo-annotate: empty input, an output directory, an unwritable place, --threads -1",
          "[programs][annotate][reliability]") {
  TempDir dir;
  const auto ckpt = tiny_checkpoint(dir);
  const auto fasta = dir.write("in.fa", random_fasta(3, 1, 200));
  auto annotate = [&](const std::string& in, const std::string& out, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"--checkpoint", ckpt.string(), "--fasta", in, "--out", out, "--quiet"};
    args.insert(args.end(), more.begin(), more.end());
    return run_program("nucleo-annotate", args, dir.path());
  };
  // an empty FASTA: used to say "0 sequences" and exit 0
  auto r = annotate(dir.write("empty.fa", "").string(), (dir / "e.gff3").string());
  CHECK(r.exit_code() == 1);
  CHECK_THAT(r.err, Catch::Contains("no FASTA record"));
  CHECK_FALSE(fs::exists(dir / "e.gff3"));
  r = run_program("nucleo-annotate", {"--checkpoint", ckpt.string(), "--fasta", "/dev/stdin", "--out",
                                      (dir / "e.gff3").string(), "--quiet"},
                  dir.path(), "");
  CHECK(r.exit_code() == 1);
  CHECK_THAT(r.err, Catch::Contains("no FASTA record"));
  // --out DIR fails at once, before the model is loaded
  fs::create_directories(dir / "outdir");
  r = annotate(fasta.string(), (dir / "outdir").string());
  CHECK(r.exit_code() == 1);
  CHECK_THAT(r.err, Catch::Contains("is a directory"));
  CHECK_THAT(r.err, !Catch::Contains("nucleo-annotate: model"));
  // a place where no file can be created: the reason, not a guess
  r = annotate(fasta.string(), "/proc/self/x.gff3");
  CHECK(r.exit_code() == 1);
  CHECK_THAT(r.err, Catch::Contains("cannot create a file") && !Catch::Contains("does the directory exist"));
  // --threads -1 is refused here as in nucleo-gene-finding
  r = annotate(fasta.string(), (dir / "t.gff3").string(), {"--threads", "-1"});
  CHECK(r.exit_code() == 2);
  CHECK_THAT(r.err, Catch::Contains("--threads must be >= 0"));
}

TEST_CASE("nucleo-annotate: Ctrl-C stops at the next chunk, exit 130, no output and no temporary file",
          "[programs][annotate][reliability][signals]") {
  TempDir dir;
  const auto ckpt = tiny_checkpoint(dir);
  const auto fasta = dir.write("big.fa", random_fasta(4, 40, 50000));  // 2 Mb: seconds of work
  Background b("nucleo-annotate",
               {"--checkpoint", ckpt.string(), "--fasta", fasta.string(), "--out", (dir / "b.gff3").string(), "--tsv",
                (dir / "b.tsv").string(), "--chunk", "20000", "--chunk-overlap", "1000", "--threads", "1"},
               dir.path());
  REQUIRE(b.wait_for([&] { return b.err().find("nt/s") != std::string::npos; }));  // predicting
  b.signal(SIGINT);
  const auto r = b.finish();
  CHECK(r.exit_code() == 130);
  CHECK_THAT(r.err, Catch::Contains("interrupted by SIGINT") && Catch::Contains("nothing was written"));
  CHECK_FALSE(fs::exists(dir / "b.gff3"));
  CHECK_FALSE(fs::exists(dir / "b.tsv"));
  for (const auto& e : fs::directory_iterator(dir.path()))
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
}
