#pragma once
/// `MetricsLog`: one row of figures per epoch, appended to `<dir>/<stem>.jsonl` (one JSON object
/// per line) and `<dir>/<stem>.csv` (fixed columns, header written with the first row).
///
/// CSV cells: numbers as JSON writes them (round-trip precision), strings quoted when they hold a
/// comma, quote or newline, null/absent as an empty cell, nested values as quoted JSON. Keys of a
/// row that are not columns appear only in the JSONL file. `rewrite(rows)` replaces both files
/// atomically (used when a run resumes, so the logs match the checkpoint's history exactly).
#include "nucleo/core/error.hpp"
#include "nucleo/detail/atomic_write.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace nucleo {

class MetricsLog {
 public:
  MetricsLog(std::filesystem::path dir, std::vector<std::string> columns, std::string stem = "metrics")
      : jsonl_(dir / (stem + ".jsonl")), csv_(dir / (stem + ".csv")), columns_(std::move(columns)) {}

  const std::filesystem::path& jsonl_path() const { return jsonl_; }
  const std::filesystem::path& csv_path() const { return csv_; }
  const std::vector<std::string>& columns() const { return columns_; }

  /// Append one row to both files.
  void append(const nlohmann::json& row) {
    if (jsonl_.has_parent_path()) std::filesystem::create_directories(jsonl_.parent_path());
    std::error_code ec;
    const bool fresh = !std::filesystem::exists(csv_, ec) || std::filesystem::file_size(csv_, ec) == 0;
    append_to(jsonl_, row.dump() + "\n");
    append_to(csv_, (fresh ? header_line() : std::string()) + csv_line(row));
  }

  /// Replace both files with `rows`.
  void rewrite(const std::vector<nlohmann::json>& rows) const {
    std::string j, c = header_line();
    for (const auto& r : rows) {
      j += r.dump() + "\n";
      c += csv_line(r);
    }
    detail::write_file_atomic(jsonl_, j);
    detail::write_file_atomic(csv_, c);
  }

  std::string header_line() const {
    std::string s;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (i) s += ',';
      s += cell(nlohmann::json(columns_[i]));
    }
    return s + "\n";
  }

  std::string csv_line(const nlohmann::json& row) const {
    std::string s;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (i) s += ',';
      if (row.is_object() && row.contains(columns_[i])) s += cell(row.at(columns_[i]));
    }
    return s + "\n";
  }

  static std::string cell(const nlohmann::json& v) {
    if (v.is_null()) return {};
    if (v.is_string()) return quote(v.get<std::string>());
    if (v.is_structured()) return quote(v.dump());
    return v.dump();  // numbers, booleans
  }

 private:
  static std::string quote(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) {
      if (c == '"') q += '"';
      q += c;
    }
    return q + "\"";
  }

  static void append_to(const std::filesystem::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::app);
    out << text;
    out.flush();
    if (!out) throw IoError(fmt::format("{}: cannot append", p.string()));
  }

  std::filesystem::path jsonl_, csv_;
  std::vector<std::string> columns_;
};

}  // namespace nucleo
