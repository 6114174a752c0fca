#pragma once
/// The equal-compute budget of an experiment's arms, shared by the gene-finding and multilabel
/// compares. With P pretraining and F fine-tuning steps:
///
///   spt, spt_crf, spt_grammar_crf            fine-tune F steps from the SPT encoder: P + F in all
///   scratch, scratch_crf, scratch_grammar_crf fine-tune P + F steps from scratch: equal compute
///   scratch_finetune_budget   fine-tune F steps from scratch: the fine-tuning budget alone
///
/// One MLM step and one fine-tuning step push the same batch shape through the same encoder, so
/// equal compute is counted in optimizer steps (docs/results.md).
#include "nucleo_apps/pretrain_mlm.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace nucleo::apps {

struct ArmBudget {
  bool from_spt = false;             ///< starts from the SPT encoder
  std::int64_t finetune_steps = 0;   ///< the arm's fine-tuning stage
  std::int64_t pretrain_steps = 0;   ///< the SPT steps it builds on (0 from scratch)
  std::int64_t total_steps() const { return finetune_steps + pretrain_steps; }
};

/// The budget of `arm` given the configured pretraining and fine-tuning steps.
inline ArmBudget arm_budget(std::string_view arm, std::int64_t pretrain_steps, std::int64_t finetune_steps) {
  if (arm == "spt" || arm == "spt_crf" || arm == "spt_grammar_crf") return {true, finetune_steps, pretrain_steps};
  if (arm == "scratch" || arm == "scratch_crf" || arm == "scratch_grammar_crf")
    return {false, finetune_steps + pretrain_steps, 0};
  return {false, finetune_steps, 0};
}

/// An arm's results row with its budget: total, fine-tuning and pretraining steps, and for an arm
/// built on `pretrained`, its time with the pretraining's.
inline void add_arm_budget(nlohmann::json& row, const ArmBudget& b, const StageResult& r,
                           const std::optional<StageResult>& pretrained) {
  row["total_steps"] = b.total_steps();
  row["finetune_steps"] = b.finetune_steps;
  row["pretrain_steps"] = b.pretrain_steps;
  if (pretrained && b.from_spt) row["seconds_with_pretrain"] = r.seconds + pretrained->seconds;
}

}  // namespace nucleo::apps
