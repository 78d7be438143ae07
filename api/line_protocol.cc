#include "api/line_protocol.h"

#include <immintrin.h>

#include <charconv>
#include <cstring>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"

namespace timestore::api {
namespace {

// A series cache entry: the table of a `measurement,tags` prefix and the
// dictionary id of each of its tags.
struct SeriesEntry {
  int table = 0;
  std::vector<std::pair<int, uint32_t>> tags;  // (slot, id)
};
// Past this many distinct series in one body, lines are parsed without the
// cache (a body of unique series gains nothing from it).
constexpr size_t kMaxCachedSeries = 1 << 16;
// Measurements (so datasets) one body may write.
constexpr size_t kMaxMeasurements = 1000;

enum class Kind : uint8_t { kTag, kField };

// The columns of one measurement's rows.
struct Table {
  std::string slug;
  std::string measurement;
  std::string time_column;
  std::vector<Field> fields;
  std::vector<ColumnBuilder> builders;
  std::vector<uint32_t> set_in_row;  // per slot: row + 1 when set in the current line
  std::vector<uint8_t> from_schema;  // per slot: the column exists in the stored schema
  std::vector<uint8_t> touched;      // per slot: a value was given in this body
  StringMap<int> index;
  std::vector<int> field_order;  // field position in a line -> slot, as in the last line
  uint32_t rows = 0;
  int time_slot = -1;
};

// The first space, newline or backslash in [p, end), or end: 32 bytes at a
// time where AVX2 is there (the series part of a line is ~200 bytes).
inline const char* FindSpecial(const char* p, const char* end) {
#ifdef __AVX2__
  const __m256i space = _mm256_set1_epi8(' ');
  const __m256i newline = _mm256_set1_epi8('\n');
  const __m256i backslash = _mm256_set1_epi8('\\');
  while (end - p >= 32) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    __m256i hit =
        _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, space), _mm256_cmpeq_epi8(v, newline)),
                        _mm256_cmpeq_epi8(v, backslash));
    uint32_t mask = static_cast<uint32_t>(_mm256_movemask_epi8(hit));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 32;
  }
#endif
  while (p < end && *p != ' ' && *p != '\n' && *p != '\\') ++p;
  return p;
}

// Equality of short byte strings (field names) without a call to memcmp.
inline bool SameBytes(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    uint64_t x, y;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&x, a + i, 8);
      std::memcpy(&y, b + i, 8);
      if (x != y) return false;
    }
    std::memcpy(&x, a + n - 8, 8);
    std::memcpy(&y, b + n - 8, 8);
    return x == y;
  }
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// Powers of ten exactly representable as doubles.
constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// The common float spellings ("58", "-3.25", "0.5") without from_chars:
// with at most 15 significant digits the digits are an exact double, and one
// division by an exact power of ten is correctly rounded, so the result is
// what from_chars gives. False for anything else (exponents, long digit
// strings), which the caller parses the slow way.
inline bool FastDouble(std::string_view text, double* out) {
  const char* p = text.data();
  const char* end = p + text.size();
  bool negative = false;
  if (p < end && *p == '-') {
    negative = true;
    ++p;
  }
  uint64_t mantissa = 0;
  int digits = 0, fraction = 0;
  bool point = false, any = false;
  for (; p < end; ++p) {
    char c = *p;
    if (c >= '0' && c <= '9') {
      any = true;
      if (mantissa != 0 || c != '0') ++digits;
      mantissa = mantissa * 10 + static_cast<uint64_t>(c - '0');
      if (point) ++fraction;
      if (digits > 15 || fraction > 22) return false;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      return false;
    }
  }
  if (!any) return false;
  double d = static_cast<double>(mantissa);
  if (fraction > 0) d /= kPow10[fraction];
  *out = negative ? -d : d;
  return true;
}

bool IsSlugByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

class Parser {
 public:
  Parser(std::string_view body, const LineProtocolOptions& options) : body_(body), opts_(options) {}

