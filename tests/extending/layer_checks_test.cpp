// core/layer_checks.hpp: each member of the Layer concept is detected on its own, and the stand-ins
// that keep a composite's declarations quiet equal the real values for a Layer. (The compile errors
// themselves are checked in tests/compile_fail/.)
#include "nucleo/core/layer_checks.hpp"

#include <catch2/catch.hpp>

#include "nucleo/layers/linear.hpp"
#include "nucleo/layers/sequential.hpp"

#include <type_traits>

using namespace nucleo;

namespace {
using T = Tensor3<double>;
// One member of the Layer concept per struct; a test layer inherits those it has.
struct Scalar { using scalar_type = double; };
struct Channels { static constexpr int in_channels = 3, out_channels = 5; };
struct Name { std::string_view name() const { return "x"; } };
struct Forward { template <class Ctx> void forward(Ctx&, const T&, T&) {} };
struct Backward { template <class Ctx> void backward(Ctx&, const T&, const T&, T&) {} };
struct Visit { template <class V> void visit_params(V&&) {} };

struct Full : Scalar, Channels, Name, Forward, Backward, Visit {};
struct NoScalar : Channels, Name, Forward, Backward, Visit {};
struct IntScalar : Channels, Name, Forward, Backward, Visit { using scalar_type = int; };
struct NoChannels : Scalar, Name, Forward, Backward, Visit {};
struct NoName : Scalar, Channels, Forward, Backward, Visit {};
struct NoForward : Scalar, Channels, Name, Backward, Visit {};
struct NoBackward : Scalar, Channels, Name, Forward, Visit {};
struct NoVisit : Scalar, Channels, Name, Forward, Backward {};
// visit_params that takes one fixed visitor type: the library passes others, so this is not a Layer.
struct FixedVisitor : Scalar, Channels, Name, Forward, Backward {
  void visit_params(void (*)(std::string_view, Param<double>&)) {}
};
// forward over float tensors while scalar_type says double.
struct WrongTensor : Scalar, Channels, Name, Backward, Visit {
  template <class Ctx> void forward(Ctx&, const Tensor3<float>&, Tensor3<float>&) {}
};
}  // namespace

TEST_CASE("layer checks: a complete layer passes every member check", "[extending][layer_checks]") {
  CHECK(detail::has_layer_members<Full>);
  CHECK(Layer<Full>);
  CHECK(LayerCheck<detail::sequential_child, 0, Full>::ok);
  CHECK(std::is_same_v<layer_scalar_t<Full>, double>);
  CHECK(layer_in_channels<Full> == 3);
  CHECK(layer_out_channels<Full> == 5);
  CHECK(layer_in_channels<Linear<2, 7>> == 2);
  CHECK(layer_out_channels<Linear<2, 7>> == 7);
  CHECK(std::is_same_v<layer_scalar_t<Linear<2, 7>>, float>);
  CHECK(Layer<Sequential<Linear<3, 3, double>, Full>>);
}

TEST_CASE("layer checks: each missing member is detected on its own", "[extending][layer_checks]") {
  CHECK_FALSE(detail::has_scalar_type<NoScalar>);
  CHECK(detail::has_channels<NoScalar>);
  CHECK(std::is_same_v<layer_scalar_t<NoScalar>, float>);  // the stand-in
  CHECK_FALSE(Layer<NoScalar>);

  CHECK(detail::has_scalar_type<IntScalar>);
  CHECK_FALSE(detail::has_floating_scalar<IntScalar>);
  CHECK_FALSE(Layer<IntScalar>);

  CHECK_FALSE(detail::has_channels<NoChannels>);
  CHECK(layer_in_channels<NoChannels> == any_channels);
  CHECK(layer_out_channels<NoChannels> == any_channels);
  CHECK_FALSE(Layer<NoChannels>);

  CHECK_FALSE(detail::has_name<NoName>);
  CHECK_FALSE(Layer<NoName>);

  CHECK_FALSE(detail::has_forward<NoForward>);
  CHECK(detail::has_backward<NoForward>);
  CHECK_FALSE(Layer<NoForward>);

  CHECK_FALSE(detail::has_backward<NoBackward>);
  CHECK(detail::has_forward<NoBackward>);
  CHECK_FALSE(Layer<NoBackward>);

  CHECK_FALSE(detail::has_visit_params<NoVisit>);
  CHECK_FALSE(Layer<NoVisit>);
  CHECK_FALSE(detail::has_visit_params<FixedVisitor>);
  CHECK_FALSE(Layer<FixedVisitor>);

  CHECK_FALSE(detail::has_forward<WrongTensor>);
  CHECK_FALSE(Layer<WrongTensor>);
}
