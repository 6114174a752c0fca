#pragma once
/// `Sequential<Ls...>`: layers applied one after the other, held flat in a `std::tuple`.
///
///   y = L_{n-1}( ... L_1( L_0(x) ) )
///
/// Shapes: x `[B, in_channels, L]` -> y `[B, out_channels, L']`. Channel counts of neighbours are
/// checked at compile time: a mismatch fails with an error naming
/// `channel_mismatch_between_layer_and_next<I, Out, In>` (layer I gives Out channels, layer I+1
/// expects In). Shape-preserving layers (`any_channels`) pass the count through. A child that is not
/// a Layer is reported first, by position, type and missing member (core/layer_checks.hpp).
/// Params: the children's, named "<index>.<child name>". Forward caches each intermediate output
/// (backward needs them as the next layer's input); backward runs in reverse through two
/// ping-pong gradient buffers. `init(rng)` initialises the children in order.
#include "nucleo/core/concepts.hpp"
#include "nucleo/core/layer_checks.hpp"
#include "nucleo/detail/layer_init.hpp"

#include <array>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace nucleo {

namespace detail {
/// Never defined: instantiating it is the readable compile error for a channel mismatch.
template <std::size_t Index, int OutOfLayer, int InOfNext>
struct channel_mismatch_between_layer_and_next;

struct ChainCheck {
  std::size_t position = static_cast<std::size_t>(-1);  // layer whose output mismatches the next
  int out = 0, in = 0;
  int chain_in = any_channels, chain_out = any_channels;
};

template <std::size_t N>
constexpr ChainCheck check_chain(const std::array<int, N>& ins, const std::array<int, N>& outs) {
  ChainCheck r;
  int cur = any_channels;
  std::size_t cur_from = 0;
  for (std::size_t i = 0; i < N; ++i) {
    if (r.chain_in == any_channels && cur == any_channels) r.chain_in = ins[i];
    if (ins[i] != any_channels && cur != any_channels && ins[i] != cur &&
        r.position == static_cast<std::size_t>(-1)) {
      r.position = i - 1;
      (void)cur_from;
      r.out = cur;
      r.in = ins[i];
    }
    if (outs[i] != any_channels) {
      cur = outs[i];
      cur_from = i;
    } else if (ins[i] != any_channels) {
      cur = ins[i];
    }
  }
  r.chain_out = cur;
  return r;
}

template <class... Ls>
inline constexpr ChainCheck chain_of =
    check_chain<sizeof...(Ls)>({layer_in_channels<Ls>...}, {layer_out_channels<Ls>...});

template <bool Bad, std::size_t I, int Out, int In>
struct ReportMismatch {
  static constexpr bool ok = true;
};
template <std::size_t I, int Out, int In>
struct ReportMismatch<true, I, Out, In> {
  static constexpr bool ok = sizeof(channel_mismatch_between_layer_and_next<I, Out, In>) > 0;
};

template <class L, class... Ls>
struct first_layer {
  using type = L;
};
}  // namespace detail

// Children are plain `class` parameters checked in the body, so that a child that is not a Layer
// gets LayerCheck's messages rather than a constraint failure on the whole Sequential.
template <class... Ls>
class Sequential {
  static_assert(sizeof...(Ls) > 0, "Sequential<>: give at least one layer");
  using First = typename detail::first_layer<Ls...>::type;
  static constexpr bool children_ok_ = children_are_layers<detail::sequential_child, Ls...>;

 public:
  using scalar_type = layer_scalar_t<First>;
  static_assert(!children_ok_ || (std::is_same_v<scalar_type, layer_scalar_t<Ls>> && ...),
                "Sequential: all layers must use the same Scalar; instantiate them all with float or all with double");

 private:
  static constexpr detail::ChainCheck chain_ = detail::chain_of<Ls...>;
  static_assert(detail::ReportMismatch<children_ok_ && chain_.position != static_cast<std::size_t>(-1),
                                       chain_.position, chain_.out, chain_.in>::ok);

 public:
  static constexpr int in_channels = chain_.chain_in;
  static constexpr int out_channels = chain_.chain_out;
  static constexpr std::size_t size = sizeof...(Ls);
  using Tensor = Tensor3<scalar_type>;

  Sequential() = default;
  explicit Sequential(Ls... layers) : layers_(std::move(layers)...) {}

  std::string_view name() const { return "sequential"; }

  /// Initialise the children in order from `rng`: each child's `init(rng)` where it has one;
  /// children without one (GELU, Dropout) are left as they are.
  void init(Rng& rng) {
    std::apply([&](auto&... layer) { (detail::init_layer(layer, rng), ...); }, layers_);
  }

  template <std::size_t I>
  auto& get() { return std::get<I>(layers_); }
  template <std::size_t I>
  const auto& get() const { return std::get<I>(layers_); }

  template <class Ctx>
  void forward(Ctx& ctx, const Tensor& x, Tensor& y) {
    forward_impl(ctx, x, y, std::make_index_sequence<size>{});
  }

  template <class Ctx>
  void backward(Ctx& ctx, const Tensor& x, const Tensor& dy, Tensor& dx) {
    backward_impl<size - 1>(ctx, x, dy, dx);
  }

  template <class V>
  void visit_params(V&& v) {
    visit_impl(v, std::make_index_sequence<size>{});
  }

  /// The output of layer I from the last forward (I < size-1; the last one is the caller's y).
  const Tensor& activation(std::size_t i) const { return acts_[i]; }

 private:
  template <std::size_t I>
  const Tensor& input_of(const Tensor& x) const {
    if constexpr (I == 0) return x; else return acts_[I - 1];
  }

  template <class Ctx, std::size_t... Is>
  void forward_impl(Ctx& ctx, const Tensor& x, Tensor& y, std::index_sequence<Is...>) {
    (std::get<Is>(layers_).forward(ctx, input_of<Is>(x), Is + 1 == size ? y : acts_[Is < size - 1 ? Is : 0]), ...);
  }

  template <std::size_t I, class Ctx>
  void backward_impl(Ctx& ctx, const Tensor& x, const Tensor& dy, Tensor& dx) {
    if constexpr (I == 0) {
      std::get<0>(layers_).backward(ctx, x, dy, dx);
    } else {
      Tensor& g = grads_[I % 2];
      std::get<I>(layers_).backward(ctx, acts_[I - 1], dy, g);
      backward_impl<I - 1>(ctx, x, g, dx);
    }
  }

  template <class V, std::size_t... Is>
  void visit_impl(V& v, std::index_sequence<Is...>) {
    (std::get<Is>(layers_).visit_params(detail::prefixed(std::to_string(Is) + ".", v)), ...);
  }

  std::tuple<Ls...> layers_;
  std::array<Tensor, (size > 1 ? size - 1 : 1)> acts_;
  std::array<Tensor, 2> grads_;
};

}  // namespace nucleo
