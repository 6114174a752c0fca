#include "nucleo/optim/lr_schedule.hpp"

#include <catch2/catch.hpp>

using namespace nucleo;

TEST_CASE("LrSchedule: constant, with and without warm-up", "[optim][lr_schedule]") {
  const auto c = LrSchedule::constant(0.01);
  CHECK(c(0) == 0.01);
  CHECK(c(1000000) == 0.01);
  const auto w = LrSchedule::constant(0.01, 4);
  CHECK(w(0) == Approx(0.0025));
  CHECK(w(3) == Approx(0.01));
  CHECK(w(50) == Approx(0.01));
}

TEST_CASE("LrSchedule: warm-up then cosine decay to a floor", "[optim][lr_schedule]") {
  const auto s = LrSchedule::cosine(1.0, 10, 110, 0.1);
  CHECK(s(0) == Approx(0.1));   // (0+1)/10
  CHECK(s(4) == Approx(0.5));
  CHECK(s(9) == Approx(1.0));
  CHECK(s(10) == Approx(1.0));  // decay starts: p = 0
  CHECK(s(60) == Approx(0.55)); // p = 0.5: 0.1 + 0.9 * 0.5
  CHECK(s(85) == Approx(0.1 + 0.9 * 0.5 * (1 + std::cos(3.141592653589793 * 0.75))));
  CHECK(s(110) == Approx(0.1));
  CHECK(s(5000) == Approx(0.1));
  for (std::int64_t t = 10; t < 110; ++t) CHECK(s(t + 1) <= s(t));
}

TEST_CASE("LrSchedule: linear decay, a pure function of the step, JSON round trip", "[optim][lr_schedule]") {
  const auto s = LrSchedule::linear(2.0, 0, 100);
  CHECK(s(0) == Approx(2.0));
  CHECK(s(25) == Approx(1.5));
  CHECK(s(100) == Approx(0.0));
  CHECK(s(37) == s(37));
  const auto r = LrSchedule::from_json(nlohmann::json::parse(s.to_json().dump()));
  for (std::int64_t t = 0; t < 120; t += 7) CHECK(r(t) == s(t));
  const auto c = LrSchedule::from_json(LrSchedule::cosine(0.3, 5, 50, 0.01).to_json());
  CHECK(c(20) == LrSchedule::cosine(0.3, 5, 50, 0.01)(20));
}

TEST_CASE("LrSchedule: invalid settings are refused", "[optim][lr_schedule]") {
  CHECK_THROWS_AS(LrSchedule::cosine(1.0, 50, 10), ConfigError);
  CHECK_THROWS_AS(LrSchedule::linear(-1.0, 0, 10), ConfigError);
  CHECK_THROWS_AS(LrSchedule::from_json({{"kind", "step"}}), ConfigError);
}
