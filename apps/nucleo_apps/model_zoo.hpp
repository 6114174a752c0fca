#pragma once
/// Named model sizes and the task networks built on them.
///
/// Sizes (ResNetEncoder<channels, depth, kernel 9, vocabulary 7>, BEND's dilation schedule):
///
/// | name   | channels x depth | parameters (encoder) | use                                  |
/// |--------|------------------|----------------------|--------------------------------------|
/// | tiny   | 16 x 2           | 5 k                  | tests of the pipeline wiring         |
/// | small  | 64 x 6           | 0.25 M               | the `demo` configuration (minutes)   |
/// | medium | 128 x 12         | 2.0 M                | CPU runs (hours)                     |
/// | large  | 256 x 12         | 7.9 M                | CPU runs (a day), BEND's ResNet-LM width |
/// | paper  | 512 x 30         | 78.7 M               | the paper's model (GPU scale)        |
///
/// The sizes are compile-time types; `with_encoder(name, f)` maps a configuration's string to the
/// type by calling `f.template operator()<Encoder>()`. Every network is a flat Sequential whose
/// child 0 is the encoder, so parameter names start with "0." in the pretraining network, the
/// gene-finding network and the multilabel network alike; fine-tuning loads "0.*" from an MLM
/// checkpoint by name.
#include "nucleo/core/error.hpp"
#include "nucleo/heads/mlm_head.hpp"
#include "nucleo/heads/sequence_classifier.hpp"
#include "nucleo/heads/token_classifier.hpp"
#include "nucleo/layers/resnet_encoder.hpp"
#include "nucleo/layers/sequential.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <string>
#include <string_view>

namespace nucleo::apps {

template <class Scalar = float>
using TinyEncoder = ResNetEncoder<16, 2, 9, 7, Scalar>;

/// Encoder + MLM head over the 7-token vocabulary (SPT pretraining).
template <class Encoder>
using MlmNet = Sequential<Encoder, MLMHead<Encoder::channels, Encoder::vocab_size, typename Encoder::scalar_type>>;

/// Encoder + per-nucleotide classifier (gene finding: K = 9).
template <class Encoder, int K = 9>
using TokenNet = Sequential<Encoder, TokenClassifier<Encoder::channels, K, 64, typename Encoder::scalar_type>>;

/// Encoder + per-sequence multilabel classifier (BEND chromatin/histone/CpG).
template <class Encoder, int K>
using SequenceNet = Sequential<Encoder, SequenceClassifier<Encoder::channels, K, 64, typename Encoder::scalar_type>>;

/// The dilation schedule of a configuration's "encoder" section ({"dilation_cycle", "dilation_growth",
/// "max_dilation"}, each optional; resnet_encoder.hpp), or BEND's schedule when there is none: the
/// receptive field is a setting of the run, saved with it, so checkpoints rebuild the same encoder.
inline EncoderOptions encoder_options_from_config(const nlohmann::json& cfg) {
  EncoderOptions o;
  if (!cfg.is_object() || !cfg.contains("encoder")) return o;
  const auto& e = cfg.at("encoder");
  auto get = [&](const char* key, int& v) {
    if (!e.contains(key)) return;
    if (!e.at(key).is_number_integer() || e.at(key).get<long long>() < 1 || e.at(key).get<long long>() > 1 << 20)
      throw ConfigError(fmt::format("encoder.{} must be an integer in 1..{}, got {}", key, 1 << 20, e.at(key).dump()));
    v = e.at(key).get<int>();
  };
  get("dilation_cycle", o.dilation_cycle);
  get("dilation_growth", o.dilation_growth);
  get("max_dilation", o.max_dilation);
  return o;
}

inline constexpr std::array<std::string_view, 5> model_size_names = {"tiny", "small", "medium", "large", "paper"};

/// Call `f.template operator()<Encoder>()` with the encoder type named `size`; returns its result.
template <class F>
decltype(auto) with_encoder(std::string_view size, F&& f) {
  if (size == "tiny") return f.template operator()<TinyEncoder<float>>();
  if (size == "small") return f.template operator()<SmallEncoder<float>>();
  if (size == "medium") return f.template operator()<MediumEncoder<float>>();
  if (size == "large") return f.template operator()<LargeEncoder<float>>();
  if (size == "paper") return f.template operator()<PaperEncoder<float>>();
  throw ConfigError(fmt::format("unknown model size '{}' (expected tiny, small, medium, large or paper)", size));
}

/// `with_encoder` restricted to the CPU sizes tiny, small and medium: programs that instantiate a
/// heavy pipeline once per label count (nucleo-chromatin, -histone, -cpg) use it to keep their
/// build time down. "large" and "paper" are a ConfigError naming the sizes available.
template <class F>
decltype(auto) with_cpu_encoder(std::string_view size, F&& f) {
  if (size == "tiny") return f.template operator()<TinyEncoder<float>>();
  if (size == "small") return f.template operator()<SmallEncoder<float>>();
  if (size == "medium") return f.template operator()<MediumEncoder<float>>();
  if (size == "large" || size == "paper")
    throw ConfigError(fmt::format("model size '{}' is not built into this program (available: tiny, small, medium); "
                                  "use the library's with_encoder to instantiate it",
                                  size));
  throw ConfigError(fmt::format("unknown model size '{}' (expected tiny, small or medium)", size));
}

}  // namespace nucleo::apps
