#pragma once
/// `ResNetEncoder<C, Depth, K = 9, Vocab = 7, Scalar>`: BEND's dilated ResNet encoder
/// (`ConvNetModel`, BEND:bend/models/dilated_cnn.py:229-260).
///
///   x = OneHot<Vocab, C>(ids)                       (C-wide one-hot, as BEND's OneHotEmbedding(hidden))
///   x = ResBlock_{d_{Depth-1}}( ... ResBlock_{d_0}(x))
///   d_i = min(max_dilation, g^floor((i mod cycle) / double_every))     (defaults: cycle 6, every 1, max 32,
///                                                                       growth g = 2, as BEND)
///
/// Shapes: ids [B, 1, L] -> [B, C, L] (no final norm). Params: "1.<i>.<ResBlock name>", e.g.
/// "1.0.0.body.0.weight" is the first convolution's weight {C, C, K}. The OneHot ("0") has none.
/// Receptive field (one side + centre + other side): 1 + (K-1) * sum_i d_i.
/// Init (`init(rng)` or the Rng constructor): BEND's, block by block in order (see ResBlock).
/// Named configurations: PaperEncoder 512x30, LargeEncoder 256x12, MediumEncoder 128x12,
/// SmallEncoder 64x6 (all kernel 9, vocabulary 7: A C G T N [MASK] [PAD]).
#include "nucleo/layers/one_hot.hpp"
#include "nucleo/layers/repeat.hpp"
#include "nucleo/layers/res_block.hpp"
#include "nucleo/layers/sequential.hpp"

#include <algorithm>

namespace nucleo {

/// The dilation schedule of a ResNetEncoder (BEND's config names in comments).
struct EncoderOptions {
  int dilation_cycle = 6;         ///< dilation_cycle
  int dilation_double_every = 1;  ///< dilation_double_every
  int max_dilation = 32;          ///< dilation_max
  /// Factor between successive dilations (BEND: 2). A larger factor widens the receptive field at
  /// the same depth and cost (6 blocks, kernel 9, growth 4, max 1024: +-5,460 nt instead of +-252);
  /// up to K - 1 it leaves no gaps in the field.
  int dilation_growth = 2;

  /// d_i = min(max_dilation, growth^((i % cycle) / double_every)).
  int dilation_of(std::size_t i) const {
    NUCLEO_CHECK_CONFIG(dilation_cycle >= 1 && dilation_double_every >= 1 && max_dilation >= 1 && dilation_growth >= 1,
                        "EncoderOptions: cycle ({}), double_every ({}), max_dilation ({}) and growth ({}) must all be >= 1",
                        dilation_cycle, dilation_double_every, max_dilation, dilation_growth);
    const std::size_t e = (i % std::size_t(dilation_cycle)) / std::size_t(dilation_double_every);
    long long d = 1;
    for (std::size_t k = 0; k < e && d < max_dilation; ++k) d *= dilation_growth;
    return static_cast<int>(std::min<long long>(max_dilation, d));
  }
};

namespace detail {
template <int C, int Depth, int K, int Vocab, class S>
using ResNetEncoderBase = Sequential<OneHot<Vocab, C, S>, Repeat<std::size_t(Depth), ResBlock<C, K, S>>>;
}  // namespace detail

template <int C, int Depth, int K = 9, int Vocab = 7, class Scalar = float>
class ResNetEncoder : public detail::ResNetEncoderBase<C, Depth, K, Vocab, Scalar> {
  static_assert(Depth > 0, "ResNetEncoder<C, Depth>: Depth must be >= 1");
  static_assert(C >= Vocab, "ResNetEncoder<C, Depth, K, Vocab>: the one-hot input needs C >= Vocab channels");
  using Base = detail::ResNetEncoderBase<C, Depth, K, Vocab, Scalar>;
  using Blocks = Repeat<std::size_t(Depth), ResBlock<C, K, Scalar>>;

 public:
  static constexpr int channels = C, depth = Depth, kernel_size = K, vocab_size = Vocab;

  /// Zero conv/linear weights until init(rng).
  explicit ResNetEncoder(EncoderOptions opts = {})
      : Base(OneHot<Vocab, C, Scalar>(), Blocks([&](std::size_t i) { return ResBlock<C, K, Scalar>(opts.dilation_of(i)); })),
        opts_(opts) {}
  explicit ResNetEncoder(Rng& rng, EncoderOptions opts = {}) : ResNetEncoder(opts) { init(rng); }

  std::string_view name() const { return "resnet_encoder"; }
  const EncoderOptions& options() const { return opts_; }

  Blocks& blocks() { return this->template get<1>(); }
  ResBlock<C, K, Scalar>& block(std::size_t i) { return blocks()[i]; }

  /// Dilation of block i under the options.
  int dilation(std::size_t i) const { return opts_.dilation_of(i); }

  /// Positions seen by one output position: 1 + (K-1) * sum_i d_i.
  Index receptive_field() const {
    Index r = 1;
    for (std::size_t i = 0; i < std::size_t(Depth); ++i) r += Index(K - 1) * opts_.dilation_of(i);
    return r;
  }

  void init(Rng& rng) {
    for (std::size_t i = 0; i < std::size_t(Depth); ++i) blocks()[i].init(rng);
  }

 private:
  EncoderOptions opts_;
};

template <class Scalar = float>
using PaperEncoder = ResNetEncoder<512, 30, 9, 7, Scalar>;
template <class Scalar = float>
using LargeEncoder = ResNetEncoder<256, 12, 9, 7, Scalar>;
template <class Scalar = float>
using MediumEncoder = ResNetEncoder<128, 12, 9, 7, Scalar>;
template <class Scalar = float>
using SmallEncoder = ResNetEncoder<64, 6, 9, 7, Scalar>;

}  // namespace nucleo
