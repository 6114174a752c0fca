#pragma once
/// Markdown tables of gene-finding records, so that every number in the documentation comes from a
/// committed record (docs/results/*.json) by one command (`nucleo-gene-finding report`).
///
/// Records:
///   gene_finding_compare   `nucleo-gene-finding compare` (gene_experiment.hpp): every seed's run and
///                          the per-arm mean and standard deviation of each figure
///   augustus_peer          bench/augustus_peer.sh: AUGUSTUS trained on the same loci, its gene
///                          model chosen on the validation loci, at locus level and in genome context
///   nucleo_annotate_genome bench/annotate_genome.sh: nucleo-annotate on the whole 5 Mb genome, its
///                          time, peak memory and genome-context scores
///
/// Tables (`gene_report_block`, by name):
///   summary <record>   per arm: test MCC, exon F1, gene F1 and exactly found genes at locus level and
///                      in genome context (mean +- sd over seeds), AUGUSTUS's default and chosen runs
///                      below when the augustus record is given
///   seeds <record>     every seed: the checkpoint's valid MCC, the decoder each split chose and the
///                      test figures, locus level and genome context
///   splice <record>    exon sensitivity/precision and splice sites at exact position (locus level)
///   augustus           AUGUSTUS's candidates on the validation loci and its test runs
///   genome-resources R...  time and peak memory of annotating the 5 Mb genome: the nucleo-annotate
///                      records R (bench/annotate_genome.sh) and AUGUSTUS's genome runs
///   ablation R:A ...   one row per record R and arm A, with what each row has on (CRF, length
///                      chains, receptive field, training crop, SPT): test MCC, exon and gene F1,
///                      genes exact, donor and acceptor precision/sensitivity at exact position,
///                      genome-context MCC, exon and gene F1 (mean +- sd); AUGUSTUS below
///   readme <records>   the short table of the README: the CRF arms (chain and grammar) of each
///                      record beside AUGUSTUS
///
/// `update_report_blocks` rewrites, in a Markdown text, everything between
/// `<!-- report: NAME ARGS -->` and `<!-- /report -->` with the table NAME ARGS.
#include "nucleo/core/error.hpp"
#include "nucleo_apps/gene_experiment.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace nucleo::apps {

namespace detail {

inline const nlohmann::json* json_at(const nlohmann::json& j, const std::string& pointer) {
  const auto p = nlohmann::json::json_pointer(pointer);
  return j.contains(p) ? &j.at(p) : nullptr;
}

/// "0.853 ± 0.012" (3 decimals; counts without decimals); "0.853" for one seed; "-" when absent.
inline std::string mean_sd_text(const nlohmann::json& summary, const std::string& figure, bool count = false) {
  if (!summary.contains(figure)) return "-";
  const auto& f = summary.at(figure);
  const double m = f.at("mean").get<double>();
  const std::string mean = count ? fmt::format("{:.1f}", m) : fmt::format("{:.3f}", m);
  if (f.at("sd").is_null()) return count ? fmt::format("{:.0f}", m) : mean;
  return count ? fmt::format("{} ± {:.1f}", mean, f.at("sd").get<double>())
               : fmt::format("{} ± {:.3f}", mean, f.at("sd").get<double>());
}

inline std::string value_text(const nlohmann::json* v, bool count = false) {
  if (!v || !v->is_number()) return "-";
  return count ? fmt::format("{:.0f}", v->get<double>()) : fmt::format("{:.3f}", v->get<double>());
}

/// The cells MCC | exon F1 | gene F1 | genes of one nucleo-data score result ("all" object).
inline std::string score_cells(const nlohmann::json* all) {
  if (!all) return "- | - | - | -";
  return fmt::format("{} | {} | {} | {}", value_text(json_at(*all, "/mcc")), value_text(json_at(*all, "/structure/exon/f1")),
                     value_text(json_at(*all, "/structure/gene/f1")),
                     value_text(json_at(*all, "/structure/gene/found"), true));
}

inline const nlohmann::json& record_kind(const nlohmann::json& rec, const char* kind, const std::string& name) {
  if (!rec.is_object() || rec.value("kind", std::string()) != kind)
    throw ConfigError(fmt::format("report: record '{}' is not a {} record", name, kind));
  return rec;
}

inline std::string steps_text(const nlohmann::json& rec, const std::string& arm) {
  for (const auto& r : rec.at("runs"))
    if (r.at("arms").contains(arm)) {
      const auto& a = r.at("arms").at(arm);
      return fmt::format("{} + {}", a.at("pretrain_steps").get<std::int64_t>(), a.at("finetune_steps").get<std::int64_t>());
    }
  return "-";
}

inline std::string augustus_label(const nlohmann::json& aug, const char* level, const char* which) {
  const auto& l = aug.at(level);
  const std::string model = l.at(which == std::string("default") ? "default" : "chosen").get<std::string>();
  return which == std::string("default") ? fmt::format("AUGUSTUS, default (`{}`)", model)
                                         : fmt::format("AUGUSTUS, chosen on valid (`{}`)", model);
}

}  // namespace detail

