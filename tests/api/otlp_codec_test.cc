// OTLP exports into columns without a server (api/otlp_json.h,
// api/otlp_codec.h): the JSON dialect's corners (snake_case keys, enum names,
// NaN, base64 flavours, keys sent twice), the limits (nesting, cells), and the
// checks only a protobuf body can fail (UTF-8, id lengths).
#include "api/otlp_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "api/otlp_json.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "segment/typed_text.h"

namespace timestore::api {
namespace {

// The text of row `row` of column `name` ("<null>" for a null).
std::string Cell(const IngestRequest& req, std::string_view name, size_t row = 0) {
  for (size_t i = 0; i < req.fields.size(); ++i) {
    if (req.fields[i].name != name) continue;
    const ColumnVector& c = req.columns[i];
    if (c.IsNull(row)) return "<null>";
    if (IsStringLike(c.type)) return c.dict[c.ids[row]];
    if (c.type == ColumnType::kDouble) return StrCat(c.doubles[row]);
    return StrCat(c.ints[row]);
  }
  return "<no column>";
}

std::string Details(const absl::Status& s) {
  auto d = s.GetPayload(ToAbsl(kErrorDetailsPayload));
  return d ? std::string(*d) : "";
}

absl::StatusOr<IngestRequest> Logs(std::string json, OtlpIngestOptions options = {}) {
  otlp::ExportLogsServiceRequest req;
  if (auto s = ParseOtlpLogsJson(&json, &req, options.max_cells); !s.ok()) return s;
  options.slug = "otel_logs";
  return LogsToIngest(req, options);
}

absl::StatusOr<IngestRequest> Spans(std::string json) {
  otlp::ExportTraceServiceRequest req;
  if (auto s = ParseOtlpTracesJson(&json, &req); !s.ok()) return s;
  return TracesToIngest(req, {.slug = "otel_traces"});
}

std::string OneLog(std::string_view record) {
  return StrCat(R"({"resource_logs":[{"scope_logs":[{"log_records":[)", record, "]}]}]}");
}

TEST(OtlpCodecTest, SchemaOfBothSignals) {
  auto logs = Logs(OneLog(R"({"timeUnixNano":5})"));
  ASSERT_TRUE(logs.ok()) << logs.status();
  std::string names;
  for (const Field& f : logs->fields) StrAppend(&names, f.name, ":", ColumnTypeName(f.type), " ");
  EXPECT_EQ(names,
            "timestamp:timestamp observed_timestamp:timestamp service_name:string "
            "severity_number:integer severity_text:string body:string trace_id:string "
            "span_id:string trace_flags:integer event_name:string attributes:json "
            "resource_attributes:json scope_name:string scope_version:string "
            "scope_attributes:json ");
  EXPECT_EQ(logs->time_column, "timestamp");
  EXPECT_EQ(logs->rows, 1u);

  auto spans = Spans(
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"01000000000000000000000000000000",
      "spanId":"0100000000000000","startTimeUnixNano":10,"endTimeUnixNano":25}]}]}]})");
  ASSERT_TRUE(spans.ok()) << spans.status();
  names.clear();
  for (const Field& f : spans->fields) StrAppend(&names, f.name, ":", ColumnTypeName(f.type), " ");
  EXPECT_EQ(names,
            "timestamp:timestamp end_timestamp:timestamp duration_ns:integer service_name:string "
            "trace_id:string span_id:string parent_span_id:string trace_state:string "
            "trace_flags:integer name:string kind:integer status_code:integer "
            "status_message:string attributes:json events:json links:json "
            "resource_attributes:json scope_name:string scope_version:string "
            "scope_attributes:json ");
  EXPECT_EQ(Cell(*spans, "duration_ns"), "15");
}

