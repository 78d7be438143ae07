#include "api/otlp_json.h"

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

#include "absl/strings/escaping.h"
#include "api/otlp_codec.h"
#include "common/json_writer.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "segment/typed_text.h"

namespace timestore::api {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// "string \"abc\"", "number 1.5", "an object", ...: what a client sent, for
// error messages.
std::string Describe(element e) {
  switch (e.type()) {
    case element_type::STRING:
      return StrCat("string ", QuoteForMessage(std::string_view(e.get_string().value_unsafe())));
    case element_type::INT64:
      return StrCat("number ", e.get_int64().value_unsafe());
    case element_type::UINT64:
      return StrCat("number ", e.get_uint64().value_unsafe());
    case element_type::DOUBLE:
      return StrCat("number ", e.get_double().value_unsafe());
    case element_type::BOOL:
      return e.get_bool().value_unsafe() ? "true" : "false";
    case element_type::NULL_VALUE:
      return "null";
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
  }
  return "a JSON value";
}

// A key in lowerCamelCase (OTLP JSON) or as the proto field name.
bool Is(std::string_view key, std::string_view camel, std::string_view snake = {}) {
  return key == camel || (!snake.empty() && key == snake);
}

// Enum names OTLP's protobuf JSON mapping may also send.
int32_t SeverityByName(std::string_view name) {
  static constexpr std::string_view kLevels[] = {"TRACE", "DEBUG", "INFO",
                                                 "WARN",  "ERROR", "FATAL"};
  if (name == "SEVERITY_NUMBER_UNSPECIFIED") return 0;
  if (!ConsumePrefix(&name, "SEVERITY_NUMBER_")) return -1;
  for (int l = 0; l < 6; ++l) {
    std::string_view rest = name;
    if (!ConsumePrefix(&rest, kLevels[l])) continue;
    if (rest.empty()) return l * 4 + 1;
    if (rest.size() == 1 && rest[0] >= '2' && rest[0] <= '4') return l * 4 + (rest[0] - '0');
  }
  return -1;
}
int32_t SpanKindByName(std::string_view name) {
  static constexpr std::string_view kNames[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                                "SPAN_KIND_SERVER",      "SPAN_KIND_CLIENT",
                                                "SPAN_KIND_PRODUCER",    "SPAN_KIND_CONSUMER"};
  for (int i = 0; i < 6; ++i) {
    if (name == kNames[i]) return i;
  }
  return -1;
}
int32_t StatusCodeByName(std::string_view name) {
  if (name == "STATUS_CODE_UNSET") return 0;
  if (name == "STATUS_CODE_OK") return 1;
  if (name == "STATUS_CODE_ERROR") return 2;
  return -1;
}

// Elements of `a`: simdjson keeps the count, saturated at 0xFFFFFF.
uint64_t Size(array a) {
  const size_t n = a.size();
  if (n < 0xFFFFFF) return n;
  uint64_t count = 0;
  for ([[maybe_unused]] element e : a) ++count;
  return count;
}

constexpr std::string_view kUnsigned =
    "an unsigned integer (a JSON number, or a string of decimal digits)";
constexpr std::string_view kTime =
    "nanoseconds since the Unix epoch as an unsigned integer (a JSON number, or a string of "
    "decimal digits)";

// Decodes one request, naming the record being read in errors.
class Decoder {
 public:
  // The record being decoded: "resourceLogs[0].scopeLogs[1].logRecords[2]"
  // (levels not yet entered are left out).
  std::string Record() const {
    std::string out;
    const int at[3] = {r_, s_, k_};
    for (int i = 0; i < 3 && at[i] >= 0; ++i) {
      StrAppend(&out, i > 0 ? "." : "", names_[i], "[", at[i], "]");
    }
    return out;
  }
  void SetNames(std::string_view a, std::string_view b, std::string_view c) {
    names_[0] = a;
    names_[1] = b;
    names_[2] = c;
  }

  absl::Status Bad(std::string_view field, std::string_view expected, element got) const {
    return OtlpFieldError(Record(), field, expected, Describe(got));
  }

  // Members of an object (null: none).
  absl::StatusOr<object> Obj(element e, std::string_view field) const {
    if (e.is_null()) return object();
    object o;
    if (e.get_object().get(o)) return Bad(field, "an object", e);
    return o;
  }
  absl::StatusOr<array> Arr(element e, std::string_view field) const {
    if (e.is_null()) return array();
    array a;
    if (e.get_array().get(a)) return Bad(field, "an array", e);
    return a;
  }

