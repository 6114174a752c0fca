// detail/output_paths.hpp: the path checks every program runs before it starts working.
#include "nucleo/detail/output_paths.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "data/temp_dir.hpp"

using namespace nucleo;
using nucleo::testing::TempDir;
namespace fs = std::filesystem;

TEST_CASE("same_file: existing files, links, and paths that do not exist yet", "[io][output_paths]") {
  TempDir dir;
  const auto a = dir.write("a.fa", ">a\nACGT\n");
  fs::create_directories(dir / "sub");
  CHECK(detail::same_file(a, a));
  CHECK(detail::same_file(a, dir / "sub" / ".." / "a.fa"));
  fs::create_symlink(a, dir / "link.fa");
  fs::create_hard_link(a, dir / "hard.fa");
  CHECK(detail::same_file(dir / "link.fa", a));
  CHECK(detail::same_file(dir / "hard.fa", a));
  CHECK_FALSE(detail::same_file(a, dir / "b.fa"));
  // not existing: the same place after resolving "..", "." and a symlinked directory
  fs::create_directory_symlink(dir / "sub", dir / "alias");
  CHECK(detail::same_file(dir / "sub" / "new.gff3", dir / "alias" / "new.gff3"));
  CHECK(detail::same_file(dir / "sub" / "new.gff3", dir / "sub" / "." / "x" / ".." / "new.gff3"));
  CHECK_FALSE(detail::same_file(dir / "sub" / "new.gff3", dir / "sub" / "new.tsv"));
  // a relative path and the absolute one
  const auto cwd = fs::current_path();
  fs::current_path(dir.path());
  const bool rel = detail::same_file("sub/new.gff3", dir / "sub" / "new.gff3");
  fs::current_path(cwd);
  CHECK(rel);
}

TEST_CASE("refuse_path_clashes: an output that is an input or another output is refused", "[io][output_paths]") {
  TempDir dir;
  const auto fa = dir.write("g.fa", ">a\nACGT\n"), ckpt = dir.write("m.ckpt", "x");
  const detail::RolePath in[] = {{"FASTA input", fa}, {"checkpoint", ckpt}};
  auto refuse = [&](fs::path gff, fs::path tsv) {
    const detail::RolePath out[] = {{"GFF3 output", gff}, {"TSV output", tsv}};
    detail::refuse_path_clashes(in, out);
  };
  CHECK_NOTHROW(refuse(dir / "g.gff3", dir / "g.tsv"));
  CHECK_NOTHROW(refuse(dir / "g.gff3", {}));  // no TSV asked for
  CHECK_THROWS_WITH(refuse(fa, {}), Catch::Contains("GFF3 output") && Catch::Contains("FASTA input") &&
                                         Catch::Contains("refusing to overwrite an input"));
  CHECK_THROWS_WITH(refuse(dir / "g.gff3", ckpt), Catch::Contains("TSV output") && Catch::Contains("checkpoint"));
  CHECK_THROWS_WITH(refuse(dir / "o.gff3", dir / "o.gff3"), Catch::Contains("are the same file"));
  CHECK_THROWS_WITH(refuse(dir / "o.gff3", dir / "." / "o.gff3"), Catch::Contains("are the same file"));
  CHECK_THROWS_AS(refuse(dir / "sub" / ".." / "g.fa", {}), ConfigError);
  CHECK(nucleo::testing::slurp(fa) == ">a\nACGT\n");
}

TEST_CASE("check_output_writable: a directory, a missing directory, a file as directory", "[io][output_paths]") {
  TempDir dir;
  CHECK_NOTHROW(detail::check_output_writable(dir / "out.gff3", "GFF3 output"));
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 0);  // the probe is gone
  CHECK_THROWS_WITH(detail::check_output_writable(dir.path(), "GFF3 output"), Catch::Contains("is a directory"));
  CHECK_THROWS_WITH(detail::check_output_writable(dir / "no" / "out.gff3", "GFF3 output"),
                    Catch::Contains("does not exist"));
  const auto file = dir.write("plain", "x");
  CHECK_THROWS_WITH(detail::check_output_writable(file / "out.gff3", "GFF3 output"),
                    Catch::Contains("is not a directory"));
  // a place where no file can be created: the OS reason is named, not guessed
  if (fs::exists("/proc/self")) {
    try {
      detail::check_output_writable("/proc/self/nucleo-out.gff3", "GFF3 output");
      FAIL("/proc/self accepted a new file");
    } catch (const IoError& e) {
      CHECK_THAT(e.what(), Catch::Contains("cannot create a file in '/proc/self'") &&
                               !Catch::Contains("does the directory exist"));
    }
  }
}

TEST_CASE("remove_stale_temporaries: only temporaries of processes that are gone", "[io][output_paths]") {
  TempDir dir;
  const pid_t gone = ::fork();
  if (gone == 0) std::_Exit(0);
  ::waitpid(gone, nullptr, 0);
  const auto stale = dir.write(fmt::format("out.gff3.tmp-{}-0", gone), "partial");
  const auto other = dir.write(fmt::format("other.tsv.tmp-{}-1", gone), "partial");
  const auto mine = dir.write(fmt::format("out.gff3.tmp-{}-2", ::getpid()), "in progress");
  const auto parent = dir.write(fmt::format("out.gff3.tmp-{}-3", ::getppid()), "in progress");
  const auto plain = dir.write("out.gff3.tmp-notapid", "user file");
  CHECK(detail::temporary_file_pid(fmt::format("last.ckpt.tmp-{}-12", gone)) == gone);
  CHECK(detail::temporary_file_pid("x.tmp-12") == -1);
  CHECK(detail::remove_stale_temporaries(dir.path(), "out.gff3.tmp-") == 1);  // the prefix limits it
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(other));
  CHECK(detail::remove_stale_temporaries(dir.path()) == 1);
  CHECK_FALSE(fs::exists(other));
  CHECK(fs::exists(mine));
  CHECK(fs::exists(parent));
  CHECK(fs::exists(plain));
}
