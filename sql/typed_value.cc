#include "sql/typed_value.h"

#include <charconv>
#include <cmath>

#include "common/json_writer.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "segment/array_text.h"
#include "segment/typed_text.h"
#include "simdjson.h"
#include "sql/plan.h"
#include "sql/sql_result.h"

namespace timestore::sql {
namespace {

using simdjson::ondemand::json_type;

absl::Status BadInput(SqlType type, std::string_view text, std::string_view why = "") {
  return SqlError(
      sqlstate::kInvalidTextRepresentation,
      StrCat("invalid input syntax for type ", SqlTypeName(type), ": \"", text.substr(0, 100), "\"",
             why.empty() ? "" : " (", why, why.empty() ? "" : ")"));
}

// The elements of a PostgreSQL array literal, nullopt for NULL ones.
absl::StatusOr<std::vector<std::optional<std::string>>> ParsePgArray(SqlType type,
                                                                     std::string_view s) {
  std::vector<std::optional<std::string>> out;
  size_t i = 0;
  auto skip = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  };
  skip();
  if (i >= s.size() || s[i] != '{') {
    return BadInput(type, s, "an array literal starts with \"{\"");
  }
  ++i;
  skip();
  if (i < s.size() && s[i] == '}') {
    ++i;
  } else {
    while (true) {
      skip();
      if (i >= s.size()) return BadInput(type, s, "unexpected end of input");
      if (s[i] == '{') {
        return SqlError(sqlstate::kFeatureNotSupported,
                        "multidimensional arrays are not supported");
      }
      std::string elem;
      bool quoted = false;
      if (s[i] == '"') {
        quoted = true;
        ++i;
        while (i < s.size() && s[i] != '"') {
          if (s[i] == '\\' && i + 1 < s.size()) ++i;
          elem.push_back(s[i++]);
        }
        if (i >= s.size()) return BadInput(type, s, "unterminated quoted element");
        ++i;
      } else {
        size_t last_kept = 0;  // length of elem up to its last escaped or non-space byte
        while (i < s.size() && s[i] != ',' && s[i] != '}') {
          if (s[i] == '"' || s[i] == '{') return BadInput(type, s, "unexpected character");
          if (s[i] == '\\' && i + 1 < s.size()) {
            elem.push_back(s[i + 1]);
            i += 2;
            last_kept = elem.size();
            continue;
          }
          elem.push_back(s[i]);
          if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') last_kept = elem.size();
          ++i;
        }
        elem.resize(last_kept);
        if (elem.empty()) return BadInput(type, s, "empty element");
      }
      if (!quoted && AsciiLower(elem) == "null") {
        out.emplace_back(std::nullopt);
      } else {
        out.emplace_back(std::move(elem));
      }
      skip();
      if (i >= s.size()) return BadInput(type, s, "unexpected end of input");
      if (s[i] == ',') {
        ++i;
        continue;
      }
      if (s[i] == '}') {
        ++i;
        break;
      }
      return BadInput(type, s, "expected \",\" or \"}\"");
    }
  }
  skip();
  if (i != s.size()) return BadInput(type, s, "junk after closing right brace");
  return out;
}

bool NeedsQuotes(std::string_view s) {
  if (s.empty() || AsciiLower(s) == "null") return true;
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '{' || c == '}' || c == ',' || c == ' ' || c == '\t' ||
        c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      return true;
    }
  }
  return false;
}

// One step of a json path: a member key, an array index, or (#> paths) a
// text that is either.
struct Step {
  std::optional<std::string> key;
  std::optional<int64_t> index;
};

std::optional<int64_t> ParseIndex(std::string_view s) {
  int64_t v;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// The canonical json at `path` in `doc`; nullopt when there is none.
std::optional<std::string> JsonGet(std::string_view doc, const std::vector<Step>& path) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(StrCat("[", doc, "]"));
  simdjson::ondemand::document d;
  simdjson::ondemand::value cur;
  if (parser.iterate(padded).get(d) || d.at(0).get(cur)) return std::nullopt;
  for (const Step& step : path) {
    json_type type;
    if (cur.type().get(type)) return std::nullopt;
    bool found = false;
    if (type == json_type::object && step.key) {
      simdjson::ondemand::object obj;
      if (cur.get_object().get(obj)) return std::nullopt;
      for (auto field_result : obj) {
        simdjson::ondemand::field field;
        std::string_view k;
        if (std::move(field_result).get(field) || field.unescaped_key().get(k)) return std::nullopt;
        if (k == *step.key) {
          cur = field.value();
          found = true;
          break;
        }
      }
    } else if (type == json_type::array && step.index) {
      simdjson::ondemand::array arr;
      if (cur.get_array().get(arr)) return std::nullopt;
      int64_t idx = *step.index;
      if (idx < 0) {
        size_t n;
        if (arr.count_elements().get(n)) return std::nullopt;
        idx += static_cast<int64_t>(n);
        if (idx < 0) return std::nullopt;
      }
      int64_t k = 0;
      for (auto item : arr) {
        if (k++ == idx) {
          if (std::move(item).get(cur)) return std::nullopt;
          found = true;
          break;
        }
      }
    }
    if (!found) return std::nullopt;
  }
  std::string out;
  if (!AppendCanonicalJson(cur, &out).ok()) return std::nullopt;
  return out;
}