  absl::Status U64(element e, std::string_view field, std::string_view expected,
                   uint64_t* out) const {
    *out = 0;
    switch (e.type()) {
      case element_type::NULL_VALUE:
        return absl::OkStatus();
      case element_type::UINT64:
        *out = e.get_uint64().value_unsafe();
        return absl::OkStatus();
      case element_type::INT64:
        if (e.get_int64().value_unsafe() < 0) break;
        *out = static_cast<uint64_t>(e.get_int64().value_unsafe());
        return absl::OkStatus();
      case element_type::DOUBLE: {
        const double d = e.get_double().value_unsafe();
        if (d < 0 || d >= 18446744073709551616.0 || std::floor(d) != d) break;
        *out = static_cast<uint64_t>(d);
        return absl::OkStatus();
      }
      case element_type::STRING: {
        std::string_view s = e.get_string().value_unsafe();
        if (!s.empty() && s.size() <= 20 && ParseInt(s, out) && s[0] != '+') {
          return absl::OkStatus();
        }
        break;
      }
      default:
        break;
    }
    return Bad(field, expected, e);
  }

  absl::Status U32(element e, std::string_view field, uint32_t* out) const {
    uint64_t v;
    RETURN_IF_ERROR(U64(e, field, "an unsigned 32-bit integer", &v));
    if (v > std::numeric_limits<uint32_t>::max()) {
      return Bad(field, "an unsigned 32-bit integer", e);
    }
    *out = static_cast<uint32_t>(v);
    return absl::OkStatus();
  }

  absl::Status I64(element e, std::string_view field, int64_t* out) const {
    constexpr std::string_view kExpected =
        "a 64-bit integer (a JSON number, or a string of decimal digits)";
    *out = 0;
    switch (e.type()) {
      case element_type::INT64:
        *out = e.get_int64().value_unsafe();
        return absl::OkStatus();
      case element_type::UINT64:
        break;  // past int64
      case element_type::DOUBLE: {
        const double d = e.get_double().value_unsafe();
        if (std::floor(d) != d || d < -9.223372036854775808e18 || d >= 9.223372036854775808e18) {
          break;
        }
        *out = static_cast<int64_t>(d);
        return absl::OkStatus();
      }
      case element_type::STRING: {
        std::string_view s = e.get_string().value_unsafe();
        if (!s.empty() && s.size() <= 20 && s[0] != '+' && ParseInt(s, out)) {
          return absl::OkStatus();
        }
        break;
      }
      default:
        break;
    }
    return Bad(field, kExpected, e);
  }

  // An enum: its number, or its name when `by_name` knows it.
  absl::Status Enum(element e, std::string_view field, std::string_view what,
                    int32_t (*by_name)(std::string_view), int32_t* out) const {
    *out = 0;
    if (e.is_null()) return absl::OkStatus();
    if (e.is_string()) {
      const int32_t v = by_name(e.get_string().value_unsafe());
      if (v >= 0) {
        *out = v;
        return absl::OkStatus();
      }
    } else if (e.is_int64()) {
      const int64_t v = e.get_int64().value_unsafe();
      if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) {
        *out = static_cast<int32_t>(v);
        return absl::OkStatus();
      }
    }
    return Bad(field, StrCat(what, " (an integer, or its enum name)"), e);
  }

  absl::Status Str(element e, std::string_view field, std::string* out) const {
    out->clear();
    if (e.is_null()) return absl::OkStatus();
    std::string_view s;
    if (e.get_string().get(s)) return Bad(field, "a string", e);
    out->assign(s);
    return absl::OkStatus();
  }

  // A trace or span id: `bytes` bytes as 2 × `bytes` hex digits, or "" (none).
  absl::Status HexId(element e, std::string_view field, size_t bytes, std::string* out) const {
    out->clear();
    if (e.is_null()) return absl::OkStatus();
    auto expected = [bytes] {
      return StrCat("a string of ", bytes * 2, " hex digits (", bytes, " bytes), or \"\"");
    };
    std::string_view s;
    if (e.get_string().get(s)) return Bad(field, expected(), e);
    if (s.empty()) return absl::OkStatus();
    if (s.size() != bytes * 2) {
      return OtlpFieldError(Record(), field, expected(),
                            StrCat(Describe(e), " (", s.size(), " characters)"));
    }
    if (const size_t bad = s.find_first_not_of("0123456789abcdefABCDEF");
        bad != std::string_view::npos) {
      return OtlpFieldError(Record(), field, expected(),
                            StrCat(Describe(e), " (not hex at character ", bad, ")"));
    }
    *out = absl::HexStringToBytes(ToAbsl(s));
    return absl::OkStatus();
  }

