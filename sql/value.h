// Scalar values and types of the SQL layer: what constants, parameters and
// expressions over result rows evaluate to, and the conversions between them
// that PostgreSQL performs implicitly (an untyped literal takes the type of
// the column it is compared with) or on a cast.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "segment/column.h"

namespace timestore::sql {

// kUnknown is PostgreSQL's "unknown": a quoted literal or a parameter whose
// type the context decides. kJson, kUuid and the arrays are the column types
// held like strings (segment/column.h): their Value::s is the canonical text
// (segment/typed_text.h): compact JSON with sorted keys, a lowercase uuid, a
// compact JSON array of non-null elements.
enum class SqlType : uint8_t {
  kNull,
  kUnknown,
  kBool,
  kInt,
  kDouble,
  kText,
  kTimestamp,
  kInterval,
  kJson,
  kUuid,
  kDoubleArray,  // double precision[]
  kIntArray,     // bigint[]
  kTextArray,    // text[]
  kBoolArray,    // boolean[]
};

constexpr bool IsSqlArray(SqlType t) {
  return t >= SqlType::kDoubleArray && t <= SqlType::kBoolArray;
}
// The types whose values are canonical text in Value::s.
constexpr bool IsTypedText(SqlType t) { return t >= SqlType::kJson && t <= SqlType::kBoolArray; }
// The element type of an array type (kDouble, kInt, kText, kBool); `t` otherwise.
SqlType SqlArrayElement(SqlType t);
// The column type values of `t` are stored as (kString for text, intervals
// and untyped values).
ColumnType ToColumnType(SqlType t);

std::string_view SqlTypeName(SqlType t);  // PostgreSQL's name: "bigint", "timestamp with time zone"
uint32_t SqlTypeOid(SqlType t);           // kUnknown and kNull go out as text
SqlType FromColumnType(ColumnType t);
SqlType SqlTypeFromOid(uint32_t oid);  // kUnknown for types without a meaning here

// PostgreSQL intervals keep months, days and sub-day time apart: a month is
// not a fixed number of days. Times here are nanoseconds.
struct Interval {
  int64_t months = 0;
  int64_t days = 0;
  int64_t nanos = 0;
  bool operator==(const Interval&) const = default;
};

struct Value {
  SqlType type = SqlType::kNull;
  bool b = false;
  int64_t i = 0;  // kInt, kTimestamp (ns since the epoch)
  double d = 0;
  std::string s;  // kText, kUnknown; canonical text of kJson, kUuid and arrays
  Interval iv;

  bool is_null() const { return type == SqlType::kNull; }
  static Value Null() { return {}; }
  static Value Bool(bool v) {
    Value x;
    x.type = SqlType::kBool;
    x.b = v;
    return x;
  }
  static Value Int(int64_t v) {
    Value x;
    x.type = SqlType::kInt;
    x.i = v;
    return x;
  }
  static Value Double(double v) {
    Value x;
    x.type = SqlType::kDouble;
    x.d = v;
    return x;
  }
  static Value Text(std::string v, SqlType t = SqlType::kText) {
    Value x;
    x.type = t;
    x.s = std::move(v);
    return x;
  }
  static Value Timestamp(int64_t ns) {
    Value x;
    x.type = SqlType::kTimestamp;
    x.i = ns;
    return x;
  }
  static Value OfInterval(Interval v) {
    Value x;
    x.type = SqlType::kInterval;
    x.iv = v;
    return x;
  }
};

// Converts `v` to `to` as an implicit coercion of a literal or an explicit
// cast: text to numbers, booleans, timestamps and intervals; ints to doubles;
// numbers to text. Errors are 22P02 / 22007 / 22003 naming the value; a
// conversion PostgreSQL has no cast for is 42846.
absl::StatusOr<Value> CastValue(const Value& v, SqlType to);

// PostgreSQL timestamp input: "2024-05-01 12:00:00[.fff][+02[:00]]", the same
// with T and Z (RFC 3339), a bare date, "epoch"; read in UTC without an offset.
// "now" reads the clock (and counts as a clock read, below).
absl::StatusOr<int64_t> ParseTimestampText(std::string_view s);

// Clock reads by evaluation on this thread: now() and its aliases, and text
// that becomes the timestamp 'now' (a literal, a concatenation, a column's
// value). An answer evaluated with any is of its moment, not of the data (the
// query result cache does not keep it): compare the count before and after.
uint64_t ClockReadsOnThisThread();
void NoteClockRead();
// PostgreSQL interval input: "5 minutes", "1 day 2 hours", "1h30m", "00:05:00",
// "-1 week", "1 mon", "2 years 3 months".
absl::StatusOr<Interval> ParseIntervalText(std::string_view s);

// A fixed interval in nanoseconds (days are 24 h, as in UTC): fails for
// months and years, which have no fixed length.
absl::StatusOr<int64_t> FixedIntervalNanos(const Interval& iv);
// ts + iv in UTC civil time (months added on the calendar); saturates.
int64_t AddInterval(int64_t ts, const Interval& iv, int sign = 1);

// ASCII case folding and number parsing over std::string_view (Debian's
// abseil has its own string_view type).
std::string AsciiLower(std::string_view s);
std::string AsciiUpper(std::string_view s);
bool SimpleAtoi(std::string_view s, int64_t* out);
bool SimpleAtod(std::string_view s, double* out);

// Text form as PostgreSQL prints it (for casts to text and SHOW): arrays as
// PostgreSQL array literals ({1,2.5}, {"a b",c}), json and uuid as their text.
std::string ValueToText(const Value& v);
std::string FormatTimestampPg(int64_t ns);  // "2024-05-01 12:00:00.5+00"
std::string FormatIntervalPg(const Interval& iv);

}  // namespace timestore::sql