/// The summary table of a compare record (see the file comment); `augustus` may be null.
inline std::string gene_summary_table(const nlohmann::json& rec, const nlohmann::json* augustus) {
  const bool genome = rec.at("config").at("genome").at("enabled").get<bool>();
  std::string s =
      "| arm | steps (pretrain + fine-tune) | test MCC | exon F1 | gene F1 | genes exact | genome context: test MCC | "
      "exon F1 | gene F1 | genes exact |\n|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& arm_name : rec.at("arm_order")) {
    const std::string arm = arm_name.get<std::string>();
    if (!rec.at("summary").contains(arm) || !rec.at("summary").at(arm).contains("locus.test_mcc")) continue;
    const auto& a = rec.at("summary").at(arm);
    using detail::mean_sd_text;
    s += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", gene_arm_title(arm), detail::steps_text(rec, arm),
                     mean_sd_text(a, "locus.test_mcc"), mean_sd_text(a, "locus.exon_f1"), mean_sd_text(a, "locus.gene_f1"),
                     mean_sd_text(a, "locus.genes_found", true), mean_sd_text(a, "genome.test_mcc"),
                     mean_sd_text(a, "genome.exon_f1"), mean_sd_text(a, "genome.gene_f1"),
                     mean_sd_text(a, "genome.genes_found", true));
  }
  if (augustus) {
    for (const char* which : {"default", "chosen"}) {
      const auto* loc = detail::json_at(*augustus, std::string("/locus/test/") + which + "/all");
      const auto* gen = genome ? detail::json_at(*augustus, std::string("/genome/test/") + which + "/all") : nullptr;
      s += fmt::format("| {}; genome: `{}` | trained on the same {} loci | {} | {} |\n",
                       detail::augustus_label(*augustus, "locus", which),
                       augustus->at("genome").at(which == std::string("default") ? "default" : "chosen").get<std::string>(),
                       augustus->at("training").at("loci").get<int>(), detail::score_cells(loc), detail::score_cells(gen));
    }
  }
  return s;
}

/// Every seed of a compare record.
inline std::string gene_seed_table(const nlohmann::json& rec) {
  std::string s =
      "| arm | seed | valid MCC (checkpoint) | locus decoder (valid MCC) | test MCC | exon F1 | gene F1 | "
      "genome decoder (valid MCC) | genome test MCC | exon F1 | gene F1 |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& arm_name : rec.at("arm_order")) {
    const std::string arm = arm_name.get<std::string>();
    for (const auto& r : rec.at("runs")) {
      if (!r.at("arms").contains(arm)) continue;
      const auto& a = r.at("arms").at(arm);
      using detail::json_at;
      using detail::value_text;
      auto decoder = [&](const char* where) {
        const auto* d = json_at(a, where);
        return d ? fmt::format("{} ({:.3f})", d->at("label").get<std::string>(), d->at("valid_mcc").get<double>())
                 : std::string("-");
      };
      s += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", gene_arm_title(arm),
                       r.at("seeds").at("finetune").get<std::uint64_t>(), value_text(json_at(a, "/valid_mcc")),
                       decoder("/decoder_selection"), value_text(json_at(a, "/test/mcc")),
                       value_text(json_at(a, "/test/structure/exon/f1")), value_text(json_at(a, "/test/structure/gene/f1")),
                       decoder("/genome"), value_text(json_at(a, "/genome/test/mcc")),
                       value_text(json_at(a, "/genome/test/structure/exon/f1")),
                       value_text(json_at(a, "/genome/test/structure/gene/f1")));
    }
  }
  return s;
}