  absl::Status AnyValue(element e, std::string* field, int depth, otlp::AnyValue* out) const {
    if (e.is_null()) return absl::OkStatus();
    if (depth > kMaxJsonDepth) {
      return OtlpFieldError(Record(), *field,
                            StrCat("values nested at most ", kMaxJsonDepth, " deep"),
                            "deeper nesting");
    }
    ASSIGN_OR_RETURN(object o, Obj(e, *field));
    const size_t base = field->size();
    bool seen = false;
    for (auto [key, v] : o) {
      if (v.is_null()) continue;
      const bool known =
          Is(key, "stringValue", "string_value") || Is(key, "boolValue", "bool_value") ||
          Is(key, "intValue", "int_value") || Is(key, "doubleValue", "double_value") ||
          Is(key, "arrayValue", "array_value") || Is(key, "kvlistValue", "kvlist_value") ||
          Is(key, "bytesValue", "bytes_value");
      if (!known) continue;  // unknown keys are ignored
      StrAppend(field, ".", key);
      if (seen) {
        return Bad(*field,
                   "one of stringValue, boolValue, intValue, doubleValue, arrayValue, "
                   "kvlistValue, bytesValue per value",
                   v);
      }
      seen = true;
      if (Is(key, "stringValue", "string_value")) {
        RETURN_IF_ERROR(Str(v, *field, out->mutable_string_value()));
      } else if (Is(key, "boolValue", "bool_value")) {
        bool b = false;
        if (v.get_bool().get(b)) return Bad(*field, "true or false", v);
        out->set_bool_value(b);
      } else if (Is(key, "intValue", "int_value")) {
        int64_t i = 0;
        RETURN_IF_ERROR(I64(v, *field, &i));
        out->set_int_value(i);
      } else if (Is(key, "doubleValue", "double_value")) {
        double d = 0;
        RETURN_IF_ERROR(Double(v, *field, &d));
        out->set_double_value(d);
      } else if (Is(key, "arrayValue", "array_value")) {
        otlp::ArrayValue* a = out->mutable_array_value();
        ASSIGN_OR_RETURN(object ao, Obj(v, *field));
        const size_t outer = field->size();
        for (auto [akey, av] : ao) {
          if (!Is(akey, "values")) continue;
          field->append(".values");
          ASSIGN_OR_RETURN(array items, Arr(av, *field));
          const size_t at = field->size();
          int i = 0;
          for (element item : items) {
            StrAppend(field, "[", i++, "]");
            RETURN_IF_ERROR(AnyValue(item, field, depth + 1, a->add_values()));
            field->resize(at);
          }
          field->resize(outer);
        }
      } else if (Is(key, "kvlistValue", "kvlist_value")) {
        otlp::KeyValueList* l = out->mutable_kvlist_value();
        ASSIGN_OR_RETURN(object lo, Obj(v, *field));
        const size_t at = field->size();
        for (auto [lkey, lv] : lo) {
          if (!Is(lkey, "values")) continue;
          field->append(".values");
          RETURN_IF_ERROR(KeyValues(lv, field, depth + 1, l->mutable_values()));
          field->resize(at);
        }
      } else {
        std::string_view s;
        if (v.get_string().get(s) ||
            !(absl::Base64Unescape(ToAbsl(s), out->mutable_bytes_value()) ||
              absl::WebSafeBase64Unescape(ToAbsl(s), out->mutable_bytes_value()))) {
          return Bad(*field, "base64 text", v);
        }
      }
      field->resize(base);
    }
    return absl::OkStatus();
  }

