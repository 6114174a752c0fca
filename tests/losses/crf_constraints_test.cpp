#include "nucleo/losses/crf_constraints.hpp"

#include <catch2/catch.hpp>

#include "support/allowed_set.hpp"

#include <set>
#include <utility>

using namespace nucleo;
using nucleo::testing::allowed_set;

TEST_CASE("CrfConstraints: from_labels allows exactly the observed transitions", "[losses][crf_constraints]") {
  Labels y(3, 8);
  y << 0, 0, 1, 1, 2, -100, 0, 2,        // 0->0, 0->1, 1->1, 1->2; -100 breaks 2->0; 0->2
       2, 1, 99, 99, 99, 99, 99, 99,     // 2->1; positions >= length 2 are ignored (even invalid labels)
       -100, -100, -100, -100, -100, -100, -100, -100;
  const std::vector<Index> lengths{8, 2, 8};
  const CrfConstraints c = CrfConstraints::from_labels(y, 3, lengths);
  CHECK(allowed_set(c) == std::set<std::pair<int, int>>{{0, 0}, {0, 1}, {1, 1}, {1, 2}, {0, 2}, {2, 1}});
  CHECK(c.allowed_transition_count() == 6);
  for (int t = 0; t < 3; ++t) {  // boundaries: any by default
    CHECK(c.start_allowed(t));
    CHECK(c.end_allowed(t));
  }
  const CrfConstraints o = CrfConstraints::from_labels(y, 3, lengths, CrfBoundaries::observed);
  CHECK(allowed_set(o) == allowed_set(c));
  CHECK(o.start_allowed(0));
  CHECK(o.start_allowed(2));
  CHECK_FALSE(o.start_allowed(1));
  CHECK(o.end_allowed(2));  // sequence 0 ends with 2
  CHECK(o.end_allowed(1));  // sequence 1 ends (length 2) with 1
  CHECK_FALSE(o.end_allowed(0));
  // The derived set accepts its own labels.
  CHECK(c.violations(y, lengths).empty());
  CHECK(o.violations(y, lengths).empty());
}

TEST_CASE("CrfConstraints: labels out of range are rejected with their position", "[losses][crf_constraints]") {
  Labels y(1, 3);
  y << 0, 3, 1;
  CHECK_THROWS_WITH(CrfConstraints::from_labels(y, 3), Catch::Contains("label 3") && Catch::Contains("position 1"));
  CHECK_THROWS_AS(CrfConstraints::forbid_all(0), ConfigError);
  CHECK_THROWS_AS(CrfConstraints::allow_all(2).allow(0, 2), ShapeError);
}

TEST_CASE("CrfConstraints: violations name sequence, position and tags", "[losses][crf_constraints]") {
  CrfConstraints c = CrfConstraints::allow_all(3);
  c.forbid(0, 2).allow_start(1, false).allow_end(2, false);
  Labels y(2, 4);
  y << 0, 2, -100, 2,   // 0->2 at position 1 forbidden; 2 -> -100 -> 2 is not a transition; ends with 2
       1, 0, 0, 1;      // starts with forbidden 1
  const auto v = c.violations(y);
  REQUIRE(v.size() == 3);
  CHECK(v[0].sequence == 0);
  CHECK(v[0].position == 1);
  CHECK(v[0].from == 0);
  CHECK(v[0].to == 2);
  CHECK(v[1].from == 2);
  CHECK(v[1].to == -1);  // forbidden end tag
  CHECK(v[2].sequence == 1);
  CHECK(v[2].from == -1);
  CHECK(v[2].to == 1);
  CHECK_THAT(v[0].describe(), Catch::Contains("0 -> 2"));
  CHECK(CrfConstraints().violations(y).empty());  // empty set = no constraints
}

TEST_CASE("CrfConstraints: union and equality", "[losses][crf_constraints]") {
  CrfConstraints a = CrfConstraints::forbid_all(3), b = CrfConstraints::forbid_all(3);
  a.allow(0, 1);
  b.allow(1, 2).allow_start(0, false);
  const CrfConstraints u = a | b;
  CHECK(allowed_set(u) == std::set<std::pair<int, int>>{{0, 1}, {1, 2}});
  CHECK(u.start_allowed(0));  // a allows it
  CHECK((a | CrfConstraints()).empty());
  CHECK(a != b);
  CHECK(a == (CrfConstraints::forbid_all(3).allow(0, 1)));
  CHECK_THROWS_AS(a |= CrfConstraints::forbid_all(4), ShapeError);
}