/// Exons and splice sites at exact position, locus level (mean +- sd over seeds).
inline std::string gene_splice_table(const nlohmann::json& rec) {
  std::string s = "| arm | exon sensitivity | exon precision | donor F1 | acceptor F1 | test MCC, loci <= 14 kb |\n"
                  "|---|---|---|---|---|---|\n";
  for (const auto& arm_name : rec.at("arm_order")) {
    const std::string arm = arm_name.get<std::string>();
    if (!rec.at("summary").contains(arm) || !rec.at("summary").at(arm).contains("locus.test_mcc")) continue;
    const auto& a = rec.at("summary").at(arm);
    using detail::mean_sd_text;
    s += fmt::format("| {} | {} | {} | {} | {} | {} |\n", gene_arm_title(arm), mean_sd_text(a, "locus.exon_sensitivity"),
                     mean_sd_text(a, "locus.exon_precision"), mean_sd_text(a, "locus.donor_f1"),
                     mean_sd_text(a, "locus.acceptor_f1"), mean_sd_text(a, "locus.test_mcc_short"));
  }
  return s;
}

/// AUGUSTUS's gene-model candidates on the validation loci, the choice, and its test runs.
inline std::string augustus_table(const nlohmann::json& aug) {
  std::string s = "| level | gene model | valid MCC | valid exon F1 | valid gene F1 | test MCC | test exon F1 | test gene F1 | "
                  "test genes exact |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const char* level : {"locus", "genome"}) {
    const auto& l = aug.at(level);
    for (const auto& c : l.at("candidates")) {
      const std::string name = c.get<std::string>();
      const auto* v = detail::json_at(l, "/valid/" + name + "/all");
      std::string test = "not scored on test | | | ";
      std::string tag;
      if (name == l.at("default").get<std::string>()) tag = "default";
      if (name == l.at("chosen").get<std::string>()) tag += tag.empty() ? "chosen" : ", chosen";
      const char* which = name == l.at("chosen").get<std::string>() ? "chosen" : "default";
      if (!tag.empty()) test = detail::score_cells(detail::json_at(l, std::string("/test/") + which + "/all"));
      s += fmt::format("| {} | `{}`{} | {} | {} | {} | {} |\n", level, name, tag.empty() ? "" : " (" + tag + ")",
                       detail::value_text(v ? detail::json_at(*v, "/mcc") : nullptr),
                       detail::value_text(v ? detail::json_at(*v, "/structure/exon/f1") : nullptr),
                       detail::value_text(v ? detail::json_at(*v, "/structure/gene/f1") : nullptr), test);
    }
  }
  return s;
}

/// The README's table: for each compare record its CRF arms (chain and grammar), then AUGUSTUS.
inline std::string gene_readme_table(const std::vector<std::pair<std::string, const nlohmann::json*>>& records,
                                     const nlohmann::json* augustus) {
  std::string s = "| | seeds | test MCC | exon F1 | gene F1 | genes exact (of 100) | genome context: test MCC | "
                  "exon F1 | gene F1 |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& [name, rec] : records)
    for (const char* arm : {"spt_crf", "scratch_crf", "spt_grammar_crf", "scratch_grammar_crf"}) {
      if (!rec->at("summary").contains(arm) || !rec->at("summary").at(arm).contains("locus.test_mcc")) continue;
      const auto& a = rec->at("summary").at(arm);
      using detail::mean_sd_text;
      s += fmt::format("| nucleo {}, `{}` | {} | {} | {} | {} | {} | {} | {} | {} |\n", gene_arm_title(arm), name,
                       a.at("locus.test_mcc").at("n").get<int>(), mean_sd_text(a, "locus.test_mcc"),
                       mean_sd_text(a, "locus.exon_f1"), mean_sd_text(a, "locus.gene_f1"),
                       mean_sd_text(a, "locus.genes_found", true), mean_sd_text(a, "genome.test_mcc"),
                       mean_sd_text(a, "genome.exon_f1"), mean_sd_text(a, "genome.gene_f1"));
    }
  if (augustus)
    for (const char* which : {"default", "chosen"}) {
      const auto* loc = detail::json_at(*augustus, std::string("/locus/test/") + which + "/all");
      const auto* gen = detail::json_at(*augustus, std::string("/genome/test/") + which + "/all");
      std::string g = "- | - | -";
      if (gen)
        g = fmt::format("{} | {} | {}", detail::value_text(detail::json_at(*gen, "/mcc")),
                        detail::value_text(detail::json_at(*gen, "/structure/exon/f1")),
                        detail::value_text(detail::json_at(*gen, "/structure/gene/f1")));
      s += fmt::format("| {} | - | {} | {} |\n", detail::augustus_label(*augustus, "locus", which),
                       detail::score_cells(loc), g);
    }
  return s;
}

