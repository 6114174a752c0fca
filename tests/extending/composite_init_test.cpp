// init(Rng&) on Sequential, Repeat and Residual: each child's init(rng) in order from the one
// generator, children without init left alone. Compared with the same calls made by hand.
#include "nucleo/heads/token_classifier.hpp"
#include "nucleo/layers/gelu.hpp"
#include "nucleo/layers/layer_norm.hpp"
#include "nucleo/layers/linear.hpp"
#include "nucleo/layers/repeat.hpp"
#include "nucleo/layers/residual.hpp"
#include "nucleo/layers/resnet_encoder.hpp"
#include "nucleo/layers/sequential.hpp"

#include <catch2/catch.hpp>

#include "support/toy_layers.hpp"

#include <vector>

using namespace nucleo;

namespace {
template <class Model>
std::vector<double> values(Model& m) {
  std::vector<double> v;
  m.visit_params([&](std::string_view, auto& p) {
    for (Index i = 0; i < p.size(); ++i) v.push_back(double(p.value[i]));
  });
  return v;
}

bool any_nonzero(const std::vector<double>& v) {
  for (double x : v)
    if (x != 0) return true;
  return false;
}
}  // namespace

TEST_CASE("Sequential::init initialises the children in order from one generator", "[extending][init]") {
  using Net = Sequential<Linear<3, 4, double>, GELU<double>, LayerNorm<4, double>, Linear<4, 2, double>>;
  Net net;
  Rng rng(5);
  net.init(rng);

  Net by_hand;
  Rng hand_rng(5);
  by_hand.get<0>().init(hand_rng);
  by_hand.get<2>().init(hand_rng);
  by_hand.get<3>().init(hand_rng);

  CHECK(any_nonzero(values(net)));
  CHECK(values(net) == values(by_hand));
  CHECK(rng.state().counter == hand_rng.state().counter);  // the same number of draws
  CHECK(rng.state().counter == 2 * (3 * 4 + 4 * 2));        // one normal (two uniforms) per Linear weight
}

TEST_CASE("Sequential::init calls a child's own init (encoder and head, as the README does by hand)",
          "[extending][init]") {
  // TokenClassifier::init uses PyTorch's default for its Linear, not Linear::init: the composite must
  // call the head's init, not initialise the head's children itself.
  using Net = Sequential<ResNetEncoder<8, 2, 3, 7, double>, TokenClassifier<8, 3, 4, double>>;
  Net net;
  Rng rng(11);
  net.init(rng);

  Net by_hand;
  Rng hand_rng(11);
  by_hand.get<0>().init(hand_rng);
  by_hand.get<1>().init(hand_rng);

  CHECK(any_nonzero(values(net)));
  CHECK(values(net) == values(by_hand));
  CHECK(rng.state().counter == hand_rng.state().counter);
}

TEST_CASE("Repeat::init initialises the copies in order", "[extending][init]") {
  using Block = Linear<4, 4, double>;
  Repeat<3, Block> rep;
  Rng rng(2);
  rep.init(rng);

  Repeat<3, Block> by_hand;
  Rng hand_rng(2);
  for (std::size_t i = 0; i < 3; ++i) by_hand[i].init(hand_rng);

  CHECK(values(rep) == values(by_hand));
  CHECK(values(rep[0]) != values(rep[1]));  // each copy drew its own values
  CHECK(rng.state().counter == 2 * 3 * 16);
}

TEST_CASE("Residual::init initialises the body", "[extending][init]") {
  using Body = Sequential<Linear<4, 4, double>, GELU<double>>;
  Residual<Body> res;
  Rng rng(3);
  res.init(rng);

  Residual<Body> by_hand;
  Rng hand_rng(3);
  by_hand.body().get<0>().init(hand_rng);

  CHECK(any_nonzero(values(res)));
  CHECK(values(res) == values(by_hand));
  CHECK(rng.state().counter == hand_rng.state().counter);
}

TEST_CASE("init leaves children without init as they are and draws nothing for them", "[extending][init]") {
  Sequential<testing::Affine<2, 2>, testing::Square<>> net;  // the toy layers have no init
  net.get<0>().weight().value << 1, 2, 3, 4;
  net.get<0>().bias().value << 5, 6;
  Residual<testing::Affine<2, 2>> res;
  res.body().weight().value << 7, 8, 9, 10;
  Rng rng(4);
  net.init(rng);
  res.init(rng);
  CHECK(values(net) == std::vector<double>{1, 2, 3, 4, 5, 6});
  CHECK(values(res) == std::vector<double>{7, 8, 9, 10, 0, 0});
  CHECK(rng.state().counter == 0);
}
