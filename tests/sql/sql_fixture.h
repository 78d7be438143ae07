// The fixture of the SQL layer tests: an Engine in a temp dir, rows ingested
// through the JSON ingest parser, and a Session to run statements on.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "api/ingest_parser.h"
#include "engine/engine.h"
#include "sql/session.h"
#include "sql/value.h"

namespace timestore::sql::testing {

class SqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/timestore-sql-XXXXXX";
    root_ = mkdtemp(tmpl);
    EngineOptions eo;
    eo.root = root_;
    eo.background_sealing = false;
    auto e = Engine::Open(Env::Default(), eo);
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
    session_ = std::make_unique<Session>(engine_.get(), SessionOptions{});
  }
  void TearDown() override {
    session_.reset();
    engine_.reset();
    std::filesystem::remove_all(root_);
  }

  // Ingests a JSON body ({"records": [...]}) into `slug` and waits for it.
  void Ingest(std::string slug, std::string body) {
    api::IngestParseOptions o;
    o.slug = slug;
    o.format = api::BodyFormat::kJson;
    o.precision = Precision::kMilliseconds;
    auto ds = engine_->GetDataset(slug);
    SchemaPtr schema = ds ? ds->schema() : nullptr;
    o.current = schema.get();
    auto req = api::ParseIngestBody(&body, o);
    ASSERT_TRUE(req.ok()) << req.status();
    absl::Status s = Submit(std::move(*req));
    ASSERT_TRUE(s.ok()) << s;
  }

  // Ingests `req` (built column by column) and waits for the engine's answer.
  absl::Status Submit(IngestRequest req) {
    std::promise<absl::Status> done;
    engine_->Ingest(std::move(req),
                    [&](absl::StatusOr<IngestResult> r) { done.set_value(r.status()); });
    return done.get_future().get();
  }

  void Seal(std::string_view slug) {
    auto r = engine_->Flush(slug);
    ASSERT_TRUE(r.ok()) << r.status();
  }

  absl::StatusOr<SqlResult> Run(std::string_view sql, std::vector<Param> params = {},
                                std::vector<uint32_t> types = {}) {
    auto p = session_->Prepare(sql, std::move(types));
    if (!p.ok()) return p.status();
    if (params.size() < static_cast<size_t>(p->param_count)) params.resize(p->param_count);
    return session_->Execute(*p, params);
  }

  // The answer as text rows: cells joined by '|', NULL as "NULL".
  std::vector<std::string> Rows(std::string_view sql, std::vector<Param> params = {}) {
    auto r = Run(sql, std::move(params));
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status();
    if (!r.ok()) return {};
    return Render(*r);
  }

  static std::string Cell(const ResultColumn& c, size_t i, uint32_t type_oid) {
    if (!c.valid.empty() && !c.valid[i]) return "NULL";
    switch (c.type) {
      case ColumnType::kTimestamp:
        return FormatTimestampPg(c.ints[i]);
      case ColumnType::kInteger:
        return std::to_string(c.ints[i]);
      case ColumnType::kBoolean:
        return c.ints[i] ? "t" : "f";
      case ColumnType::kDouble:
        return ValueToText(Value::Double(c.doubles[i]));
      case ColumnType::kString:
        return std::string(c.strings[i]);
      default:  // json, uuid, arrays: canonical text
        return std::string(c.strings[i]);
    }
    return "?";
  }
  static std::vector<std::string> Render(const SqlResult& r) {
    std::vector<std::string> out;
    for (size_t i = 0; i < r.table.rows; ++i) {
      std::string row;
      for (size_t k = 0; k < r.table.columns.size(); ++k) {
        if (k) row += "|";
        row += Cell(r.table.columns[k], i, r.columns[k].type_oid);
      }
      out.push_back(row);
    }
    return out;
  }

  // The SQLSTATE a statement fails with ("" when it succeeds).
  std::string StateOf(std::string_view sql, std::vector<Param> params = {}) {
    auto r = Run(sql, std::move(params));
    return r.ok() ? "" : SqlStateOf(r.status());
  }

  std::string root_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Session> session_;
};

}  // namespace timestore::sql::testing