// Parses canonical array text of array type `type` into `out` (cleared
// first); false when it is not such text.
bool ParseElements(SqlType type, std::string_view canonical, ArrayElements* out) {
  out->clear();
  out->element = ArrayElementType(ToColumnType(type));
  return ParseArrayText(canonical, out).has_value();
}

}  // namespace

absl::StatusOr<std::vector<Value>> ArrayValues(SqlType type, std::string_view canonical) {
  thread_local ArrayElements elements;
  if (!ParseElements(type, canonical, &elements)) return BadInput(type, canonical);
  std::vector<Value> out;
  out.reserve(elements.size());
  for (size_t i = 0; i < elements.size(); ++i) {
    switch (elements.element) {
      case ColumnType::kDouble:
        out.push_back(Value::Double(elements.doubles[i]));
        break;
      case ColumnType::kInteger:
        out.push_back(Value::Int(elements.ints[i]));
        break;
      case ColumnType::kBoolean:
        out.push_back(Value::Bool(elements.bools[i] != 0));
        break;
      default:
        out.push_back(Value::Text(std::move(elements.strings[i])));
    }
  }
  return out;
}

absl::StatusOr<std::string> CanonicalArrayOf(SqlType type, const std::vector<Value>& elements) {
  const SqlType elem = SqlArrayElement(type);
  // Checked and cast here, written by the one array writer
  // (segment/array_text.h) that the segment's array codec reads back.
  ArrayElements out;
  out.element = ArrayElementType(ToColumnType(type));
  for (size_t i = 0; i < elements.size(); ++i) {
    if (elements[i].is_null()) {
      return SqlError("22004", StrCat("arrays hold no NULL elements here (element ", i + 1,
                                      " of a ", SqlTypeName(type), " value)"));
    }
    ASSIGN_OR_RETURN(Value v, CastValue(elements[i], elem));
    switch (elem) {
      case SqlType::kDouble:
        if (!std::isfinite(v.d)) {
          return SqlError(sqlstate::kNumericOutOfRange,
                          StrCat("element ", i + 1, " of a double precision[] value is ",
                                 ValueToText(v), ": array elements must be finite here"));
        }
        out.doubles.push_back(v.d);
        break;
      case SqlType::kInt:
        out.ints.push_back(v.i);
        break;
      case SqlType::kBool:
        out.bools.push_back(v.b ? 1 : 0);
        break;
      default:
        out.strings.push_back(std::move(v.s));
    }
  }
  std::string text;
  AppendArrayText(out, 0, out.size(), &text);
  return text;
}

std::string PgArrayText(SqlType type, std::string_view canonical) {
  std::string out;
  if (!AppendPgArrayText(type, canonical, &out)) return std::string(canonical);
  return out;
}

bool AppendPgArrayText(SqlType type, std::string_view canonical, std::string* out) {
  auto elements = ArrayValues(type, canonical);
  if (!elements.ok()) return false;
  out->push_back('{');
  for (size_t i = 0; i < elements->size(); ++i) {
    if (i > 0) out->push_back(',');
    const Value& v = (*elements)[i];
    if (v.type == SqlType::kBool) {
      out->push_back(v.b ? 't' : 'f');
      continue;
    }
    std::string text = ValueToText(v);
    if (v.type != SqlType::kText || !NeedsQuotes(text)) {
      out->append(text);
      continue;
    }
    out->push_back('"');
    for (char c : text) {
      if (c == '"' || c == '\\') out->push_back('\\');
      out->push_back(c);
    }
    out->push_back('"');
  }
  out->push_back('}');
  return true;
}