  absl::Status Double(element e, std::string_view field, double* out) const {
    if (e.get_double().get(*out) == simdjson::SUCCESS) return absl::OkStatus();
    std::string_view s;
    if (!e.get_string().get(s)) {
      if (s == "NaN") {
        *out = std::numeric_limits<double>::quiet_NaN();
        return absl::OkStatus();
      }
      if (s == "Infinity" || s == "-Infinity") {
        *out = s[0] == '-' ? -HUGE_VAL : HUGE_VAL;
        return absl::OkStatus();
      }
      auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
      if (!s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size()) {
        return absl::OkStatus();
      }
    }
    return Bad(field, "a number, or \"NaN\", \"Infinity\", \"-Infinity\"", e);
  }

  // [{"key": "...", "value": AnyValue}, ...]
  absl::Status KeyValues(element e, std::string* field, int depth,
                         google::protobuf::RepeatedPtrField<otlp::KeyValue>* out) const {
    ASSIGN_OR_RETURN(array items, Arr(e, *field));
    const size_t base = field->size();
    int i = 0;
    for (element item : items) {
      StrAppend(field, "[", i++, "]");
      ASSIGN_OR_RETURN(object o, Obj(item, *field));
      otlp::KeyValue* kv = out->Add();
      const size_t at = field->size();
      for (auto [key, v] : o) {
        if (Is(key, "key")) {
          field->append(".key");
          RETURN_IF_ERROR(Str(v, *field, kv->mutable_key()));
        } else if (Is(key, "value")) {
          field->append(".value");
          RETURN_IF_ERROR(AnyValue(v, field, depth, kv->mutable_value()));
        }
        field->resize(at);
      }
      field->resize(base);
    }
    return absl::OkStatus();
  }

  absl::Status Attributes(element e, std::string_view name,
                          google::protobuf::RepeatedPtrField<otlp::KeyValue>* out) const {
    std::string field(name);
    return KeyValues(e, &field, 1, out);
  }

  // {"attributes": [...], "droppedAttributesCount": n}
  absl::Status Resource(element e, otlp::Resource* out) const {
    ASSIGN_OR_RETURN(object o, Obj(e, "resource"));
    for (auto [key, v] : o) {
      if (Is(key, "attributes")) {
        RETURN_IF_ERROR(Attributes(v, "resource.attributes", out->mutable_attributes()));
      } else if (Is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        uint32_t n = 0;
        RETURN_IF_ERROR(U32(v, "resource.droppedAttributesCount", &n));
        out->set_dropped_attributes_count(n);
      }
    }
    return absl::OkStatus();
  }

  absl::Status Scope(element e, otlp::InstrumentationScope* out) const {
    ASSIGN_OR_RETURN(object o, Obj(e, "scope"));
    for (auto [key, v] : o) {
      if (Is(key, "name")) {
        RETURN_IF_ERROR(Str(v, "scope.name", out->mutable_name()));
      } else if (Is(key, "version")) {
        RETURN_IF_ERROR(Str(v, "scope.version", out->mutable_version()));
      } else if (Is(key, "attributes")) {
        RETURN_IF_ERROR(Attributes(v, "scope.attributes", out->mutable_attributes()));
      } else if (Is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        uint32_t n = 0;
        RETURN_IF_ERROR(U32(v, "scope.droppedAttributesCount", &n));
        out->set_dropped_attributes_count(n);
      }
    }
    return absl::OkStatus();
  }