/// The ablation table (see the file comment): rows "record:arm".
inline std::string gene_ablation_table(const std::vector<std::pair<std::string, const nlohmann::json*>>& rows,
                                       const nlohmann::json* augustus) {
  std::string s =
      "| record | arm | CRF | lengths | receptive field | crop (batch x nt) | seeds | test MCC | exon F1 | gene F1 | "
      "genes exact | donor P / S | acceptor P / S | genome: test MCC | exon F1 | gene F1 |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  using detail::mean_sd_text;
  for (const auto& [spec, rec] : rows) {
    const std::string name = spec.substr(0, spec.find(':')), arm = spec.substr(spec.find(':') + 1);
    if (!rec->at("summary").contains(arm) || !rec->at("summary").at(arm).contains("locus.test_mcc"))
      throw ConfigError(fmt::format("report: record '{}' has no finished arm '{}'", name, arm));
    const auto& cfg = rec->at("config");
    const auto& a = rec->at("summary").at(arm);
    const bool grammar = arm.ends_with("_grammar_crf");
    const std::string crf = grammar ? "grammar, trained" : arm.ends_with("_crf") ? "9-state chain + decoder grid" : "none + decoder grid";
    std::string lengths = "-";
    if (grammar) {
      const GeneGrammarCrfOptions g =
          cfg.contains("grammar_crf") ? grammar_crf_options_from_json(cfg.at("grammar_crf")) : GeneGrammarCrfOptions{};
      lengths = g.intron_states == 1 && g.intergenic_states == 1
                    ? std::string("geometric")
                    : fmt::format("chains {} / {}", g.intron_states, g.intergenic_states);
    }
    const EncoderOptions enc = encoder_options_from_config(cfg);
    const std::string size = cfg.at("model").get<std::string>();
    const int depth = size == "tiny" ? 2 : size == "small" ? 6 : size == "paper" ? 30 : 12;
    long long rf = 0;
    for (int i = 0; i < depth; ++i) rf += 8LL * enc.dilation_of(static_cast<std::size_t>(i));
    const auto& fin = cfg.at("finetune");
    s += fmt::format("| `{}` | {} | {} | {} | ±{} nt | {} x {} | {} | {} | {} | {} | {} | {} / {} | {} / {} | {} | {} | {} |\n",
                     name, gene_arm_title(arm), crf, lengths, rf / 2, fin.at("batch_size").get<std::int64_t>(),
                     fin.at("max_length").get<std::int64_t>(), a.at("locus.test_mcc").at("n").get<int>(),
                     mean_sd_text(a, "locus.test_mcc"), mean_sd_text(a, "locus.exon_f1"), mean_sd_text(a, "locus.gene_f1"),
                     mean_sd_text(a, "locus.genes_found", true), mean_sd_text(a, "locus.donor_precision"),
                     mean_sd_text(a, "locus.donor_sensitivity"), mean_sd_text(a, "locus.acceptor_precision"),
                     mean_sd_text(a, "locus.acceptor_sensitivity"), mean_sd_text(a, "genome.test_mcc"),
                     mean_sd_text(a, "genome.exon_f1"), mean_sd_text(a, "genome.gene_f1"));
  }
  if (augustus)
    for (const char* which : {"default", "chosen"}) {
      using detail::json_at;
      using detail::value_text;
      const auto* loc = json_at(*augustus, std::string("/locus/test/") + which + "/all");
      const auto* gen = json_at(*augustus, std::string("/genome/test/") + which + "/all");
      auto at = [&](const nlohmann::json* j, const char* ptr) { return value_text(j ? json_at(*j, ptr) : nullptr); };
      s += fmt::format("| `augustus` | {} | generalized HMM | explicit | - | whole loci | - | {} | {} | {} | {} | {} / {} | "
                       "{} / {} | {} | {} | {} |\n",
                       detail::augustus_label(*augustus, "locus", which), at(loc, "/mcc"), at(loc, "/structure/exon/f1"),
                       at(loc, "/structure/gene/f1"), loc ? value_text(json_at(*loc, "/structure/gene/found"), true) : "-",
                       at(loc, "/structure/donor/precision"), at(loc, "/structure/donor/sensitivity"),
                       at(loc, "/structure/acceptor/precision"), at(loc, "/structure/acceptor/sensitivity"),
                       at(gen, "/mcc"), at(gen, "/structure/exon/f1"), at(gen, "/structure/gene/f1"));
    }
  return s;
}

