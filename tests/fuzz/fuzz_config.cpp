// libFuzzer target: the JSON configuration reader of the pipeline programs: the text of a
// --config file (config_from_text over the gene-finding defaults) or of a --set assignment
// (apply_override), then the typed configuration the programs parse from the result
// (gene_experiment_config: stages, masking, head activation, arms, data, predict and decoder grid). Oracle:
// only nucleo::Error escapes (no library exception without a key or a file named), and an
// accepted configuration saved as JSON reads back equal.
#include <cstdint>
#include <string>

#include "nucleo_apps/experiment_config.hpp"
#include "nucleo_apps/gene_config.hpp"

namespace {

namespace apps = nucleo::apps;

// Everything the programs read, parsed once into the typed configuration as the programs do.
void use(const nlohmann::json& cfg) {
  apps::gene_experiment_config(cfg, "fuzz");
  apps::sample_efficiency_fractions(cfg);
  if (apps::config_from_text(apps::default_gene_config(), cfg.dump(), "saved") != cfg) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const nlohmann::json defaults = apps::default_gene_config();
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (data[0] % 2 == 0) {
      use(apps::config_from_text(defaults, text, "fuzz.json"));
    } else {
      nlohmann::json cfg = defaults;
      apps::apply_override(cfg, text);
      use(cfg);
    }
  } catch (const nucleo::Error&) {
  }
  return 0;
}
