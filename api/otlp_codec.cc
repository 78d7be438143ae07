#include "api/otlp_codec.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/strings/escaping.h"
#include "api/route_helpers.h"
#include "common/json_writer.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "segment/typed_text.h"

namespace timestore::api {

using google::protobuf::RepeatedPtrField;

absl::Status OtlpFieldError(std::string_view record, std::string_view field,
                            std::string_view expected, std::string_view got) {
  std::string details;
  JsonWriter w(&details);
  w.BeginObject();
  w.Key("record").String(record);
  w.Key("field").String(field);
  w.Key("expected").String(expected);
  w.Key("got").String(got);
  w.EndObject();
  return MakeError(absl::StatusCode::kInvalidArgument, "invalid_value",
                   StrCat(record.empty() ? "the request" : record,
                          field.empty() ? "" : StrCat(": field \"", field, "\""), ": expected ",
                          expected, ", got ", got, " (nothing of this request was stored)"),
                   details);
}

std::string QuoteForMessage(std::string_view s) {
  std::string out;
  if (s.size() <= 64) {
    AppendJsonString(&out, s);
    return out;
  }
  // Cut at a character boundary so the quote stays UTF-8.
  size_t cut = 64;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  AppendJsonString(&out, s.substr(0, cut));
  out.append("...");
  return out;
}

namespace {

// A record's name for errors, made only when one is reported: given whole
// ("resourceLogs[0]"), or as "<parent><level>[<index>]"
// ("resourceLogs[0].scopeLogs[1]" ".logRecords" 2).
class RecordName {
 public:
  RecordName(std::string_view whole) : parent_(whole) {}    // NOLINT: implicit
  RecordName(const std::string& whole) : parent_(whole) {}  // NOLINT: implicit
  RecordName(std::string_view parent, std::string_view level, int index)
      : parent_(parent), level_(level), index_(index) {}
  std::string str() const {
    return index_ < 0 ? std::string(parent_) : StrCat(parent_, level_, "[", index_, "]");
  }

 private:
  std::string_view parent_, level_;
  int index_ = -1;
};

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

bool ValidUtf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

// Writes OTLP values as canonical JSON text (segment/typed_text.h: keys
// sorted by bytes and given once, whole numbers within int64 as integers,
// others shortest) for one record, naming `record` and the field's path in
// errors. OtlpCodecTest.ValueWriterTextIsCanonical keeps it equal to
// CanonicalJsonText.
class ValueWriter {
 public:
  explicit ValueWriter(const RecordName& record) : record_(record) {}

  // `path` is the field's path so far ("attributes"); segments are appended
  // while descending and removed on the way back. `depth` is the JSON
  // nesting level the object (or a value that is an array or an object)
  // would be at: 1 at the top.
  absl::Status Object(const RepeatedPtrField<otlp::KeyValue>& kvs, int depth, std::string* path,
                      std::string* out) {
    if (depth > kMaxJsonDepth) return TooDeep(*path);
    // A key sent twice keeps its last value (canonical JSON has each key once).
    std::vector<int> order(kvs.size());
    for (int i = 0; i < kvs.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return kvs[a].key() < kvs[b].key(); });
    out->push_back('{');
    bool first = true;
    const size_t base = path->size();
    for (size_t n = 0; n < order.size(); ++n) {
      const int i = order[n];
      if (n + 1 < order.size() && kvs[order[n + 1]].key() == kvs[i].key()) continue;
      const otlp::KeyValue& kv = kvs[i];
      StrAppend(path, "[", i, "]");
      if (!ValidUtf8(kv.key())) return NotUtf8(StrCat(*path, ".key"), kv.key());
      if (!first) out->push_back(',');
      first = false;
      AppendJsonString(out, kv.key());
      out->push_back(':');
      path->append(".value");
      if (kv.has_value()) {
        RETURN_IF_ERROR(Value(kv.value(), depth + 1, path, out));  // a member is one deeper
      } else {
        out->append("null");
      }
      path->resize(base);
    }
    out->push_back('}');
    return absl::OkStatus();
  }