/// Time and peak memory of annotating the genome: nucleo-annotate records, then AUGUSTUS's runs.
inline std::string genome_resources_table(const std::vector<std::pair<std::string, const nlohmann::json*>>& nucleo,
                                          const nlohmann::json* augustus) {
  std::string s = "| program | options | threads | wall seconds | CPU seconds | peak memory (MB) | nt/s (wall) | "
                  "load average at start | test MCC (genome context) |\n|---|---|---|---|---|---|---|---|---|\n";
  using detail::json_at;
  auto num = [](const nlohmann::json* v, const char* f) {
    return v && v->is_number() ? fmt::format(fmt::runtime(f), v->get<double>()) : std::string("-");
  };
  for (const auto& [name, r] : nucleo)
    s += fmt::format("| nucleo-annotate, `{}` | `{}` | {} | {} | {} | {} | {} | {} | {} |\n", name,
                     r->at("options").get<std::string>(), r->at("threads").get<int>(), num(json_at(*r, "/seconds"), "{:.0f}"),
                     num(json_at(*r, "/cpu_seconds"), "{:.0f}"), num(json_at(*r, "/max_rss_mb"), "{:.0f}"),
                     num(json_at(*r, "/nt_per_s"), "{:.0f}"), num(json_at(*r, "/load_average_before"), "{:.2f}"),
                     detail::value_text(json_at(*r, "/test/all/mcc")));
  if (augustus)
    if (const auto* res = json_at(*augustus, "/genome/resources"))
      for (const auto& candidate : augustus->at("genome").at("candidates")) {
        const std::string model = candidate.get<std::string>();
        if (!res->contains(model)) continue;
        const auto& r = res->at(model);
        const bool chosen = augustus->at("genome").at("chosen").get<std::string>() == model;
        const auto* test = chosen ? json_at(*augustus, "/genome/test/chosen/all/mcc") : nullptr;
        s += fmt::format("| AUGUSTUS {} | `--genemodel={}`{} | 1 | {} | {} | {} | {} | {} | {} |\n",
                         augustus->at("augustus_version").get<std::string>(), model,
                         r.value("shared_cpu", false) ? " (beside another AUGUSTUS run)" : "",
                         num(json_at(r, "/seconds"), "{:.0f}"), num(json_at(r, "/cpu_seconds"), "{:.0f}"),
                         num(json_at(r, "/max_rss_mb"), "{:.0f}"), num(json_at(r, "/nt_per_s"), "{:.0f}"),
                         num(json_at(r, "/load_average_before"), "{:.2f}"), test ? detail::value_text(test) : "not scored on test");
      }
  return s;
}

/// The Markdown of a compare record as `compare` prints it: the summary, the splice-site table and
/// every seed.
inline std::string gene_compare_markdown(const nlohmann::json& rec) {
  const auto& cfg = rec.at("config");
  std::string s = fmt::format(
      "Gene finding, model {}, {} seed(s){}; test figures of each arm's checkpoint and decoder chosen on the validation "
      "loci, scored once{}.\n\n",
      cfg.at("model").get<std::string>(), rec.at("runs").size(),
      rec.at("complete").get<bool>() ? "" : fmt::format(" of {} (incomplete)", rec.at("seeds_planned").get<int>()),
      cfg.at("genome").at("enabled").get<bool>() ? "; genome context: the genome predicted whole, scored inside the loci"
                                                  : "");
  s += gene_summary_table(rec, nullptr);
  s += "\nExons and splice sites at exact position (locus level):\n\n" + gene_splice_table(rec);
  s += "\nEvery seed:\n\n" + gene_seed_table(rec);
  return s;
}

