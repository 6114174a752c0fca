#include "cpu_reference.hpp"

#include "nucleo/core/context.hpp"
#include "nucleo/core/rng.hpp"
#include "nucleo/layers/gelu.hpp"
#include "nucleo/layers/linear.hpp"
#include "nucleo/layers/relu.hpp"

#include <limits>

namespace nucleo::gpu_test {

namespace {
CpuContext& cpu() {
  static CpuContext ctx(2);
  return ctx;
}
}  // namespace

Tensor3<float> random_tensor(Index B, Index C, Index L, std::uint64_t seed, double scale) {
  Rng rng(seed);
  Tensor3<float> t(B, C, L);
  for (Index i = 0; i < t.size(); ++i) {
    if (i % 17 == 3)
      t.data()[i] = 0.0f;
    else if (i % 17 == 9)
      t.data()[i] = float(rng.normal(0.0, 1e-6));
    else
      t.data()[i] = float(rng.normal(0.0, scale));
  }
  return t;
}

void cpu_gelu_forward(const Tensor3<float>& x, Tensor3<float>& y) { GELU<float>().forward(cpu(), x, y); }
void cpu_gelu_backward(const Tensor3<float>& x, const Tensor3<float>& dy, Tensor3<float>& dx) {
  GELU<float>().backward(cpu(), x, dy, dx);
}
void cpu_relu_forward(const Tensor3<float>& x, Tensor3<float>& y) { ReLU<float>().forward(cpu(), x, y); }
void cpu_relu_backward(const Tensor3<float>& x, const Tensor3<float>& dy, Tensor3<float>& dx) {
  ReLU<float>().backward(cpu(), x, dy, dx);
}

namespace {
Linear<linear_cin, linear_cout, float> make_linear(std::uint64_t seed) {
  Rng rng(seed);
  Linear<linear_cin, linear_cout, float> lin;
  lin.init_pytorch(rng);
  return lin;
}
}  // namespace

LinearReference cpu_linear_params(std::uint64_t seed) {
  auto lin = make_linear(seed);
  LinearReference r;
  r.weight.assign(lin.weight().value.data(), lin.weight().value.data() + lin.weight().size());
  r.bias.assign(lin.bias().value.data(), lin.bias().value.data() + lin.bias().size());
  return r;
}

void cpu_linear_forward(std::uint64_t seed, const std::vector<Index>& lengths, const Tensor3<float>& x,
                        Tensor3<float>& y) {
  auto lin = make_linear(seed);
  cpu().set_lengths(lengths);
  lin.forward(cpu(), x, y);
  cpu().clear_lengths();
}

double nmse(const Tensor3<float>& a, const Tensor3<float>& b) {
  if (a.dimensions() != b.dimensions()) return std::numeric_limits<double>::infinity();
  double num = 0, den = 0;
  for (Index i = 0; i < a.size(); ++i) {
    const double d = double(a.data()[i]) - double(b.data()[i]);
    num += d * d;
    den += double(b.data()[i]) * double(b.data()[i]);
  }
  if (num == 0) return 0;
  return den > 0 ? num / den : std::numeric_limits<double>::infinity();
}

}  // namespace nucleo::gpu_test
