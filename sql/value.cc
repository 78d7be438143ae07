#include "sql/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/time/civil_time.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "sql/sql_result.h"
#include "sql/typed_value.h"

namespace timestore::sql {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kNanosPerDay = 86400 * kNanosPerSecond;

absl::Status BadText(std::string_view type, std::string_view s) {
  return SqlError(sqlstate::kInvalidTextRepresentation,
                  StrCat("invalid input syntax for type ", type, ": \"", s.substr(0, 100), "\""));
}

// Formats a double as PostgreSQL 12+ does with the default extra_float_digits:
// the shortest text that reads back to the same value.
std::string FormatDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, end);
}

thread_local uint64_t clock_reads = 0;

}  // namespace

uint64_t ClockReadsOnThisThread() { return clock_reads; }
void NoteClockRead() { ++clock_reads; }

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = absl::ascii_tolower(c);
  return out;
}

std::string AsciiUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = absl::ascii_toupper(c);
  return out;
}

bool SimpleAtoi(std::string_view s, int64_t* out) { return absl::SimpleAtoi(ToAbsl(s), out); }
bool SimpleAtod(std::string_view s, double* out) { return absl::SimpleAtod(ToAbsl(s), out); }

std::string_view SqlTypeName(SqlType t) {
  switch (t) {
    case SqlType::kNull:
    case SqlType::kUnknown:
      return "unknown";
    case SqlType::kBool:
      return "boolean";
    case SqlType::kInt:
      return "bigint";
    case SqlType::kDouble:
      return "double precision";
    case SqlType::kText:
      return "text";
    case SqlType::kTimestamp:
      return "timestamp with time zone";
    case SqlType::kInterval:
      return "interval";
    case SqlType::kJson:
      return "json";
    case SqlType::kUuid:
      return "uuid";
    case SqlType::kDoubleArray:
      return "double precision[]";
    case SqlType::kIntArray:
      return "bigint[]";
    case SqlType::kTextArray:
      return "text[]";
    case SqlType::kBoolArray:
      return "boolean[]";
  }
  return "unknown";
}

SqlType SqlArrayElement(SqlType t) {
  switch (t) {
    case SqlType::kDoubleArray:
      return SqlType::kDouble;
    case SqlType::kIntArray:
      return SqlType::kInt;
    case SqlType::kTextArray:
      return SqlType::kText;
    case SqlType::kBoolArray:
      return SqlType::kBool;
    default:
      return t;
  }
}

ColumnType ToColumnType(SqlType t) {
  switch (t) {
    case SqlType::kBool:
      return ColumnType::kBoolean;
    case SqlType::kInt:
      return ColumnType::kInteger;
    case SqlType::kDouble:
      return ColumnType::kDouble;
    case SqlType::kTimestamp:
      return ColumnType::kTimestamp;
    case SqlType::kJson:
      return ColumnType::kJson;
    case SqlType::kUuid:
      return ColumnType::kUuid;
    case SqlType::kDoubleArray:
      return ColumnType::kDoubleArray;
    case SqlType::kIntArray:
      return ColumnType::kIntegerArray;
    case SqlType::kTextArray:
      return ColumnType::kStringArray;
    case SqlType::kBoolArray:
      return ColumnType::kBooleanArray;
    default:
      return ColumnType::kString;
  }
}

uint32_t SqlTypeOid(SqlType t) {
  switch (t) {
    case SqlType::kBool:
      return oid::kBool;
    case SqlType::kInt:
      return oid::kInt8;
    case SqlType::kDouble:
      return oid::kFloat8;
    case SqlType::kTimestamp:
      return oid::kTimestamptz;
    case SqlType::kJson:
      return oid::kJson;
    case SqlType::kUuid:
      return oid::kUuid;
    case SqlType::kDoubleArray:
      return oid::kFloat8Array;
    case SqlType::kIntArray:
      return oid::kInt8Array;
    case SqlType::kTextArray:
      return oid::kTextArray;
    case SqlType::kBoolArray:
      return oid::kBoolArray;
    default:
      return oid::kText;
  }
}

