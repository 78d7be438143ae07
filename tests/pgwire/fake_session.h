// A scripted SqlSession for protocol tests: statements are words, not SQL,
// so the tests exercise the protocol whatever the SQL layer supports.
//   rows N          N rows: i int8, s text, f float8, t timestamptz, b bool
//                   (every third row's s is NULL)
//   echo $1 $2 ...  one row whose text columns are the parameters
//   set NAME VALUE  changes a setting (tag SET)
//   begin / commit  transaction status T / I
//   fail            error 22012
//   sleep           blocks until cancelled (57014)
//   broken          a result whose column holds fewer values than rows
//   numeric         one numeric column (no binary form)
//   corrupt         a float8[] column "vals": [1.5], then stored text "[1," that does not parse
//   shifty          described as one int8 column, runs as "rows 1"
// A statement containing "syntax" fails Split with 42601.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "pgwire/sql_session.h"

namespace timestore::pgwire {

// Shared by all sessions of one test server.
struct FakeState {
  std::atomic<int> sessions_made{0};
  std::atomic<int> cancels{0};
  std::mutex mu;
  std::condition_variable cv;
  int sleeping = 0;  // statements blocked in "sleep"
  // Waits until `n` statements sleep; false after 60 s.
  bool WaitSleeping(int n);
  sql::SessionOptions last_options;
};

class FakeSession : public SqlSession {
 public:
  FakeSession(FakeState* state, sql::SessionOptions options);

  absl::StatusOr<std::vector<std::string>> Split(std::string_view sql) override;
  absl::StatusOr<sql::Prepared> Prepare(std::string_view sql,
                                        std::vector<uint32_t> param_types) override;
  absl::StatusOr<std::vector<sql::SqlColumn>> Describe(const sql::Prepared& stmt) override;
  absl::StatusOr<sql::SqlResult> Execute(const sql::Prepared& stmt,
                                         const std::vector<sql::Param>& params) override;
  void Cancel() override;
  char transaction_status() const override { return tx_; }
  void MarkFailed() override {
    if (tx_ == 'T') tx_ = 'E';
  }
  const std::map<std::string, std::string>& settings() const override { return settings_; }
  std::string SqlStateOf(const absl::Status& status) const override;

 private:
  FakeState* state_;
  std::map<std::string, std::string> settings_;
  char tx_ = 'I';
  bool cancelled_ = false;  // guarded by state_->mu
};

// A factory making FakeSessions over `state`.
SessionFactory FakeFactory(FakeState* state);

}  // namespace timestore::pgwire
