#include "nucleo/core/error.hpp"

#include <catch2/catch.hpp>

TEST_CASE("ParseError names file and line", "[core][error]") {
  nucleo::ParseError e("genes.gb", 12, "expected 'ORIGIN'");
  CHECK(std::string(e.what()) == "genes.gb:12: expected 'ORIGIN'");
  CHECK(e.line() == 12);
  nucleo::ParseError whole("x.fa", 0, "empty file");
  CHECK(std::string(whole.what()) == "x.fa: empty file");
}

TEST_CASE("NUCLEO_CHECK throws ShapeError with the formatted message", "[core][error]") {
  auto f = [](int c) { NUCLEO_CHECK(c == 4, "expected 4 channels, got {}", c); };
  CHECK_NOTHROW(f(4));
  CHECK_THROWS_AS(f(3), nucleo::ShapeError);
  CHECK_THROWS_WITH(f(3), "expected 4 channels, got 3");
}