TEST(OtlpCodecTest, JsonDialect) {
  // snake_case keys, an enum by name, NaN, URL-safe base64 without padding, a
  // key sent twice (the last wins), an empty AnyValue, unknown keys.
  auto logs =
      Logs(OneLog(R"({"observed_time_unix_nano":"7","severity_number":"SEVERITY_NUMBER_WARN3",
      "attributes":[{"key":"k","value":{"int_value":"1"}},{"key":"nan","value":{"doubleValue":"NaN"}},
                    {"key":"inf","value":{"doubleValue":"-Infinity"}},
                    {"key":"b","value":{"bytesValue":"-_8"}},{"key":"k","value":{"stringValue":"last"}},
                    {"key":"empty","value":{}},{"key":"nothing"},{"key":"d","value":{"doubleValue":"2.50"}}],
      "whatever":{"nested":true}})"));
  ASSERT_TRUE(logs.ok()) << logs.status();
  EXPECT_EQ(Cell(*logs, "timestamp"), "7");  // no timeUnixNano: the observed time
  EXPECT_EQ(Cell(*logs, "severity_number"), "15");
  EXPECT_EQ(
      Cell(*logs, "attributes"),
      R"({"b":"+/8=","d":2.5,"empty":null,"inf":"-Infinity","k":"last","nan":"NaN","nothing":null})");
}

TEST(OtlpCodecTest, LogsWithoutAnyTimeTakeTheArrivalTime) {
  OtlpIngestOptions options;
  options.now_ns = 1234;
  auto logs = Logs(OneLog("{}"), options);
  ASSERT_TRUE(logs.ok()) << logs.status();
  EXPECT_EQ(Cell(*logs, "timestamp"), "1234");
  EXPECT_EQ(Cell(*logs, "observed_timestamp"), "<null>");
  EXPECT_EQ(Cell(*logs, "body"), "<null>");
}

TEST(OtlpCodecTest, AllZeroIds) {
  // A log record's all-zero ids mean none; a span's are an error.
  auto logs =
      Logs(OneLog(R"({"traceId":"00000000000000000000000000000000","spanId":"0000000000000000"})"));
  ASSERT_TRUE(logs.ok()) << logs.status();
  EXPECT_EQ(Cell(*logs, "trace_id"), "<null>");
  auto spans = Spans(
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"00000000000000000000000000000000",
      "spanId":"0100000000000000","startTimeUnixNano":10,"endTimeUnixNano":25}]}]}]})");
  ASSERT_FALSE(spans.ok());
  EXPECT_NE(spans.status().message().find("\"traceId\""), std::string::npos) << spans.status();
  EXPECT_NE(spans.status().message().find("got all zero"), std::string::npos) << spans.status();
}

TEST(OtlpCodecTest, HexIdsInEitherCaseAreStoredLowercase) {
  auto logs =
      Logs(OneLog(R"({"traceId":"5B8EFFF798038103d269b633813fc60c","spanId":"EEE19b7ec3c1b174"})"));
  ASSERT_TRUE(logs.ok()) << logs.status();
  EXPECT_EQ(Cell(*logs, "trace_id"), "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(Cell(*logs, "span_id"), "eee19b7ec3c1b174");
  logs = Logs(OneLog(R"({"spanId":"eee1g9b7ec3c1b17"})"));
  ASSERT_FALSE(logs.ok());
  EXPECT_NE(
      logs.status().message().find(
          R"(expected a string of 16 hex digits (8 bytes), or "", got string "eee1g9b7ec3c1b17" (not hex at character 4))"),
      std::string::npos)
      << logs.status();
}

TEST(OtlpCodecTest, NestingDeeperThan64IsRefused) {
  std::string value = R"({"stringValue":"leaf"})";
  for (int i = 0; i < 70; ++i) {
    value = StrCat(R"({"kvlistValue":{"values":[{"key":"k","value":)", value, "}]}}");
  }
  auto logs = Logs(OneLog(StrCat(R"({"attributes":[{"key":"deep","value":)", value, "}]}")));
  ASSERT_FALSE(logs.ok());
  EXPECT_EQ(ErrorCodeOf(logs.status()), "invalid_value");
  EXPECT_NE(logs.status().message().find("nested at most 64 deep"), std::string::npos)
      << logs.status();
  EXPECT_NE(Details(logs.status()).find(R"("field":"attributes[0].value.kvlistValue.values[0])"),
            std::string::npos)
      << Details(logs.status());
}

TEST(OtlpCodecTest, CellLimit) {
  OtlpIngestOptions options;
  options.max_cells = 15 * 2;  // two log records
  EXPECT_TRUE(Logs(OneLog("{},{}"), options).ok());
  auto logs = Logs(OneLog("{},{},{}"), options);
  ASSERT_FALSE(logs.ok());
  EXPECT_EQ(ErrorCodeOf(logs.status()), "payload_too_large");
  EXPECT_NE(logs.status().message().find("the request has 3 log records: 3 rows × 15 columns"),
            std::string::npos)
      << logs.status();

  // The JSON decoder refuses before it builds a record, even when a later
  // record is bad: the count comes first.
  otlp::ExportLogsServiceRequest req;
  std::string json = OneLog(R"({},{},{"timeUnixNano":"soon"})");
  absl::Status s = ParseOtlpLogsJson(&json, &req, options.max_cells);
  EXPECT_EQ(ErrorCodeOf(s), "payload_too_large") << s;
  EXPECT_EQ(req.resource_logs_size(), 0);
  // Resource and scope entries count too: empty ones are messages as well.
  json = R"({"resourceLogs":[{"scopeLogs":[{},{}]}]})";
  s = ParseOtlpLogsJson(&json, &req, options.max_cells);
  EXPECT_EQ(ErrorCodeOf(s), "payload_too_large") << s;
  EXPECT_NE(s.message().find("3 resourceLogs and scopeLogs entries"), std::string::npos) << s;
  otlp::ExportTraceServiceRequest spans;
  json = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{},{}]}]}]})";
  s = ParseOtlpTracesJson(&json, &spans, 20);
  EXPECT_NE(s.message().find("the request has 2 spans"), std::string::npos) << s;
  EXPECT_EQ(spans.resource_spans_size(), 0);
}

