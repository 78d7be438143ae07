// Errors of the wire protocol layer carry a PostgreSQL SQLSTATE in the same
// payload the SQL layer uses (sql::kSqlStatePayload), so one ErrorResponse
// path serves both. The codec makes its own (it does not link the SQL layer).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "sql/sql_result.h"

namespace timestore::pgwire {

inline absl::Status PgError(std::string_view sqlstate, std::string_view message) {
  absl::Status status(absl::StatusCode::kInvalidArgument,
                      absl::string_view(message.data(), message.size()));
  status.SetPayload(absl::string_view(sql::kSqlStatePayload.data(), sql::kSqlStatePayload.size()),
                    absl::Cord(absl::string_view(sqlstate.data(), sqlstate.size())));
  return status;
}

// The SQLSTATE payload of `status`, or `fallback` when it has none.
inline std::string PayloadSqlState(const absl::Status& status,
                                   std::string_view fallback = sql::sqlstate::kInternalError) {
  auto payload = status.GetPayload(
      absl::string_view(sql::kSqlStatePayload.data(), sql::kSqlStatePayload.size()));
  if (payload.has_value()) {
    std::string state(*payload);
    if (state.size() == 5) return state;
  }
  return std::string(fallback);
}

// A protocol violation (08P01): the client sent bytes that are not a message.
inline absl::Status ProtocolViolation(std::string_view message) {
  return PgError(sql::sqlstate::kProtocolViolation, message);
}

}  // namespace timestore::pgwire