  absl::Status LogRecord(object o, otlp::LogRecord* out) const {
    for (auto [key, v] : o) {
      uint64_t u = 0;
      uint32_t u32 = 0;
      int32_t i32 = 0;
      if (Is(key, "timeUnixNano", "time_unix_nano")) {
        RETURN_IF_ERROR(U64(v, "timeUnixNano", kTime, &u));
        out->set_time_unix_nano(u);
      } else if (Is(key, "observedTimeUnixNano", "observed_time_unix_nano")) {
        RETURN_IF_ERROR(U64(v, "observedTimeUnixNano", kTime, &u));
        out->set_observed_time_unix_nano(u);
      } else if (Is(key, "severityNumber", "severity_number")) {
        RETURN_IF_ERROR(Enum(v, "severityNumber", "a SeverityNumber", SeverityByName, &i32));
        out->set_severity_number(i32);
      } else if (Is(key, "severityText", "severity_text")) {
        RETURN_IF_ERROR(Str(v, "severityText", out->mutable_severity_text()));
      } else if (Is(key, "body")) {
        std::string field = "body";
        RETURN_IF_ERROR(AnyValue(v, &field, 1, out->mutable_body()));
      } else if (Is(key, "attributes")) {
        RETURN_IF_ERROR(Attributes(v, "attributes", out->mutable_attributes()));
      } else if (Is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        RETURN_IF_ERROR(U32(v, "droppedAttributesCount", &u32));
        out->set_dropped_attributes_count(u32);
      } else if (Is(key, "flags")) {
        RETURN_IF_ERROR(U32(v, "flags", &u32));
        out->set_flags(u32);
      } else if (Is(key, "traceId", "trace_id")) {
        RETURN_IF_ERROR(HexId(v, "traceId", 16, out->mutable_trace_id()));
      } else if (Is(key, "spanId", "span_id")) {
        RETURN_IF_ERROR(HexId(v, "spanId", 8, out->mutable_span_id()));
      } else if (Is(key, "eventName", "event_name")) {
        RETURN_IF_ERROR(Str(v, "eventName", out->mutable_event_name()));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Event(element e, const std::string& field, otlp::Span::Event* out) const {
    ASSIGN_OR_RETURN(object o, Obj(e, field));
    for (auto [key, v] : o) {
      if (Is(key, "timeUnixNano", "time_unix_nano")) {
        uint64_t u = 0;
        RETURN_IF_ERROR(U64(v, field + ".timeUnixNano", kTime, &u));
        out->set_time_unix_nano(u);
      } else if (Is(key, "name")) {
        RETURN_IF_ERROR(Str(v, field + ".name", out->mutable_name()));
      } else if (Is(key, "attributes")) {
        RETURN_IF_ERROR(Attributes(v, field + ".attributes", out->mutable_attributes()));
      } else if (Is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        uint32_t n = 0;
        RETURN_IF_ERROR(U32(v, field + ".droppedAttributesCount", &n));
        out->set_dropped_attributes_count(n);
      }
    }
    return absl::OkStatus();
  }

  absl::Status Link(element e, const std::string& field, otlp::Span::Link* out) const {
    ASSIGN_OR_RETURN(object o, Obj(e, field));
    for (auto [key, v] : o) {
      if (Is(key, "traceId", "trace_id")) {
        RETURN_IF_ERROR(HexId(v, field + ".traceId", 16, out->mutable_trace_id()));
      } else if (Is(key, "spanId", "span_id")) {
        RETURN_IF_ERROR(HexId(v, field + ".spanId", 8, out->mutable_span_id()));
      } else if (Is(key, "traceState", "trace_state")) {
        RETURN_IF_ERROR(Str(v, field + ".traceState", out->mutable_trace_state()));
      } else if (Is(key, "attributes")) {
        RETURN_IF_ERROR(Attributes(v, field + ".attributes", out->mutable_attributes()));
      } else if (Is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        uint32_t n = 0;
        RETURN_IF_ERROR(U32(v, field + ".droppedAttributesCount", &n));
        out->set_dropped_attributes_count(n);
      } else if (Is(key, "flags")) {
        uint32_t n = 0;
        RETURN_IF_ERROR(U32(v, field + ".flags", &n));
        out->set_flags(n);
      }
    }
    return absl::OkStatus();
  }

  // A list of `name` ("events"), each element decoded by `item` as
  // "<name>[i]".
  template <typename Msg>
  absl::Status List(element e, std::string_view name,
                    absl::Status (Decoder::*item)(element, const std::string&, Msg*) const,
                    google::protobuf::RepeatedPtrField<Msg>* out) const {
    ASSIGN_OR_RETURN(array items, Arr(e, name));
    int i = 0;
    for (element it : items) {
      RETURN_IF_ERROR((this->*item)(it, StrCat(name, "[", i++, "]"), out->Add()));
    }
    return absl::OkStatus();
  }

  absl::Status Span(object o, otlp::Span* out) const {
    for (auto [key, v] : o) {
      uint64_t u = 0;
      uint32_t u32 = 0;
      int32_t i32 = 0;
      if (Is(key, "traceId", "trace_id")) {
        RETURN_IF_ERROR(HexId(v, "traceId", 16, out->mutable_trace_id()));
      } else if (Is(key, "spanId", "span_id")) {
        RETURN_IF_ERROR(HexId(v, "spanId", 8, out->mutable_span_id()));
      } else if (Is(key, "parentSpanId", "parent_span_id")) {
        RETURN_IF_ERROR(HexId(v, "parentSpanId", 8, out->mutable_parent_span_id()));
      } else if (Is(key, "traceState", "trace_state")) {
        RETURN_IF_ERROR(Str(v, "traceState", out->mutable_trace_state()));
      } else if (Is(key, "flags")) {
        RETURN_IF_ERROR(U32(v, "flags", &u32));
        out->set_flags(u32);
      } else if (Is(key, "name")) {
        RETURN_IF_ERROR(Str(v, "name", out->mutable_name()));
      } else if (Is(key, "kind")) {
        RETURN_IF_ERROR(Enum(v, "kind", "a SpanKind", SpanKindByName, &i32));
        out->set_kind(i32);
      } else if (Is(key, "startTimeUnixNano", "start_time_unix_nano")) {
        RETURN_IF_ERROR(U64(v, "startTimeUnixNano", kTime, &u));
        out->set_start_time_unix_nano(u);
      } else if (Is(key, "endTimeUnixNano", "end_time_unix_nano")) {
        RETURN_IF_ERROR(U64(v, "endTimeUnixNano", kTime, &u));
        out->set_end_time_unix_nano(u);
      } else if (Is(key, "attributes")) {
        RETURN_IF_ERROR(Attributes(v, "attributes", out->mutable_attributes()));
      } else if (Is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        RETURN_IF_ERROR(U32(v, "droppedAttributesCount", &u32));
        out->set_dropped_attributes_count(u32);
      } else if (Is(key, "events")) {
        RETURN_IF_ERROR(List(v, "events", &Decoder::Event, out->mutable_events()));
      } else if (Is(key, "droppedEventsCount", "dropped_events_count")) {
        RETURN_IF_ERROR(U32(v, "droppedEventsCount", &u32));
        out->set_dropped_events_count(u32);
      } else if (Is(key, "links")) {
        RETURN_IF_ERROR(List(v, "links", &Decoder::Link, out->mutable_links()));
      } else if (Is(key, "droppedLinksCount", "dropped_links_count")) {
        RETURN_IF_ERROR(U32(v, "droppedLinksCount", &u32));
        out->set_dropped_links_count(u32);
      } else if (Is(key, "status")) {
        ASSIGN_OR_RETURN(object so, Obj(v, "status"));
        for (auto [skey, sv] : so) {
          if (Is(skey, "message")) {
            RETURN_IF_ERROR(Str(sv, "status.message", out->mutable_status()->mutable_message()));
          } else if (Is(skey, "code")) {
            RETURN_IF_ERROR(Enum(sv, "status.code", "a StatusCode", StatusCodeByName, &i32));
            out->mutable_status()->set_code(i32);
          }
        }
      }
    }
    return absl::OkStatus();
  }

  // The three levels of a request: resource, scope, records. `Leaf` decodes
  // one record object.
  template <typename ResourceMsg, typename AddScope, typename AddRecord, typename Leaf>
  absl::Status Levels(element root, AddScope add_scope, AddRecord add_record, Leaf leaf,
                      google::protobuf::RepeatedPtrField<ResourceMsg>* resources) {
    ASSIGN_OR_RETURN(object top, Obj(root, ""));
    for (auto [key, list] : top) {
      if (!Is(key, names_[0], snake_[0])) continue;
      ASSIGN_OR_RETURN(array rs, Arr(list, names_[0]));
      r_ = 0;
      for (element re : rs) {
        ResourceMsg* resource = resources->Add();
        ASSIGN_OR_RETURN(object ro, Obj(re, ""));
        for (auto [rkey, rv] : ro) {
          if (Is(rkey, "resource")) {
            RETURN_IF_ERROR(Resource(rv, resource->mutable_resource()));
          } else if (Is(rkey, "schemaUrl", "schema_url")) {
            RETURN_IF_ERROR(Str(rv, "schemaUrl", resource->mutable_schema_url()));
          } else if (Is(rkey, names_[1], snake_[1])) {
            ASSIGN_OR_RETURN(array ss, Arr(rv, names_[1]));
            s_ = 0;
            for (element se : ss) {
              auto* scope = add_scope(resource);
              ASSIGN_OR_RETURN(object so, Obj(se, ""));
              for (auto [skey, sv] : so) {
                if (Is(skey, "scope")) {
                  RETURN_IF_ERROR(Scope(sv, scope->mutable_scope()));
                } else if (Is(skey, "schemaUrl", "schema_url")) {
                  RETURN_IF_ERROR(Str(sv, "schemaUrl", scope->mutable_schema_url()));
                } else if (Is(skey, names_[2], snake_[2])) {
                  ASSIGN_OR_RETURN(array ks, Arr(sv, names_[2]));
                  k_ = 0;
                  for (element ke : ks) {
                    ASSIGN_OR_RETURN(object ko, Obj(ke, ""));
                    RETURN_IF_ERROR((this->*leaf)(ko, add_record(scope)));
                    ++k_;
                  }
                  k_ = -1;
                }
              }
              ++s_;
            }
            s_ = -1;
          }
        }
        ++r_;
      }
      r_ = -1;
    }
    return absl::OkStatus();
  }

  // The entries of the three levels, read before any is decoded so that a
  // request past the cell limit builds nothing (values of the wrong shape
  // are left to Levels to report).
  OtlpCounts Count(element root) const {
    OtlpCounts c;
    object top;
    if (root.get_object().get(top)) return c;
    for (auto [key, list] : top) {
      array rs;
      if (!Is(key, names_[0], snake_[0]) || list.get_array().get(rs)) continue;
      for (element re : rs) {
        ++c.containers;
        object ro;
        if (re.get_object().get(ro)) continue;
        for (auto [rkey, rv] : ro) {
          array ss;
          if (!Is(rkey, names_[1], snake_[1]) || rv.get_array().get(ss)) continue;
          for (element se : ss) {
            ++c.containers;
            object so;
            if (se.get_object().get(so)) continue;
            for (auto [skey, sv] : so) {
              array ks;
              if (Is(skey, names_[2], snake_[2]) && !sv.get_array().get(ks)) c.records += Size(ks);
            }
          }
        }
      }
    }
    return c;
  }

  void SetSnake(std::string_view a, std::string_view b, std::string_view c) {
    snake_[0] = a;
    snake_[1] = b;
    snake_[2] = c;
  }

 private:
  std::string_view names_[3];
  std::string_view snake_[3];
  int r_ = -1, s_ = -1, k_ = -1;
};

absl::StatusOr<element> ParseBody(simdjson::dom::parser* parser, std::string* body) {
  body->reserve(body->size() + simdjson::SIMDJSON_PADDING);
  element root;
  if (auto err = parser->parse(body->data(), body->size(), false).get(root); err) {
    return MakeError(absl::StatusCode::kInvalidArgument, "invalid_json",
                     StrCat("the body is not JSON (", simdjson::error_message(err),
                            "); OTLP/HTTP JSON is an ExportLogsServiceRequest or "
                            "ExportTraceServiceRequest object"));
  }
  if (!root.is_object()) {
    return OtlpFieldError("", "", "a JSON object", Describe(root));
  }
  return root;
}

}  // namespace

absl::Status ParseOtlpLogsJson(std::string* body, otlp::ExportLogsServiceRequest* out,
                               uint64_t max_cells) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(element root, ParseBody(&parser, body));
  Decoder d;
  d.SetNames("resourceLogs", "scopeLogs", "logRecords");
  d.SetSnake("resource_logs", "scope_logs", "log_records");
  RETURN_IF_ERROR(CheckOtlpSize(OtlpSignal::kLogs, d.Count(root), max_cells));
  return d.Levels(
      root, [](otlp::ResourceLogs* r) { return r->add_scope_logs(); },
      [](otlp::ScopeLogs* s) { return s->add_log_records(); }, &Decoder::LogRecord,
      out->mutable_resource_logs());
}

absl::Status ParseOtlpTracesJson(std::string* body, otlp::ExportTraceServiceRequest* out,
                                 uint64_t max_cells) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(element root, ParseBody(&parser, body));
  Decoder d;
  d.SetNames("resourceSpans", "scopeSpans", "spans");
  d.SetSnake("resource_spans", "scope_spans", "spans");
  RETURN_IF_ERROR(CheckOtlpSize(OtlpSignal::kTraces, d.Count(root), max_cells));
  return d.Levels(
      root, [](otlp::ResourceSpans* r) { return r->add_scope_spans(); },
      [](otlp::ScopeSpans* s) { return s->add_spans(); }, &Decoder::Span,
      out->mutable_resource_spans());
}

}  // namespace timestore::api