// The protobuf pre-count reads the three levels' framing only: records are
// skipped (a record that is not valid protobuf inside is still one record),
// unknown fields are skipped, and a broken framing is nullopt.
TEST(OtlpCodecTest, ProtobufCountSkipsRecords) {
  otlp::ExportLogsServiceRequest req;
  otlp::ResourceLogs* rl = req.add_resource_logs();
  rl->mutable_resource()->add_attributes()->set_key("k");
  rl->set_schema_url("u");
  otlp::ScopeLogs* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name("lib");
  sl->add_log_records()->set_severity_text("x");
  sl->add_log_records();
  rl->add_scope_logs();
  req.add_resource_logs()->add_scope_logs()->add_log_records()->set_time_unix_nano(5);
  std::string body = req.SerializeAsString();
  // A resource whose one scope holds one record of garbage (a tag that never
  // ends), then an unknown varint field (9) at the top.
  body += std::string("\x0a\x05\x12\x03\x12\x01\xff\x48\x07", 9);
  auto counts = CountOtlpProtobuf(body);
  ASSERT_TRUE(counts.has_value());
  EXPECT_EQ(counts->records, 4u);
  EXPECT_EQ(counts->containers, 7u);  // 3 resources, 4 scopes
  EXPECT_FALSE(otlp::ExportLogsServiceRequest().ParseFromString(body));
  // Framing cut short or overlong, a tag cut short: not protobuf.
  EXPECT_FALSE(CountOtlpProtobuf(body.substr(0, body.size() - 3)).has_value());
  EXPECT_FALSE(CountOtlpProtobuf(std::string("\x0a\x10\x12\x00", 4)).has_value());
  EXPECT_FALSE(CountOtlpProtobuf("\x0a").has_value());
  counts = CountOtlpProtobuf("");
  ASSERT_TRUE(counts.has_value());
  EXPECT_EQ(counts->records + counts->containers, 0u);
}

