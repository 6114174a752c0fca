#include "nucleo/data/tokens.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace nucleo;

TEST_CASE("tokens: fixed ids A0 C1 G2 T3 N4 MASK5 PAD6", "[data][tokens]") {
  CHECK(tokens::vocab_size == 7);
  CHECK(tokens::encode('A') == 0);
  CHECK(tokens::encode('C') == 1);
  CHECK(tokens::encode('G') == 2);
  CHECK(tokens::encode('T') == 3);
  CHECK(tokens::encode('N') == 4);
  CHECK(tokens::mask == 5);
  CHECK(tokens::pad == 6);
  CHECK(tokens::decode(std::uint8_t{5}) == '*');
  CHECK(tokens::decode(std::uint8_t{6}) == '.');
}

TEST_CASE("tokens: encode is case-insensitive and maps every non-ACGT character to N", "[data][tokens]") {
  CHECK(tokens::encode("acgtACGT") == std::vector<std::uint8_t>{0, 1, 2, 3, 0, 1, 2, 3});
  CHECK(tokens::encode("NnRYKMSWBDHVU-.*x0 ") == std::vector<std::uint8_t>(19, tokens::N));
  CHECK(tokens::encode("").empty());
  // every byte value: only 8 letters are not N
  int non_n = 0;
  for (int c = 0; c < 256; ++c) non_n += tokens::encode(static_cast<char>(c)) != tokens::N;
  CHECK(non_n == 8);
}

TEST_CASE("tokens: decode inverts encode on ACGTN and rejects ids >= 7", "[data][tokens]") {
  const std::string s = "ACGTNNACGTTTGCA";
  CHECK(tokens::decode(tokens::encode(s)) == s);
  CHECK(tokens::decode(tokens::encode("acgtn")) == "ACGTN");
  CHECK(tokens::decode(std::vector<std::uint8_t>{0, 5, 6, 4}) == "A*.N");
  CHECK_THROWS_AS(tokens::decode(std::uint8_t{7}), ShapeError);
  CHECK_THROWS_AS(tokens::decode(std::vector<std::uint8_t>{0, 1, 200}), ShapeError);
}

TEST_CASE("tokens: BEND one-hot order A0 C1 G2 N3 T4 conversion swaps T and N", "[data][tokens]") {
  const auto ids = tokens::encode("ACGTN");
  CHECK(tokens::to_bend_ids(ids) == std::vector<std::uint8_t>{0, 1, 2, 4, 3});
  CHECK(tokens::from_bend_ids(std::vector<std::uint8_t>{0, 1, 2, 3, 4}) == tokens::encode("ACGNT"));
  for (std::uint8_t id = 0; id <= tokens::N; ++id) CHECK(tokens::from_bend_id(tokens::to_bend_id(id)) == id);
  CHECK_THROWS_AS(tokens::to_bend_id(tokens::mask), ShapeError);
  CHECK_THROWS_AS(tokens::to_bend_id(tokens::pad), ShapeError);
  CHECK_THROWS_AS(tokens::from_bend_id(5), ShapeError);
}
