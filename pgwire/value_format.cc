#include "pgwire/value_format.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <limits>

#include "common/json_writer.h"
#include "common/strings.h"
#include "pgwire/pg_error.h"
#include "segment/array_text.h"
#include "segment/typed_text.h"
#include "sql/typed_value.h"

namespace timestore::pgwire {
namespace {

constexpr int64_t kMicrosPerDay = 86'400'000'000;
constexpr int64_t kPostgresEpochDays = 10'957;  // 2000-01-01 in days since 1970-01-01

int64_t FloorDivide(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Howard Hinnant's civil_from_days: the proleptic Gregorian date of a day
// count since 1970-01-01, for any int64 day count PostgreSQL can hold.
void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

void AppendPadded(int64_t v, int width, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  for (int pad = width - static_cast<int>(r.ptr - buf); pad > 0; --pad) out->push_back('0');
  out->append(buf, r.ptr);
}

// Days since 1970 and microseconds into the day of a timestamp given as
// microseconds since `epoch_days` (0: 1970, kPostgresEpochDays: 2000), so
// binary parameters near INT64_MAX do not overflow on the way.
void AppendDateTime(int64_t micros, int64_t epoch_days, bool with_time_zone, std::string* out) {
  const int64_t days = FloorDivide(micros, kMicrosPerDay);
  const int64_t of_day = micros - days * kMicrosPerDay;
  int64_t year;
  int month, day;
  CivilFromDays(days + epoch_days, &year, &month, &day);
  const bool bc = year <= 0;
  AppendPadded(bc ? 1 - year : year, 4, out);
  out->push_back('-');
  AppendPadded(month, 2, out);
  out->push_back('-');
  AppendPadded(day, 2, out);
  out->push_back(' ');
  const int64_t seconds = of_day / 1'000'000;
  AppendPadded(seconds / 3600, 2, out);
  out->push_back(':');
  AppendPadded(seconds / 60 % 60, 2, out);
  out->push_back(':');
  AppendPadded(seconds % 60, 2, out);
  int64_t fraction = of_day % 1'000'000;
  if (fraction != 0) {
    int digits = 6;
    while (fraction % 10 == 0) {
      fraction /= 10;
      --digits;
    }
    out->push_back('.');
    AppendPadded(fraction, digits, out);
  }
  if (with_time_zone) out->append("+00");
  if (bc) out->append(" BC");
}

// PostgreSQL's float output (common/d2s.c, f2s.c): the shortest digits that
// round-trip, in fixed notation when the decimal exponent is in
// [-4, fixed_limit), else in printf's %e style. std::to_chars gives the same
// shortest digits (both are Ryu-exact), in either notation.
template <typename F>
void AppendShortestFloat(F v, int fixed_limit, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v < 0 ? "-Infinity" : "Infinity");
    return;
  }
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view s(buf, sci.ptr - buf);
  const size_t e = s.find('e');
  int exponent = 0;
  std::from_chars(s.data() + e + (s[e + 1] == '+' ? 2 : 1), s.data() + s.size(), exponent);
  if (v == 0 || (exponent >= -4 && exponent < fixed_limit)) {
    auto fixed = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
    out->append(buf, fixed.ptr);
  } else {
    out->append(s);
  }
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

template <typename T>
void AppendBigEndian(T v, std::string* out) {
  using U = std::make_unsigned_t<T>;
  U u = static_cast<U>(v);
  for (int shift = (sizeof(T) - 1) * 8; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>(u >> shift));
}

template <typename T>
T LoadBigEndian(std::string_view bytes) {
  using U = std::make_unsigned_t<T>;
  U u = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    u = static_cast<U>((u << 8) | static_cast<unsigned char>(bytes[i]));
  return static_cast<T>(u);
}

// A value read from whichever vector the column's storage type fills.
int64_t IntAt(const ResultColumn& c, size_t row) {
  if (c.type == ColumnType::kDouble) {
    const double d = c.doubles[row];
    // Saturate: a cast of an out-of-range double is undefined.
    if (!(d > -9.2233720368547758e18)) return std::numeric_limits<int64_t>::min();
    if (!(d < 9.2233720368547758e18)) return std::numeric_limits<int64_t>::max();
    return static_cast<int64_t>(d);
  }
  return c.ints[row];
}

double DoubleAt(const ResultColumn& c, size_t row) {
  if (c.type == ColumnType::kDouble) return c.doubles[row];
  return static_cast<double>(c.ints[row]);
}

bool IsTextOid(uint32_t oid) {
  return oid == sql::oid::kText || oid == sql::oid::kName || oid == sql::oid::kVarchar ||
         oid == sql::oid::kUnknown;
}

// The array types sent as themselves (float8[], int8[], text[], bool[]);
// int4[], varchar[], ... are read as parameters but not sent.
bool IsArrayOid(uint32_t oid) {
  const sql::SqlType t = sql::SqlTypeFromOid(oid);
  return sql::IsSqlArray(t) && sql::SqlTypeOid(t) == oid;
}

// The element type an array of `array_oid` is sent and read as: float8,
// int8, text or bool (float4[] as float8, int4[] as int8, varchar[] as text).
uint32_t ElementOid(uint32_t array_oid) {
  return sql::SqlTypeOid(sql::SqlArrayElement(sql::SqlTypeFromOid(array_oid)));
}

// XX001 (data_corrupted): a stored value that is not the canonical text of
// its type, named by column and row, instead of a value that was not stored.
absl::Status NotCanonical(const ResultColumn& c, size_t row, uint32_t oid) {
  return PgError(
      sql::sqlstate::kDataCorrupted,
      StrCat("row ", row + 1, " of result column \"", c.name, "\" holds stored text that is not a ",
             sql::SqlTypeName(sql::SqlTypeFromOid(oid)), " value: \"",
             std::string_view(c.strings[row]).substr(0, 100), "\""));
}

absl::Status AppendText(const ResultColumn& c, size_t row, uint32_t oid, std::string* out) {
  if (IsStringLike(c.type)) {
    // Arrays are held as canonical JSON text ([1,2.5]); PostgreSQL prints
    // its array literal ({1,2.5}). json and uuid print their canonical text.
    if (IsArrayOid(oid)) {
      if (!sql::AppendPgArrayText(sql::SqlTypeFromOid(oid), c.strings[row], out)) {
        return NotCanonical(c, row, oid);
      }
    } else {
      out->append(c.strings[row]);
    }
    return absl::OkStatus();
  }
  switch (oid) {
    case sql::oid::kBool:
      out->push_back(IntAt(c, row) != 0 ? 't' : 'f');
      return absl::OkStatus();
    case sql::oid::kInt2:
    case sql::oid::kInt4:
    case sql::oid::kInt8:
    case sql::oid::kOid:
      AppendInt(IntAt(c, row), out);
      return absl::OkStatus();
    case sql::oid::kFloat4:
      AppendFloat4Text(static_cast<float>(DoubleAt(c, row)), out);
      return absl::OkStatus();
    case sql::oid::kFloat8:
      AppendFloat8Text(DoubleAt(c, row), out);
      return absl::OkStatus();
    case sql::oid::kTimestamp:
    case sql::oid::kTimestamptz:
      AppendTimestampText(NanosToMicros(IntAt(c, row)), oid == sql::oid::kTimestamptz, out);
      return absl::OkStatus();
    case sql::oid::kNumeric:
      // numeric never prints an exponent.
      if (c.type == ColumnType::kDouble && std::isfinite(c.doubles[row])) {
        char buf[400];
        auto r = std::to_chars(buf, buf + sizeof(buf), c.doubles[row], std::chars_format::fixed);
        out->append(buf, r.ptr);
        return absl::OkStatus();
      }
      break;
  }
  // Any other type (or a text type over a non-string column): by storage.
  switch (c.type) {
    case ColumnType::kDouble:
      AppendFloat8Text(c.doubles[row], out);
      return absl::OkStatus();
    case ColumnType::kBoolean:
      out->push_back(c.ints[row] != 0 ? 't' : 'f');
      return absl::OkStatus();
    case ColumnType::kTimestamp:
      AppendTimestampText(NanosToMicros(c.ints[row]), true, out);
      return absl::OkStatus();
    default:
      AppendInt(c.ints[row], out);
  }
  return absl::OkStatus();
}

// PostgreSQL's array_send: dimensions (0 for an empty array, else 1), a
// has-nulls flag (0: arrays hold no NULLs here), the element type, for the
// one dimension its length and lower bound 1, then each element as its
// length and binary form. False when `canonical` is not an array's text.
bool AppendBinaryArray(std::string_view canonical, uint32_t oid, std::string* out) {
  thread_local ArrayElements e;
  e.clear();
  e.element = ToColumnType(sql::SqlArrayElement(sql::SqlTypeFromOid(oid)));
  if (!ParseArrayText(canonical, &e)) return false;
  const size_t n = e.size();
  AppendBigEndian<int32_t>(n == 0 ? 0 : 1, out);
  AppendBigEndian<int32_t>(0, out);
  AppendBigEndian<uint32_t>(ElementOid(oid), out);
  if (n == 0) return true;
  AppendBigEndian<int32_t>(static_cast<int32_t>(n), out);
  AppendBigEndian<int32_t>(1, out);
  for (size_t i = 0; i < n; ++i) {
    switch (e.element) {
      case ColumnType::kDouble:
        AppendBigEndian<int32_t>(8, out);
        AppendBigEndian(std::bit_cast<uint64_t>(e.doubles[i]), out);
        break;
      case ColumnType::kInteger:
        AppendBigEndian<int32_t>(8, out);
        AppendBigEndian(e.ints[i], out);
        break;
      case ColumnType::kBoolean:
        AppendBigEndian<int32_t>(1, out);
        out->push_back(e.bools[i] ? 1 : 0);
        break;
      default:
        AppendBigEndian<int32_t>(static_cast<int32_t>(e.strings[i].size()), out);
        out->append(e.strings[i]);
    }
  }
  return true;
}

// A binary array parameter (array_recv) as canonical JSON array text, which
// the SQL layer's array input reads; nullopt when malformed or unsupported.
std::optional<std::string> BinaryArrayToText(uint32_t oid, std::string_view b) {
  size_t pos = 0;
  auto take = [&](size_t n) -> std::optional<std::string_view> {
    if (b.size() - pos < n) return std::nullopt;
    std::string_view s = b.substr(pos, n);
    pos += n;
    return s;
  };
  auto i32 = [&]() -> std::optional<int32_t> {
    auto s = take(4);
    if (!s) return std::nullopt;
    return LoadBigEndian<int32_t>(*s);
  };
  auto ndim = i32(), flags = i32(), elem = i32();
  if (!ndim || !flags || !elem || *ndim < 0 || *ndim > 1) return std::nullopt;
  std::string out = "[";
  if (*ndim == 1) {
    auto n = i32(), lbound = i32();
    if (!n || !lbound || *n < 0) return std::nullopt;
    const uint32_t want = ElementOid(oid);
    for (int32_t k = 0; k < *n; ++k) {
      auto len = i32();
      if (!len || *len < 0) return std::nullopt;  // a NULL element: refused
      auto bytes = take(static_cast<size_t>(*len));
      if (!bytes) return std::nullopt;
      if (k > 0) out.push_back(',');
      const uint32_t got = static_cast<uint32_t>(*elem);
      if (want == sql::oid::kText) {
        AppendJsonString(&out, *bytes);
      } else if (want == sql::oid::kBool && bytes->size() == 1) {
        out.append((*bytes)[0] ? "true" : "false");
      } else if (got == sql::oid::kInt8 && bytes->size() == 8) {
        AppendJsonInt(&out, LoadBigEndian<int64_t>(*bytes));
      } else if (got == sql::oid::kInt4 && bytes->size() == 4) {
        AppendJsonInt(&out, LoadBigEndian<int32_t>(*bytes));
      } else if (got == sql::oid::kInt2 && bytes->size() == 2) {
        AppendJsonInt(&out, LoadBigEndian<int16_t>(*bytes));
      } else if (got == sql::oid::kFloat8 && bytes->size() == 8) {
        AppendJsonDouble(&out, std::bit_cast<double>(LoadBigEndian<uint64_t>(*bytes)));
      } else if (got == sql::oid::kFloat4 && bytes->size() == 4) {
        AppendJsonDouble(&out, std::bit_cast<float>(LoadBigEndian<uint32_t>(*bytes)));
      } else {
        return std::nullopt;
      }
    }
  }
  if (pos != b.size()) return std::nullopt;
  out.push_back(']');
  return out;
}

absl::Status WrongLength(int index, uint32_t oid, size_t got, size_t want) {
  absl::Status s = PgError("22P03", StrCat("incorrect binary data format in bind parameter ", index,
                                           ": type ", oid, " takes ", want, " bytes, got ", got));
  return s;
}

}  // namespace

bool HasBinaryOutput(uint32_t oid) {
  switch (oid) {
    case sql::oid::kBool:
    case sql::oid::kInt2:
    case sql::oid::kInt4:
    case sql::oid::kInt8:
    case sql::oid::kOid:
    case sql::oid::kFloat4:
    case sql::oid::kFloat8:
    case sql::oid::kTimestamp:
    case sql::oid::kTimestamptz:
    case sql::oid::kJson:
    case sql::oid::kUuid:
      return true;
  }
  return IsTextOid(oid) || IsArrayOid(oid);
}

absl::Status ValidateResult(const sql::SqlResult& result) {
  const auto& t = result.table;
  if (t.columns.size() != result.columns.size()) {
    return PgError(sql::sqlstate::kInternalError, StrCat("result describes ", result.columns.size(),
                                                         " columns but holds ", t.columns.size()));
  }
  for (const auto& c : t.columns) {
    size_t values = c.type == ColumnType::kDouble ? c.doubles.size()
                    : IsStringLike(c.type)        ? c.strings.size()
                                                  : c.ints.size();
    if (c.valid.size() < t.rows || values < t.rows) {
      return PgError(sql::sqlstate::kInternalError,
                     StrCat("result column \"", c.name, "\" holds ",
                            std::min(values, c.valid.size()), " values for ", t.rows, " rows"));
    }
  }
  return absl::OkStatus();
}

absl::Status AppendValue(const ResultColumn& c, size_t row, uint32_t oid, int16_t format,
                         std::string* out) {
  if (format != kBinaryFormat || IsTextOid(oid)) return AppendText(c, row, oid, out);
  switch (oid) {
    case sql::oid::kBool:
      out->push_back(IntAt(c, row) != 0 ? 1 : 0);
      return absl::OkStatus();
    case sql::oid::kInt2:
      AppendBigEndian(static_cast<int16_t>(IntAt(c, row)), out);
      return absl::OkStatus();
    case sql::oid::kInt4:
    case sql::oid::kOid:
      AppendBigEndian(static_cast<int32_t>(IntAt(c, row)), out);
      return absl::OkStatus();
    case sql::oid::kInt8:
      AppendBigEndian(IntAt(c, row), out);
      return absl::OkStatus();
    case sql::oid::kFloat4:
      AppendBigEndian(std::bit_cast<uint32_t>(static_cast<float>(DoubleAt(c, row))), out);
      return absl::OkStatus();
    case sql::oid::kFloat8:
      AppendBigEndian(std::bit_cast<uint64_t>(DoubleAt(c, row)), out);
      return absl::OkStatus();
    case sql::oid::kTimestamp:
    case sql::oid::kTimestamptz:
      AppendBigEndian(NanosToMicros(IntAt(c, row)) - kPostgresEpochMicros, out);
      return absl::OkStatus();
    case sql::oid::kUuid:
      if (IsStringLike(c.type)) {
        if (!IsCanonicalUuid(c.strings[row])) return NotCanonical(c, row, oid);
        uint8_t bytes[16];
        UuidToBytes(c.strings[row], bytes);
        out->append(reinterpret_cast<const char*>(bytes), 16);
        return absl::OkStatus();
      }
      break;
    case sql::oid::kJson:  // json_send: the text
      break;
    default:
      if (IsArrayOid(oid) && IsStringLike(c.type)) {
        if (!AppendBinaryArray(c.strings[row], oid, out)) return NotCanonical(c, row, oid);
        return absl::OkStatus();
      }
  }
  return AppendText(c, row, oid,
                    out);  // json, or not reached when the caller checked HasBinaryOutput
}

void AppendFloat8Text(double v, std::string* out) { AppendShortestFloat(v, 15, out); }

void AppendFloat4Text(float v, std::string* out) { AppendShortestFloat(v, 6, out); }

int64_t NanosToMicros(int64_t nanos) { return FloorDivide(nanos, 1000); }

void AppendTimestampText(int64_t micros, bool with_time_zone, std::string* out) {
  if (micros == std::numeric_limits<int64_t>::max()) {
    out->append("infinity");
  } else if (micros == std::numeric_limits<int64_t>::min()) {
    out->append("-infinity");
  } else {
    AppendDateTime(micros, 0, with_time_zone, out);
  }
}

absl::StatusOr<std::string> BinaryParamToText(uint32_t oid, std::string_view bytes, int index) {
  std::string out;
  auto need = [&](size_t n) -> absl::Status {
    if (bytes.size() != n) return WrongLength(index, oid, bytes.size(), n);
    return absl::OkStatus();
  };
  absl::Status st;
  switch (oid) {
    case sql::oid::kBool:
      if (!(st = need(1)).ok()) return st;
      return std::string(bytes[0] != 0 ? "true" : "false");
    case sql::oid::kInt2:
      if (!(st = need(2)).ok()) return st;
      AppendInt(LoadBigEndian<int16_t>(bytes), &out);
      return out;
    case sql::oid::kInt4:
      if (!(st = need(4)).ok()) return st;
      AppendInt(LoadBigEndian<int32_t>(bytes), &out);
      return out;
    case sql::oid::kOid:
      if (!(st = need(4)).ok()) return st;
      AppendInt(LoadBigEndian<uint32_t>(bytes), &out);
      return out;
    case sql::oid::kInt8:
      if (!(st = need(8)).ok()) return st;
      AppendInt(LoadBigEndian<int64_t>(bytes), &out);
      return out;
    case sql::oid::kFloat4:
      if (!(st = need(4)).ok()) return st;
      AppendFloat4Text(std::bit_cast<float>(LoadBigEndian<uint32_t>(bytes)), &out);
      return out;
    case sql::oid::kFloat8:
      if (!(st = need(8)).ok()) return st;
      AppendFloat8Text(std::bit_cast<double>(LoadBigEndian<uint64_t>(bytes)), &out);
      return out;
    case sql::oid::kTimestamp:
    case sql::oid::kTimestamptz: {
      if (!(st = need(8)).ok()) return st;
      const int64_t micros = LoadBigEndian<int64_t>(bytes);
      if (micros == std::numeric_limits<int64_t>::max()) return std::string("infinity");
      if (micros == std::numeric_limits<int64_t>::min()) return std::string("-infinity");
      AppendDateTime(micros, kPostgresEpochDays, oid == sql::oid::kTimestamptz, &out);
      return out;
    }
  }
  if (oid == sql::oid::kUuid) {
    if (!(st = need(16)).ok()) return st;
    return UuidFromBytes(reinterpret_cast<const uint8_t*>(bytes.data()));
  }
  if (oid == sql::oid::kJsonb) {
    // jsonb_recv: a version byte (1), then the text.
    if (bytes.empty() || bytes[0] != 1) {
      return PgError("22P03", StrCat("unsupported jsonb version number in bind parameter ", index));
    }
    bytes.remove_prefix(1);
  }
  if (IsArrayOid(oid) || oid == sql::oid::kInt4Array || oid == sql::oid::kInt2Array ||
      oid == sql::oid::kFloat4Array || oid == sql::oid::kVarcharArray) {
    std::optional<std::string> text = BinaryArrayToText(oid, bytes);
    if (!text) {
      return PgError("22P03", StrCat("incorrect binary data format in bind parameter ", index,
                                     ": expected a one-dimensional array of type oid ", oid,
                                     " without NULL elements"));
    }
    return *text;
  }
  if (IsTextOid(oid) || oid == sql::oid::kJson || oid == sql::oid::kJsonb) {
    if (!IsValidUtf8(bytes)) {
      return PgError(
          "22021", StrCat("invalid byte sequence for encoding \"UTF8\" in bind parameter ", index));
    }
    return std::string(bytes);
  }
  if (oid == sql::oid::kUnspecified) {
    return PgError(sql::sqlstate::kFeatureNotSupported,
                   StrCat("binary format for parameter $", index,
                          " of unspecified type is not supported: declare its type in Parse "
                          "or send it as text"));
  }
  return PgError(sql::sqlstate::kFeatureNotSupported,
                 StrCat("binary format for parameter $", index, " of type oid ", oid,
                        " is not supported; send it as text"));
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c == 0) return false;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return false;
    p += n + 1;
  }
  return true;
}

}  // namespace timestore::pgwire
