#include "tests/pgwire/fake_session.h"

#include <chrono>
#include <sstream>

#include "common/strings.h"
#include "pgwire/pg_error.h"

namespace timestore::pgwire {
namespace {

std::vector<std::string> Words(std::string_view s) {
  std::istringstream in{std::string(s)};
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::vector<sql::SqlColumn> RowsColumns() {
  return {{"i", sql::oid::kInt8},
          {"s", sql::oid::kText},
          {"f", sql::oid::kFloat8},
          {"t", sql::oid::kTimestamptz},
          {"b", sql::oid::kBool}};
}

}  // namespace

bool FakeState::WaitSleeping(int n) {
  std::unique_lock<std::mutex> lock(mu);
  return cv.wait_for(lock, std::chrono::seconds(60), [&] { return sleeping >= n; });
}

FakeSession::FakeSession(FakeState* state, sql::SessionOptions options) : state_(state) {
  settings_ = {{"server_version", "15.0 (fake)"},
               {"server_encoding", "UTF8"},
               {"client_encoding", "UTF8"},
               {"DateStyle", "ISO, MDY"},
               {"TimeZone", "UTC"},
               {"application_name", options.application_name},
               {"session_authorization", options.user}};
  {
    std::lock_guard<std::mutex> lock(state->mu);
    state->last_options = options;
  }
  state->sessions_made++;
}

std::string FakeSession::SqlStateOf(const absl::Status& status) const {
  return PayloadSqlState(status);
}

absl::StatusOr<std::vector<std::string>> FakeSession::Split(std::string_view sql) {
  if (sql.find("syntax") != std::string_view::npos)
    return PgError("42601", "syntax error at or near \"syntax\"");
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= sql.size()) {
    size_t semi = sql.find(';', start);
    if (semi == std::string_view::npos) semi = sql.size();
    std::string part(StripWhitespace(sql.substr(start, semi - start)));
    if (!part.empty()) out.push_back(part);
    start = semi + 1;
  }
  return out;
}

absl::StatusOr<sql::Prepared> FakeSession::Prepare(std::string_view sql,
                                                   std::vector<uint32_t> param_types) {
  auto words = Words(sql);
  if (words.empty()) return PgError("42601", "empty statement");
  static const char* kKnown[] = {"rows",  "echo",   "set",     "begin", "commit", "fail",
                                 "sleep", "broken", "numeric", "SET",   "shifty", "corrupt"};
  bool known = false;
  for (const char* k : kKnown) known |= words[0] == k;
  if (!known) return PgError("42601", StrCat("syntax error at or near \"", words[0], "\""));
  sql::Prepared p;
  p.sql = std::string(sql);
  for (const auto& w : words) {
    int n = 0;
    if (w.size() > 1 && w[0] == '$' && ParseInt(std::string_view(w).substr(1), &n))
      p.param_count = std::max(p.param_count, n);
  }
  p.param_types = std::move(param_types);
  p.param_types.resize(p.param_count, 0);
  return p;
}

absl::StatusOr<std::vector<sql::SqlColumn>> FakeSession::Describe(const sql::Prepared& stmt) {
  auto words = Words(stmt.sql);
  if (words[0] == "rows") return RowsColumns();
  if (words[0] == "echo") {
    std::vector<sql::SqlColumn> cols;
    for (size_t i = 1; i < words.size(); ++i) cols.push_back({StrCat("p", i), sql::oid::kText});
    return cols;
  }
  if (words[0] == "numeric") return std::vector<sql::SqlColumn>{{"n", sql::oid::kNumeric}};
  if (words[0] == "corrupt") return std::vector<sql::SqlColumn>{{"vals", sql::oid::kFloat8Array}};
  if (words[0] == "broken" || words[0] == "shifty")
    return std::vector<sql::SqlColumn>{{"x", sql::oid::kInt8}};
  if (words[0] == "sleep") return std::vector<sql::SqlColumn>{{"slept", sql::oid::kBool}};
  return std::vector<sql::SqlColumn>{};
}

absl::StatusOr<sql::SqlResult> FakeSession::Execute(const sql::Prepared& stmt,
                                                    const std::vector<sql::Param>& params) {
  if (params.size() != static_cast<size_t>(stmt.param_count))
    return PgError("08P01", "wrong number of parameters");
  if (tx_ == 'E' && stmt.sql != "commit") return PgError("25P02", "current transaction is aborted");
  auto words = Words(stmt.sql);
  sql::SqlResult r;
  auto cols = Describe(stmt);
  r.columns = *cols;
  if (words[0] == "shifty") {
    // Runs as "rows 1", whatever Describe said.
    words = {"rows", "1"};
    r.columns = RowsColumns();
  }
  if (words[0] == "rows") {
    const size_t n = std::stoul(words.at(1));
    r.returns_rows = true;
    r.table.rows = n;
    r.table.columns.resize(5);
    ResultColumn& i = r.table.columns[0];
    ResultColumn& s = r.table.columns[1];
    ResultColumn& f = r.table.columns[2];
    ResultColumn& t = r.table.columns[3];
    ResultColumn& b = r.table.columns[4];
    i.type = ColumnType::kInteger;
    s.type = ColumnType::kString;
    f.type = ColumnType::kDouble;
    t.type = ColumnType::kTimestamp;
    b.type = ColumnType::kBoolean;
    for (size_t k = 0; k < n; ++k) {
      i.ints.push_back(static_cast<int64_t>(k));
      i.valid.push_back(1);
      r.table.owned_strings.push_back(StrCat("row", k));
      s.strings.push_back(r.table.owned_strings.back());
      s.valid.push_back(k % 3 == 2 ? 0 : 1);
      f.doubles.push_back(static_cast<double>(k) + 0.5);
      f.valid.push_back(1);
      t.ints.push_back(1714564800'000000000 + static_cast<int64_t>(k) * 1'000'000'000);
      t.valid.push_back(1);
      b.ints.push_back(k % 2);
      b.valid.push_back(1);
    }
    r.command_tag = StrCat("SELECT ", n);
  } else if (words[0] == "echo") {
    r.returns_rows = true;
    r.table.rows = 1;
    for (size_t k = 0; k + 1 < words.size(); ++k) {
      ResultColumn c;
      c.type = ColumnType::kString;
      int n = 0;
      ParseInt(std::string_view(words[k + 1]).substr(1), &n);
      const sql::Param& p = params.at(static_cast<size_t>(n - 1));
      r.table.owned_strings.push_back(p.value_or(""));
      c.strings.push_back(r.table.owned_strings.back());
      c.valid.push_back(p.has_value() ? 1 : 0);
      r.table.columns.push_back(std::move(c));
    }
    r.command_tag = "SELECT 1";
  } else if (words[0] == "set" || words[0] == "SET") {
    // "set NAME VALUE", or the connection's "SET NAME TO 'VALUE'".
    if (words.size() < 3) return PgError("42601", "set needs a name and a value");
    std::string value = words.back();
    if (value.size() >= 2 && value.front() == '\'') value = value.substr(1, value.size() - 2);
    if (words[1] == "unknown_setting")
      return PgError("42704", "unrecognized configuration parameter \"unknown_setting\"");
    settings_[words[1]] = value;
    r.command_tag = "SET";
  } else if (words[0] == "begin") {
    tx_ = 'T';
    r.command_tag = "BEGIN";
  } else if (words[0] == "commit") {
    tx_ = 'I';
    r.command_tag = "COMMIT";
  } else if (words[0] == "fail") {
    return PgError("22012", "division by zero");
  } else if (words[0] == "sleep") {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->sleeping++;
    state_->cv.notify_all();
    state_->cv.wait_for(lock, std::chrono::seconds(60), [this] { return cancelled_; });
    state_->sleeping--;
    cancelled_ = false;
    return PgError("57014", "canceling statement due to user request");
  } else if (words[0] == "broken") {
    r.returns_rows = true;
    r.table.rows = 2;
    ResultColumn c;
    c.type = ColumnType::kInteger;
    c.ints = {1};
    c.valid = {1};
    r.table.columns.push_back(std::move(c));
    r.command_tag = "SELECT 2";
  } else if (words[0] == "corrupt") {
    r.returns_rows = true;
    r.table.rows = 2;
    ResultColumn c;
    c.name = "vals";
    c.type = ColumnType::kDoubleArray;
    c.strings = {"[1.5]", "[1,"};
    c.valid = {1, 1};
    r.table.columns.push_back(std::move(c));
    r.command_tag = "SELECT 2";
  } else if (words[0] == "numeric") {
    r.returns_rows = true;
    r.table.rows = 1;
    ResultColumn c;
    c.type = ColumnType::kDouble;
    c.doubles = {1.25};
    c.valid = {1};
    r.table.columns.push_back(std::move(c));
    r.command_tag = "SELECT 1";
  }
  return r;
}

void FakeSession::Cancel() {
  std::lock_guard<std::mutex> lock(state_->mu);
  cancelled_ = true;
  state_->cancels++;
  state_->cv.notify_all();
}

SessionFactory FakeFactory(FakeState* state) {
  return [state](sql::SessionOptions options) -> absl::StatusOr<std::unique_ptr<SqlSession>> {
    if (options.database == "recovering")
      return PgError("57P03", "the database system is starting up");
    return std::unique_ptr<SqlSession>(std::make_unique<FakeSession>(state, std::move(options)));
  };
}

}  // namespace timestore::pgwire
