#include "nucleo/train/metrics_log.hpp"

#include <catch2/catch.hpp>

#include "train/tiny_task.hpp"

using namespace nucleo;
using namespace nucleo::testing;

TEST_CASE("MetricsLog: one JSON line and one CSV row per appended row", "[train][metrics_log]") {
  TempDir dir;
  MetricsLog log(dir.path / "run", {"epoch", "train_loss", "val_mcc", "note"});
  log.append({{"epoch", 1}, {"train_loss", 0.5}, {"val_mcc", 0.25}, {"extra", {{"a", 1}}}});
  log.append({{"epoch", 2}, {"train_loss", 0.125}, {"val_mcc", nullptr}, {"note", "a, \"quoted\" note"}});
  CHECK(slurp(log.csv_path()) ==
        "epoch,train_loss,val_mcc,note\n"
        "1,0.5,0.25,\n"
        "2,0.125,,\"a, \"\"quoted\"\" note\"\n");
  const std::string jl = slurp(log.jsonl_path());
  const auto first = nlohmann::json::parse(jl.substr(0, jl.find('\n')));
  CHECK(first["extra"]["a"] == 1);
  CHECK(std::count(jl.begin(), jl.end(), '\n') == 2);

  // a second log object on the same files appends without a second header
  MetricsLog again(dir.path / "run", {"epoch", "train_loss", "val_mcc", "note"});
  again.append({{"epoch", 3}, {"train_loss", 0.1}});
  CHECK(slurp(log.csv_path()).find("epoch,", 1) == std::string::npos);
  CHECK(slurp(log.csv_path()).substr(slurp(log.csv_path()).size() - 8) == "3,0.1,,\n");

  // rewrite replaces both files
  log.rewrite({{{"epoch", 1}, {"train_loss", 1.0 / 3.0}}});
  CHECK(slurp(log.csv_path()) == "epoch,train_loss,val_mcc,note\n1,0.3333333333333333,,\n");
  CHECK(nlohmann::json::parse(slurp(log.jsonl_path()))["train_loss"].get<double>() == 1.0 / 3.0);
}