/// The table NAME ARGS of the file comment, from `records` (by file name without ".json").
inline std::string gene_report_block(const std::string& spec, const std::map<std::string, nlohmann::json>& records) {
  std::istringstream in(spec);
  std::string name;
  in >> name;
  std::vector<std::string> args;
  for (std::string a; in >> a;) args.push_back(a);
  auto record = [&](const std::string& n) -> const nlohmann::json& {
    const auto it = records.find(n);
    if (it == records.end()) throw ConfigError(fmt::format("report: no record '{}' (docs/results/{}.json)", n, n));
    return it->second;
  };
  const auto aug_it = records.find("augustus");
  const nlohmann::json* augustus = aug_it == records.end() ? nullptr : &aug_it->second;
  auto one = [&](const char* kind) -> const nlohmann::json& {
    if (args.size() != 1) throw ConfigError(fmt::format("report: '{}' takes one record name, got '{}'", name, spec));
    return detail::record_kind(record(args[0]), kind, args[0]);
  };
  if (name == "summary") return gene_summary_table(one("gene_finding_compare"), augustus);
  if (name == "seeds") return gene_seed_table(one("gene_finding_compare"));
  if (name == "splice") return gene_splice_table(one("gene_finding_compare"));
  if (name == "augustus") {
    if (!augustus) throw ConfigError("report: no record 'augustus' (docs/results/augustus.json)");
    return augustus_table(detail::record_kind(*augustus, "augustus_peer", "augustus"));
  }
  if (name == "readme") {
    std::vector<std::pair<std::string, const nlohmann::json*>> recs;
    for (const auto& a : args) recs.emplace_back(a, &detail::record_kind(record(a), "gene_finding_compare", a));
    return gene_readme_table(recs, augustus);
  }
  if (name == "ablation") {
    std::vector<std::pair<std::string, const nlohmann::json*>> rows;
    for (const auto& a : args) {
      const auto colon = a.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == a.size())
        throw ConfigError(fmt::format("report: ablation rows are record:arm, got '{}'", a));
      const std::string r = a.substr(0, colon);
      rows.emplace_back(a, &detail::record_kind(record(r), "gene_finding_compare", r));
    }
    return gene_ablation_table(rows, augustus);
  }
  if (name == "genome-resources") {
    std::vector<std::pair<std::string, const nlohmann::json*>> recs;
    for (const auto& a : args) recs.emplace_back(a, &detail::record_kind(record(a), "nucleo_annotate_genome", a));
    return genome_resources_table(recs, augustus);
  }
  throw ConfigError(
      fmt::format("report: unknown table '{}' (summary, seeds, splice, augustus, ablation, readme, genome-resources)", name));
}

/// `text` with every `<!-- report: SPEC -->` ... `<!-- /report -->` block's body replaced by
/// make(SPEC). `where` names the text in errors (an unclosed block).
inline std::string update_report_blocks(const std::string& text, const std::function<std::string(const std::string&)>& make,
                                        const std::string& where) {
  const std::string open = "<!-- report: ", close = "<!-- /report -->";
  std::string out;
  std::size_t pos = 0;
  for (;;) {
    const auto a = text.find(open, pos);
    if (a == std::string::npos) break;
    const auto spec_end = text.find(" -->", a);
    if (spec_end == std::string::npos) throw ConfigError(fmt::format("{}: unclosed '{}'", where, open));
    const auto b = text.find(close, spec_end);
    if (b == std::string::npos)
      throw ConfigError(fmt::format("{}: '{}' has no '{}'", where, text.substr(a, spec_end + 4 - a), close));
    const std::string spec = text.substr(a + open.size(), spec_end - a - open.size());
    out += text.substr(pos, spec_end + 4 - pos);
    out += '\n';
    out += make(spec);
    pos = b;
  }
  out += text.substr(pos);
  return out;
}

}  // namespace nucleo::apps