  absl::StatusOr<std::vector<IngestRequest>> Run() {
    const char* p = body_.data();
    const char* end = p + body_.size();
    while (p < end) {
      line_start_ = p;
      // Leading blanks, blank lines and comments.
      while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) ++p;
      if (p == end) break;
      if (*p == '\n') {
        ++p;
        ++line_;
        continue;
      }
      if (*p == '#') {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
        p = nl == nullptr ? end : nl + 1;
        ++line_;
        continue;
      }
      ASSIGN_OR_RETURN(p, ParseLine(p, end));
      ++line_;
    }
    std::vector<IngestRequest> out;
    out.reserve(tables_.size());
    for (Table& t : tables_) {
      IngestRequest req;
      req.slug = t.slug;
      req.time_column = t.time_column;
      req.rows = t.rows;
      for (size_t i = 0; i < t.fields.size(); ++i) {
        // Stored columns this body never mentions stay out of the batch.
        if (t.from_schema[i] && !t.touched[i] && static_cast<int>(i) != t.time_slot) continue;
        req.fields.push_back(t.fields[i]);
        req.columns.push_back(t.builders[i].Finish());
      }
      out.push_back(std::move(req));
    }
    return out;
  }

 private:
  // --- errors ---

  std::string LineText() const {
    const char* end = body_.data() + body_.size();
    const char* nl = static_cast<const char*>(std::memchr(line_start_, '\n', end - line_start_));
    std::string_view text(line_start_, (nl ? nl : end) - line_start_);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.size() > 120) return StrCat(text.substr(0, 117), "...");
    return std::string(text);
  }

  absl::Status Syntax(std::string_view problem) const {
    return MakeError(absl::StatusCode::kInvalidArgument, "invalid_line",
                     StrCat("line ", line_ + 1, ": ", problem, " in '", LineText(), "'"),
                     ErrorDetails(line_, "", "", "", true));
  }

  absl::Status Value(std::string_view column, std::string_view problem) const {
    return MakeError(
        absl::StatusCode::kInvalidArgument, "invalid_value",
        StrCat("line ", line_ + 1, ", measurement \"", current_->measurement, "\", ", problem),
        ErrorDetails(line_, column, "", "", true));
  }

  // --- tokens ---

  // Reads a name or tag value up to an unescaped byte of `stops` (or a
  // newline). Escapes: backslash before a comma, space or equals sign (and
  // before a backslash, so that `\\,` is a backslash then a separator); any
  // other backslash is itself. `*escaped` tells whether `out` had to be
  // unescaped into scratch.
  const char* ReadToken(const char* p, const char* end, bool stop_at_equals, std::string* scratch,
                        std::string_view* out, bool* escaped) {
    const char* start = p;
    *escaped = false;
    while (p < end) {
      char c = *p;
      if (c == ',' || c == ' ' || c == '\n' || (stop_at_equals && c == '=')) break;
      if (c == '\\' && p + 1 < end && (p[1] == ',' || p[1] == ' ' || p[1] == '=' || p[1] == '\\')) {
        *escaped = true;
        p += 2;
        continue;
      }
      ++p;
    }
    *out = std::string_view(start, p - start);
    if (*escaped) {
      scratch->clear();
      for (size_t i = 0; i < out->size(); ++i) {
        char c = (*out)[i];
        if (c == '\\' && i + 1 < out->size()) {
          char n = (*out)[i + 1];
          if (n == ',' || n == ' ' || n == '=' || n == '\\') {
            scratch->push_back(n);
            ++i;
            continue;
          }
        }
        scratch->push_back(c);
      }
      *out = *scratch;
    }
    return p;
  }

  // --- tables and columns ---

  absl::StatusOr<int> TableFor(std::string_view measurement) {
    if (auto it = table_index_.find(measurement); it != table_index_.end()) return it->second;
    if (measurement.empty()) return Syntax("missing measurement");
    auto slug = MeasurementSlug(opts_.dataset_prefix, measurement);
    if (!slug.ok()) return Syntax(ToStd(slug.status().message()));
    // Two spellings of one slug ("CPU", "cpu") share a table.
    int index = -1;
    if (auto it = slug_index_.find(*slug); it != slug_index_.end()) index = it->second;
    if (index < 0) {
      // Each measurement is a dataset: a body does not create them by the
      // thousand (nor make this parse quadratic in them).
      if (tables_.size() >= kMaxMeasurements) {
        return MakeError(absl::StatusCode::kInvalidArgument, "invalid_value",
                         StrCat("line ", line_ + 1, ", measurement \"", measurement,
                                "\": the body names more than ", kMaxMeasurements,
                                " measurements; send them in separate requests"),
                         ErrorDetails(line_, "", "", "", true));
      }
      slug_index_.emplace(*slug, static_cast<int>(tables_.size()));
      index = static_cast<int>(tables_.size());
      Table& t = tables_.emplace_back();
      t.slug = *slug;
      t.measurement = std::string(measurement);
      SchemaPtr schema = opts_.schema_of ? opts_.schema_of(t.slug) : nullptr;
      t.time_column = schema ? schema->time_column : "timestamp";
      if (schema) {
        for (const Field& f : schema->fields) AddSlot(t, f, true);
      }
      if (auto it = t.index.find(t.time_column); it != t.index.end()) {
        t.time_slot = it->second;
      } else {
        t.time_slot = AddSlot(t, Field{t.time_column, ColumnType::kTimestamp}, false);
      }
    }
    table_index_.emplace(std::string(measurement), index);
    return index;
  }

  static int AddSlot(Table& t, const Field& f, bool from_schema) {
    int slot = static_cast<int>(t.fields.size());
    t.index.emplace(f.name, slot);
    t.fields.push_back(f);
    t.builders.emplace_back(f.type);
    t.builders.back().PadNullsTo(t.rows);
    t.set_in_row.push_back(0);
    t.from_schema.push_back(from_schema ? 1 : 0);
    t.touched.push_back(0);
    return slot;
  }

  // The slot of column `name` for a tag or field of type `type`, created when
  // new; a type conflict or a repeat within the line is an error.
  absl::StatusOr<int> SlotFor(std::string_view name, ColumnType type, Kind kind) {
    Table& t = *current_;
    int slot;
    if (auto it = t.index.find(name); it != t.index.end()) {
      slot = it->second;
    } else {
      if (name.empty()) return Syntax(kind == Kind::kTag ? "missing tag key" : "missing field key");
      if (auto s = ValidateColumnName(name); !s.ok()) return Value(name, ToStd(s.message()));
      slot = AddSlot(t, Field{std::string(name), type}, false);
    }
    return CheckSlot(slot, type, kind);
  }

  absl::StatusOr<int> CheckSlot(int slot, ColumnType type, Kind kind) {
    Table& t = *current_;
    const Field& f = t.fields[slot];
    if (slot == t.time_slot) {
      return Value(f.name, StrCat(kind == Kind::kTag ? "tag" : "field", " \"", f.name,
                                  "\" has the name of the time column"));
    }
    if (f.type != type) {
      return Value(f.name, StrCat(kind == Kind::kTag ? "tag" : "field", " \"", f.name,
                                  "\": type conflict: ", TypeName(type), " here, but ",
                                  TypeName(f.type), " in ",
                                  t.from_schema[slot] ? StrCat("dataset \"", t.slug, "\"")
                                                      : std::string("an earlier line")));
    }
    if (t.set_in_row[slot] == t.rows + 1) {
      return Value(f.name, StrCat("\"", f.name, "\" is given twice in the line"));
    }
    t.set_in_row[slot] = t.rows + 1;
    t.touched[slot] = 1;
    return slot;
  }

  static std::string_view TypeName(ColumnType t) {
    switch (t) {
      case ColumnType::kDouble:
        return "float (double)";
      case ColumnType::kInteger:
        return "integer";
      case ColumnType::kString:
        return "string";
      case ColumnType::kBoolean:
        return "boolean";
      case ColumnType::kTimestamp:
        return "timestamp";
      default:
        return ColumnTypeName(t);
    }
  }

  // --- the line ---

  absl::StatusOr<const char*> ParseLine(const char* p, const char* end) {
    // The series part, `measurement(,key=value)*`, ends at the first
    // unescaped space. Its raw bytes are the series cache key.
    const char* series_start = p;
    const char* q = p;
    for (;;) {
      q = FindSpecial(q, end);
      if (q == end || *q != '\\') break;
      // An escape: the next byte is taken as it is (unless it ends the line).
      q += (q + 1 < end && q[1] != '\n') ? 2 : 1;
    }
    if (q == end || *q == '\n') {
      const char* stop = q;
      while (stop > series_start && stop[-1] == '\r') --stop;
      return Syntax(stop == series_start ? "missing measurement" : "missing fields");
    }
    std::string_view series(series_start, q - series_start);

    const SeriesEntry* cached = nullptr;
    size_t tags_set = 0;
    if (auto it = series_cache_.find(series); it != series_cache_.end()) cached = &it->second;
    if (cached != nullptr) {
      current_ = &tables_[cached->table];
      tags_set = cached->tags.size();
      for (auto [slot, id] : cached->tags) {
        // A tag repeated in one series was refused when it was first seen,
        // so the ids can go in directly.
        current_->set_in_row[slot] = current_->rows + 1;
        current_->touched[slot] = 1;
        current_->builders[slot].AppendStringId(id);
      }
    } else {
      SeriesEntry entry;
      std::string_view measurement;
      bool escaped;
      // In a measurement only commas and spaces are escaped; an equals sign
      // is a plain byte.
      const char* m = ReadToken(p, q, /*stop_at_equals=*/false, &scratch_, &measurement, &escaped);
      std::string measurement_owned(measurement);
      ASSIGN_OR_RETURN(entry.table, TableFor(measurement_owned));
      current_ = &tables_[entry.table];
      p = m;
      while (p < q) {
        // *p == ','
        ++p;
        std::string_view key, value;
        p = ReadToken(p, q, true, &scratch_, &key, &escaped);
        std::string key_owned(key);
        if (p == q || *p != '=') {
          return Syntax(StrCat("tag \"", key_owned, "\" has no '=' and value"));
        }
        ++p;
        p = ReadToken(p, q, false, &scratch2_, &value, &escaped);
        if (value.empty()) return Syntax(StrCat("tag \"", key_owned, "\" has an empty value"));
        ASSIGN_OR_RETURN(int slot, SlotFor(key_owned, ColumnType::kString, Kind::kTag));
        uint32_t id = current_->builders[slot].InternString(value);
        current_->builders[slot].AppendStringId(id);
        entry.tags.emplace_back(slot, id);
      }
      tags_set = entry.tags.size();
      if (series_cache_.size() < kMaxCachedSeries) {
        series_cache_.emplace(std::string(series), std::move(entry));
      }
    }
    Table& t = *current_;

    // Fields.
    p = q;
    while (p < end && *p == ' ') ++p;
    if (p == end || *p == '\n' || *p == '\r') return Syntax("missing fields");
    size_t position = 0;
    for (;;) {
      std::string_view key;
      bool escaped = false;
      int slot = -1;
      // Lines of one measurement nearly always list fields in one order:
      // match the raw key with the field seen at this position last time.
      if (position < t.field_order.size()) {
        const std::string& name = t.fields[t.field_order[position]].name;
        if (static_cast<size_t>(end - p) > name.size() && p[name.size()] == '=' &&
            SameBytes(p, name.data(), name.size())) {
          slot = t.field_order[position];
          key = name;
          p += name.size();
        }
      }
      if (slot < 0) p = ReadToken(p, end, true, &scratch_, &key, &escaped);
      if (p == end || *p != '=') {
        return Syntax(StrCat("field \"", key, "\" has no '=' and value"));
      }
      ++p;
      if (key.empty()) return Syntax("missing field key");
      ASSIGN_OR_RETURN(p, ParseFieldValue(p, end, key, &slot));
      if (position >= t.field_order.size()) t.field_order.resize(position + 1);
      t.field_order[position++] = slot;
      if (p < end && *p == ',') {
        ++p;
        continue;
      }
      break;
    }

    // Timestamp.
    while (p < end && *p == ' ') ++p;
    int64_t ts = opts_.now_ns;
    if (p < end && *p != '\n' && *p != '\r') {
      const char* start = p;
      while (p < end && *p != ' ' && *p != '\n' && *p != '\r') ++p;
      std::string_view text(start, p - start);
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size()) {
        return Syntax(StrCat("bad timestamp \"", text.substr(0, 40), "\" (an integer in the ",
                             "unit of `precision`)"));
      }
      if (__builtin_mul_overflow(v, opts_.precision_ns, &ts)) {
        return Syntax(StrCat("timestamp ", v, " is out of range (1677 to 2262)"));
      }
      while (p < end && (*p == ' ' || *p == '\r')) ++p;
    }
    while (p < end && *p == '\r') ++p;
    if (p < end && *p != '\n') return Syntax("unexpected text after the timestamp");
    if (p < end) ++p;

    t.builders[t.time_slot].AppendInt(ts);
    if (++t.rows == 1 && tables_.size() == 1 && !reserved_) {
      // Size the columns for the body from its first line: one
      // reallocation at most instead of one per doubling. Only for the
      // first measurement: a body mixing many would reserve many times over.
      reserved_ = true;
      const size_t line_bytes = std::max<ptrdiff_t>(p - line_start_, 16);
      const size_t estimate = (body_.size() - (line_start_ - body_.data())) / line_bytes + 1;
      for (auto& b : t.builders) b.Reserve(std::min<size_t>(estimate, 1 << 20));
    }
    // Columns the line did not set are null in it (each set column was set
    // once: repeats are refused).
    if (tags_set + position + 1 < t.builders.size()) {
      for (size_t i = 0; i < t.builders.size(); ++i) {
        if (t.builders[i].size() < t.rows) t.builders[i].AppendNull();
      }
    }
    return p;
  }

  absl::StatusOr<const char*> ParseFieldValue(const char* p, const char* end, std::string_view key,
                                              int* slot) {
    if (p == end || *p == ' ' || *p == ',' || *p == '\n' || *p == '\r') {
      return Syntax(StrCat("field \"", key, "\" has no value"));
    }
    if (*p == '"') {
      // A string: backslash escapes a quote or a backslash; newlines may
      // appear inside.
      ++p;
      const char* start = p;
      const int64_t start_line = line_;
      bool escaped = false;
      while (p < end && *p != '"') {
        if (*p == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\')) {
          escaped = true;
          ++p;
        }
        if (*p == '\n') ++line_;
        ++p;
      }
      if (p == end) {
        line_ = start_line;
        return Syntax(StrCat("field \"", key, "\": unterminated string"));
      }
      std::string_view raw(start, p - start);
      ++p;
      if (escaped) {
        scratch2_.clear();
        for (size_t i = 0; i < raw.size(); ++i) {
          if (raw[i] == '\\' && i + 1 < raw.size() && (raw[i + 1] == '"' || raw[i + 1] == '\\')) {
            ++i;
          }
          scratch2_.push_back(raw[i]);
        }
        raw = scratch2_;
      }
      ASSIGN_OR_RETURN(*slot, Resolve(*slot, key, ColumnType::kString));
      current_->builders[*slot].AppendString(raw);
      return EndOfValue(p, end, key);
    }
    {
      // The common case in one pass: a plain decimal float ("58", "-3.25")
      // ended by a separator; exact as FastDouble explains.
      const char* q = p;
      const bool negative = *q == '-';
      q += negative;
      uint64_t mantissa = 0;
      int digits = 0, fraction = 0;
      bool point = false, any = false;
      for (; q < end; ++q) {
        const unsigned c = static_cast<unsigned char>(*q) - '0';
        if (c <= 9) {
          any = true;
          digits += (mantissa != 0 || c != 0);
          mantissa = mantissa * 10 + c;
          fraction += point;
        } else if (*q == '.' && !point) {
          point = true;
        } else {
          break;
        }
      }
      if (any && digits <= 15 && fraction <= 22 &&
          (q == end || *q == ',' || *q == ' ' || *q == '\n' || *q == '\r')) {
        double d = static_cast<double>(mantissa);
        if (fraction > 0) d /= kPow10[fraction];
        ASSIGN_OR_RETURN(*slot, Resolve(*slot, key, ColumnType::kDouble));
        current_->builders[*slot].AppendDouble(negative ? -d : d);
        return q;
      }
    }
    const char* start = p;
    while (p < end && *p != ',' && *p != ' ' && *p != '\n' && *p != '\r') ++p;
    std::string_view text(start, p - start);
    char last = text.back();
    if (last == 'i' || last == 'u') {
      std::string_view digits = text.substr(0, text.size() - 1);
      int64_t v = 0;
      if (last == 'i') {
        auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        if (ec == std::errc::result_out_of_range) {
          return Value(key, StrCat("field \"", key, "\": integer ", text, " is out of range"));
        }
        if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty()) {
          return Syntax(StrCat("field \"", key, "\": bad integer \"", text.substr(0, 40), "\""));
        }
      } else {
        uint64_t u = 0;
        auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u);
        if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty()) {
          if (ec == std::errc::result_out_of_range) {
            return Value(key, StrCat("field \"", key, "\": unsigned ", text, " is out of range"));
          }
          return Syntax(
              StrCat("field \"", key, "\": bad unsigned integer \"", text.substr(0, 40), "\""));
        }
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return Value(key, StrCat("field \"", key, "\": unsigned ", text,
                                   " is above 9223372036854775807, the largest integer a "
                                   "column holds"));
        }
        v = static_cast<int64_t>(u);
      }
      ASSIGN_OR_RETURN(*slot, Resolve(*slot, key, ColumnType::kInteger));
      current_->builders[*slot].AppendInt(v);
      return EndOfValue(p, end, key);
    }
    if (text == "t" || text == "T" || text == "true" || text == "True" || text == "TRUE" ||
        text == "f" || text == "F" || text == "false" || text == "False" || text == "FALSE") {
      ASSIGN_OR_RETURN(*slot, Resolve(*slot, key, ColumnType::kBoolean));
      current_->builders[*slot].AppendBool(text[0] == 't' || text[0] == 'T');
      return EndOfValue(p, end, key);
    }
    // A float: digits with an optional sign, point and exponent; never
    // "nan" or "inf", which line protocol does not have.
    double d = 0;
    if (FastDouble(text, &d)) {
      ASSIGN_OR_RETURN(*slot, Resolve(*slot, key, ColumnType::kDouble));
      current_->builders[*slot].AppendDouble(d);
      return EndOfValue(p, end, key);
    }
    const char first = text[0] == '-' ? (text.size() > 1 ? text[1] : '\0') : text[0];
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (!((first >= '0' && first <= '9') || first == '.') || ec == std::errc::invalid_argument ||
        ptr != text.data() + text.size()) {
      return Syntax(StrCat("field \"", key, "\": bad value \"", text.substr(0, 40),
                           "\" (expected a number, an integer with i or u, a boolean or a "
                           "quoted string)"));
    }
    if (ec == std::errc::result_out_of_range) {
      return Value(key, StrCat("field \"", key, "\": float ", text, " is out of range"));
    }
    ASSIGN_OR_RETURN(*slot, Resolve(*slot, key, ColumnType::kDouble));
    current_->builders[*slot].AppendDouble(d);
    return EndOfValue(p, end, key);
  }

  absl::StatusOr<int> Resolve(int slot, std::string_view key, ColumnType type) {
    if (slot >= 0) return CheckSlot(slot, type, Kind::kField);
    return SlotFor(key, type, Kind::kField);
  }

  absl::StatusOr<const char*> EndOfValue(const char* p, const char* end, std::string_view key) {
    if (p < end && *p != ',' && *p != ' ' && *p != '\n' && *p != '\r') {
      return Syntax(StrCat("field \"", key, "\": unexpected text after the value"));
    }
    return p;
  }

  const std::string_view body_;
  const LineProtocolOptions& opts_;
  std::vector<Table> tables_;   // current_ is taken again for every line
  StringMap<int> table_index_;  // raw measurement -> table
  StringMap<int> slug_index_;   // dataset slug -> table
  StringMap<SeriesEntry> series_cache_;
  Table* current_ = nullptr;
  const char* line_start_ = nullptr;
  int64_t line_ = 0;  // 0-based
  bool reserved_ = false;
  std::string scratch_, scratch2_;
};

}  // namespace

