// What the SQL front end hands to its transports (pgwire, POST /sql): a
// result in the engine's columnar form with PostgreSQL type OIDs, or a
// command tag; and errors carrying a PostgreSQL SQLSTATE.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/query.h"

namespace timestore::sql {

// PostgreSQL type OIDs (pg_type.dat) that results and parameters use.
namespace oid {
inline constexpr uint32_t kUnspecified = 0;
inline constexpr uint32_t kBool = 16;
inline constexpr uint32_t kChar = 18;  // "char": one byte (pg_class.relkind)
inline constexpr uint32_t kName = 19;
inline constexpr uint32_t kInt8 = 20;
inline constexpr uint32_t kInt2 = 21;
inline constexpr uint32_t kInt4 = 23;
inline constexpr uint32_t kText = 25;
inline constexpr uint32_t kOid = 26;
inline constexpr uint32_t kFloat4 = 700;
inline constexpr uint32_t kFloat8 = 701;
inline constexpr uint32_t kUnknown = 705;
inline constexpr uint32_t kVarchar = 1043;
inline constexpr uint32_t kTimestamp = 1114;
inline constexpr uint32_t kTimestamptz = 1184;
inline constexpr uint32_t kInterval = 1186;
inline constexpr uint32_t kNumeric = 1700;
inline constexpr uint32_t kJson = 114;
inline constexpr uint32_t kJsonb = 3802;  // parameters only: read as json
inline constexpr uint32_t kUuid = 2950;
inline constexpr uint32_t kBoolArray = 1000;
inline constexpr uint32_t kInt2Array = 1005;
inline constexpr uint32_t kInt4Array = 1007;
inline constexpr uint32_t kTextArray = 1009;
inline constexpr uint32_t kVarcharArray = 1015;
inline constexpr uint32_t kInt8Array = 1016;
inline constexpr uint32_t kFloat4Array = 1021;
inline constexpr uint32_t kFloat8Array = 1022;
}  // namespace oid

// One output column: a name and the PostgreSQL type its values are sent as.
// Values live in SqlResult::table.columns[i] (same index):
//   kBool, kInt2/4/8, kOid -> ints (booleans 0/1)
//   kFloat4/8              -> doubles
//   kTimestamptz           -> ints, nanoseconds since the epoch (UTC)
//   kText, kName, kVarchar, kChar -> strings
//   kJson, kUuid and the arrays -> strings: canonical text (sql/value.h),
//                                  which the transports print as PostgreSQL does
struct SqlColumn {
  std::string name;
  uint32_t type_oid = oid::kText;
};

struct SqlResult {
  // True for statements that return rows (SELECT, SHOW, EXPLAIN): send a
  // RowDescription (even with zero rows) and DataRows.
  bool returns_rows = false;
  std::vector<SqlColumn> columns;
  QueryResult table;  // table.columns parallel to `columns`; table.rows rows
  // CommandComplete tag: "SELECT 12", "SET", "BEGIN", "SHOW", "EXPLAIN".
  std::string command_tag;
};

// Errors: an absl::Status whose payload kSqlStatePayload holds the 5-character
// SQLSTATE. Engine statuses without one are mapped by SqlStateOf.
inline constexpr std::string_view kSqlStatePayload = "timestore.sqlstate";

absl::Status SqlError(std::string_view sqlstate, std::string_view message);

// The 1-based character position in the statement an error points at (the
// ErrorResponse P field), carried as a payload; 0 when there is none.
inline constexpr std::string_view kSqlPositionPayload = "timestore.sqlposition";
absl::Status WithPosition(absl::Status status, int position);
int SqlPositionOf(const absl::Status& status);
// The SQLSTATE of `status`: its payload, or one derived from the engine error
// code (not_found -> 42P01, query_cancelled -> 57014, invalid_query -> 22023
// or 42703 for an unknown column, forbidden -> 42501, ...; XX000 otherwise).
std::string SqlStateOf(const absl::Status& status);

namespace sqlstate {
inline constexpr std::string_view kSyntaxError = "42601";
inline constexpr std::string_view kUndefinedTable = "42P01";
inline constexpr std::string_view kUndefinedColumn = "42703";
inline constexpr std::string_view kUndefinedFunction = "42883";
inline constexpr std::string_view kGroupingError = "42803";
inline constexpr std::string_view kDatatypeMismatch = "42804";
inline constexpr std::string_view kAmbiguousColumn = "42702";
inline constexpr std::string_view kInsufficientPrivilege = "42501";
inline constexpr std::string_view kFeatureNotSupported = "0A000";
inline constexpr std::string_view kInvalidParameterValue = "22023";
inline constexpr std::string_view kInvalidTextRepresentation = "22P02";
inline constexpr std::string_view kInvalidDatetimeFormat = "22007";
inline constexpr std::string_view kDivisionByZero = "22012";
inline constexpr std::string_view kNumericOutOfRange = "22003";
inline constexpr std::string_view kQueryCanceled = "57014";
inline constexpr std::string_view kProtocolViolation = "08P01";
inline constexpr std::string_view kInvalidPassword = "28P01";
inline constexpr std::string_view kInvalidAuthorization = "28000";
inline constexpr std::string_view kUndefinedParameter = "42P02";
inline constexpr std::string_view kUndefinedObject = "42704";
inline constexpr std::string_view kInvalidSqlStatementName = "26000";
inline constexpr std::string_view kInvalidCursorName = "34000";
inline constexpr std::string_view kProgramLimitExceeded = "54000";
inline constexpr std::string_view kStatementTooComplex = "54001";
inline constexpr std::string_view kTooManyConnections = "53300";
inline constexpr std::string_view kServiceUnavailable = "57P03";  // cannot_connect_now
inline constexpr std::string_view kInternalError = "XX000";
inline constexpr std::string_view kDataCorrupted = "XX001";
}  // namespace sqlstate

}  // namespace timestore::sql
