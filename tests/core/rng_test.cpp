#include "nucleo/core/rng.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

using nucleo::Rng;

TEST_CASE("Rng: same seed and stream give the same sequence, others differ", "[core][rng]") {
  Rng a(1, 0), b(1, 0), c(1, 1), d(2, 0);
  std::vector<std::uint64_t> va, vb, vc, vd;
  for (int i = 0; i < 100; ++i) {
    va.push_back(a.next_u64());
    vb.push_back(b.next_u64());
    vc.push_back(c.next_u64());
    vd.push_back(d.next_u64());
  }
  CHECK(va == vb);
  CHECK(va != vc);
  CHECK(va != vd);
}

TEST_CASE("Rng: fork depends on the seed and stream id, not on how far the parent advanced", "[core][rng]") {
  Rng a(9), b(9);
  for (int i = 0; i < 50; ++i) b.next_u64();
  Rng fa = a.fork(3), fb = b.fork(3), other = a.fork(4);
  const auto x = fa.next_u64();
  CHECK(x == fb.next_u64());
  CHECK(x != other.next_u64());
}

TEST_CASE("Rng: state round trip resumes the stream exactly", "[core][rng]") {
  Rng a(77, 5);
  for (int i = 0; i < 13; ++i) a.uniform();
  const auto st = a.state();
  const double expect = a.uniform();
  Rng b;
  b.set_state(st);
  CHECK(b.uniform() == expect);
}

TEST_CASE("Rng: uniform, uniform_int and normal have the right moments", "[core][rng]") {
  Rng r(123);
  const int n = 200000;
  double s = 0, s2 = 0;
  std::vector<int> counts(7, 0);
  double ns = 0, ns2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    s += u;
    s2 += u * u;
    const auto k = r.uniform_int(7);
    REQUIRE(k < 7);
    ++counts[k];
    const double z = r.normal();
    ns += z;
    ns2 += z * z;
  }
  CHECK(s / n == Approx(0.5).margin(0.005));
  CHECK(s2 / n - (s / n) * (s / n) == Approx(1.0 / 12).margin(0.002));
  for (int c : counts) CHECK(c == Approx(n / 7.0).epsilon(0.03));
  CHECK(ns / n == Approx(0.0).margin(0.01));
  CHECK(ns2 / n == Approx(1.0).margin(0.02));
}
