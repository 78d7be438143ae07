// Row-at-a-time evaluation of bound expressions: used above the engine, on
// its (already filtered and aggregated) answer, and for constant folding.
#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/time/civil_time.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "engine/buckets.h"
#include "re2/re2.h"
#include "sql/plan.h"
#include "sql/sql_result.h"
#include "sql/typed_value.h"
#include "sql/value.h"

namespace timestore::sql {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

Value ReadInput(const QueryResult& in, int col, size_t row) {
  const ResultColumn& c = in.columns[col];
  if (!c.valid.empty() && !c.valid[row]) return Value::Null();
  switch (c.type) {
    case ColumnType::kTimestamp:
      return Value::Timestamp(c.ints[row]);
    case ColumnType::kInteger:
      return Value::Int(c.ints[row]);
    case ColumnType::kBoolean:
      return Value::Bool(c.ints[row] != 0);
    case ColumnType::kDouble:
      return Value::Double(c.doubles[row]);
    case ColumnType::kString:
      return Value::Text(std::string(c.strings[row]));
    case ColumnType::kJson:
    case ColumnType::kUuid:
    case ColumnType::kDoubleArray:
    case ColumnType::kIntegerArray:
    case ColumnType::kStringArray:
    case ColumnType::kBooleanArray:
      return Value::Text(std::string(c.strings[row]), FromColumnType(c.type));
  }
  return Value::Null();
}

absl::Status Overflow() { return SqlError(sqlstate::kNumericOutOfRange, "bigint out of range"); }
absl::Status DivZero() { return SqlError(sqlstate::kDivisionByZero, "division by zero"); }

double AsDouble(const Value& v) { return v.type == SqlType::kInt ? static_cast<double>(v.i) : v.d; }

// `r` unless it overflowed (±Infinity and no input was infinite) or
// underflowed (0 and `zero_ok` is false).
absl::StatusOr<Value> CheckedDouble(double r, bool inf_ok, bool zero_ok) {
  if (std::isinf(r) && !inf_ok) {
    return SqlError(sqlstate::kNumericOutOfRange, "value out of range: overflow");
  }
  if (r == 0 && !zero_ok) {
    return SqlError(sqlstate::kNumericOutOfRange, "value out of range: underflow");
  }
  return Value::Double(r);
}

bool IsNumeric(SqlType t) { return t == SqlType::kInt || t == SqlType::kDouble; }

absl::StatusOr<Value> Arith(std::string_view op, const Value& a, const Value& b) {
  if (a.type == SqlType::kTimestamp && b.type == SqlType::kInterval) {
    if (op == "+") return Value::Timestamp(AddInterval(a.i, b.iv, 1));
    if (op == "-") return Value::Timestamp(AddInterval(a.i, b.iv, -1));
  }
  if (a.type == SqlType::kInterval && b.type == SqlType::kTimestamp && op == "+") {
    return Value::Timestamp(AddInterval(b.i, a.iv, 1));
  }
  if (a.type == SqlType::kTimestamp && b.type == SqlType::kTimestamp && op == "-") {
    Interval iv;
    if (__builtin_sub_overflow(a.i, b.i, &iv.nanos)) {
      return SqlError(sqlstate::kNumericOutOfRange, "interval out of range");
    }
    return Value::OfInterval(iv);
  }
  if (a.type == SqlType::kInterval && b.type == SqlType::kInterval && (op == "+" || op == "-")) {
    int s = op == "+" ? 1 : -1;
    return Value::OfInterval(
        {a.iv.months + s * b.iv.months, a.iv.days + s * b.iv.days, a.iv.nanos + s * b.iv.nanos});
  }
  if (a.type == SqlType::kText && b.type == SqlType::kText && op == "||") {
    return Value::Text(a.s + b.s);
  }
  if (op == "||") return Value::Text(ValueToText(a) + ValueToText(b));
  if (!IsNumeric(a.type) || !IsNumeric(b.type)) {
    return SqlError(sqlstate::kUndefinedFunction,
                    StrCat("operator does not exist: ", SqlTypeName(a.type), " ", op, " ",
                           SqlTypeName(b.type)));
  }
  if (a.type == SqlType::kInt && b.type == SqlType::kInt) {
    int64_t out;
    if (op == "+") {
      if (__builtin_add_overflow(a.i, b.i, &out)) return Overflow();
    } else if (op == "-") {
      if (__builtin_sub_overflow(a.i, b.i, &out)) return Overflow();
    } else if (op == "*") {
      if (__builtin_mul_overflow(a.i, b.i, &out)) return Overflow();
    } else if (op == "/") {
      if (b.i == 0) return DivZero();
      if (a.i == std::numeric_limits<int64_t>::min() && b.i == -1) return Overflow();
      out = a.i / b.i;
    } else if (op == "%") {
      if (b.i == 0) return DivZero();
      out = b.i == -1 ? 0 : a.i % b.i;
    } else {
      return SqlError(sqlstate::kUndefinedFunction,
                      StrCat("operator does not exist: bigint ", op, " bigint"));
    }
    return Value::Int(out);
  }
  // float8 arithmetic as PostgreSQL's float8pl/mi/mul/div: a result that
  // overflows to ±Infinity from finite inputs, or underflows to 0 from
  // non-zero ones, is 22003; NaN / 0 is NaN.
  double x = AsDouble(a), y = AsDouble(b);
  if (op == "+") return CheckedDouble(x + y, std::isinf(x) || std::isinf(y), true);
  if (op == "-") return CheckedDouble(x - y, std::isinf(x) || std::isinf(y), true);
  if (op == "*") {
    return CheckedDouble(x * y, std::isinf(x) || std::isinf(y), x == 0 || y == 0);
  }
  if (op == "/") {
    if (y == 0 && !std::isnan(x)) return DivZero();
    return CheckedDouble(x / y, std::isinf(x), x == 0 || std::isinf(y));
  }
  if (op == "%") {
    if (y == 0) return DivZero();
    return Value::Double(std::fmod(x, y));
  }
  if (op == "^") return Value::Double(std::pow(x, y));
  return SqlError(sqlstate::kUndefinedFunction,
                  StrCat("operator does not exist: double precision ", op, " double precision"));
}

// The length in bytes of the UTF-8 character that starts with byte `c`.
size_t Utf8Length(unsigned char c) {
  if (c >= 0xF0) return 4;
  if (c >= 0xE0) return 3;
  if (c >= 0xC0) return 2;
  return 1;
}

// The byte offset `n` characters after byte `pos` of `s` (at most s.size()).
size_t Utf8Advance(std::string_view s, size_t pos, int64_t n) {
  for (; n > 0 && pos < s.size(); --n) pos += Utf8Length(s[pos]);
  return std::min(pos, s.size());
}

// LIKE with % and _ and backslash escapes. _ is one character, as in
// PostgreSQL: a whole UTF-8 sequence, and % backtracks by characters.
bool Like(std::string_view s, std::string_view p, bool icase) {
  size_t si = 0, pi = 0, star_p = std::string_view::npos, star_s = 0;
  auto eq = [&](char a, char b) {
    return icase ? absl::ascii_tolower(a) == absl::ascii_tolower(b) : a == b;
  };
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '%') {
      star_p = pi++;
      star_s = si;
    } else if (pi < p.size() && p[pi] == '\\' && pi + 1 < p.size() && eq(p[pi + 1], s[si])) {
      pi += 2;
      ++si;
    } else if (pi < p.size() && p[pi] == '_') {
      ++pi;
      si = Utf8Advance(s, si, 1);
    } else if (pi < p.size() && p[pi] != '\\' && eq(p[pi], s[si])) {
      ++pi;
      ++si;
    } else if (star_p != std::string_view::npos) {
      pi = star_p + 1;
      star_s = Utf8Advance(s, star_s, 1);
      si = star_s;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

absl::StatusOr<int64_t> Truncate(std::string_view unit_in, int64_t ts) {
  std::string unit = AsciiLower(unit_in);
  int64_t fixed = 0;
  if (unit == "microsecond" || unit == "microseconds") fixed = 1000;
  if (unit == "millisecond" || unit == "milliseconds") fixed = 1'000'000;
  if (unit == "second" || unit == "seconds") fixed = kNanosPerSecond;
  if (unit == "minute" || unit == "minutes") fixed = 60 * kNanosPerSecond;
  if (unit == "hour" || unit == "hours") fixed = 3600 * kNanosPerSecond;
  if (unit == "day" || unit == "days") fixed = 86400 * kNanosPerSecond;
  if (fixed > 0) return FloorToMultiple(ts, fixed);
  int64_t secs = FloorDiv(ts, kNanosPerSecond);
  absl::CivilSecond cs = absl::ToCivilSecond(absl::FromUnixSeconds(secs), absl::UTCTimeZone());
  absl::CivilDay start;
  if (unit == "week" || unit == "weeks") {
    absl::CivilDay d(cs);
    int wd =
        (static_cast<int>(absl::GetWeekday(d)) + 7 - static_cast<int>(absl::Weekday::monday)) % 7;
    start = d - wd;
  } else if (unit == "month" || unit == "months") {
    start = absl::CivilDay(absl::CivilMonth(cs));
  } else if (unit == "quarter") {
    absl::CivilMonth m(cs);
    start = absl::CivilDay(absl::CivilMonth(m.year(), (m.month() - 1) / 3 * 3 + 1));
  } else if (unit == "year" || unit == "years") {
    start = absl::CivilDay(absl::CivilYear(cs));
  } else if (unit == "decade") {
    start = absl::CivilDay(absl::CivilYear(FloorDiv(cs.year(), 10) * 10));
  } else {
    return SqlError(sqlstate::kInvalidParameterValue,
                    StrCat("unit \"", unit_in, "\" not recognized by date_trunc"));
  }
  return absl::ToUnixSeconds(absl::FromCivil(start, absl::UTCTimeZone())) * kNanosPerSecond;
}

absl::StatusOr<Value> DatePart(std::string_view field_in, int64_t ts) {
  std::string f = AsciiLower(field_in);
  if (f == "epoch") return Value::Double(static_cast<double>(ts) / 1e9);
  int64_t secs = FloorDiv(ts, kNanosPerSecond);
  int64_t sub = ts - secs * kNanosPerSecond;
  absl::CivilSecond cs = absl::ToCivilSecond(absl::FromUnixSeconds(secs), absl::UTCTimeZone());
  if (f == "year") return Value::Double(cs.year());
  if (f == "month") return Value::Double(cs.month());
  if (f == "day") return Value::Double(cs.day());
  if (f == "hour") return Value::Double(cs.hour());
  if (f == "minute") return Value::Double(cs.minute());
  if (f == "second") return Value::Double(cs.second() + sub / 1e9);
  if (f == "milliseconds") return Value::Double(cs.second() * 1e3 + sub / 1e6);
  if (f == "microseconds") return Value::Double(cs.second() * 1e6 + sub / 1e3);
  if (f == "dow")
    return Value::Double((static_cast<int>(absl::GetWeekday(absl::CivilDay(cs))) + 1) % 7);
  if (f == "isodow")
    return Value::Double(static_cast<int>(absl::GetWeekday(absl::CivilDay(cs))) + 1);
  if (f == "doy") return Value::Double(absl::GetYearDay(absl::CivilDay(cs)));
  if (f == "quarter") return Value::Double((cs.month() - 1) / 3 + 1);
  return SqlError(sqlstate::kInvalidParameterValue,
                  StrCat("unit \"", field_in, "\" not recognized by date_part"));
}

// A bigint and a double compared exactly, as pushed-down filters compare them
// (and PostgreSQL a bigint with a numeric literal): converting the bigint to a
// double would make 9007199254740993 equal 9007199254740992.0.
int CompareIntDouble(int64_t i, double d) {
  if (std::isnan(d) || d >= 0x1p63) return -1;  // NaN is above every number
  if (d < -0x1p63) return 1;
  const double whole = std::trunc(d);  // in [-2^63, 2^63): fits an int64
  const int64_t w = static_cast<int64_t>(whole);
  if (i != w) return i < w ? -1 : 1;
  return d > whole ? -1 : d < whole ? 1 : 0;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const RE2>> CompileRegex(const std::string& pattern,
                                                        std::string_view op) {
  RE2::Options o;
  o.set_case_sensitive(op.find('*') == std::string_view::npos);
  o.set_log_errors(false);
  auto re = std::make_shared<const RE2>(pattern, o);
  if (!re->ok()) return SqlError("2201B", StrCat("invalid regular expression: ", re->error()));
  return re;
}

absl::StatusOr<Downsample> ZonedTrunc(std::string_view unit_in, std::string_view zone) {
  std::string unit = AsciiLower(unit_in);
  Downsample ds;
  ds.has_interval = true;
  std::string z(zone);
  absl::TimeZone tz;
  if (!z.empty() && !absl::LoadTimeZone(z, &tz)) {
    return SqlError(sqlstate::kInvalidParameterValue,
                    StrCat("time zone \"", zone, "\" not recognized"));
  }
  const bool utc = z.empty() || tz == absl::UTCTimeZone();
  if (unit == "day" || unit == "days") {
    ds.calendar = CalendarUnit::kDay;
  } else if (unit == "week" || unit == "weeks") {
    ds.calendar = CalendarUnit::kWeek;
  } else if (unit == "month" || unit == "months") {
    ds.calendar = CalendarUnit::kMonth;
  } else if (unit == "quarter") {
    ds.calendar = CalendarUnit::kMonth;
    ds.calendar_size = 3;
  } else if (unit == "year" || unit == "years") {
    ds.calendar = CalendarUnit::kYear;
  } else {
    int64_t fixed = unit == "microsecond" || unit == "microseconds"   ? 1000
                    : unit == "millisecond" || unit == "milliseconds" ? 1'000'000
                    : unit == "second" || unit == "seconds"           ? kNanosPerSecond
                    : unit == "minute" || unit == "minutes"           ? 60 * kNanosPerSecond
                    : unit == "hour" || unit == "hours"               ? 3600 * kNanosPerSecond
                                                                      : 0;
    if (fixed == 0) {
      return SqlError(sqlstate::kInvalidParameterValue,
                      StrCat("unit \"", unit_in, "\" not recognized by date_trunc"));
    }
    if (!utc) {
      return SqlError(sqlstate::kFeatureNotSupported,
                      StrCat("date_trunc('", unit_in, "', ..., '", zone,
                             "') is not supported: units below a day truncate in UTC; use the "
                             "two-argument form"));
    }
    ds.interval_ns = fixed;
    return ds;
  }
  ds.timezone = utc ? "" : z;
  return ds;
}

int CompareValues(const Value& a, const Value& b) {
  if (IsNumeric(a.type) && IsNumeric(b.type)) {
    if (a.type == SqlType::kInt && b.type == SqlType::kInt) return a.i < b.i ? -1 : a.i > b.i;
    if (a.type == SqlType::kInt) return CompareIntDouble(a.i, b.d);
    if (b.type == SqlType::kInt) return -CompareIntDouble(b.i, a.d);
    double x = AsDouble(a), y = AsDouble(b);
    bool xn = std::isnan(x), yn = std::isnan(y);
    if (xn || yn) return xn == yn ? 0 : (xn ? 1 : -1);
    return x < y ? -1 : x > y;
  }
  switch (a.type) {
    case SqlType::kBool:
      return static_cast<int>(a.b) - static_cast<int>(b.b);
    case SqlType::kTimestamp:
      return a.i < b.i ? -1 : a.i > b.i;
    case SqlType::kText:
    case SqlType::kUnknown: {
      int c = a.s.compare(b.s);
      return c < 0 ? -1 : c > 0;
    }
    case SqlType::kInterval: {
      // PostgreSQL compares intervals as 30-day months and 24-hour days.
      auto span = [](const Interval& iv) {
        return static_cast<__int128>(iv.months) * 30 * 86400 * kNanosPerSecond +
               static_cast<__int128>(iv.days) * 86400 * kNanosPerSecond + iv.nanos;
      };
      __int128 x = span(a.iv), y = span(b.iv);
      return x < y ? -1 : x > y;
    }
    case SqlType::kJson:
    case SqlType::kUuid:
    case SqlType::kDoubleArray:
    case SqlType::kIntArray:
    case SqlType::kTextArray:
    case SqlType::kBoolArray:
      return CompareTyped(a, b);
    default:
      return 0;
  }
}

absl::StatusOr<Value> Eval(const BoundExpr& e, const QueryResult& in, size_t row,
                           const PlanContext& ctx) {
  using K = BoundExpr::Kind;
  switch (e.kind) {
    case K::kInput:
      return ReadInput(in, e.input, row);
    case K::kConst:
      return e.value;
    case K::kAnd:
    case K::kOr: {
      // Three-valued: AND is false if any is false, else null if any null.
      bool saw_null = false;
      const bool is_and = e.kind == K::kAnd;
      for (const BoundExpr& a : e.args) {
        ASSIGN_OR_RETURN(Value v, Eval(a, in, row, ctx));
        if (v.is_null()) {
          saw_null = true;
        } else if (v.b != is_and) {
          return Value::Bool(!is_and);
        }
      }
      return saw_null ? Value::Null() : Value::Bool(is_and);
    }
    case K::kNot: {
      ASSIGN_OR_RETURN(Value v, Eval(e.args[0], in, row, ctx));
      if (v.is_null()) return v;
      return Value::Bool(!v.b);
    }
    case K::kNullTest: {
      ASSIGN_OR_RETURN(Value v, Eval(e.args[0], in, row, ctx));
      return Value::Bool(v.is_null() != e.negated);
    }
    case K::kBoolTest: {
      ASSIGN_OR_RETURN(Value v, Eval(e.args[0], in, row, ctx));
      bool want = e.name == "true";
      bool is = !v.is_null() && v.b == want;
      return Value::Bool(is != e.negated);
    }
    case K::kIn: {
      ASSIGN_OR_RETURN(Value x, Eval(e.args[0], in, row, ctx));
      if (x.is_null()) return Value::Null();
      bool saw_null = false;
      for (size_t i = 1; i < e.args.size(); ++i) {
        ASSIGN_OR_RETURN(Value v, Eval(e.args[i], in, row, ctx));
        if (v.is_null()) {
          saw_null = true;
        } else if (CompareValues(x, v) == 0) {
          return Value::Bool(!e.negated);
        }
      }
      if (saw_null) return Value::Null();
      return Value::Bool(e.negated);
    }
    case K::kBetween: {
      ASSIGN_OR_RETURN(Value x, Eval(e.args[0], in, row, ctx));
      ASSIGN_OR_RETURN(Value lo, Eval(e.args[1], in, row, ctx));
      ASSIGN_OR_RETURN(Value hi, Eval(e.args[2], in, row, ctx));
      if (x.is_null()) return Value::Null();
      // x >= lo AND x <= hi, three-valued.
      std::optional<bool> a, b;
      if (!lo.is_null()) a = CompareValues(x, lo) >= 0;
      if (!hi.is_null()) b = CompareValues(x, hi) <= 0;
      std::optional<bool> r;
      if ((a && !*a) || (b && !*b)) {
        r = false;
      } else if (a && b) {
        r = true;
      }
      if (!r) return Value::Null();
      return Value::Bool(*r != e.negated);
    }
    case K::kCast: {
      ASSIGN_OR_RETURN(Value v, Eval(e.args[0], in, row, ctx));
      if (e.cast_type == SqlType::kTimestamp && v.type == SqlType::kTimestamp) return v;
      return CastValue(v, e.cast_type);
    }
    case K::kCase: {
      size_t i = 0;
      Value subject;
      if (e.has_case_arg) {
        ASSIGN_OR_RETURN(subject, Eval(e.args[0], in, row, ctx));
        i = 1;
      }
      for (; i + 2 < e.args.size() + 1 && i + 1 < e.args.size(); i += 2) {
        ASSIGN_OR_RETURN(Value w, Eval(e.args[i], in, row, ctx));
        bool hit = e.has_case_arg
                       ? (!subject.is_null() && !w.is_null() && CompareValues(subject, w) == 0)
                       : (!w.is_null() && w.b);
        if (hit) return Eval(e.args[i + 1], in, row, ctx);
      }
      return Eval(e.args.back(), in, row, ctx);
    }
    case K::kOp: {
      if (e.args.size() == 1) {
        ASSIGN_OR_RETURN(Value v, Eval(e.args[0], in, row, ctx));
        if (v.is_null()) return v;
        if (e.name == "-") {
          if (v.type == SqlType::kInt) {
            if (v.i == std::numeric_limits<int64_t>::min()) return Overflow();
            return Value::Int(-v.i);
          }
          if (v.type == SqlType::kDouble) return Value::Double(-v.d);
          if (v.type == SqlType::kInterval)
            return Value::OfInterval({-v.iv.months, -v.iv.days, -v.iv.nanos});
        }
        if (e.name == "+") return v;
        if (e.name == "@") {
          if (v.type == SqlType::kInt) return Value::Int(v.i < 0 ? -v.i : v.i);
          return Value::Double(std::fabs(v.d));
        }
        return SqlError(sqlstate::kUndefinedFunction,
                        StrCat("operator does not exist: ", e.name, " ", SqlTypeName(v.type)));
      }
      ASSIGN_OR_RETURN(Value a, Eval(e.args[0], in, row, ctx));
      ASSIGN_OR_RETURN(Value b, Eval(e.args[1], in, row, ctx));
      const std::string& op = e.name;
      if (op == "is distinct from" || op == "is not distinct from") {
        bool same = (a.is_null() && b.is_null()) ||
                    (!a.is_null() && !b.is_null() && CompareValues(a, b) == 0);
        return Value::Bool(same == (op == "is not distinct from"));
      }
      if (a.is_null() || b.is_null()) return Value::Null();
      if (op == "=" || op == "<>" || op == "!=" || op == "<" || op == "<=" || op == ">" ||
          op == ">=") {
        int c = CompareValues(a, b);
        bool r = op == "="                    ? c == 0
                 : (op == "<>" || op == "!=") ? c != 0
                 : op == "<"                  ? c < 0
                 : op == "<="                 ? c <= 0
                 : op == ">"                  ? c > 0
                                              : c >= 0;
        return Value::Bool(r);
      }
      if (op == "->" || op == "->>" || op == "#>" || op == "#>>") {
        return JsonOperator(op, a.s, b);
      }
      if (op == "~~" || op == "!~~" || op == "~~*" || op == "!~~*") {
        bool r = Like(a.s, b.s, op.find('*') != std::string::npos);
        return Value::Bool(r != (op[0] == '!'));
      }
      if (op == "~" || op == "!~" || op == "~*" || op == "!~*") {
        std::shared_ptr<const RE2> re = e.regex;
        if (re == nullptr) {
          ASSIGN_OR_RETURN(re, CompileRegex(b.s, op));
        }
        bool r = RE2::PartialMatch(a.s, *re);
        return Value::Bool(r != (op[0] == '!'));
      }
      return Arith(op, a, b);
    }
    case K::kFunc: {
      const std::string& f = e.name;
      if (f == "now") {
        NoteClockRead();
        return Value::Timestamp(ctx.now_ns);
      }
      if (f == "version") {
        return Value::Text(StrCat("PostgreSQL ", ctx.server_version,
                                  " on x86_64-pc-linux-gnu, compiled by Timestore"));
      }
      if (f == "current_database") return Value::Text(ctx.database);
      if (f == "current_schema") return Value::Text("public");
      if (f == "current_user") return Value::Text(ctx.user);
      if (f == "pg_backend_pid") return Value::Int(0);
      if (f == "coalesce") {
        // Lazy, as in PostgreSQL: arguments after the first non-null are not
        // evaluated (coalesce(x, y / z) divides only where x is null).
        for (const BoundExpr& a : e.args) {
          ASSIGN_OR_RETURN(Value x, Eval(a, in, row, ctx));
          if (!x.is_null()) return x;
        }
        return Value::Null();
      }
      std::vector<Value> v;
      v.reserve(e.args.size());
      for (const BoundExpr& a : e.args) {
        ASSIGN_OR_RETURN(Value x, Eval(a, in, row, ctx));
        v.push_back(std::move(x));
      }
      if (f == "nullif") {
        if (!v[0].is_null() && !v[1].is_null() && CompareValues(v[0], v[1]) == 0) {
          return Value::Null();
        }
        return v[0];
      }
      if (f == "greatest" || f == "least") {
        std::optional<Value> best;
        for (Value& x : v) {
          if (x.is_null()) continue;
          int c = best ? CompareValues(x, *best) : 0;
          if (!best || (f == "greatest" ? c > 0 : c < 0)) best = x;
        }
        return best ? *best : Value::Null();
      }
      if (f == "concat") {
        std::string s;
        for (Value& x : v)
          if (!x.is_null()) s += ValueToText(x);
        return Value::Text(std::move(s));
      }
      if (f == "array") {
        ASSIGN_OR_RETURN(std::string canonical, CanonicalArrayOf(e.type, v));
        return Value::Text(std::move(canonical), e.type);
      }
      for (Value& x : v)
        if (x.is_null()) return Value::Null();  // the rest are strict
      if (f == "abs") {
        if (v[0].type == SqlType::kInt) {
          if (v[0].i == std::numeric_limits<int64_t>::min()) return Overflow();
          return Value::Int(v[0].i < 0 ? -v[0].i : v[0].i);
        }
        return Value::Double(std::fabs(v[0].d));
      }
      if (f == "round") {
        if (v.size() == 2) {
          double scale = std::pow(10.0, static_cast<double>(v[1].i));
          return Value::Double(std::round(AsDouble(v[0]) * scale) / scale);
        }
        if (v[0].type == SqlType::kInt) return v[0];
        return Value::Double(std::nearbyint(v[0].d));  // float8 rounds half to even
      }
      if (f == "floor" || f == "ceil" || f == "ceiling" || f == "trunc") {
        if (v[0].type == SqlType::kInt) return v[0];
        double d = v[0].d;
        return Value::Double(f == "floor"   ? std::floor(d)
                             : f == "trunc" ? std::trunc(d)
                                            : std::ceil(d));
      }
      if (f == "sqrt") {
        double d = AsDouble(v[0]);
        if (d < 0) return SqlError("2201F", "cannot take square root of a negative number");
        return Value::Double(std::sqrt(d));
      }
      if (f == "ln" || f == "log" || f == "log10") {
        double d = AsDouble(v[0]);
        if (d == 0) return SqlError("2201E", "cannot take logarithm of zero");
        if (d < 0) return SqlError("2201E", "cannot take logarithm of a negative number");
        return Value::Double(f == "ln" ? std::log(d) : std::log10(d));
      }
      if (f == "exp") return Value::Double(std::exp(AsDouble(v[0])));
      if (f == "power" || f == "pow")
        return Value::Double(std::pow(AsDouble(v[0]), AsDouble(v[1])));
      if (f == "lower") return Value::Text(AsciiLower(v[0].s));
      if (f == "upper") return Value::Text(AsciiUpper(v[0].s));
      if (f == "length" || f == "char_length" || f == "character_length") {
        int64_t n = 0;
        for (unsigned char c : v[0].s)
          if ((c & 0xC0) != 0x80) ++n;
        return Value::Int(n);
      }
      if (f == "date_trunc") {
        if (v.size() == 3) {
          ASSIGN_OR_RETURN(Downsample ds, ZonedTrunc(v[0].s, v[2].s));
          if (ds.calendar == CalendarUnit::kNone) {
            return Value::Timestamp(FloorToMultiple(v[1].i, ds.interval_ns));
          }
          Bucketer b(ds, 0);
          return Value::Timestamp(b.Floor(v[1].i));
        }
        ASSIGN_OR_RETURN(int64_t t, Truncate(v[0].s, v[1].i));
        return Value::Timestamp(t);
      }
      if (f == "date_part" || f == "extract") return DatePart(v[0].s, v[1].i);
      if (f == "time_bucket" || f == "date_bin") {
        const Interval& iv = v[0].iv;
        int64_t ts = v[1].i;
        if (iv.months != 0) {
          // Calendar months from January 1970 (the engine's calendar buckets).
          int64_t secs = FloorDiv(ts, kNanosPerSecond);
          absl::CivilMonth m(absl::ToCivilSecond(absl::FromUnixSeconds(secs), absl::UTCTimeZone()));
          int64_t idx = (m.year() - 1970) * 12 + (m.month() - 1);
          int64_t start = FloorDiv(idx, iv.months) * iv.months;
          absl::CivilMonth sm(1970 + FloorDiv(start, 12), start - FloorDiv(start, 12) * 12 + 1);
          return Value::Timestamp(
              absl::ToUnixSeconds(absl::FromCivil(absl::CivilDay(sm), absl::UTCTimeZone())) *
              kNanosPerSecond);
        }
        ASSIGN_OR_RETURN(int64_t w, FixedIntervalNanos(iv));
        if (w <= 0)
          return SqlError(sqlstate::kInvalidParameterValue, "stride must be greater than zero");
        int64_t origin = v.size() > 2 ? v[2].i : 0;
        return Value::Timestamp(
            SaturatingAdd(FloorToMultiple(SaturatingAdd(ts, -origin), w), origin));
      }
      if (f == "to_timestamp") {
        double s = AsDouble(v[0]);
        if (!(std::fabs(s) < 9.2e9))
          return SqlError(sqlstate::kNumericOutOfRange, "timestamp out of range");
        return Value::Timestamp(static_cast<int64_t>(std::llround(s * 1e9)));
      }
      if (f == "substr" || f == "substring") {
        int64_t start = v[1].i;
        int64_t len = v.size() > 2 ? v[2].i : std::numeric_limits<int64_t>::max() / 2;
        if (len < 0) return SqlError("22011", "negative substring length not allowed");
        // Characters, not bytes, as in PostgreSQL: [start, start + len) of
        // the 1-based character positions.
        int64_t from = std::max<int64_t>(start, 1) - 1;
        int64_t to = SaturatingAdd(start, len) - 1;  // exclusive, 0-based
        if (to <= from) return Value::Text("");
        const std::string& str = v[0].s;
        size_t b = Utf8Advance(str, 0, from);
        size_t e = Utf8Advance(str, b, to - from);
        return Value::Text(str.substr(b, e - b));
      }
      return SqlError(sqlstate::kUndefinedFunction, StrCat("function ", f, " does not exist"));
    }
  }
  return SqlError(sqlstate::kInternalError, "unknown expression");
}

}  // namespace timestore::sql