  absl::Status Value(const otlp::AnyValue& v, int depth, std::string* path, std::string* out) {
    const size_t base = path->size();
    switch (v.value_case()) {
      case otlp::AnyValue::kStringValue:
        if (!ValidUtf8(v.string_value())) {
          return NotUtf8(StrCat(*path, ".stringValue"), v.string_value());
        }
        AppendJsonString(out, v.string_value());
        break;
      case otlp::AnyValue::kBoolValue:
        out->append(v.bool_value() ? "true" : "false");
        break;
      case otlp::AnyValue::kIntValue:
        AppendJsonInt(out, v.int_value());
        break;
      case otlp::AnyValue::kDoubleValue: {
        const double d = v.double_value();
        if (std::isnan(d)) {
          out->append("\"NaN\"");
        } else if (std::isinf(d)) {
          out->append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        } else if (std::floor(d) == d && d >= -9.223372036854775808e18 &&
                   d < 9.223372036854775808e18) {
          AppendJsonInt(out, static_cast<int64_t>(d));  // as canonical text has it; -0 is 0
        } else {
          AppendJsonDouble(out, d);
        }
        break;
      }
      case otlp::AnyValue::kArrayValue: {
        if (depth > kMaxJsonDepth) return TooDeep(*path);
        out->push_back('[');
        const auto& values = v.array_value().values();
        for (int i = 0; i < values.size(); ++i) {
          if (i > 0) out->push_back(',');
          StrAppend(path, ".arrayValue.values[", i, "]");
          RETURN_IF_ERROR(Value(values[i], depth + 1, path, out));  // an element is one deeper
          path->resize(base);
        }
        out->push_back(']');
        break;
      }
      case otlp::AnyValue::kKvlistValue:
        path->append(".kvlistValue.values");
        RETURN_IF_ERROR(Object(v.kvlist_value().values(), depth, path, out));
        path->resize(base);
        break;
      case otlp::AnyValue::kBytesValue: {
        std::string b64;
        absl::Base64Escape(ToAbsl(v.bytes_value()), &b64);
        AppendJsonString(out, b64);
        break;
      }
      case otlp::AnyValue::VALUE_NOT_SET:
        out->append("null");
        break;
    }
    return absl::OkStatus();
  }

  absl::Status NotUtf8(std::string_view field, std::string_view s) {
    return OtlpFieldError(record_.str(), field, "UTF-8 text",
                          StrCat(QuoteForMessage(s), " (not UTF-8)"));
  }

 private:
  absl::Status TooDeep(std::string_view field) {
    return OtlpFieldError(record_.str(), field,
                          StrCat("values nested at most ", kMaxJsonDepth, " deep"),
                          "deeper nesting");
  }
  const RecordName& record_;
};

// The canonical JSON object of an attribute list; nullopt when it is empty.
absl::StatusOr<std::optional<std::string>> AttributesJson(
    const RepeatedPtrField<otlp::KeyValue>& kvs, const RecordName& record, std::string_view field) {
  if (kvs.empty()) return std::nullopt;
  ValueWriter w(record);
  std::string path(field), text;
  RETURN_IF_ERROR(w.Object(kvs, 1, &path, &text));
  return std::optional<std::string>(std::move(text));
}

// A fixed64 time as int64 nanoseconds.
absl::StatusOr<int64_t> TimeNanos(uint64_t v, const RecordName& record, std::string_view field) {
  if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return OtlpFieldError(record.str(), field,
                          "nanoseconds since the Unix epoch up to 9223372036854775807 "
                          "(2262-04-11T23:47:16.854775807Z)",
                          StrCat(v));
  }
  return static_cast<int64_t>(v);
}

// A trace or span id: `size` bytes as lowercase hex; empty (or all zero, when
// `optional`) is nullopt.
absl::StatusOr<std::optional<std::string>> Id(std::string_view bytes, size_t size, bool optional,
                                              const RecordName& record, std::string_view field) {
  auto error = [&](std::string_view got) {
    return OtlpFieldError(record.str(), field,
                          StrCat(size, " bytes (", size * 2, " hex digits in JSON), not all zero",
                                 optional ? ", or none" : ""),
                          got);
  };
  if (bytes.empty() || (optional && bytes.size() == size && AllZero(bytes))) {
    if (optional) return std::nullopt;
    return error("none");
  }
  if (bytes.size() != size) return error(StrCat(bytes.size(), " bytes"));
  if (AllZero(bytes)) return error("all zero");
  return std::optional<std::string>(absl::BytesToHexString(ToAbsl(bytes)));
}

