#pragma once
/// The `Layer` concept: what every layer, block and whole model satisfies.
///
/// ```
/// L::scalar_type                 float (default) or double (gradient checks)
/// L::in_channels, L::out_channels  compile-time channel contract; `any_channels` (-1) = the layer
///                                  preserves whatever it gets (GELU, Dropout, LayerNorm-free ops)
/// cl.name()                      short snake_case kind, e.g. "dilated_conv1d"
/// l.forward(ctx, x, y)           y = f(x). x: [B, in, L]; y is resized by the layer. A layer may cache
///                                what backward needs, but must not keep references into y.
/// l.backward(ctx, x, dy, dx)     given the same x as the last forward and dy = dLoss/dy:
///                                  dx  = (df/dx)^T dy     -- ASSIGNED (dx is overwritten, resized)
///                                  dW += (df/dW)^T dy     -- ACCUMULATED into every Param::grad
///                                Call `zero_grad(model)` once per optimizer step; accumulation over
///                                micro-batches then needs no extra code.
/// l.visit_params(v)              calls v(std::string_view dotted_name, Param<S>&) for every parameter,
///                                in a fixed order; containers prefix their children's names
///                                ("0.", "1.body.", ...), as PyTorch's Sequential does.
/// ```
/// Layers are values: copying a model copies its parameters, and names come from the structure, so
/// nothing has to be re-registered. `forward`/`backward` are member templates over the context type,
/// so layer types do not change between CPU and GPU builds.
#include "nucleo/core/context.hpp"
#include "nucleo/core/param.hpp"
#include "nucleo/core/tensor.hpp"

#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>

namespace nucleo {

/// Channel count of a shape-preserving layer.
inline constexpr int any_channels = -1;

namespace detail {
template <class S>
struct ParamVisitorArchetype {
  void operator()(std::string_view, Param<S>&) const {}
};
}  // namespace detail

template <class L>
concept Layer = requires(L& l, const L& cl, CpuContext& ctx, const Tensor3<typename L::scalar_type>& x,
                         Tensor3<typename L::scalar_type>& y, const Tensor3<typename L::scalar_type>& dy,
                         Tensor3<typename L::scalar_type>& dx,
                         detail::ParamVisitorArchetype<typename L::scalar_type> v) {
  typename L::scalar_type;
  requires std::floating_point<typename L::scalar_type>;
  { L::in_channels } -> std::convertible_to<int>;
  { L::out_channels } -> std::convertible_to<int>;
  { cl.name() } -> std::convertible_to<std::string_view>;
  l.forward(ctx, x, y);
  l.backward(ctx, x, dy, dx);
  l.visit_params(v);
};

/// The `Loss` concept: a training objective on a model's output (style.md section 2).
///
/// ```
/// F::scalar_type                  the logits' scalar type (float; double in gradient checks)
/// F::target_type                  what the loss compares against (nucleo::Labels, MultiLabels<S>, ...)
/// cf.name()                       short snake_case kind, e.g. "cross_entropy"
/// f.value_and_grad(ctx, logits, targets, dlogits) -> double
///                                 the loss value (accumulated in double); dlogits = dLoss/dlogits,
///                                 ASSIGNED (resized like logits; 0 where a position does not count)
/// f.value(ctx, logits, targets) -> double
///                                 the same loss value without the gradient (evaluation)
/// ```
/// Losses are separate from the model type, so pretraining and fine-tuning share the encoder type.
/// Each loss header checks its own type with a static_assert (CrossEntropy, MaskedCrossEntropy,
/// BCEWithLogits, LinearChainCRF).
template <class F>
concept Loss = requires(F& f, const F& cf, CpuContext& ctx, const Tensor3<typename F::scalar_type>& logits,
                        const typename F::target_type& targets, Tensor3<typename F::scalar_type>& dlogits) {
  typename F::scalar_type;
  typename F::target_type;
  requires std::floating_point<typename F::scalar_type>;
  { cf.name() } -> std::convertible_to<std::string_view>;
  { f.value_and_grad(ctx, logits, targets, dlogits) } -> std::convertible_to<double>;
  { f.value(ctx, logits, targets) } -> std::convertible_to<double>;
};

/// Set every parameter gradient of `model` to zero.
template <class Model>
void zero_grad(Model& model) {
  model.visit_params([](std::string_view, auto& p) { p.zero_grad(); });
}

/// Number of trainable scalars in `model`.
template <class Model>
Index parameter_count(Model& model) {
  Index n = 0;
  model.visit_params([&](std::string_view, auto& p) { n += p.size(); });
  return n;
}

/// The dotted names of `model`'s parameters, in visiting order.
template <class Model>
std::vector<std::string> parameter_names(Model& model) {
  std::vector<std::string> names;
  model.visit_params([&](std::string_view n, auto&) { names.emplace_back(n); });
  return names;
}

namespace detail {
/// Wrap a visitor so that every name gets `prefix` in front.
template <class V>
auto prefixed(const std::string& prefix, V& v) {
  return [&v, prefix](std::string_view name, auto& p) {
    std::string full;
    full.reserve(prefix.size() + name.size());
    full.append(prefix).append(name);
    v(std::string_view(full), p);
  };
}
}  // namespace detail

}  // namespace nucleo