SqlType SqlTypeFromOid(uint32_t o) {
  switch (o) {
    case oid::kBool:
      return SqlType::kBool;
    case oid::kInt2:
    case oid::kInt4:
    case oid::kInt8:
    case oid::kOid:
      return SqlType::kInt;
    case oid::kFloat4:
    case oid::kFloat8:
    case oid::kNumeric:
      return SqlType::kDouble;
    case oid::kTimestamp:
    case oid::kTimestamptz:
      return SqlType::kTimestamp;
    case oid::kInterval:
      return SqlType::kInterval;
    case oid::kText:
    case oid::kVarchar:
    case oid::kName:
    case oid::kChar:
      return SqlType::kText;
    case oid::kJson:
    case oid::kJsonb:
      return SqlType::kJson;
    case oid::kUuid:
      return SqlType::kUuid;
    case oid::kFloat8Array:
    case oid::kFloat4Array:
      return SqlType::kDoubleArray;
    case oid::kInt8Array:
    case oid::kInt4Array:
    case oid::kInt2Array:
      return SqlType::kIntArray;
    case oid::kTextArray:
    case oid::kVarcharArray:
      return SqlType::kTextArray;
    case oid::kBoolArray:
      return SqlType::kBoolArray;
    default:
      return SqlType::kUnknown;
  }
}

SqlType FromColumnType(ColumnType t) {
  switch (t) {
    case ColumnType::kTimestamp:
      return SqlType::kTimestamp;
    case ColumnType::kDouble:
      return SqlType::kDouble;
    case ColumnType::kInteger:
      return SqlType::kInt;
    case ColumnType::kString:
      return SqlType::kText;
    case ColumnType::kBoolean:
      return SqlType::kBool;
    case ColumnType::kJson:
      return SqlType::kJson;
    case ColumnType::kUuid:
      return SqlType::kUuid;
    case ColumnType::kDoubleArray:
      return SqlType::kDoubleArray;
    case ColumnType::kIntegerArray:
      return SqlType::kIntArray;
    case ColumnType::kStringArray:
      return SqlType::kTextArray;
    case ColumnType::kBooleanArray:
      return SqlType::kBoolArray;
  }
  return SqlType::kText;
}

absl::StatusOr<int64_t> ParseTimestampText(std::string_view raw) {
  std::string_view s = StripWhitespace(raw);
  std::string lower = AsciiLower(s);
  if (lower == "epoch") return 0;
  if (lower == "now") {
    NoteClockRead();
    return NowNanos();
  }
  // Rewrite PostgreSQL's forms into RFC 3339: a space for T, a missing offset
  // as Z, "+02" as "+02:00", a bare date as midnight.
  std::string t(s);
  if (t.size() == 10) t += "T00:00:00";
  if (t.size() > 10 && (t[10] == ' ')) t[10] = 'T';
  // Find an offset after the time part.
  size_t time_start = t.find_first_of("Tt");
  if (time_start == std::string::npos) return BadText("timestamp with time zone", raw);
  size_t off = t.find_first_of("+-Zz", time_start);
  if (off == std::string::npos) {
    t += "Z";
  } else if (t[off] == '+' || t[off] == '-') {
    // Strip a space before the offset ("12:00:00 +02").
    if (off > 0 && t[off - 1] == ' ') t.erase(off - 1, 1), --off;
    std::string_view zone = std::string_view(t).substr(off + 1);
    if (zone.size() == 2) t += ":00";
    if (zone.size() == 4 && zone.find(':') == std::string_view::npos) t.insert(off + 3, ":");
  }
  // RFC 3339 needs seconds: "2024-05-01T12:00" gains ":00".
  size_t end_time = t.find_first_of("+-Zz", time_start);
  if (end_time - time_start == 6) t.insert(end_time, ":00");
  auto ns = ParseRfc3339(t);
  if (!ns.ok()) {
    return SqlError(sqlstate::kInvalidDatetimeFormat,
                    StrCat("invalid input syntax for type timestamp with time zone: \"",
                           raw.substr(0, 100), "\""));
  }
  return *ns;
}

