#pragma once
/// `Residual<Body>`: y = x + body(x).
///
/// Shapes: Body must preserve the shape ([B, C, L] -> [B, C, L]). Backward: dx = dbody/dx^T dy + dy
/// (the one explicit `dx += dy` of the library); Body's parameter gradients accumulate as usual.
/// Params: "body.<body name>". A Body that is not a Layer is reported first, by type and missing
/// member (core/layer_checks.hpp).
#include "nucleo/core/concepts.hpp"
#include "nucleo/core/layer_checks.hpp"
#include "nucleo/detail/layer_init.hpp"

namespace nucleo {

// Body is a plain `class` parameter checked in the body (LayerCheck), for readable errors.
template <class Body>
class Residual {
  static constexpr bool body_ok_ = LayerCheck<detail::residual_body, 0, Body>::ok;
  static_assert(!body_ok_ || layer_in_channels<Body> == layer_out_channels<Body> ||
                    layer_in_channels<Body> == any_channels || layer_out_channels<Body> == any_channels,
                "Residual<Body>: Body must keep the channel count (x + body(x) needs equal shapes)");

 public:
  using scalar_type = layer_scalar_t<Body>;
  using Tensor = Tensor3<scalar_type>;
  static constexpr int in_channels = layer_in_channels<Body>;
  static constexpr int out_channels = layer_out_channels<Body>;

  Residual() = default;
  explicit Residual(Body body) : body_(std::move(body)) {}

  std::string_view name() const { return "residual"; }
  /// The body's `init(rng)` (nothing if it has none).
  void init(Rng& rng) { detail::init_layer(body_, rng); }

  Body& body() { return body_; }
  const Body& body() const { return body_; }

  template <class Ctx>
  void forward(Ctx& ctx, const Tensor& x, Tensor& y) {
    body_.forward(ctx, x, y);
    NUCLEO_CHECK(y.dimensions() == x.dimensions(), "Residual: body changed the shape [{}, {}, {}] -> [{}, {}, {}]",
                 x.dimension(0), x.dimension(1), x.dimension(2), y.dimension(0), y.dimension(1), y.dimension(2));
    const Index n = x.size();
    scalar_type* yp = y.data();
    const scalar_type* xp = x.data();
    ctx.parallel_for(n, 1 << 16, [&](Index b, Index e) {
      for (Index i = b; i < e; ++i) yp[i] += xp[i];
    });
  }

  template <class Ctx>
  void backward(Ctx& ctx, const Tensor& x, const Tensor& dy, Tensor& dx) {
    body_.backward(ctx, x, dy, dx);
    const Index n = dy.size();
    scalar_type* dxp = dx.data();
    const scalar_type* dyp = dy.data();
    ctx.parallel_for(n, 1 << 16, [&](Index b, Index e) {
      for (Index i = b; i < e; ++i) dxp[i] += dyp[i];
    });
  }

  template <class V>
  void visit_params(V&& v) {
    body_.visit_params(detail::prefixed("body.", v));
  }

 private:
  Body body_;
};

}  // namespace nucleo
