// A SQL session: the state one pgwire connection (or one POST /sql request)
// keeps between statements, and the calls its transport makes. Statements are
// parsed by libpg_query (PostgreSQL 15's grammar) and lowered onto the same
// query plan as the JSON API (engine/query.h); see docs/sql.md.
//
// Thread-compatible: one session per connection, one call at a time.
// Cancel() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sql/sql_result.h"

namespace timestore {
class Engine;
}

namespace timestore::auth {
struct Principal;
}  // namespace timestore::auth

namespace timestore::sql {

struct Statement;    // sql/ast.h
struct PlanContext;  // sql/plan.h

struct SessionOptions {
  std::string user = "timestore";
  std::string database = "timestore";
  std::string application_name;
  // Scopes the caller holds and the scope a query needs ("" = none needed);
  // a missing scope is 42501.
  std::vector<std::string> scopes;
  std::string require_scope;
  // When set, decides instead of `scopes`/`require_scope` whether the session
  // may read a table (a dataset slug): nullopt allows it, a message denies
  // it (42501). The HTTP and pgwire servers set it from the caller's token:
  // dataset grants and the dataset's own read scopes (auth/access.h).
  std::function<std::optional<std::string>(std::string_view table)> table_access;
  // The API token the session acts as (pgwire auth method token), for the
  // server's session factory to build `table_access` from; else null.
  std::shared_ptr<const auth::Principal> principal;
  uint64_t max_rows = 1'000'000;  // rows a statement may return (54000 beyond)
  std::string server_version = "15.0 (Timestore 0.1.0)";
  // When set, statements stop (57014) once it becomes true: POST /sql passes
  // the HTTP request's "client gone" flag. Otherwise Cancel() drives one.
  std::shared_ptr<std::atomic<bool>> cancel_flag;
  // Where the engine comes from when the session was opened before recovery
  // ended (engine == nullptr): asked again at each statement, so a pgwire
  // connection made during WAL replay works once replay is over.
  std::function<Engine*()> engine_source;
};

// A parsed statement (Parse message, or one statement of a simple query).
struct Prepared {
  std::string sql;
  int param_count = 0;                // highest $n used
  std::vector<uint32_t> param_types;  // declared by the client or inferred; 0 = unknown
  // Opaque parse tree and lowering state owned by the SQL layer.
  std::shared_ptr<const void> impl;
};

// A bound parameter in text form (the transport converts binary parameters of
// the types in sql_result.h to text first); nullopt is SQL NULL.
using Param = std::optional<std::string>;

class Session {
 public:
  // `engine` may be null while the server recovers: statements that need data
  // answer 57P03; catalog-free ones (SET, SHOW, SELECT 1) still work.
  Session(Engine* engine, SessionOptions options);
  ~Session();

  // Splits a simple-query string into statements (libpg_query's splitter);
  // a syntax error anywhere is 42601 for the whole string.
  absl::StatusOr<std::vector<std::string>> Split(std::string_view sql) const;

  // Parses one statement. `param_types` are those of the Parse message (may
  // be shorter than the number of parameters, 0 = unspecified).
  absl::StatusOr<Prepared> Prepare(std::string_view sql, std::vector<uint32_t> param_types);

  // The columns `stmt` would return (empty for a command), without running
  // it; parameters not yet bound are treated as unknown.
  absl::StatusOr<std::vector<SqlColumn>> Describe(const Prepared& stmt);

  // Runs `stmt` with `params` (size must equal stmt.param_count, else 08P01).
  absl::StatusOr<SqlResult> Execute(const Prepared& stmt, const std::vector<Param>& params);

  // Stops the statement running now (57014), from any thread.
  void Cancel();

  // Transaction block state for ReadyForQuery: 'I' idle, 'T' in a block
  // (BEGIN ... COMMIT are accepted; reads need no isolation), 'E' in a failed
  // block, where every statement but COMMIT/ROLLBACK answers 25P02.
  char transaction_status() const { return tx_status_; }
  // A statement or protocol error happened: a block becomes failed.
  void MarkFailed() {
    if (tx_status_ == 'T') tx_status_ = 'E';
  }

  // Session settings, as SET/SHOW see them (and the ParameterStatus values a
  // pgwire server reports at startup: server_version, client_encoding,
  // DateStyle, TimeZone, integer_datetimes, standard_conforming_strings, ...).
  const std::map<std::string, std::string>& settings() const { return settings_; }

 private:
  PlanContext MakePlanContext(const Prepared& stmt) const;
  Engine* engine() const {
    return engine_ != nullptr || !options_.engine_source ? engine_ : options_.engine_source();
  }
  absl::StatusOr<SqlResult> ExecuteStatement(const Statement& st, const Prepared& stmt,
                                             const std::vector<Param>& params);

  Engine* engine_;
  SessionOptions options_;
  std::map<std::string, std::string> settings_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  char tx_status_ = 'I';
};

}  // namespace timestore::sql