absl::StatusOr<Interval> ParseIntervalText(std::string_view raw) {
  std::string s = AsciiLower(StripWhitespace(raw));
  Interval iv;
  size_t i = 0;
  if (!s.empty() && s[0] == '@') i = 1;
  bool any = false;
  auto skip_space = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  };
  while (true) {
    skip_space();
    if (i >= s.size()) break;
    // A number, possibly signed and fractional.
    size_t num_start = i;
    if (s[i] == '+' || s[i] == '-') ++i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    std::string_view num(s.data() + num_start, i - num_start);
    if (num.empty() || num == "+" || num == "-") return BadText("interval", raw);
    // "hh:mm[:ss]" clock form.
    if (i < s.size() && s[i] == ':') {
      int64_t h = 0, m = 0;
      double sec = 0;
      bool neg = num[0] == '-';
      if (!SimpleAtoi(num, &h)) return BadText("interval", raw);
      ++i;
      size_t ms = i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      if (!SimpleAtoi(std::string_view(s.data() + ms, i - ms), &m)) {
        return BadText("interval", raw);
      }
      if (i < s.size() && s[i] == ':') {
        ++i;
        size_t ss = i;
        while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
          ++i;
        }
        if (!SimpleAtod(std::string_view(s.data() + ss, i - ss), &sec)) {
          return BadText("interval", raw);
        }
      }
      int64_t ns = std::abs(h) * 3600 * kNanosPerSecond + m * 60 * kNanosPerSecond +
                   static_cast<int64_t>(std::llround(sec * 1e9));
      iv.nanos += neg ? -ns : ns;
      any = true;
      continue;
    }
    double value = 0;
    if (!SimpleAtod(num, &value)) return BadText("interval", raw);
    skip_space();
    size_t unit_start = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string_view unit(s.data() + unit_start, i - unit_start);
    auto add_nanos = [&](int64_t per) {
      iv.nanos += static_cast<int64_t>(std::llround(value * static_cast<double>(per)));
    };
    if (unit == "us" || unit == "usec" || unit == "usecs" || unit == "microsecond" ||
        unit == "microseconds") {
      add_nanos(1000);
    } else if (unit == "ms" || unit == "msec" || unit == "msecs" || unit == "millisecond" ||
               unit == "milliseconds") {
      add_nanos(1'000'000);
    } else if (unit.empty() || unit == "s" || unit == "sec" || unit == "secs" || unit == "second" ||
               unit == "seconds") {
      add_nanos(kNanosPerSecond);
    } else if (unit == "m" || unit == "min" || unit == "mins" || unit == "minute" ||
               unit == "minutes") {
      add_nanos(60 * kNanosPerSecond);
    } else if (unit == "h" || unit == "hr" || unit == "hrs" || unit == "hour" || unit == "hours") {
      add_nanos(3600 * kNanosPerSecond);
    } else if (unit == "d" || unit == "day" || unit == "days") {
      if (value != std::floor(value)) {
        add_nanos(kNanosPerDay);
      } else {
        iv.days += static_cast<int64_t>(value);
      }
    } else if (unit == "w" || unit == "week" || unit == "weeks") {
      iv.days += static_cast<int64_t>(value * 7);
    } else if (unit == "mon" || unit == "mons" || unit == "month" || unit == "months") {
      if (value != std::floor(value)) return BadText("interval", raw);
      iv.months += static_cast<int64_t>(value);
    } else if (unit == "y" || unit == "yr" || unit == "yrs" || unit == "year" || unit == "years") {
      iv.months += static_cast<int64_t>(std::llround(value * 12));
    } else {
      return BadText("interval", raw);
    }
    any = true;
  }
  if (!any) return BadText("interval", raw);
  return iv;
}

absl::StatusOr<int64_t> FixedIntervalNanos(const Interval& iv) {
  if (iv.months != 0) {
    return SqlError(sqlstate::kFeatureNotSupported,
                    "an interval of months or years has no fixed length here");
  }
  int64_t out;
  if (__builtin_mul_overflow(iv.days, kNanosPerDay, &out) ||
      __builtin_add_overflow(out, iv.nanos, &out)) {
    return SqlError(sqlstate::kNumericOutOfRange, "interval out of range");
  }
  return out;
}

