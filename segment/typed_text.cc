#include "segment/typed_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "common/json_writer.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "segment/array_text.h"

namespace timestore {
namespace {

using simdjson::ondemand::json_type;

absl::Status Bad(std::string_view message) {
  return absl::InvalidArgumentError(std::string(message));
}

std::string_view KindName(json_type t) {
  switch (t) {
    case json_type::array:
      return "an array";
    case json_type::object:
      return "an object";
    case json_type::number:
      return "a number";
    case json_type::string:
      return "a string";
    case json_type::boolean:
      return "a boolean";
    case json_type::null:
      return "null";
    default:
      return "an unknown value";
  }
}

// "-"? digits, no fraction or exponent (JSON has no leading zeros).
bool IsIntegerLiteral(std::string_view t) {
  if (!t.empty() && t[0] == '-') t.remove_prefix(1);
  if (t.empty()) return false;
  for (char c : t)
    if (c < '0' || c > '9') return false;
  return true;
}

// Whole numbers within int64 print as integers, longer integer literals as
// their digits; others in shortest form.
absl::Status AppendNumber(simdjson::ondemand::value v, std::string* out) {
  int64_t i;
  if (!v.get_int64().get(i)) {
    AppendJsonInt(out, i);
    return absl::OkStatus();
  }
  // An integer beyond int64 (a 64-bit unsigned id, say) keeps its digits:
  // as a double, distinct ids would become one value.
  std::string_view tok = v.raw_json_token();
  while (!tok.empty() &&
         (tok.back() == ' ' || tok.back() == '\n' || tok.back() == '\r' || tok.back() == '\t')) {
    tok.remove_suffix(1);
  }
  if (IsIntegerLiteral(tok)) {
    out->append(tok);
    return absl::OkStatus();
  }
  double d;
  if (v.get_double().get(d) || !std::isfinite(d)) {
    return Bad(StrCat("the number ", tok.substr(0, 40), " is not representable"));
  }
  if (std::floor(d) == d && d >= -9.223372036854775808e18 && d < 9.223372036854775808e18) {
    AppendJsonInt(out, static_cast<int64_t>(d));
  } else {
    AppendJsonDouble(out, d);
  }
  return absl::OkStatus();
}

absl::Status AppendValue(simdjson::ondemand::value v, int depth, std::string* out) {
  json_type type;
  if (v.type().get(type)) return Bad("invalid JSON");
  switch (type) {
    case json_type::null: {
      // is_null() without get() throws on a malformed literal ("nul").
      bool is_null = false;
      if (v.is_null().get(is_null) || !is_null) return Bad("invalid JSON literal");
      out->append("null");
      return absl::OkStatus();
    }
    case json_type::boolean: {
      bool b;
      if (v.get_bool().get(b)) return Bad("invalid JSON literal");
      out->append(b ? "true" : "false");
      return absl::OkStatus();
    }
    case json_type::number:
      return AppendNumber(v, out);
    case json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return Bad("invalid JSON string");
      AppendJsonString(out, s);
      return absl::OkStatus();
    }
    case json_type::array: {
      if (depth >= kMaxJsonDepth)
        return Bad(StrCat("nests deeper than ", kMaxJsonDepth, " levels"));
      simdjson::ondemand::array arr;
      if (v.get_array().get(arr)) return Bad("invalid JSON array");
      out->push_back('[');
      bool first = true;
      for (auto item : arr) {
        simdjson::ondemand::value e;
        if (std::move(item).get(e)) return Bad("invalid JSON array");
        if (!first) out->push_back(',');
        first = false;
        RETURN_IF_ERROR(AppendValue(e, depth + 1, out));
      }
      out->push_back(']');
      return absl::OkStatus();
    }
    case json_type::object: {
      if (depth >= kMaxJsonDepth)
        return Bad(StrCat("nests deeper than ", kMaxJsonDepth, " levels"));
      simdjson::ondemand::object obj;
      if (v.get_object().get(obj)) return Bad("invalid JSON object");
      std::vector<std::pair<std::string, std::string>> members;
      for (auto field_result : obj) {
        simdjson::ondemand::field field;
        if (std::move(field_result).get(field)) return Bad("invalid JSON object");
        std::string_view key;
        if (field.unescaped_key().get(key)) return Bad("invalid JSON object key");
        std::string k(key);
        std::string text;
        RETURN_IF_ERROR(AppendValue(field.value(), depth + 1, &text));
        members.emplace_back(std::move(k), std::move(text));
      }
      std::sort(members.begin(), members.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out->push_back('{');
      for (size_t i = 0; i < members.size(); ++i) {
        if (i > 0 && members[i].first == members[i - 1].first) {
          return Bad(
              StrCat("the object key \"", members[i].first.substr(0, 64), "\" is given twice"));
        }
        if (i > 0) out->push_back(',');
        AppendJsonString(out, members[i].first);
        out->push_back(':');
        out->append(members[i].second);
      }
      out->push_back('}');
      return absl::OkStatus();
    }
    default:
      return Bad("invalid JSON");
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses `text` as exactly one JSON value and runs `fn` on it.
template <typename Fn>
absl::Status ParseOneValue(std::string_view text, Fn fn) {
  thread_local simdjson::ondemand::parser parser;
  // Wrapped: simdjson's document API treats scalar roots apart.
  simdjson::padded_string padded(StrCat("[", text, "\n]"));
  simdjson::ondemand::document doc;
  simdjson::ondemand::array arr;
  if (parser.iterate(padded).get(doc) || doc.get_array().get(arr)) return Bad("invalid JSON");
  size_t n = 0;
  for (auto item : arr) {
    simdjson::ondemand::value e;
    if (std::move(item).get(e)) return Bad("invalid JSON");
    if (++n > 1) return Bad("more than one JSON value");
    RETURN_IF_ERROR(fn(e));
  }
  if (n == 0) return Bad("no JSON value");
  // A "]" in `text` closed the wrapper early: what follows is still there.
  const char* rest;
  if (!doc.current_location().get(rest)) return Bad("invalid JSON");
  return absl::OkStatus();
}

}  // namespace

absl::Status AppendCanonicalJson(simdjson::ondemand::value v, std::string* out) {
  return AppendValue(v, 0, out);
}

absl::StatusOr<std::string> CanonicalJsonText(std::string_view json) {
  std::string out;
  RETURN_IF_ERROR(
      ParseOneValue(json, [&](simdjson::ondemand::value v) { return AppendValue(v, 0, &out); }));
  return out;
}

absl::Status AppendCanonicalArray(simdjson::ondemand::value v, ColumnType element,
                                  std::string* out) {
  simdjson::ondemand::array arr;
  json_type type;
  if (v.type().get(type)) return Bad("invalid JSON");
  if (type != json_type::array) return Bad(StrCat("expected an array, got ", KindName(type)));
  if (v.get_array().get(arr)) return Bad("invalid JSON array");
  // The elements are checked here and written by the one array writer
  // (segment/array_text.h), which the array codec and Parquet read back.
  thread_local ArrayElements elements;
  elements.clear();
  elements.element = element;
  size_t index = 0;
  for (auto item : arr) {
    simdjson::ondemand::value e;
    if (std::move(item).get(e) || e.type().get(type)) return Bad("invalid JSON array");
    auto wrong = [&](std::string_view what) {
      return Bad(StrCat("element ", index, " should be ", what, ", got ", KindName(type)));
    };
    switch (element) {
      case ColumnType::kDouble: {
        if (type != json_type::number) return wrong("a number");
        double d;
        if (e.get_double().get(d) || !std::isfinite(d))
          return Bad(StrCat("element ", index, " is not a representable double"));
        elements.doubles.push_back(d);
        break;
      }
      case ColumnType::kInteger: {
        if (type != json_type::number) return wrong("an integer");
        int64_t i;
        if (e.get_int64().get(i)) {
          double d;
          if (e.get_double().get(d) || std::floor(d) != d || d < -9.223372036854775808e18 ||
              d >= 9.223372036854775808e18) {
            return Bad(StrCat("element ", index, " should be a whole number within int64, got ",
                              e.raw_json_token().substr(0, 40)));
          }
          i = static_cast<int64_t>(d);
        }
        elements.ints.push_back(i);
        break;
      }
      case ColumnType::kString: {
        if (type != json_type::string) return wrong("a string");
        std::string_view str;
        if (e.get_string().get(str)) return Bad(StrCat("element ", index, " is an invalid string"));
        elements.strings.emplace_back(str);
        break;
      }
      case ColumnType::kBoolean: {
        if (type != json_type::boolean) return wrong("a boolean");
        bool b;
        if (e.get_bool().get(b)) return Bad(StrCat("element ", index, " is an invalid boolean"));
        elements.bools.push_back(b ? 1 : 0);
        break;
      }
      default:
        return Bad("arrays hold doubles, integers, strings or booleans");
    }
    ++index;
  }
  AppendArrayText(elements, 0, elements.size(), out);
  return absl::OkStatus();
}

ColumnType InferArrayType(std::string_view raw) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(raw);
  simdjson::ondemand::document doc;
  simdjson::ondemand::array arr;
  if (parser.iterate(padded).get(doc) || doc.get_array().get(arr)) return ColumnType::kJson;
  std::optional<json_type> kind;
  for (auto item : arr) {
    simdjson::ondemand::value e;
    json_type t;
    if (std::move(item).get(e) || e.type().get(t)) return ColumnType::kJson;
    if (kind && *kind != t) return ColumnType::kJson;
    kind = t;
  }
  if (!kind) return ColumnType::kJson;
  switch (*kind) {
    case json_type::number:
      return ColumnType::kDoubleArray;
    case json_type::string:
      return ColumnType::kStringArray;
    case json_type::boolean:
      return ColumnType::kBooleanArray;
    default:
      return ColumnType::kJson;
  }
}

bool IsCanonicalUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> CanonicalUuid(std::string_view s) {
  if (s.size() == 38 && s.front() == '{' && s.back() == '}') s = s.substr(1, 36);
  std::string hex;
  if (s.size() == 36) {
    for (size_t i = 0; i < 36; ++i) {
      bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
      if (hyphen != (s[i] == '-')) return std::nullopt;
      if (!hyphen) hex.push_back(s[i]);
    }
  } else if (s.size() == 32) {
    hex = std::string(s);
  } else {
    return std::nullopt;
  }
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < 32; ++i) {
    int d = HexDigit(hex[i]);
    if (d < 0) return std::nullopt;
    if (i == 8 || i == 12 || i == 16 || i == 20) out.push_back('-');
    out.push_back("0123456789abcdef"[d]);
  }
  return out;
}

void UuidToBytes(std::string_view canonical, uint8_t out[16]) {
  size_t k = 0;
  for (size_t i = 0; i + 1 < canonical.size() && k < 16;) {
    if (canonical[i] == '-') {
      ++i;
      continue;
    }
    out[k++] = static_cast<uint8_t>(HexDigit(canonical[i]) << 4 | HexDigit(canonical[i + 1]));
    i += 2;
  }
  while (k < 16) out[k++] = 0;
}

std::string UuidFromBytes(const uint8_t in[16]) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[in[i] >> 4]);
    out.push_back(kHex[in[i] & 15]);
  }
  return out;
}

