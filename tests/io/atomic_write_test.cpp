// detail/atomic_write.hpp: every file nucleo writes (configs, results, TSV, GFF3, SVG) goes through it.
#include "nucleo/detail/atomic_write.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

using namespace nucleo;

namespace {
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
std::size_t entries(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}
}  // namespace

TEST_CASE("write_file_atomic: creates parents, replaces, leaves no temporary file", "[io][atomic_write]") {
  const auto dir = std::filesystem::temp_directory_path() / "nucleo_atomic_write_test";
  std::filesystem::remove_all(dir);
  const auto f = dir / "sub" / "a.txt";
  detail::write_file_atomic(f, "first\n");
  CHECK(slurp(f) == "first\n");
  detail::write_file_atomic(f, std::string("x\0y", 3));
  CHECK(slurp(f) == std::string("x\0y", 3));
  CHECK(entries(dir / "sub") == 1);

  SECTION("a writer that throws leaves the previous file and no temporary") {
    CHECK_THROWS_WITH(detail::write_file_atomically(f, [](std::ostream& o) {
                        o << "half";
                        throw std::runtime_error("interrupted");
                      }),
                      "interrupted");
    CHECK(slurp(f) == std::string("x\0y", 3));
    CHECK(entries(dir / "sub") == 1);
  }
  SECTION("a target that cannot be replaced is an IoError naming it, the temporary is removed") {
    std::filesystem::create_directories(dir / "sub" / "adir" / "inner");  // rename of a file over a non-empty directory fails
    CHECK_THROWS_AS(detail::write_file_atomic(dir / "sub" / "adir", "z"), IoError);
    CHECK_THROWS_WITH(detail::write_file_atomic(dir / "sub" / "adir", "z"), Catch::Contains("adir"));
    CHECK(entries(dir / "sub") == 2);
  }
  std::filesystem::remove_all(dir);
}
