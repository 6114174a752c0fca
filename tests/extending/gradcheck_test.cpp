// The public gradient checker (nucleo/testing/gradcheck.hpp) used without Catch2's help: it passes a
// correct layer and fails, with the element named, each kind of broken backward.
#include "nucleo/testing/gradcheck.hpp"

#include <catch2/catch.hpp>

#include "support/toy_layers.hpp"

#include <string>

using namespace nucleo;
using namespace nucleo::testing;

namespace {
enum class Bug { none, wrong_dx, assigns_grad, leaves_dx };

// y = a * x with one parameter "a"; `bug` breaks backward in one of the ways gradcheck must catch.
class Scale {
 public:
  using scalar_type = double;
  static constexpr int in_channels = any_channels, out_channels = any_channels;
  explicit Scale(Bug bug = Bug::none) : bug_(bug), a_({1}) { a_.value << 1.5; }
  std::string_view name() const { return "scale"; }
  template <class Ctx>
  void forward(Ctx&, const Tensor3<double>& x, Tensor3<double>& y) { y = x * a_.value[0]; }
  template <class Ctx>
  void backward(Ctx&, const Tensor3<double>& x, const Tensor3<double>& dy, Tensor3<double>& dx) {
    const double keep = dx.size() > 0 ? dx.data()[0] : 0;
    dx = dy * (bug_ == Bug::wrong_dx ? 2 * a_.value[0] : a_.value[0]);
    if (bug_ == Bug::leaves_dx) dx.data()[0] = keep;
    double s = 0;
    for (Index i = 0; i < x.size(); ++i) s += dy.data()[i] * x.data()[i];
    if (bug_ == Bug::assigns_grad)
      a_.grad[0] = s;
    else
      a_.grad[0] += s;
  }
  template <class V>
  void visit_params(V&& v) { v("a", a_); }

 private:
  Bug bug_;
  Param<double> a_;
};
static_assert(Layer<Scale>);
}  // namespace

TEST_CASE("gradcheck: a correct layer passes, every element counted", "[extending][gradcheck]") {
  CpuContext ctx(1);
  Scale s;
  const GradcheckResult r = gradcheck(s, ctx, random_tensor<double>(1, 2, 3, 1));
  CHECK(r.ok);
  CHECK(r.dx_assigned);
  CHECK(r.failures.empty());
  CHECK(r.checked == 2 * 3 + 1);
  CHECK(r.worst_abs < 1e-8);
  CHECK(r.summary().rfind("gradcheck passed: 7 elements checked", 0) == 0);

  testing::Affine<3, 2> affine;
  randomize_params(affine, 5);
  const GradcheckResult ra = gradcheck(affine, ctx, random_tensor<double>(2, 3, 4, 6));
  CHECK(ra.ok);
  CHECK(ra.checked == 2 * 3 * 4 + 2 * 3 + 2);
}

TEST_CASE("gradcheck: a wrong input gradient fails at the input elements", "[extending][gradcheck]") {
  CpuContext ctx(1);
  Scale s(Bug::wrong_dx);
  const GradcheckResult r = gradcheck(s, ctx, random_tensor<double>(1, 2, 3, 1));
  CHECK_FALSE(r.ok);
  CHECK(r.dx_assigned);
  CHECK(r.failures.size() == 6);  // every input element, the parameter is right
  CHECK(r.worst_where.rfind("input[", 0) == 0);
  CHECK(r.worst_rel == Approx(0.5));  // 2a against a
  CHECK(r.summary().find("FAILED") != std::string::npos);
  CHECK(r.summary().find(r.failures.front()) != std::string::npos);
}

TEST_CASE("gradcheck: a backward that assigns parameter gradients fails at the parameter",
          "[extending][gradcheck]") {
  CpuContext ctx(1);
  Scale s(Bug::assigns_grad);
  const GradcheckResult r = gradcheck(s, ctx, random_tensor<double>(1, 2, 3, 1));
  CHECK_FALSE(r.ok);
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0].rfind("a[0]: analytic", 0) == 0);
  CHECK(r.worst_abs == Approx(GradcheckOptions{}.grad_prefill));  // the prefill that was overwritten
}

TEST_CASE("gradcheck: a backward that leaves part of dx unwritten fails", "[extending][gradcheck]") {
  CpuContext ctx(1);
  Scale s(Bug::leaves_dx);
  const GradcheckResult r = gradcheck(s, ctx, random_tensor<double>(1, 2, 3, 1));
  CHECK_FALSE(r.ok);
  CHECK_FALSE(r.dx_assigned);
  CHECK(r.summary().find("dx still holds NaN") != std::string::npos);
}

TEST_CASE("gradcheck: options skip inputs and tolerate by the given bounds", "[extending][gradcheck]") {
  CpuContext ctx(1);
  Scale wrong(Bug::wrong_dx);
  GradcheckOptions skip_all;
  skip_all.check_input = false;
  CHECK(gradcheck(wrong, ctx, random_tensor<double>(1, 2, 3, 1), skip_all).ok);  // only the parameter is compared
  GradcheckOptions skip_some;
  skip_some.skip_input = [](Index i) { return i != 4; };
  const GradcheckResult r = gradcheck(wrong, ctx, random_tensor<double>(1, 2, 3, 1), skip_some);
  CHECK(r.checked == 2);
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0].rfind("input[4]", 0) == 0);
  GradcheckOptions loose;
  loose.rel_tol = 0.6;  // 2a against a is a relative error of 0.5
  CHECK(gradcheck(wrong, ctx, random_tensor<double>(1, 2, 3, 1), loose).ok);
}

TEST_CASE("random_tensor and randomize_params: seeded, in range", "[extending][gradcheck]") {
  const Tensor3<double> a = random_tensor<double>(2, 3, 4, 9), b = random_tensor<double>(2, 3, 4, 9);
  const Tensor3<double> c = random_tensor<double>(2, 3, 4, 10, 2.0, 3.0);
  bool same = true, in_range = true;
  for (Index i = 0; i < a.size(); ++i) {
    same &= a.data()[i] == b.data()[i];
    in_range &= a.data()[i] >= -1 && a.data()[i] < 1 && c.data()[i] >= 2 && c.data()[i] < 3;
  }
  CHECK(same);
  CHECK(in_range);

  testing::Affine<3, 2> m1, m2;
  randomize_params(m1, 1, -0.25, 0.25);
  randomize_params(m2, 1, -0.25, 0.25);
  CHECK((m1.weight().value == m2.weight().value).all());
  CHECK((m1.bias().value == m2.bias().value).all());
  CHECK(m1.weight().value.abs().maxCoeff() <= 0.25);
  CHECK(m1.weight().value.abs().maxCoeff() > 0);
}
