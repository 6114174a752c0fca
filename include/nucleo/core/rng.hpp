#pragma once
/// `Rng`: a small seeded, counter-based random generator whose streams do not depend on thread
/// scheduling.
///
/// Each stream is identified by `(seed, stream)`; value n of a stream is a pure function of
/// `(seed, stream, n)` (SplitMix64 finaliser over a Weyl sequence keyed by the stream). Work that
/// runs in parallel derives one stream per *item* (e.g. per sequence index, per parameter), never
/// per thread, so results are identical for any thread count or schedule. The whole state is two
/// 64-bit words and a counter, which checkpoints save and restore (`state()` / `set_state()`).
#include <cmath>
#include <cstdint>
#include <limits>

namespace nucleo {

class Rng {
 public:
  struct State {
    std::uint64_t seed = 0, stream = 0, counter = 0;
  };

  explicit Rng(std::uint64_t seed = 0x5eed, std::uint64_t stream = 0) : s_{seed, stream, 0} {
    key_ = mix(seed ^ mix(stream + 0x9E3779B97F4A7C15ULL));
  }

  /// An independent stream derived from this generator's seed (not from its position).
  Rng fork(std::uint64_t stream) const { return Rng(s_.seed, mix(s_.stream * 0x100000001B3ULL + stream + 1)); }

  /// Next 64 random bits.
  std::uint64_t next_u64() { return mix(key_ + (s_.counter++) * 0x9E3779B97F4A7C15ULL); }

  /// Uniform in [0, 1) with 53 (double) random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  /// Uniform integer in [0, n), n > 0 (Lemire's multiply-shift with rejection, unbiased).
  std::uint64_t uniform_int(std::uint64_t n) {
    for (;;) {
      const unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * n;
      const std::uint64_t low = static_cast<std::uint64_t>(m);
      if (low >= n || low >= (-n) % n) return static_cast<std::uint64_t>(m >> 64);
    }
  }

  /// Standard normal (Box-Muller, one value per call for a state that is easy to save).
  double normal() {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586476925 * u2);
  }

  double normal(double mean, double stddev) { return mean + stddev * normal(); }

  bool bernoulli(double p) { return uniform() < p; }

  State state() const { return s_; }
  void set_state(const State& st) {
    *this = Rng(st.seed, st.stream);
    s_.counter = st.counter;
  }

  // UniformRandomBitGenerator, so std::shuffle works (its result depends only on this stream).
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
  result_type operator()() { return next_u64(); }

 private:
  static std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  State s_;
  std::uint64_t key_ = 0;
};

}  // namespace nucleo