// Text of a `string` field of OTLP (bytes here): nullopt when empty.
absl::StatusOr<std::optional<std::string_view>> Text(std::string_view s, const RecordName& record,
                                                     std::string_view field) {
  if (s.empty()) return std::nullopt;
  if (!ValidUtf8(s)) {
    return OtlpFieldError(record.str(), field, "UTF-8 text",
                          StrCat(QuoteForMessage(s), " (not UTF-8)"));
  }
  return std::optional<std::string_view>(s);
}

// A value of a resource or a scope, and its dictionary id in the column once
// a row used it (ids are per column: each value is in one column).
template <typename T>
struct SharedValue {
  std::optional<T> value;
  std::optional<uint32_t> id;
  void Set(std::optional<T> v) {
    value = std::move(v);
    id.reset();
  }
};

// The columns of one request, appended row by row.
class Rows {
 public:
  explicit Rows(std::vector<Field> fields) : fields_(std::move(fields)) {
    builders_.reserve(fields_.size());
    for (const Field& f : fields_) builders_.emplace_back(f.type);
  }
  ColumnBuilder& operator[](int i) { return builders_[i]; }
  void Str(int i, const std::optional<std::string_view>& v) {
    v ? builders_[i].AppendString(*v) : builders_[i].AppendNull();
  }
  void Str(int i, const std::optional<std::string>& v) {
    v ? builders_[i].AppendString(*v) : builders_[i].AppendNull();
  }
  // A value every row of a resource or scope shares: interned once (on its
  // first row), then its dictionary id per row, so that a large resource
  // attribute object is neither compared nor hashed again for each record.
  template <typename T>
  void SharedStr(int i, SharedValue<T>* v) {
    if (!v->value) return builders_[i].AppendNull();
    if (!v->id) v->id = builders_[i].InternString(*v->value);
    builders_[i].AppendStringId(*v->id);
  }
  IngestRequest Finish(const OtlpIngestOptions& options, uint32_t rows) {
    IngestRequest out;
    out.slug = options.slug;
    out.time_column = fields_[0].name;
    out.rows = rows;
    for (size_t i = 0; i < fields_.size(); ++i) {
      out.fields.push_back(fields_[i]);
      out.columns.push_back(builders_[i].Finish());
    }
    return out;
  }

 private:
  std::vector<Field> fields_;
  std::vector<ColumnBuilder> builders_;
};

std::string TimeColumn(const OtlpIngestOptions& options) {
  return options.current != nullptr ? options.current->time_column : std::string(kOtlpTimeColumn);
}

// What every row of a resource and a scope shares.
struct Shared {
  SharedValue<std::string> service, resource_attributes, scope_attributes;
  SharedValue<std::string_view> scope_name, scope_version;
};

absl::Status ResourceColumns(const otlp::Resource& resource, const RecordName& record,
                             Shared* out) {
  ASSIGN_OR_RETURN(auto attributes,
                   AttributesJson(resource.attributes(), record, "resource.attributes"));
  out->resource_attributes.Set(std::move(attributes));
  std::optional<std::string> service;
  // The last service.name wins, as in the attributes object.
  for (const otlp::KeyValue& kv : resource.attributes()) {
    if (kv.key() == "service.name" && kv.value().has_string_value()) {
      service = kv.value().string_value();  // UTF-8 checked above
    }
  }
  out->service.Set(std::move(service));
  return absl::OkStatus();
}

absl::Status ScopeColumns(const otlp::InstrumentationScope& scope, const RecordName& record,
                          Shared* out) {
  ASSIGN_OR_RETURN(auto name, Text(scope.name(), record, "scope.name"));
  ASSIGN_OR_RETURN(auto version, Text(scope.version(), record, "scope.version"));
  ASSIGN_OR_RETURN(auto attributes, AttributesJson(scope.attributes(), record, "scope.attributes"));
  out->scope_name.Set(name);
  out->scope_version.Set(version);
  out->scope_attributes.Set(std::move(attributes));
  return absl::OkStatus();
}

// ---- logs ----

enum LogColumn {
  kLogTime,
  kLogObserved,
  kLogService,
  kLogSeverityNumber,
  kLogSeverityText,
  kLogBody,
  kLogTraceId,
  kLogSpanId,
  kLogTraceFlags,
  kLogEventName,
  kLogAttributes,
  kLogResourceAttributes,
  kLogScopeName,
  kLogScopeVersion,
  kLogScopeAttributes,
};