absl::StatusOr<std::string> CanonicalTypedText(ColumnType type, std::string_view value) {
  if (type == ColumnType::kUuid) {
    auto u = CanonicalUuid(value);
    if (!u) return Bad("expected a uuid (8-4-4-4-12 hex digits)");
    return *u;
  }
  if (type == ColumnType::kJson) return CanonicalJsonText(value);
  if (IsArrayType(type)) {
    std::string out;
    RETURN_IF_ERROR(ParseOneValue(value, [&](simdjson::ondemand::value v) {
      return AppendCanonicalArray(v, ArrayElementType(type), &out);
    }));
    return out;
  }
  return Bad(StrCat("a ", ColumnTypeName(type), " column holds no typed text"));
}

std::vector<std::string> SplitJsonPath(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    if (dot == std::string_view::npos) dot = path.size();
    out.emplace_back(path.substr(start, dot - start));
    start = dot + 1;
  }
  return out;
}

namespace {

// The raw text of `v` in its document (canonical documents have canonical
// parts, so this is the value's canonical text), without trailing blanks.
std::optional<std::string_view> RawText(simdjson::ondemand::value v) {
  json_type type;
  if (v.type().get(type)) return std::nullopt;
  std::string_view raw;
  if (type == json_type::object) {
    simdjson::ondemand::object o;
    if (v.get_object().get(o) || o.raw_json().get(raw)) return std::nullopt;
  } else if (type == json_type::array) {
    simdjson::ondemand::array a;
    if (v.get_array().get(a) || a.raw_json().get(raw)) return std::nullopt;
  } else {
    raw = v.raw_json_token();
  }
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n')) raw.remove_suffix(1);
  return raw;
}

}  // namespace

