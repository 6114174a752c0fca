#include "nucleo/data/sequence_utils.hpp"

#include <catch2/catch.hpp>

using namespace nucleo;

TEST_CASE("canonical_base upper-cases and maps non-ACGT letters to N", "[data][sequence_utils]") {
  CHECK(canonical_base('a') == 'A');
  CHECK(canonical_base('t') == 'T');
  CHECK(canonical_base('N') == 'N');
  CHECK(canonical_base('R') == 'N');
  CHECK(canonical_base('y') == 'N');
  CHECK(is_sequence_letter('x'));
  CHECK_FALSE(is_sequence_letter('-'));
  CHECK_FALSE(is_sequence_letter('1'));
}

TEST_CASE("reverse_complement: A<->T, C<->G, others -> N, reversed", "[data][sequence_utils]") {
  CHECK(reverse_complement("ACGTN") == "NACGT");
  CHECK(reverse_complement("aacg") == "CGTT");
  CHECK(reverse_complement("ARY") == "NNT");
  CHECK(reverse_complement("") == "");
  const std::string s = "GATTACACCGTN";
  CHECK(reverse_complement(reverse_complement(s)) == s);
}

TEST_CASE("BaseCounter counts replaced letters per letter", "[data][sequence_utils]") {
  BaseCounter c;
  std::string out;
  for (char ch : std::string("acgtNryR")) out.push_back(c.add(ch));
  CHECK(out == "ACGTNNNN");
  CHECK(c.replaced() == 3);
  CHECK(c.replaced('R') == 2);
  CHECK(c.replaced('Y') == 1);
  CHECK(c.summary() == "R:2 Y:1");
  BaseCounter d;
  d.add('k');
  d.merge(c);
  CHECK(d.replaced() == 4);
  CHECK(d.summary() == "K:1 R:2 Y:1");
}