std::vector<Field> LogFields(std::string time_column) {
  return {{std::move(time_column), ColumnType::kTimestamp},
          {"observed_timestamp", ColumnType::kTimestamp},
          {std::string(kOtlpServiceColumn), ColumnType::kString},
          {"severity_number", ColumnType::kInteger},
          {"severity_text", ColumnType::kString},
          {"body", ColumnType::kString},
          {"trace_id", ColumnType::kString},
          {"span_id", ColumnType::kString},
          {"trace_flags", ColumnType::kInteger},
          {"event_name", ColumnType::kString},
          {"attributes", ColumnType::kJson},
          {"resource_attributes", ColumnType::kJson},
          {"scope_name", ColumnType::kString},
          {"scope_version", ColumnType::kString},
          {"scope_attributes", ColumnType::kJson}};
}

absl::Status AppendLog(const otlp::LogRecord& log, const RecordName& record,
                       const OtlpIngestOptions& options, Shared* shared, Rows* rows) {
  ASSIGN_OR_RETURN(int64_t time, TimeNanos(log.time_unix_nano(), record, "timeUnixNano"));
  ASSIGN_OR_RETURN(int64_t observed,
                   TimeNanos(log.observed_time_unix_nano(), record, "observedTimeUnixNano"));
  ASSIGN_OR_RETURN(auto severity_text, Text(log.severity_text(), record, "severityText"));
  ASSIGN_OR_RETURN(auto trace_id, Id(log.trace_id(), 16, true, record, "traceId"));
  ASSIGN_OR_RETURN(auto span_id, Id(log.span_id(), 8, true, record, "spanId"));
  ASSIGN_OR_RETURN(auto event_name, Text(log.event_name(), record, "eventName"));
  ASSIGN_OR_RETURN(auto attributes, AttributesJson(log.attributes(), record, "attributes"));
  std::optional<std::string> body;
  if (log.has_body() && log.body().value_case() != otlp::AnyValue::VALUE_NOT_SET) {
    ValueWriter w(record);
    if (log.body().has_string_value()) {
      if (!ValidUtf8(log.body().string_value())) {
        return w.NotUtf8("body.stringValue", log.body().string_value());
      }
      body = log.body().string_value();
    } else {
      std::string path = "body", text;
      RETURN_IF_ERROR(w.Value(log.body(), 1, &path, &text));
      body = std::move(text);
    }
  }

  (*rows)[kLogTime].AppendInt(time != 0 ? time : observed != 0 ? observed : options.now_ns);
  observed != 0 ? (*rows)[kLogObserved].AppendInt(observed) : (*rows)[kLogObserved].AppendNull();
  rows->SharedStr(kLogService, &shared->service);
  (*rows)[kLogSeverityNumber].AppendInt(log.severity_number());
  rows->Str(kLogSeverityText, severity_text);
  rows->Str(kLogBody, body);
  rows->Str(kLogTraceId, trace_id);
  rows->Str(kLogSpanId, span_id);
  (*rows)[kLogTraceFlags].AppendInt(log.flags() & 0xFF);
  rows->Str(kLogEventName, event_name);
  rows->Str(kLogAttributes, attributes);
  rows->SharedStr(kLogResourceAttributes, &shared->resource_attributes);
  rows->SharedStr(kLogScopeName, &shared->scope_name);
  rows->SharedStr(kLogScopeVersion, &shared->scope_version);
  rows->SharedStr(kLogScopeAttributes, &shared->scope_attributes);
  return absl::OkStatus();
}

// ---- traces ----

enum SpanColumn {
  kSpanTime,
  kSpanEnd,
  kSpanDuration,
  kSpanService,
  kSpanTraceId,
  kSpanSpanId,
  kSpanParent,
  kSpanTraceState,
  kSpanTraceFlags,
  kSpanName,
  kSpanKind,
  kSpanStatusCode,
  kSpanStatusMessage,
  kSpanAttributes,
  kSpanEvents,
  kSpanLinks,
  kSpanResourceAttributes,
  kSpanScopeName,
  kSpanScopeVersion,
  kSpanScopeAttributes,
};

