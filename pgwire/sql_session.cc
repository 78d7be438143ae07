#include "pgwire/sql_session.h"

#include "sql/sql_result.h"

namespace timestore::pgwire {
namespace {

class SessionAdapter final : public SqlSession {
 public:
  SessionAdapter(Engine* engine, sql::SessionOptions options)
      : session_(engine, std::move(options)) {}

  absl::StatusOr<std::vector<std::string>> Split(std::string_view sql) override {
    return session_.Split(sql);
  }
  absl::StatusOr<sql::Prepared> Prepare(std::string_view sql,
                                        std::vector<uint32_t> param_types) override {
    return session_.Prepare(sql, std::move(param_types));
  }
  absl::StatusOr<std::vector<sql::SqlColumn>> Describe(const sql::Prepared& stmt) override {
    return session_.Describe(stmt);
  }
  absl::StatusOr<sql::SqlResult> Execute(const sql::Prepared& stmt,
                                         const std::vector<sql::Param>& params) override {
    return session_.Execute(stmt, params);
  }
  void Cancel() override { session_.Cancel(); }
  char transaction_status() const override { return session_.transaction_status(); }
  void MarkFailed() override { session_.MarkFailed(); }
  const std::map<std::string, std::string>& settings() const override {
    return session_.settings();
  }
  std::string SqlStateOf(const absl::Status& status) const override {
    return sql::SqlStateOf(status);
  }

 private:
  sql::Session session_;
};

}  // namespace

std::unique_ptr<SqlSession> NewSqlSession(Engine* engine, sql::SessionOptions options) {
  return std::make_unique<SessionAdapter>(engine, std::move(options));
}

}  // namespace timestore::pgwire
