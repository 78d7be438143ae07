// The query half of a pgwire connection, after startup: the simple query
// protocol (Query) and the extended one (Parse, Bind, Describe, Execute,
// Close, Flush, Sync) over one SqlSession, with PostgreSQL's rules:
//   - named statements and portals live until closed (portals also until the
//     transaction ends: Sync or Query outside a BEGIN block drops them);
//     unnamed ones are replaced silently, a named one that exists is 42P05
//     (statement) / 42P03 (portal);
//   - Execute with a row limit sends at most that many rows, then
//     PortalSuspended, and the next Execute continues where it stopped;
//   - after an error in an extended message everything up to Sync is skipped;
//   - ParameterStatus precedes ReadyForQuery for each setting that changed.
// Output goes to a BackendWriter; the flush callback sends it.
// Not thread-safe, except executing().
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pgwire/backend_messages.h"
#include "pgwire/frontend_messages.h"
#include "pgwire/sql_session.h"

namespace timestore::pgwire {

class QueryProtocol {
 public:
  // `flush` sends what `out` holds to the client and clears it; false when
  // the client is gone. Both must outlive this object.
  QueryProtocol(SqlSession* session, BackendWriter* out, std::function<bool()> flush);
  ~QueryProtocol();

  enum class Next { kContinue, kClose };
  // Handles one message (not a startup packet). kClose for Terminate, a
  // message that ends the connection (08P01, sent as FATAL) or a lost client.
  Next Handle(FrontendMessage&& message);

  // Sends ParameterStatus for each setting that changed since the last call
  // (every setting on the first).
  void ReportSettings();

  // True while a statement executes (what a CancelRequest may stop).
  bool executing() const { return executing_.load(std::memory_order_acquire); }

 private:
  struct Statement;
  struct Portal;

  void HandleQuery(const std::string& sql);
  absl::Status HandleParse(Parse& m);
  absl::Status HandleBind(Bind& m);
  absl::Status HandleDescribe(const Describe& m);
  absl::Status HandleExecute(const Execute& m);
  void HandleClose(const Close& m);
  void HandleSync();
  void ReadyForQuery();  // with the settings changed since the last one, then flushed

  absl::StatusOr<std::shared_ptr<Statement>> FindStatement(const std::string& name);
  absl::StatusOr<const std::vector<sql::SqlColumn>*> ColumnsOf(Statement& stmt);
  absl::StatusOr<sql::SqlResult> Run(const sql::Prepared& stmt,
                                     const std::vector<sql::Param>& params);
  // DataRows for rows [begin, end) of `result`; flushes as the buffer grows.
  absl::Status SendRows(const sql::SqlResult& result, size_t begin, size_t end,
                        const std::vector<int16_t>& formats);
  void SendError(const absl::Status& status, std::string_view severity = "ERROR");
  void DropPortals();

  SqlSession* session_;
  BackendWriter* out_;
  std::function<bool()> flush_;
  std::map<std::string, std::shared_ptr<Statement>> statements_;  // "" = unnamed
  std::map<std::string, Portal> portals_;
  std::map<std::string, std::string> reported_;  // settings as last sent
  bool skipping_ = false;                        // an extended message failed: ignore until Sync
  bool client_gone_ = false;                     // a flush failed
  std::atomic<bool> executing_{false};
};

// The format code of result column `i` given Bind's codes (none: text; one:
// for all columns; else one per column).
int16_t ResultFormat(const std::vector<int16_t>& formats, size_t i);

}  // namespace timestore::pgwire
