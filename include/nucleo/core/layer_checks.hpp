#pragma once
/// `LayerCheck<Where, Position, Child>`: the `Layer` concept (core/concepts.hpp) checked member by
/// member, for the composites (Sequential, Repeat, Residual). Instantiating it for a child that is
/// not a Layer fails with one `static_assert` per missing member, and the compiler's "In
/// instantiation of 'struct nucleo::LayerCheck<nucleo::detail::sequential_child, 1, MyLayer>'" line
/// above it names where the child sits and its type:
///
/// ```
/// In instantiation of 'struct nucleo::LayerCheck<nucleo::detail::sequential_child, 1, MyLayer>':
///   required from 'class nucleo::Sequential<nucleo::Linear<2, 4>, MyLayer>'
/// error: static assertion failed: not a nucleo::Layer: no visit_params(v) callable with any
///        visitor v (write the member template ...; docs/extending.md)
/// ```
///
/// `Where` is `detail::sequential_child` (Position = the child's index), `detail::repeat_block` or
/// `detail::residual_body` (Position 0). The composites take plain `class` parameters and
/// instantiate this first, so a wrong child gives these few lines instead of a constraint failure
/// on the whole composite. The traits below
/// (`layer_scalar_t`, `layer_in_channels`, `layer_out_channels`) give a stand-in for a missing
/// member, so that a composite's own declarations raise no further errors.
#include "nucleo/core/concepts.hpp"

#include <concepts>
#include <cstddef>
#include <string_view>
#include <utility>

namespace nucleo {

namespace detail {
/// Where the checked child sits (the first argument of LayerCheck, read in the compiler's message).
struct sequential_child {};
struct repeat_block {};
struct residual_body {};

template <class L>
concept has_scalar_type = requires { typename L::scalar_type; };

template <class L>
struct layer_scalar {
  using type = float;
};
template <has_scalar_type L>
struct layer_scalar<L> {
  using type = typename L::scalar_type;
};

/// Tensor3 of the layer's scalar type (float when it has none, so later checks stay well-formed).
template <class L>
using layer_tensor = Tensor3<typename layer_scalar<L>::type>;

template <class L>
concept has_floating_scalar = has_scalar_type<L> && std::floating_point<typename L::scalar_type>;

template <class L>
concept has_channels = requires {
  { L::in_channels } -> std::convertible_to<int>;
  { L::out_channels } -> std::convertible_to<int>;
};

template <class L>
concept has_name = requires(const L& cl) {
  { cl.name() } -> std::convertible_to<std::string_view>;
};

template <class L>
concept has_forward = requires(L& l, CpuContext& ctx, const layer_tensor<L>& x, layer_tensor<L>& y) {
  l.forward(ctx, x, y);
};

template <class L>
concept has_backward = requires(L& l, CpuContext& ctx, const layer_tensor<L>& x, const layer_tensor<L>& dy,
                                layer_tensor<L>& dx) {
  l.backward(ctx, x, dy, dx);
};

template <class L>
concept has_visit_params = requires(L& l, ParamVisitorArchetype<typename layer_scalar<L>::type> v) {
  l.visit_params(v);
};

template <class L>
concept has_layer_members = has_floating_scalar<L> && has_channels<L> && has_name<L> && has_forward<L> &&
                            has_backward<L> && has_visit_params<L>;
}  // namespace detail

/// The scalar type of layer L, float if it has none (a LayerCheck has reported that).
template <class L>
using layer_scalar_t = typename detail::layer_scalar<L>::type;

/// L::in_channels / L::out_channels, any_channels if L has none (a LayerCheck has reported that).
template <class L>
inline constexpr int layer_in_channels = any_channels;
template <detail::has_channels L>
inline constexpr int layer_in_channels<L> = L::in_channels;
template <class L>
inline constexpr int layer_out_channels = any_channels;
template <detail::has_channels L>
inline constexpr int layer_out_channels<L> = L::out_channels;

/// Instantiating `LayerCheck<Where, Position, Child>` reports each member of the Layer concept that
/// `Child` lacks. `ok` is `Layer<Child>`.
template <class Where, std::size_t Position, class Child>
struct LayerCheck {
  static_assert(detail::has_scalar_type<Child>,
                "not a nucleo::Layer: no member type scalar_type "
                "(add `using scalar_type = Scalar;` with Scalar float or double; docs/extending.md)");
  static_assert(!detail::has_scalar_type<Child> || detail::has_floating_scalar<Child>,
                "not a nucleo::Layer: scalar_type must be a floating-point type "
                "(float, or double for gradient checks)");
  static_assert(detail::has_channels<Child>,
                "not a nucleo::Layer: no `static constexpr int in_channels` and `out_channels` "
                "(nucleo::any_channels for a layer that keeps whatever it gets; docs/extending.md)");
  static_assert(detail::has_name<Child>,
                "not a nucleo::Layer: no `std::string_view name() const` (docs/extending.md)");
  // forward, backward and visit_params are looked up with Tensor3<scalar_type>: checked once scalar_type is right.
  static_assert(!detail::has_floating_scalar<Child> || detail::has_forward<Child>,
                "not a nucleo::Layer: no forward(ctx, x, y) callable with a nucleo::CpuContext&, "
                "const Tensor3<scalar_type>& x and Tensor3<scalar_type>& y "
                "(write `template <class Ctx> void forward(Ctx& ctx, const Tensor3<S>& x, Tensor3<S>& y)`; "
                "docs/extending.md)");
  static_assert(!detail::has_floating_scalar<Child> || detail::has_backward<Child>,
                "not a nucleo::Layer: no backward(ctx, x, dy, dx) callable with a nucleo::CpuContext&, "
                "const Tensor3<scalar_type>& x and dy, and Tensor3<scalar_type>& dx "
                "(write `template <class Ctx> void backward(Ctx& ctx, const Tensor3<S>& x, const Tensor3<S>& dy, "
                "Tensor3<S>& dx)`; docs/extending.md)");
  static_assert(!detail::has_floating_scalar<Child> || detail::has_visit_params<Child>,
                "not a nucleo::Layer: no visit_params(v) callable with any visitor v "
                "(write the member template `template <class V> void visit_params(V&& v)` that calls "
                "v(std::string_view name, Param<S>& p) for every parameter; docs/extending.md)");
  // Guards against the concept and the checks above drifting apart.
  static_assert(!detail::has_layer_members<Child> || Layer<Child>,
                "has every member LayerCheck knows of but does not satisfy nucleo::Layer: see core/concepts.hpp");

  static constexpr bool ok = Layer<Child>;
};

namespace detail {
template <class Where, class Indices, class... Ls>
struct check_children;
template <class Where, std::size_t... Is, class... Ls>
struct check_children<Where, std::index_sequence<Is...>, Ls...> {
  static constexpr bool ok = (LayerCheck<Where, Is, Ls>::ok && ...);
};
}  // namespace detail

/// Check every child of a composite (their positions are 0, 1, ...); true if all are Layers.
template <class Where, class... Ls>
inline constexpr bool children_are_layers =
    detail::check_children<Where, std::index_sequence_for<Ls...>, Ls...>::ok;

}  // namespace nucleo
