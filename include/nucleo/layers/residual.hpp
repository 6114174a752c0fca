#pragma once
/// `Residual<Body>`: y = x + body(x).
///
/// Shapes: Body must preserve the shape ([B, C, L] -> [B, C, L]). Backward: dx = dbody/dx^T dy + dy
/// (the one explicit `dx += dy` of the library); Body's parameter gradients accumulate as usual.
/// Params: "body.<body name>".
#include "nucleo/core/concepts.hpp"

namespace nucleo {

template <Layer Body>
class Residual {
  static_assert(Body::in_channels == Body::out_channels || Body::in_channels == any_channels ||
                    Body::out_channels == any_channels,
                "Residual<Body>: Body must keep the channel count (x + body(x) needs equal shapes)");

 public:
  using scalar_type = typename Body::scalar_type;
  using Tensor = Tensor3<scalar_type>;
  static constexpr int in_channels = Body::in_channels;
  static constexpr int out_channels = Body::out_channels;

  Residual() = default;
  explicit Residual(Body body) : body_(std::move(body)) {}

  std::string_view name() const { return "residual"; }
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