std::vector<Field> SpanFields(std::string time_column) {
  return {{std::move(time_column), ColumnType::kTimestamp},
          {"end_timestamp", ColumnType::kTimestamp},
          {"duration_ns", ColumnType::kInteger},
          {std::string(kOtlpServiceColumn), ColumnType::kString},
          {"trace_id", ColumnType::kString},
          {"span_id", ColumnType::kString},
          {"parent_span_id", ColumnType::kString},
          {"trace_state", ColumnType::kString},
          {"trace_flags", ColumnType::kInteger},
          {"name", ColumnType::kString},
          {"kind", ColumnType::kInteger},
          {"status_code", ColumnType::kInteger},
          {"status_message", ColumnType::kString},
          {"attributes", ColumnType::kJson},
          {"events", ColumnType::kJson},
          {"links", ColumnType::kJson},
          {"resource_attributes", ColumnType::kJson},
          {"scope_name", ColumnType::kString},
          {"scope_version", ColumnType::kString},
          {"scope_attributes", ColumnType::kJson}};
}

// {"attributes":{...},"droppedAttributesCount":n,"name":"...","timeUnixNano":n}
// per event, members left out when empty or 0.
absl::StatusOr<std::optional<std::string>> EventsJson(const otlp::Span& span,
                                                      const RecordName& record) {
  if (span.events().empty()) return std::nullopt;
  ValueWriter w(record);
  std::string text = "[";
  for (int i = 0; i < span.events_size(); ++i) {
    const otlp::Span::Event& e = span.events(i);
    const std::string field = StrCat("events[", i, "]");
    ASSIGN_OR_RETURN(int64_t t, TimeNanos(e.time_unix_nano(), record, field + ".timeUnixNano"));
    ASSIGN_OR_RETURN(auto name, Text(e.name(), record, field + ".name"));
    if (i > 0) text.push_back(',');
    text.push_back('{');
    if (!e.attributes().empty()) {
      text.append("\"attributes\":");
      std::string path = field + ".attributes";
      RETURN_IF_ERROR(w.Object(e.attributes(), 3, &path, &text));  // [ { "attributes": {
      text.push_back(',');
    }
    if (e.dropped_attributes_count() != 0) {
      StrAppend(&text, "\"droppedAttributesCount\":", e.dropped_attributes_count(), ",");
    }
    if (name) {
      text.append("\"name\":");
      AppendJsonString(&text, *name);
      text.push_back(',');
    }
    StrAppend(&text, "\"timeUnixNano\":", t, "}");
  }
  text.push_back(']');
  return std::optional<std::string>(std::move(text));
}

// {"attributes":{...},"flags":n,"spanId":"hex","traceId":"hex","traceState":"..."}
// per link, members left out when empty or 0.
absl::StatusOr<std::optional<std::string>> LinksJson(const otlp::Span& span,
                                                     const RecordName& record) {
  if (span.links().empty()) return std::nullopt;
  ValueWriter w(record);
  std::string text = "[";
  for (int i = 0; i < span.links_size(); ++i) {
    const otlp::Span::Link& l = span.links(i);
    const std::string field = StrCat("links[", i, "]");
    ASSIGN_OR_RETURN(auto trace_id, Id(l.trace_id(), 16, false, record, field + ".traceId"));
    ASSIGN_OR_RETURN(auto span_id, Id(l.span_id(), 8, false, record, field + ".spanId"));
    ASSIGN_OR_RETURN(auto state, Text(l.trace_state(), record, field + ".traceState"));
    if (i > 0) text.push_back(',');
    text.push_back('{');
    if (!l.attributes().empty()) {
      text.append("\"attributes\":");
      std::string path = field + ".attributes";
      RETURN_IF_ERROR(w.Object(l.attributes(), 3, &path, &text));
      text.push_back(',');
    }
    if (l.dropped_attributes_count() != 0) {
      StrAppend(&text, "\"droppedAttributesCount\":", l.dropped_attributes_count(), ",");
    }
    if (l.flags() != 0) StrAppend(&text, "\"flags\":", l.flags(), ",");
    StrAppend(&text, "\"spanId\":\"", *span_id, "\",\"traceId\":\"", *trace_id, "\"");
    if (state) {
      text.append(",\"traceState\":");
      AppendJsonString(&text, *state);
    }
    text.push_back('}');
  }
  text.push_back(']');
  return std::optional<std::string>(std::move(text));
}

