// A downstream project: find_package(nucleo), then the README's "a model in a few lines" verbatim.
#include <nucleo/nucleo.hpp>

#include <cmath>
#include <cstdio>

int main() {
  using namespace nucleo;

  using Encoder = ResNetEncoder<64, 6>;                       // BEND's dilated ResNet: 64 channels x 6 layers, k = 9
  using Net     = Sequential<Encoder, TokenClassifier<64, 9>>; // per-nucleotide 9-class head

  CpuContext ctx(2);                 // oneTBB threads
  Net net;  Rng rng(1);  net.get<0>().init(rng);  net.get<1>().init(rng);
  Tensor3<float> tokens(1, 1, 1000), logits, dlogits, dx;   // [batch, 1, length] token ids
  tokens.setConstant(tokens::encode('A'));
  net.forward(ctx, tokens, logits);                           // [1, 9, 1000]
  CrossEntropy<float> ce;  Labels y = Labels::Constant(1, 1000, 8);
  double loss = ce.value_and_grad(ctx, logits, y, dlogits);
  net.backward(ctx, tokens, dlogits, dx);                     // parameter grads accumulate
  AdamW<float> opt;  opt.step(ctx, net);  zero_grad(net);

  std::printf("nucleo %s: loss %.4f, logits [%ld, %ld, %ld]\n", version_string, loss, (long)logits.dimension(0),
              (long)logits.dimension(1), (long)logits.dimension(2));
  return (std::isfinite(loss) && logits.dimension(1) == 9 && logits.dimension(2) == 1000) ? 0 : 1;
}