std::optional<std::string> ExtractJsonPath(std::string_view doc,
                                           const std::vector<std::string>& path) {
  thread_local simdjson::ondemand::parser parser;
  std::string_view cur = doc;  // always a part of `doc`
  size_t idx = 0;              // path segments used so far
  while (idx < path.size()) {
    if (cur.empty() || (cur[0] != '{' && cur[0] != '[')) return std::nullopt;
    simdjson::padded_string padded(cur);
    simdjson::ondemand::document d;
    if (parser.iterate(padded).get(d)) return std::nullopt;
    // The chosen value's place in `cur` (its raw text lies in `padded`).
    auto locate = [&](std::string_view raw) {
      return cur.substr(static_cast<size_t>(raw.data() - padded.data()), raw.size());
    };
    std::optional<std::string_view> next;
    size_t next_idx = idx;
    if (cur[0] == '{') {
      // A key may itself hold dots (OpenTelemetry's "http.status_code"): the
      // key that spells the most segments wins, "http.status_code" before
      // "http" then "status_code".
      simdjson::ondemand::object obj;
      if (d.get_object().get(obj)) return std::nullopt;
      for (auto field_result : obj) {
        simdjson::ondemand::field field;
        std::string_view key;
        if (std::move(field_result).get(field) || field.unescaped_key().get(key))
          return std::nullopt;
        size_t j = idx, pos = 0;
        size_t matched = idx;
        while (j < path.size()) {
          const std::string& seg = path[j];
          if (key.size() - pos < seg.size() || key.compare(pos, seg.size(), seg) != 0) break;
          pos += seg.size();
          ++j;
          if (pos == key.size()) {
            matched = j;
            break;
          }
          if (key[pos] != '.') break;
          ++pos;
        }
        if (matched <= next_idx) continue;
        std::optional<std::string_view> raw = RawText(field.value());
        if (!raw) return std::nullopt;
        next = locate(*raw);
        next_idx = matched;
      }
    } else {
      const std::string& seg = path[idx];
      size_t index = 0;
      auto [p, ec] = std::from_chars(seg.data(), seg.data() + seg.size(), index);
      if (seg.empty() || ec != std::errc() || p != seg.data() + seg.size()) return std::nullopt;
      simdjson::ondemand::array arr;
      simdjson::ondemand::value v;
      if (d.get_array().get(arr) || arr.at(index).get(v)) return std::nullopt;
      std::optional<std::string_view> raw = RawText(v);
      if (!raw) return std::nullopt;
      next = locate(*raw);
      next_idx = idx + 1;
    }
    if (!next) return std::nullopt;
    cur = *next;
    idx = next_idx;
  }
  if (cur == "null") return std::nullopt;
  return std::string(cur);
}

JsonKind JsonKindOf(std::string_view c) {
  if (c.empty()) return JsonKind::kNull;
  switch (c[0]) {
    case 'n':
      return JsonKind::kNull;
    case 't':
    case 'f':
      return JsonKind::kBool;
    case '"':
      return JsonKind::kString;
    case '[':
      return JsonKind::kArray;
    case '{':
      return JsonKind::kObject;
    default:
      return JsonKind::kNumber;
  }
}

std::optional<std::string> JsonStringContent(std::string_view c) {
  if (JsonKindOf(c) != JsonKind::kString) return std::nullopt;
  if (c.find('\\') == std::string_view::npos) return std::string(c.substr(1, c.size() - 2));
  thread_local simdjson::ondemand::parser parser;
  std::string wrapped = StrCat("[", c, "]");
  simdjson::padded_string padded(wrapped);
  simdjson::ondemand::document d;
  std::string_view s;
  if (parser.iterate(padded).get(d) || d.at(0).get_string().get(s)) return std::nullopt;
  return std::string(s);
}

}  // namespace timestore
