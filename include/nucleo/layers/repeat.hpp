#pragma once
/// `Repeat<N, Block>`: N values of one block type applied in sequence (dlib's `repeat`, flat).
///
///   y = B_{N-1}( ... B_0(x) )
///
/// All copies share one type, so runtime constructor arguments (e.g. the dilation of each copy)
/// vary per copy: `Repeat<6, Block>([](std::size_t i) { return Block(1 << i); })`.
/// Shapes: Block must preserve channels (in == out, or any_channels). Params: "<i>.<block name>".
/// `init(rng)` initialises the copies in order.
/// A Block that is not a Layer is reported first, by type and missing member (core/layer_checks.hpp).
#include "nucleo/core/concepts.hpp"
#include "nucleo/core/layer_checks.hpp"
#include "nucleo/detail/layer_init.hpp"

#include <array>
#include <string>
#include <utility>

namespace nucleo {

// Block is a plain `class` parameter checked in the body (LayerCheck), for readable errors.
template <std::size_t N, class Block>
class Repeat {
  static_assert(N > 0, "Repeat<0, Block>: a block repeated zero times is almost certainly a bug; drop the Repeat");
  static constexpr bool block_ok_ = LayerCheck<detail::repeat_block, 0, Block>::ok;
  static_assert(!block_ok_ || layer_in_channels<Block> == layer_out_channels<Block> ||
                    layer_in_channels<Block> == any_channels || layer_out_channels<Block> == any_channels,
                "Repeat<N, Block>: Block must map C channels to C channels so that copies can be chained");

 public:
  using scalar_type = layer_scalar_t<Block>;
  using Tensor = Tensor3<scalar_type>;
  static constexpr int in_channels = layer_in_channels<Block>;
  static constexpr int out_channels = layer_out_channels<Block>;
  static constexpr std::size_t count = N;

  Repeat() = default;
  /// Build copy i as `make(i)`.
  template <class Make>
    requires std::invocable<Make&, std::size_t>
  explicit Repeat(Make&& make) : blocks_(build(make, std::make_index_sequence<N>{})) {}

  std::string_view name() const { return "repeat"; }

  /// Initialise copies 0, 1, ... in order from `rng` with the block's `init(rng)` (nothing if it has none).
  void init(Rng& rng) {
    for (auto& block : blocks_) detail::init_layer(block, rng);
  }

  Block& operator[](std::size_t i) { return blocks_[i]; }
  const Block& operator[](std::size_t i) const { return blocks_[i]; }

  template <class Ctx>
  void forward(Ctx& ctx, const Tensor& x, Tensor& y) {
    for (std::size_t i = 0; i < N; ++i) blocks_[i].forward(ctx, i == 0 ? x : acts_[i - 1], i + 1 == N ? y : acts_[i]);
  }

  template <class Ctx>
  void backward(Ctx& ctx, const Tensor& x, const Tensor& dy, Tensor& dx) {
    const Tensor* g = &dy;
    for (std::size_t i = N; i-- > 0;) {
      Tensor& out = i == 0 ? dx : grads_[i % 2];
      blocks_[i].backward(ctx, i == 0 ? x : acts_[i - 1], *g, out);
      g = &out;
    }
  }

  template <class V>
  void visit_params(V&& v) {
    for (std::size_t i = 0; i < N; ++i) blocks_[i].visit_params(detail::prefixed(std::to_string(i) + ".", v));
  }

 private:
  template <class Make, std::size_t... Is>
  static std::array<Block, N> build(Make& make, std::index_sequence<Is...>) {
    return {make(Is)...};
  }

  std::array<Block, N> blocks_;
  std::array<Tensor, (N > 1 ? N - 1 : 1)> acts_;
  std::array<Tensor, 2> grads_;
};

}  // namespace nucleo
