// Result values as PostgreSQL sends them, in text (format 0) and binary
// (format 1), by type OID; and binary parameters turned into the text form
// sql::Session::Execute takes.
//
// Text forms follow PostgreSQL 15 with its default settings (DateStyle ISO,
// TimeZone UTC, extra_float_digits 1):
//   bool           t / f
//   int2/4/8, oid  decimal
//   float4/8       shortest digits that read back to the same value, fixed
//                  notation for decimal exponents -4 .. 14 (float4: -4 .. 5),
//                  else d.ddde+XX; NaN, Infinity, -Infinity, -0
//   timestamptz    YYYY-MM-DD HH:MM:SS[.ffffff]+00, fraction without trailing
//                  zeros (timestamp: without "+00"); " BC" for years <= 0
//   text, name, varchar, unknown: the bytes
//   json           its canonical text (compact, keys sorted)
//   uuid           8-4-4-4-12 lowercase hex
//   float8[], int8[], text[], bool[]: array literals {1,2.5}, {t,f},
//                  {"a b",c} (elements quoted when empty, holding space , { }
//                  " \ or spelling NULL; " and \ escaped)
// Binary forms (PostgreSQL's *send functions): bool 1 byte; int2/int4/int8/oid
// and float4/float8 (IEEE 754) big-endian; timestamp(tz) int64 microseconds
// since 2000-01-01 00:00 UTC; text types and json their bytes; uuid its 16
// bytes; arrays array_send's (dimensions, no-nulls flag, element oid, length
// and lower bound 1, then each element's length and binary form).
// Binary parameters of those types are read too (jsonb with its version byte;
// int2/int4/int8, float4/float8, text/varchar and bool arrays without NULLs).
//
// Timestamps in results are int64 nanoseconds since the Unix epoch; PostgreSQL
// has microseconds, so they are truncated toward negative infinity (-1 ns is
// 1969-12-31 23:59:59.999999).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/query.h"
#include "sql/sql_result.h"

namespace timestore::pgwire {

inline constexpr int16_t kTextFormat = 0;
inline constexpr int16_t kBinaryFormat = 1;

// 2000-01-01 00:00:00 UTC in microseconds since the Unix epoch.
inline constexpr int64_t kPostgresEpochMicros = 946'684'800'000'000;

// True when values of type `oid` can be sent in binary here.
bool HasBinaryOutput(uint32_t oid);

// Checks that each column of `result` holds a value and a validity flag for
// each of its rows (so AppendValue never reads past a vector) and that it has
// as many columns as it describes. XX000 otherwise: a bug of the SQL layer,
// reported instead of crashing.
absl::Status ValidateResult(const sql::SqlResult& result);

// True when row `row` of `column` is NULL. REQUIRES: ValidateResult passed.
inline bool IsNull(const ResultColumn& column, size_t row) { return column.valid[row] == 0; }

// Appends the value at `row` of `column`, sent as type `oid` in `format`.
// XX001 (data_corrupted) naming the column and row when a stored array or
// uuid is not its canonical text (it is not sent as an empty or wrong value);
// `out` may then hold part of the value: drop the row being built.
// REQUIRES: ValidateResult passed, the value is not NULL, and for the binary
// format HasBinaryOutput(oid).
absl::Status AppendValue(const ResultColumn& column, size_t row, uint32_t oid, int16_t format,
                         std::string* out);

void AppendFloat8Text(double v, std::string* out);
void AppendFloat4Text(float v, std::string* out);
// `micros` since the Unix epoch; INT64_MIN/INT64_MAX print as -infinity/infinity.
void AppendTimestampText(int64_t micros, bool with_time_zone, std::string* out);
// Nanoseconds to microseconds, rounding toward negative infinity.
int64_t NanosToMicros(int64_t nanos);

// The text form of a binary parameter of type `oid` (parameter $`index`,
// 1-based, names it in errors): 0A000 for a type without a binary form here,
// 22P03 for a value of the wrong length, 22021 for text that is not UTF-8.
absl::StatusOr<std::string> BinaryParamToText(uint32_t oid, std::string_view bytes, int index);

// Well-formed UTF-8 without NUL bytes (what PostgreSQL accepts in text).
bool IsValidUtf8(std::string_view s);

}  // namespace timestore::pgwire
