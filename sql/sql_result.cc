#include "sql/sql_result.h"

#include "absl/strings/cord.h"
#include "common/status_util.h"
#include "common/strings.h"

namespace timestore::sql {

absl::Status SqlError(std::string_view sqlstate, std::string_view message) {
  // The absl code only matters to callers that do not read the SQLSTATE (the
  // HTTP /sql route maps statuses to HTTP): 0A000 and 42xxx are the client's
  // fault, 57014 a cancel, XX000 ours.
  absl::StatusCode code = absl::StatusCode::kInvalidArgument;
  if (sqlstate == sqlstate::kQueryCanceled) code = absl::StatusCode::kCancelled;
  if (sqlstate == sqlstate::kInternalError) code = absl::StatusCode::kInternal;
  if (sqlstate == sqlstate::kInsufficientPrivilege) code = absl::StatusCode::kPermissionDenied;
  if (sqlstate == sqlstate::kUndefinedTable) code = absl::StatusCode::kNotFound;
  if (sqlstate == sqlstate::kServiceUnavailable) code = absl::StatusCode::kUnavailable;
  if (sqlstate == sqlstate::kProgramLimitExceeded) code = absl::StatusCode::kResourceExhausted;
  absl::Status s(code, ToAbsl(message));
  s.SetPayload(ToAbsl(kSqlStatePayload), absl::Cord(ToAbsl(sqlstate)));
  return s;
}

absl::Status WithPosition(absl::Status status, int position) {
  if (position > 0 && !status.ok()) {
    status.SetPayload(ToAbsl(kSqlPositionPayload), absl::Cord(ToAbsl(std::to_string(position))));
  }
  return status;
}

int SqlPositionOf(const absl::Status& status) {
  auto p = status.GetPayload(ToAbsl(kSqlPositionPayload));
  if (!p) return 0;
  int v = 0;
  for (char c : std::string(*p)) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string SqlStateOf(const absl::Status& status) {
  if (auto p = status.GetPayload(ToAbsl(kSqlStatePayload))) return std::string(*p);
  const std::string code = ErrorCodeOf(status);
  if (code == "unknown_column") return std::string(sqlstate::kUndefinedColumn);
  if (code == "dataset_not_found" || code == "dataset_deleted") {
    return std::string(sqlstate::kUndefinedTable);
  }
  if (code == "query_cancelled") return std::string(sqlstate::kQueryCanceled);
  if (code == "forbidden") return std::string(sqlstate::kInsufficientPrivilege);
  if (code == "sum_overflow") return std::string(sqlstate::kNumericOutOfRange);
  if (code == "not_fresh") return "55000";  // object_not_in_prerequisite_state
  if (code == "invalid_query") return std::string(sqlstate::kInvalidParameterValue);
  switch (status.code()) {
    case absl::StatusCode::kCancelled:
      return std::string(sqlstate::kQueryCanceled);
    case absl::StatusCode::kDeadlineExceeded:
      return std::string(sqlstate::kQueryCanceled);  // statement_timeout is 57014 too
    case absl::StatusCode::kResourceExhausted:
      return "53000";  // insufficient_resources
    case absl::StatusCode::kUnavailable:
      return std::string(sqlstate::kServiceUnavailable);
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return code.empty() ? std::string(sqlstate::kInternalError)
                          : std::string(sqlstate::kInvalidParameterValue);
    default:
      return std::string(sqlstate::kInternalError);
  }
}

}  // namespace timestore::sql
