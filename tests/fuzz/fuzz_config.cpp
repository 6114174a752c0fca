// libFuzzer target: the JSON configuration reader of the pipeline programs: the text of a
// --config file (config_from_text over the gene-finding defaults) or of a --set assignment
// (apply_override), then everything the programs read from the result (both stages, masking,
// head activation, arms, train fraction, the predict and decoder-selection settings). Oracle:
// only nucleo::Error escapes (no library exception without a key or a file named), and an
// accepted configuration saved as JSON reads back equal.
#include <cstdint>
#include <string>

#include "nucleo_apps/experiment_config.hpp"
#include "nucleo_apps/gene_experiment.hpp"
#include "nucleo_apps/stage_config.hpp"

namespace {

void use(const nlohmann::json& cfg) {
  cfg.at("pretrain").get<nucleo::apps::StageConfig>();
  cfg.at("finetune").get<nucleo::apps::StageConfig>();
  nucleo::masking_from_config(cfg);
  nucleo::activation_from_config(cfg);
  nucleo::arms_from_config(cfg, nucleo::gene_arm_names());
  nucleo::checked_train_fraction(cfg.at("data").at("train_fraction").get<double>());
  nucleo::predict_from_config(cfg);
  nucleo::decoder_grid_from_config(cfg);
  if (nucleo::config_from_text(nucleo::default_gene_config(), cfg.dump(), "saved") != cfg) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const nlohmann::json defaults = nucleo::default_gene_config();
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (data[0] % 2 == 0) {
      use(nucleo::config_from_text(defaults, text, "fuzz.json"));
    } else {
      nlohmann::json cfg = defaults;
      nucleo::apply_override(cfg, text);
      use(cfg);
    }
  } catch (const nucleo::Error&) {
  }
  return 0;
}