int64_t AddInterval(int64_t ts, const Interval& iv, int sign) {
  int64_t out = ts;
  if (iv.months != 0) {
    // Civil-time month arithmetic in UTC, clamping the day to the month's end
    // as PostgreSQL does (Jan 31 + 1 month = Feb 28/29).
    int64_t secs = FloorDiv(ts, kNanosPerSecond);
    int64_t sub = ts - secs * kNanosPerSecond;
    absl::CivilSecond cs = absl::ToCivilSecond(absl::FromUnixSeconds(secs), absl::UTCTimeZone());
    absl::CivilMonth m(cs);
    absl::CivilMonth target = m + sign * iv.months;
    absl::CivilDay first(target);
    absl::CivilDay next_first(target + 1);
    int64_t last_day = (next_first - first);
    int64_t day = std::min<int64_t>(cs.day(), last_day);
    absl::CivilSecond moved(target.year(), target.month(), day, cs.hour(), cs.minute(),
                            cs.second());
    int64_t msecs = absl::ToUnixSeconds(absl::FromCivil(moved, absl::UTCTimeZone()));
    if (__builtin_mul_overflow(msecs, kNanosPerSecond, &out)) {
      return msecs < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
    }
    out = SaturatingAdd(out, sub);
  }
  int64_t days_ns;
  if (__builtin_mul_overflow(iv.days, kNanosPerDay, &days_ns)) {
    days_ns =
        iv.days < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  }
  if (sign < 0) {
    out = SaturatingAdd(out, days_ns == std::numeric_limits<int64_t>::min()
                                 ? std::numeric_limits<int64_t>::max()
                                 : -days_ns);
    out = SaturatingAdd(out, iv.nanos == std::numeric_limits<int64_t>::min()
                                 ? std::numeric_limits<int64_t>::max()
                                 : -iv.nanos);
  } else {
    out = SaturatingAdd(out, days_ns);
    out = SaturatingAdd(out, iv.nanos);
  }
  return out;
}

std::string FormatTimestampPg(int64_t ns) {
  int64_t secs = FloorDiv(ns, kNanosPerSecond);
  int64_t frac = ns - secs * kNanosPerSecond;
  absl::CivilSecond cs = absl::ToCivilSecond(absl::FromUnixSeconds(secs), absl::UTCTimeZone());
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d %02d:%02d:%02d",
                        static_cast<long long>(cs.year()), cs.month(), cs.day(), cs.hour(),
                        cs.minute(), cs.second());
  std::string out(buf, n);
  int64_t micros = frac / 1000;  // PostgreSQL keeps microseconds
  if (micros != 0) {
    char f[8];
    std::snprintf(f, sizeof f, "%06lld", static_cast<long long>(micros));
    std::string fs(f);
    while (!fs.empty() && fs.back() == '0') fs.pop_back();
    out += "." + fs;
  }
  out += "+00";
  return out;
}

std::string FormatIntervalPg(const Interval& iv) {
  std::string out;
  auto part = [&](int64_t n, std::string_view unit) {
    if (n == 0) return;
    if (!out.empty()) out += ' ';
    out += StrCat(n, " ", unit, (n == 1 || n == -1) ? "" : "s");
  };
  part(iv.months / 12, "year");
  part(iv.months % 12, "mon");
  part(iv.days, "day");
  if (iv.nanos != 0 || out.empty()) {
    int64_t ns = iv.nanos;
    bool neg = ns < 0;
    uint64_t a = neg ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
    uint64_t micros = (a / 1000) % 1'000'000;
    uint64_t secs = a / kNanosPerSecond;
    char buf[64];
    int n = std::snprintf(buf, sizeof buf, "%s%02llu:%02llu:%02llu", neg ? "-" : "",
                          static_cast<unsigned long long>(secs / 3600),
                          static_cast<unsigned long long>((secs / 60) % 60),
                          static_cast<unsigned long long>(secs % 60));
    std::string clock(buf, n);
    if (micros != 0) {
      std::snprintf(buf, sizeof buf, ".%06llu", static_cast<unsigned long long>(micros));
      std::string f(buf);
      while (f.back() == '0') f.pop_back();
      clock += f;
    }
    if (!out.empty()) out += ' ';
    out += clock;
  }
  return out;
}

std::string ValueToText(const Value& v) {
  switch (v.type) {
    case SqlType::kNull:
      return "";
    case SqlType::kBool:
      return v.b ? "true" : "false";
    case SqlType::kInt:
      return std::to_string(v.i);
    case SqlType::kDouble:
      return FormatDouble(v.d);
    case SqlType::kText:
    case SqlType::kUnknown:
      return v.s;
    case SqlType::kTimestamp:
      return FormatTimestampPg(v.i);
    case SqlType::kInterval:
      return FormatIntervalPg(v.iv);
    case SqlType::kJson:
    case SqlType::kUuid:
      return v.s;
    case SqlType::kDoubleArray:
    case SqlType::kIntArray:
    case SqlType::kTextArray:
    case SqlType::kBoolArray:
      return PgArrayText(v.type, v.s);
  }
  return "";
}