absl::Status AppendSpan(const otlp::Span& span, const RecordName& record, Shared* shared,
                        Rows* rows) {
  ASSIGN_OR_RETURN(auto trace_id, Id(span.trace_id(), 16, false, record, "traceId"));
  ASSIGN_OR_RETURN(auto span_id, Id(span.span_id(), 8, false, record, "spanId"));
  ASSIGN_OR_RETURN(auto parent, Id(span.parent_span_id(), 8, true, record, "parentSpanId"));
  ASSIGN_OR_RETURN(auto trace_state, Text(span.trace_state(), record, "traceState"));
  ASSIGN_OR_RETURN(auto name, Text(span.name(), record, "name"));
  ASSIGN_OR_RETURN(auto status_message, Text(span.status().message(), record, "status.message"));
  ASSIGN_OR_RETURN(int64_t start,
                   TimeNanos(span.start_time_unix_nano(), record, "startTimeUnixNano"));
  ASSIGN_OR_RETURN(int64_t end, TimeNanos(span.end_time_unix_nano(), record, "endTimeUnixNano"));
  if (start == 0) {
    return OtlpFieldError(record.str(), "startTimeUnixNano",
                          "the span's start in nanoseconds since the Unix epoch (required)", "0");
  }
  if (end < start) {
    return OtlpFieldError(record.str(), "endTimeUnixNano",
                          StrCat("a time at or after startTimeUnixNano (", start, ")"),
                          StrCat(end));
  }
  ASSIGN_OR_RETURN(auto attributes, AttributesJson(span.attributes(), record, "attributes"));
  ASSIGN_OR_RETURN(auto events, EventsJson(span, record));
  ASSIGN_OR_RETURN(auto links, LinksJson(span, record));

  (*rows)[kSpanTime].AppendInt(start);
  (*rows)[kSpanEnd].AppendInt(end);
  (*rows)[kSpanDuration].AppendInt(end - start);
  rows->SharedStr(kSpanService, &shared->service);
  rows->Str(kSpanTraceId, trace_id);
  rows->Str(kSpanSpanId, span_id);
  rows->Str(kSpanParent, parent);
  rows->Str(kSpanTraceState, trace_state);
  (*rows)[kSpanTraceFlags].AppendInt(span.flags() & 0xFF);
  rows->Str(kSpanName, name);
  (*rows)[kSpanKind].AppendInt(span.kind());
  (*rows)[kSpanStatusCode].AppendInt(span.status().code());
  rows->Str(kSpanStatusMessage, status_message);
  rows->Str(kSpanAttributes, attributes);
  rows->Str(kSpanEvents, events);
  rows->Str(kSpanLinks, links);
  rows->SharedStr(kSpanResourceAttributes, &shared->resource_attributes);
  rows->SharedStr(kSpanScopeName, &shared->scope_name);
  rows->SharedStr(kSpanScopeVersion, &shared->scope_version);
  rows->SharedStr(kSpanScopeAttributes, &shared->scope_attributes);
  return absl::OkStatus();
}

// One level of an export request's wire format, up to the limit pushed for
// it: entries of field 2 (of field 1 at the top) are counted, and entered
// unless they are records; everything else is skipped.
bool CountLevel(google::protobuf::io::CodedInputStream* in, int level, OtlpCounts* counts) {
  using google::protobuf::internal::WireFormatLite;
  const int entries = level == 0 ? 1 : 2;
  while (true) {
    const uint32_t tag = in->ReadTag();
    if (tag == 0) return in->BytesUntilLimit() == 0;
    if (WireFormatLite::GetTagFieldNumber(tag) != entries ||
        WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::SkipField(in, tag)) return false;
      continue;
    }
    uint32_t size = 0;
    // An entry longer than what is left of its parent is not protobuf (the
    // stream would cut it to the parent's end without saying so).
    if (!in->ReadVarint32(&size) || size > static_cast<uint32_t>(in->BytesUntilLimit())) {
      return false;
    }
    if (level == 2) {
      ++counts->records;
      if (!in->Skip(static_cast<int>(size))) return false;
      continue;
    }
    ++counts->containers;
    const auto limit = in->PushLimit(static_cast<int>(size));
    if (!CountLevel(in, level + 1, counts)) return false;
    in->PopLimit(limit);
  }
}

}  // namespace

