// What a pgwire connection asks of the SQL layer: the calls of sql::Session
// (sql/session.h) behind an interface, so that protocol tests can drive a
// connection with a scripted session (portals, cancellation, broken results)
// without depending on what SQL the layer understands. NewSqlSession wraps
// the real one.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sql/session.h"

namespace timestore::pgwire {

// Thread-compatible, except Cancel, which may be called from any thread.
class SqlSession {
 public:
  virtual ~SqlSession() = default;
  virtual absl::StatusOr<std::vector<std::string>> Split(std::string_view sql) = 0;
  virtual absl::StatusOr<sql::Prepared> Prepare(std::string_view sql,
                                                std::vector<uint32_t> param_types) = 0;
  virtual absl::StatusOr<std::vector<sql::SqlColumn>> Describe(const sql::Prepared& stmt) = 0;
  virtual absl::StatusOr<sql::SqlResult> Execute(const sql::Prepared& stmt,
                                                 const std::vector<sql::Param>& params) = 0;
  virtual void Cancel() = 0;
  virtual char transaction_status() const = 0;
  virtual void MarkFailed() = 0;
  virtual const std::map<std::string, std::string>& settings() const = 0;
  // The SQLSTATE of an error this session returned.
  virtual std::string SqlStateOf(const absl::Status& status) const = 0;
};

// Makes the session of a connection that has authenticated. `options` holds
// what the connection knows (user, database, application_name, the user's
// scopes); the factory adds the server's part (require_scope, max_rows,
// server_version, the engine). An error refuses the connection with its
// SQLSTATE. Called from connection threads, concurrently.
using SessionFactory =
    std::function<absl::StatusOr<std::unique_ptr<SqlSession>>(sql::SessionOptions options)>;

// A SqlSession over sql::Session. `engine` may be null while the server
// recovers (the session then answers 57P03 for statements that need data).
std::unique_ptr<SqlSession> NewSqlSession(Engine* engine, sql::SessionOptions options);

}  // namespace timestore::pgwire