absl::StatusOr<Value> CastValue(const Value& v, SqlType to) {
  if (v.type == SqlType::kNull || v.type == to) {
    if (v.type == SqlType::kNull) return Value::Null();
    return v;
  }
  auto no_cast = [&] {
    return SqlError("42846",
                    StrCat("cannot cast type ", SqlTypeName(v.type), " to ", SqlTypeName(to)));
  };
  const bool from_text = v.type == SqlType::kText || v.type == SqlType::kUnknown;
  if (IsTypedText(to)) {
    if (from_text) return TextToTyped(v.s, to);
    if (IsSqlArray(to) && IsSqlArray(v.type)) {
      // Element by element: bigint[] to double precision[] and the like.
      ASSIGN_OR_RETURN(std::vector<Value> elements, ArrayValues(v.type, v.s));
      ASSIGN_OR_RETURN(std::string canonical, CanonicalArrayOf(to, elements));
      return Value::Text(std::move(canonical), to);
    }
    return no_cast();
  }
  if (IsTypedText(v.type) && to != SqlType::kText) return no_cast();
  switch (to) {
    case SqlType::kText:
      return Value::Text(ValueToText(v));
    case SqlType::kUnknown:
    case SqlType::kNull:
      return v;
    case SqlType::kBool: {
      if (v.type == SqlType::kInt) return Value::Bool(v.i != 0);
      if (!from_text) return no_cast();
      std::string s = AsciiLower(StripWhitespace(v.s));
      if (s == "t" || s == "true" || s == "y" || s == "yes" || s == "on" || s == "1") {
        return Value::Bool(true);
      }
      if (s == "f" || s == "false" || s == "n" || s == "no" || s == "off" || s == "0") {
        return Value::Bool(false);
      }
      return BadText("boolean", v.s);
    }
    case SqlType::kInt: {
      if (v.type == SqlType::kBool) return Value::Int(v.b);
      if (v.type == SqlType::kDouble) {
        double r = std::nearbyint(v.d);
        if (!(r >= -9.2233720368547758e18 && r < 9.2233720368547758e18)) {
          return SqlError(sqlstate::kNumericOutOfRange, "bigint out of range");
        }
        return Value::Int(static_cast<int64_t>(r));
      }
      if (!from_text) return no_cast();
      int64_t i;
      std::string_view s = StripWhitespace(v.s);
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
      if (ec == std::errc::result_out_of_range) {
        return SqlError(sqlstate::kNumericOutOfRange,
                        StrCat("value \"", s.substr(0, 100), "\" is out of range for type bigint"));
      }
      if (ec != std::errc() || p != s.data() + s.size()) return BadText("bigint", v.s);
      return Value::Int(i);
    }
    case SqlType::kDouble: {
      if (v.type == SqlType::kInt) return Value::Double(static_cast<double>(v.i));
      if (!from_text) return no_cast();
      std::string s = AsciiLower(StripWhitespace(v.s));
      if (s == "nan") return Value::Double(std::numeric_limits<double>::quiet_NaN());
      if (s == "infinity" || s == "inf" || s == "+infinity" || s == "+inf") {
        return Value::Double(std::numeric_limits<double>::infinity());
      }
      if (s == "-infinity" || s == "-inf") {
        return Value::Double(-std::numeric_limits<double>::infinity());
      }
      double d;
      if (!SimpleAtod(s, &d) || std::isnan(d) || std::isinf(d)) {
        if (!s.empty() && SimpleAtod(s, &d) && std::isinf(d)) {
          return SqlError(
              sqlstate::kNumericOutOfRange,
              StrCat("\"", s.substr(0, 100), "\" is out of range for type double precision"));
        }
        return BadText("double precision", v.s);
      }
      return Value::Double(d);
    }
    case SqlType::kTimestamp: {
      if (!from_text) return no_cast();
      auto ns = ParseTimestampText(v.s);
      if (!ns.ok()) return ns.status();
      return Value::Timestamp(*ns);
    }
    case SqlType::kInterval: {
      if (!from_text) return no_cast();
      auto iv = ParseIntervalText(v.s);
      if (!iv.ok()) return iv.status();
      return Value::OfInterval(*iv);
    }
    default:
      break;
  }
  return no_cast();
}

}  // namespace timestore::sql