absl::Status CheckOtlpSize(OtlpSignal signal, const OtlpCounts& counts, uint64_t max_cells) {
  const bool logs = signal == OtlpSignal::kLogs;
  const uint64_t columns = logs ? kLogScopeAttributes + 1 : kSpanScopeAttributes + 1;
  RETURN_IF_ERROR(CheckCells(
      counts.records, columns, max_cells,
      [&] { return StrCat(counts.records, logs ? " log records" : " spans"); },
      "send smaller batches"));
  return CheckCells(
      counts.containers, columns, max_cells,
      [&] {
        return StrCat(counts.containers, logs ? " resourceLogs and scopeLogs entries"
                                              : " resourceSpans and scopeSpans entries");
      },
      "send smaller batches");
}

std::optional<OtlpCounts> CountOtlpProtobuf(std::string_view body) {
  if (body.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return std::nullopt;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(body.data()),
                                            static_cast<int>(body.size()));
  OtlpCounts counts;
  if (!CountLevel(&in, 0, &counts)) return std::nullopt;
  return counts;
}

absl::StatusOr<IngestRequest> LogsToIngest(const otlp::ExportLogsServiceRequest& request,
                                           const OtlpIngestOptions& options) {
  OtlpCounts counts;
  for (const auto& rl : request.resource_logs()) {
    counts.containers += 1 + rl.scope_logs_size();
    for (const auto& sl : rl.scope_logs()) counts.records += sl.log_records_size();
  }
  RETURN_IF_ERROR(CheckOtlpSize(OtlpSignal::kLogs, counts, options.max_cells));
  Rows rows(LogFields(TimeColumn(options)));
  Shared shared;
  for (int r = 0; r < request.resource_logs_size(); ++r) {
    const otlp::ResourceLogs& rl = request.resource_logs(r);
    const std::string resource_record = StrCat("resourceLogs[", r, "]");
    RETURN_IF_ERROR(ResourceColumns(rl.resource(), resource_record, &shared));
    for (int s = 0; s < rl.scope_logs_size(); ++s) {
      const otlp::ScopeLogs& sl = rl.scope_logs(s);
      const std::string scope_record = StrCat(resource_record, ".scopeLogs[", s, "]");
      RETURN_IF_ERROR(ScopeColumns(sl.scope(), scope_record, &shared));
      for (int k = 0; k < sl.log_records_size(); ++k) {
        RETURN_IF_ERROR(AppendLog(sl.log_records(k), RecordName(scope_record, ".logRecords", k),
                                  options, &shared, &rows));
      }
    }
  }
  return rows.Finish(options, static_cast<uint32_t>(counts.records));
}

absl::StatusOr<IngestRequest> TracesToIngest(const otlp::ExportTraceServiceRequest& request,
                                             const OtlpIngestOptions& options) {
  OtlpCounts counts;
  for (const auto& rs : request.resource_spans()) {
    counts.containers += 1 + rs.scope_spans_size();
    for (const auto& ss : rs.scope_spans()) counts.records += ss.spans_size();
  }
  RETURN_IF_ERROR(CheckOtlpSize(OtlpSignal::kTraces, counts, options.max_cells));
  Rows rows(SpanFields(TimeColumn(options)));
  Shared shared;
  for (int r = 0; r < request.resource_spans_size(); ++r) {
    const otlp::ResourceSpans& rs = request.resource_spans(r);
    const std::string resource_record = StrCat("resourceSpans[", r, "]");
    RETURN_IF_ERROR(ResourceColumns(rs.resource(), resource_record, &shared));
    for (int s = 0; s < rs.scope_spans_size(); ++s) {
      const otlp::ScopeSpans& ss = rs.scope_spans(s);
      const std::string scope_record = StrCat(resource_record, ".scopeSpans[", s, "]");
      RETURN_IF_ERROR(ScopeColumns(ss.scope(), scope_record, &shared));
      for (int k = 0; k < ss.spans_size(); ++k) {
        RETURN_IF_ERROR(
            AppendSpan(ss.spans(k), RecordName(scope_record, ".spans", k), &shared, &rows));
      }
    }
  }
  return rows.Finish(options, static_cast<uint32_t>(counts.records));
}

}  // namespace timestore::api