std::optional<int64_t> ParseInfluxPrecision(std::string_view precision) {
  if (precision.empty() || precision == "n" || precision == "ns") return 1;
  if (precision == "u" || precision == "us" || precision == "\xC2\xB5") return 1000;
  if (precision == "ms") return 1'000'000;
  if (precision == "s") return 1'000'000'000;
  if (precision == "m") return 60'000'000'000;
  if (precision == "h") return 3'600'000'000'000;
  return std::nullopt;
}

absl::StatusOr<std::string> MeasurementSlug(std::string_view prefix, std::string_view measurement) {
  std::string slug;
  slug.reserve(prefix.size() + measurement.size());
  for (char c : StrCat(prefix, measurement)) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    slug.push_back(IsSlugByte(l) ? l : '_');
  }
  if (slug.empty()) return absl::InvalidArgumentError("missing measurement");
  if (slug.size() > 64) {
    return absl::InvalidArgumentError(StrCat("dataset name \"", slug.substr(0, 64),
                                             "...\" (database prefix and measurement) ",
                                             "is longer than 64 bytes"));
  }
  if (slug[0] == '_' || slug[0] == '-') slug[0] = 'm';
  return slug;
}

absl::StatusOr<std::vector<IngestRequest>> ParseLineProtocol(std::string_view body,
                                                             const LineProtocolOptions& options) {
  Parser parser(body, options);
  return parser.Run();
}

}  // namespace timestore::api