absl::StatusOr<Value> TextToTyped(std::string_view text, SqlType to) {
  if (to == SqlType::kUuid) {
    std::optional<std::string> u = CanonicalUuid(StripWhitespace(text));
    if (!u) return BadInput(to, text);
    return Value::Text(std::move(*u), to);
  }
  if (to == SqlType::kJson) {
    absl::StatusOr<std::string> j = CanonicalJsonText(text);
    if (!j.ok()) return BadInput(to, text, std::string(j.status().message()));
    return Value::Text(std::move(*j), to);
  }
  if (IsSqlArray(to)) {
    std::string_view s = StripWhitespace(text);
    if (!s.empty() && s[0] == '[') {
      absl::StatusOr<std::string> a = CanonicalTypedText(ToColumnType(to), s);
      if (!a.ok()) return BadInput(to, text, std::string(a.status().message()));
      return Value::Text(std::move(*a), to);
    }
    ASSIGN_OR_RETURN(auto parsed, ParsePgArray(to, text));
    std::vector<Value> elements;
    for (auto& e : parsed) {
      elements.push_back(e ? Value::Text(std::move(*e), SqlType::kUnknown) : Value::Null());
    }
    ASSIGN_OR_RETURN(std::string canonical, CanonicalArrayOf(to, elements));
    return Value::Text(std::move(canonical), to);
  }
  return SqlError("42846", StrCat("cannot cast type text to ", SqlTypeName(to)));
}

int CompareTyped(const Value& a, const Value& b) {
  if (IsSqlArray(a.type) && a.type == b.type) {
    // Scratch kept per thread, so comparing numbers and booleans allocates
    // nothing (string elements are still copied); ORDER BY parses each row
    // once instead (ParsedArrayKeys).
    thread_local ArrayElements x, y;
    if (ParseElements(a.type, a.s, &x) && ParseElements(b.type, b.s, &y)) {
      return CompareArrayElements(x, 0, x.size(), y, 0, y.size());
    }
  }
  int c = a.s.compare(b.s);
  return c < 0 ? -1 : c > 0;
}

int CompareArrayElements(const ArrayElements& x, size_t xb, size_t xn, const ArrayElements& y,
                         size_t yb, size_t yn) {
  auto order = [](const auto& p, const auto& q) { return p < q ? -1 : (q < p ? 1 : 0); };
  const size_t n = std::min(xn, yn);
  for (size_t i = 0; i < n; ++i) {
    int c;
    switch (x.element) {
      case ColumnType::kDouble: {
        // As CompareValues: NaN after every number (canonical arrays hold none).
        const double p = x.doubles[xb + i], q = y.doubles[yb + i];
        const bool pn = std::isnan(p), qn = std::isnan(q);
        c = pn || qn ? (pn == qn ? 0 : (pn ? 1 : -1)) : order(p, q);
        break;
      }
      case ColumnType::kBoolean:
        c = order(x.bools[xb + i], y.bools[yb + i]);
        break;
      case ColumnType::kString: {
        const int k = x.strings[xb + i].compare(y.strings[yb + i]);
        c = k < 0 ? -1 : k > 0;
        break;
      }
      default:
        c = order(x.ints[xb + i], y.ints[yb + i]);
    }
    if (c != 0) return c;
  }
  return order(xn, yn);
}

ParsedArrayKeys::ParsedArrayKeys(SqlType type) : type_(type) {
  elements_.element = ArrayElementType(ToColumnType(type));
}

void ParsedArrayKeys::Add(const Value& v) {
  const bool ok = v.type == type_ && ParseArrayText(v.s, &elements_).has_value();
  ok_.push_back(ok ? 1 : 0);
  begin_.push_back(elements_.size());
}

std::optional<std::string> JsonAsText(std::string_view v) {
  switch (JsonKindOf(v)) {
    case JsonKind::kNull:
      return std::nullopt;
    case JsonKind::kString:
      return JsonStringContent(v);
    default:
      return std::string(v);
  }
}

absl::StatusOr<Value> JsonOperator(std::string_view op, std::string_view doc, const Value& key) {
  std::vector<Step> path;
  if (op == "->" || op == "->>") {
    Step s;
    if (key.type == SqlType::kInt) {
      s.index = key.i;
    } else {
      s.key = key.s;
    }
    path.push_back(std::move(s));
  } else {
    ASSIGN_OR_RETURN(std::vector<Value> items, ArrayValues(SqlType::kTextArray, key.s));
    for (Value& v : items) {
      Step s;
      s.index = ParseIndex(v.s);
      s.key = std::move(v.s);
      path.push_back(std::move(s));
    }
  }
  std::optional<std::string> got = JsonGet(doc, path);
  if (!got) return Value::Null();
  if (op == "->>" || op == "#>>") {
    std::optional<std::string> text = JsonAsText(*got);
    if (!text) return Value::Null();
    return Value::Text(std::move(*text));
  }
  return Value::Text(std::move(*got), SqlType::kJson);
}

}  // namespace timestore::sql
