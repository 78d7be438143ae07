// Asks DuckDB (tests/parquet/duckdb_parquet_check.mjs under Node.js) about
// Parquet files: the independent reader the Parquet tests compare against;
// and hyparquet (tests/parquet/hyparquet_check.mjs), a second one that keeps
// the nanoseconds of timestamps DuckDB reads in microseconds.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "simdjson.h"
#include "tests/e2e/test_server.h"

#ifndef TIMESTORE_SOURCE_DIR
#error "TIMESTORE_SOURCE_DIR must be defined"
#endif

namespace timestore::testing {

struct DuckAnswer {
  std::string error;  // non-empty: DuckDB refused the statement
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // cells as text, null as nullopt
};

inline bool DuckDbAvailable() {
  return Shell("command -v node >/dev/null").first == 0 &&
         std::filesystem::exists(std::string(TIMESTORE_SOURCE_DIR) +
                                 "/tests/node/node_modules/@duckdb/node-api/package.json");
}

inline std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

inline bool HyparquetAvailable() {
  return Shell("command -v node >/dev/null").first == 0 &&
         std::filesystem::exists(std::string(TIMESTORE_SOURCE_DIR) +
                                 "/tests/node/node_modules/hyparquet/package.json");
}

// Runs `script` (under tests/parquet) with `args`; one answer per argument.
inline std::vector<DuckAnswer> AskNodeReader(const std::string& script,
                                             const std::vector<std::string>& args,
                                             std::string* failure) {
  std::string cmd =
      "node " + ShellQuote(std::string(TIMESTORE_SOURCE_DIR) + "/tests/parquet/" + script);
  const std::vector<std::string>& statements = args;
  for (const std::string& s : statements) cmd += " " + ShellQuote(s);
  auto [rc, out] = Shell(cmd);
  std::vector<DuckAnswer> answers;
  if (rc != 0) {
    *failure = script + " exited " + std::to_string(rc) + ": " + out;
    return {};
  }
  simdjson::dom::parser parser;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t nl = out.find('\n', pos);
    if (nl == std::string::npos) nl = out.size();
    std::string line = out.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc) != simdjson::SUCCESS) {
      *failure = "not JSON from " + script + ": " + line;
      return {};
    }
    DuckAnswer a;
    std::string_view err;
    if (doc["error"].get(err) == simdjson::SUCCESS) {
      a.error = std::string(err);
    } else {
      for (auto c : doc["columns"].get_array()) a.columns.emplace_back(std::string_view(c));
      for (auto r : doc["rows"].get_array()) {
        std::vector<std::optional<std::string>> row;
        for (auto c : r.get_array()) {
          if (c.is_null()) {
            row.push_back(std::nullopt);
          } else {
            row.push_back(std::string(std::string_view(c)));
          }
        }
        a.rows.push_back(std::move(row));
      }
    }
    answers.push_back(std::move(a));
  }
  if (answers.size() != statements.size()) {
    *failure = script + " answered " + std::to_string(answers.size()) + " of " +
               std::to_string(statements.size()) + " statements: " + out;
    return {};
  }
  return answers;
}

// One answer per statement; an empty vector (and `*failure` set) when the
// script did not run or printed something else.
inline std::vector<DuckAnswer> AskDuckDb(const std::vector<std::string>& statements,
                                         std::string* failure) {
  return AskNodeReader("duckdb_parquet_check.mjs", statements, failure);
}

// Every row of each file (uncompressed or snappy), timestamps as integer
// nanoseconds.
inline std::vector<DuckAnswer> AskHyparquet(const std::vector<std::string>& files,
                                            std::string* failure) {
  return AskNodeReader("hyparquet_check.mjs", files, failure);
}

}  // namespace timestore::testing
