#pragma once
/// `Repeat<N, Block>`: N values of one block type applied in sequence (dlib's `repeat`, flat).
///
///   y = B_{N-1}( ... B_0(x) )
///
/// All copies share one type, so runtime constructor arguments (e.g. the dilation of each copy)
/// vary per copy: `Repeat<6, Block>([](std::size_t i) { return Block(1 << i); })`.
/// Shapes: Block must preserve channels (in == out, or any_channels). Params: "<i>.<block name>".
#include "nucleo/core/concepts.hpp"

#include <array>
#include <string>
#include <utility>

namespace nucleo {

template <std::size_t N, Layer Block>
class Repeat {
  static_assert(N > 0, "Repeat<0, Block>: a block repeated zero times is almost certainly a bug; drop the Repeat");
  static_assert(Block::in_channels == Block::out_channels || Block::in_channels == any_channels ||
                    Block::out_channels == any_channels,
                "Repeat<N, Block>: Block must map C channels to C channels so that copies can be chained");

 public:
  using scalar_type = typename Block::scalar_type;
  using Tensor = Tensor3<scalar_type>;
  static constexpr int in_channels = Block::in_channels;
  static constexpr int out_channels = Block::out_channels;
  static constexpr std::size_t count = N;

  Repeat() = default;
  /// Build copy i as `make(i)`.
  template <class Make>
    requires std::invocable<Make&, std::size_t>
  explicit Repeat(Make&& make) : blocks_(build(make, std::make_index_sequence<N>{})) {}

  std::string_view name() const { return "repeat"; }

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