// The codec writes attribute, body, event and link JSON canonically itself
// (no second parse): its text must stay what CanonicalJsonText makes of it.
TEST(OtlpCodecTest, ValueWriterTextIsCanonical) {
  std::vector<double> doubles = {1e17,
                                 -0.0,
                                 1.5,
                                 0.1,
                                 -2.5e-8,
                                 1e300,
                                 -1e-300,
                                 4.5e15,
                                 1e20,
                                 3.0,
                                 -7.0,
                                 123456789012345678.0,
                                 0x1p63,
                                 -0x1p63,
                                 0x1p53,
                                 0x1p53 + 2,
                                 1.7976931348623157e308,
                                 5e-324,
                                 0.30000000000000004};
  std::mt19937_64 rng(42);
  while (doubles.size() < 400) {
    const uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (std::isfinite(d)) doubles.push_back(d);
    doubles.push_back(static_cast<double>(static_cast<int64_t>(rng() >> (rng() % 64))));
  }
  otlp::ExportLogsServiceRequest req;
  otlp::ScopeLogs* scope = req.add_resource_logs()->add_scope_logs();
  auto add = [](otlp::LogRecord* log, const std::string& key) {
    otlp::KeyValue* kv = log->add_attributes();
    kv->set_key(key);
    return kv->mutable_value();
  };
  for (double d : doubles) {
    otlp::LogRecord* log = scope->add_log_records();
    add(log, "d")->set_double_value(d);
    add(log, "i")->set_int_value(static_cast<int64_t>(rng()));
    otlp::ArrayValue* a = log->mutable_body()->mutable_array_value();
    a->add_values()->set_double_value(d);
    a->add_values()->set_double_value(-d);
    a->add_values()->set_string_value("tab\t \"q\" \xc3\xa9 \x01");
    otlp::KeyValueList* nested = add(log, "b")->mutable_kvlist_value();
    for (const char* k : {"z", "a", "\xc3\xa9", "A", "a", "_"}) {
      otlp::KeyValue* kv = nested->add_values();
      kv->set_key(k);
      kv->mutable_value()->set_double_value(d / 3);
    }
    add(log, "big")->set_int_value(std::numeric_limits<int64_t>::min());
    add(log, "bytes")->set_bytes_value("\xff\x00");
    add(log, "t")->set_bool_value(true);
    add(log, "none");
  }
  auto rows = LogsToIngest(req, {.slug = "l"});
  ASSERT_TRUE(rows.ok()) << rows.status();
  for (size_t row = 0; row < doubles.size(); ++row) {
    for (const char* column : {"attributes", "body"}) {
      const std::string text = Cell(*rows, column, row);
      auto canonical = CanonicalJsonText(text);
      ASSERT_TRUE(canonical.ok()) << text << " " << canonical.status();
      EXPECT_EQ(text, *canonical) << doubles[row];
    }
  }
  EXPECT_EQ(Cell(*rows, "body", 0),
            R"([100000000000000000,-100000000000000000,"tab\t \"q\" é \u0001"])");
  EXPECT_EQ(Cell(*rows, "body", 1), R"([0,0,"tab\t \"q\" é \u0001"])");  // -0 is 0
  EXPECT_NE(Cell(*rows, "attributes", 2).find(R"("d":1.5,)"), std::string::npos);

  // Events and links of a span, with doubles in their attributes.
  otlp::ExportTraceServiceRequest traces;
  otlp::Span* span = traces.add_resource_spans()->add_scope_spans()->add_spans();
  span->set_trace_id(std::string(16, '\x01'));
  span->set_span_id(std::string(8, '\x02'));
  span->set_start_time_unix_nano(10);
  span->set_end_time_unix_nano(20);
  for (double d : {1e17, -0.0, 2.25}) {
    otlp::Span::Event* e = span->add_events();
    e->set_name("ev");
    e->set_time_unix_nano(15);
    otlp::KeyValue* kv = e->add_attributes();
    kv->set_key("x");
    kv->mutable_value()->set_double_value(d);
    otlp::Span::Link* l = span->add_links();
    l->set_trace_id(std::string(16, '\x03'));
    l->set_span_id(std::string(8, '\x04'));
    l->set_trace_state("s=1");
    l->set_flags(1);
    l->set_dropped_attributes_count(2);
    *l->add_attributes() = *kv;
  }
  auto spans = TracesToIngest(traces, {.slug = "t"});
  ASSERT_TRUE(spans.ok()) << spans.status();
  for (const char* column : {"events", "links"}) {
    const std::string text = Cell(*spans, column);
    auto canonical = CanonicalJsonText(text);
    ASSERT_TRUE(canonical.ok()) << text << " " << canonical.status();
    EXPECT_EQ(text, *canonical);
  }
  EXPECT_EQ(Cell(*spans, "events"),
            R"([{"attributes":{"x":100000000000000000},"name":"ev","timeUnixNano":15},)"
            R"({"attributes":{"x":0},"name":"ev","timeUnixNano":15},)"
            R"({"attributes":{"x":2.25},"name":"ev","timeUnixNano":15}])");
}

TEST(OtlpCodecTest, ProtobufOnlyChecks) {
  otlp::ExportLogsServiceRequest req;
  otlp::LogRecord* log = req.add_resource_logs()->add_scope_logs()->add_log_records();
  log->set_severity_text("caf\xc3");  // cut UTF-8
  auto rows = LogsToIngest(req, {.slug = "l"});
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(Details(rows.status()).find(R"("field":"severityText")"), std::string::npos)
      << rows.status();
  log->clear_severity_text();
  log->set_span_id("1234567");  // 7 bytes
  rows = LogsToIngest(req, {.slug = "l"});
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.status().message().find("got 7 bytes"), std::string::npos) << rows.status();
  log->clear_span_id();
  log->set_time_unix_nano(uint64_t{1} << 63);  // past int64 nanoseconds
  rows = LogsToIngest(req, {.slug = "l"});
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(Details(rows.status()).find(R"("field":"timeUnixNano")"), std::string::npos)
      << rows.status();
  EXPECT_NE(Details(rows.status()).find(R"("record":"resourceLogs[0].scopeLogs[0].logRecords[0]")"),
            std::string::npos)
      << rows.status();
}

// Every row of a resource and a scope carries their values: the dictionary
// holds each distinct value once and each row points at its own, across
// scopes, resources and a resource that repeats an earlier one's attributes.
// (The codec interns them once per resource and scope to save hashing a large
// attribute per row; that saving is CPU only and not observable here.)
TEST(OtlpCodecTest, RowsCarryTheirResourceAndScopeValues) {
  const std::string big(200'000, 'x');  // a large resource attribute
  otlp::ExportTraceServiceRequest req;
  auto add_resource = [&](const std::string& service, const std::string& attr,
                          std::vector<int> spans_per_scope) {
    otlp::ResourceSpans* rs = req.add_resource_spans();
    otlp::KeyValue* kv = rs->mutable_resource()->add_attributes();
    kv->set_key("service.name");
    kv->mutable_value()->set_string_value(service);
    kv = rs->mutable_resource()->add_attributes();
    kv->set_key("blob");
    kv->mutable_value()->set_string_value(attr);
    for (size_t s = 0; s < spans_per_scope.size(); ++s) {
      otlp::ScopeSpans* ss = rs->add_scope_spans();
      ss->mutable_scope()->set_name(StrCat("lib", s));
      for (int k = 0; k < spans_per_scope[s]; ++k) {
        otlp::Span* span = ss->add_spans();
        span->set_trace_id(std::string(16, '\x01'));
        span->set_span_id(std::string(8, static_cast<char>(k + 1)));
        span->set_start_time_unix_nano(10);
        span->set_end_time_unix_nano(20);
      }
    }
  };
  add_resource("a", big, {3, 0, 2});  // a scope without spans adds nothing
  add_resource("b", "small", {2});
  add_resource("a", big, {1});  // the first resource's values again
  auto rows = TracesToIngest(req, {.slug = "otel_traces"});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows, 8u);
  auto column = [&](std::string_view name) -> const ColumnVector& {
    for (size_t i = 0; i < rows->fields.size(); ++i) {
      if (rows->fields[i].name == name) return rows->columns[i];
    }
    ADD_FAILURE() << name;
    return rows->columns[0];
  };
  const ColumnVector& resource = column("resource_attributes");
  ASSERT_EQ(resource.dict.size(), 2u);
  EXPECT_EQ(resource.dict[0], StrCat(R"({"blob":")", big, R"(","service.name":"a"})"));
  EXPECT_EQ(resource.dict[1], R"({"blob":"small","service.name":"b"})");
  EXPECT_EQ(resource.ids, (std::vector<uint32_t>{0, 0, 0, 0, 0, 1, 1, 0}));
  const ColumnVector& service = column("service_name");
  EXPECT_EQ(service.dict, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(service.ids, (std::vector<uint32_t>{0, 0, 0, 0, 0, 1, 1, 0}));
  const ColumnVector& scope = column("scope_name");
  EXPECT_EQ(scope.dict, (std::vector<std::string>{"lib0", "lib2"}));  // lib1 had no spans
  EXPECT_EQ(scope.ids, (std::vector<uint32_t>{0, 0, 0, 1, 1, 0, 0, 0}));
  const ColumnVector& version = column("scope_version");  // never sent: all null
  EXPECT_EQ(version.NullCount(), 8u);
  EXPECT_TRUE(version.dict.empty());
}

// OTLP's enums are open: numbers past today's values (a newer SDK's) and
// negative ones (an int32 on the wire) are stored as they came; a name this
// server does not know is 400 naming the field, as it has no number.
TEST(OtlpCodecTest, EnumNumbersAreStoredAsTheyCame) {
  auto logs = Logs(OneLog(R"({"severityNumber":31},{"severityNumber":"SEVERITY_NUMBER_FATAL4"})"));
  ASSERT_TRUE(logs.ok()) << logs.status();
  EXPECT_EQ(Cell(*logs, "severity_number", 0), "31");
  EXPECT_EQ(Cell(*logs, "severity_number", 1), "24");
  auto spans = Spans(
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"01000000000000000000000000000000",
      "spanId":"0100000000000000","startTimeUnixNano":10,"endTimeUnixNano":25,"kind":9,
      "status":{"code":3}}]}]}]})");
  ASSERT_TRUE(spans.ok()) << spans.status();
  EXPECT_EQ(Cell(*spans, "kind"), "9");
  EXPECT_EQ(Cell(*spans, "status_code"), "3");

  otlp::ExportLogsServiceRequest req;
  req.add_resource_logs()->add_scope_logs()->add_log_records()->set_severity_number(-2);
  auto rows = LogsToIngest(req, {.slug = "l"});
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Cell(*rows, "severity_number"), "-2");

  for (const char* bad :
       {R"({"severityNumber":"SEVERITY_NUMBER_LOUD"})", R"({"severityNumber":2147483648})"}) {
    SCOPED_TRACE(bad);
    logs = Logs(OneLog(bad));
    ASSERT_FALSE(logs.ok());
    EXPECT_EQ(ErrorCodeOf(logs.status()), "invalid_value");
    EXPECT_NE(Details(logs.status()).find(R"("field":"severityNumber")"), std::string::npos)
        << Details(logs.status());
  }
  spans = Spans(
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"01000000000000000000000000000000",
      "spanId":"0100000000000000","startTimeUnixNano":10,"endTimeUnixNano":25,
      "kind":"SPAN_KIND_SIDEWAYS"}]}]}]})");
  ASSERT_FALSE(spans.ok());
  EXPECT_NE(Details(spans.status()).find(R"("field":"kind")"), std::string::npos)
      << Details(spans.status());
}

TEST(OtlpCodecTest, JsonErrorsNameTheRecordLevel) {
  // An error in a scope names the scope; in a resource, the resource.
  auto logs = Logs(R"({"resourceLogs":[{},{"scopeLogs":[{},{"scope":{"version":[]}}]}]})");
  ASSERT_FALSE(logs.ok());
  EXPECT_NE(Details(logs.status())
                .find(R"("record":"resourceLogs[1].scopeLogs[1]","field":"scope.version")"),
            std::string::npos)
      << Details(logs.status());
  logs = Logs(R"({"resourceLogs":[{"resource":{"droppedAttributesCount":-1}}]})");
  ASSERT_FALSE(logs.ok());
  EXPECT_NE(Details(logs.status())
                .find(R"("record":"resourceLogs[0]","field":"resource.droppedAttributesCount")"),
            std::string::npos)
      << Details(logs.status());
  logs = Logs("[1]");
  ASSERT_FALSE(logs.ok());
  EXPECT_EQ(
      logs.status().message(),
      "the request: expected a JSON object, got an array (nothing of this request was stored)");
}

}  // namespace
}  // namespace timestore::api
