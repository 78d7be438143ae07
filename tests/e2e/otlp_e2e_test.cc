// OTLP/HTTP logs and traces against the real `timestore serve`
// (docs/otlp.md): JSON and protobuf exports with nested attributes, the rows
// and columns they become, the queries a trace view and an error dashboard
// ask (a trace's spans; errors per service per minute), 400s that name the
// record and the field and store nothing, and a 200 that survives kill -9.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>

#include "api/otlp/otlp.pb.h"
#include "common/strings.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

constexpr int64_t kT0 = 1714564800000000000;  // 2024-05-01T12:00:00Z
constexpr int64_t kMs = 1'000'000;
constexpr const char* kRange =
    R"("timeRange":{"start":"2024-05-01T00:00:00Z","end":"2024-05-02T00:00:00Z"})";
const HttpHeaders kJson = {{"Content-Type", "application/json"}};
const HttpHeaders kProtobuf = {{"Content-Type", "application/x-protobuf"}};

// Two log records of service "checkout": nested attributes of every kind,
// ids in upper case, times as a string and as a number, an enum by name, a
// structured body.
constexpr const char* kLogsJson = R"({"resourceLogs":[{
  "resource":{"attributes":[
    {"key":"service.name","value":{"stringValue":"checkout"}},
    {"key":"host","value":{"kvlistValue":{"values":[
      {"key":"name","value":{"stringValue":"web-1"}},
      {"key":"cpus","value":{"intValue":"8"}}]}}}]},
  "scopeLogs":[{
    "scope":{"name":"app.logger","version":"1.2.0"},
    "logRecords":[
      {"timeUnixNano":"1714564800000000000","observedTimeUnixNano":1714564800500000000,
       "severityNumber":17,"severityText":"ERROR",
       "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","flags":257,
       "body":{"stringValue":"payment failed"},
       "attributes":[
         {"key":"http","value":{"kvlistValue":{"values":[
           {"key":"status","value":{"intValue":502}},
           {"key":"method","value":{"stringValue":"POST"}}]}}},
         {"key":"retry","value":{"boolValue":true}},
         {"key":"tags","value":{"arrayValue":{"values":[
           {"stringValue":"a"},{"intValue":"2"},{"doubleValue":2.5}]}}},
         {"key":"raw","value":{"bytesValue":"AAEC"}},
         {"key":"unknownKeysAreIgnored","value":{"stringValue":"x"},"futureField":1}]},
      {"timeUnixNano":"1714564801000000000","severityNumber":"SEVERITY_NUMBER_INFO",
       "body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"ok"}}]}}}]}]}]})";

constexpr const char* kTraceA = "0af7651916cd43dd8448eb211c80319c";
constexpr const char* kTraceB = "4bf92f3577b34da6a3ce929d0e0e4736";

// Trace A: frontend's root span, checkout's "charge" (an error, with an
// event and a link to trace B) and its client span "db.query". Trace B:
// one frontend span.
constexpr const char* kTracesJson = R"({"resourceSpans":[
 {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"frontend"}}]},
  "scopeSpans":[{"scope":{"name":"http.server"},"spans":[
   {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"GET /checkout",
    "kind":2,"startTimeUnixNano":"1714564800000000000","endTimeUnixNano":"1714564800250000000",
    "attributes":[{"key":"http","value":{"kvlistValue":{"values":[
      {"key":"route","value":{"stringValue":"/checkout"}},
      {"key":"status_code","value":{"intValue":"500"}}]}}}],
    "status":{}},
   {"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"2222222222222222","name":"GET /",
    "kind":2,"startTimeUnixNano":"1714564830000000000","endTimeUnixNano":"1714564830010000000"}]}]},
 {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
  "scopeSpans":[{"scope":{"name":"payments","version":"0.9"},"spans":[
   {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00f067aa0ba902b7",
    "parentSpanId":"b7ad6b7169203331","name":"charge","kind":3,
    "startTimeUnixNano":"1714564800010000000","endTimeUnixNano":"1714564800200000000",
    "status":{"code":2,"message":"card declined"},
    "attributes":[{"key":"payment.provider","value":{"stringValue":"acme"}}],
    "events":[{"timeUnixNano":"1714564800150000000","name":"exception",
               "attributes":[{"key":"exception.type","value":{"stringValue":"CardError"}}]}],
    "links":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"2222222222222222"}]},
   {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"1111111111111111",
    "parentSpanId":"00f067aa0ba902b7","name":"db.query","kind":"SPAN_KIND_CLIENT",
    "startTimeUnixNano":"1714564800020000000","endTimeUnixNano":"1714564800120000000",
    "status":{"code":"STATUS_CODE_OK"}}]}]}]})";

// The compact text of a value of a query row: a json column comes back as
// JSON, so `{"a":1}` reads as {"a":1}; strings as their content.
std::string Text(simdjson::dom::element e) {
  std::string_view s;
  if (!e.get_string().get(s)) return std::string(s);
  return simdjson::minify(e);
}

class OtlpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    server_ = std::make_unique<TestServer>(dir_);
    ASSERT_TRUE(server_->Start()) << "see " << server_->log_path();
    client_ = std::make_unique<HttpClient>(server_->port());
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The rows of a query of `dataset`: `extra` is the members after timeRange.
  simdjson::dom::array Rows(const std::string& dataset, const std::string& extra = "") {
    last_ = client_->Post(StrCat("/datasets/", dataset, "/query"),
                          StrCat("{", kRange, extra.empty() ? "" : ",", extra, "}"));
    EXPECT_EQ(last_.status, 200) << last_.body;
    simdjson::dom::element doc;
    if (parser_.parse(last_.body).get(doc)) return {};
    simdjson::dom::array rows;
    if (doc["rows"].get(rows)) ADD_FAILURE() << last_.body;
    return rows;
  }

  // GET /admin/datasets/{dataset} once it shows service_name as the series
  // key: the route sets it on the admin pool after answering the export.
  // Gives up (returning the last answer) after a minute, a bound on a hang.
  HttpResult DatasetOnceKeyed(const std::string& dataset) {
    HttpResult r;
    for (int i = 0; i < 600; ++i) {
      r = client_->Get("/admin/datasets/" + dataset);
      if (r.body.find(R"("seriesKey":["service_name"])") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return r;
  }

  // An error answer to a JSON request is a JSON google.rpc.Status whose
  // details[0] is api.md's error object: its details member `key`.
  std::string Detail(const HttpResult& r, const char* key) {
    simdjson::dom::parser p;
    std::string_view v;
    if (p.parse(r.body)["details"].at(0)["details"][key].get(v)) return "<none>";
    return std::string(v);
  }
  // api.md's error code, checked against the Status around it.
  std::string Code(const HttpResult& r) {
    simdjson::dom::parser p;
    simdjson::dom::element root;
    std::string_view code, message, type, status_message;
    int64_t grpc = 0;
    if (p.parse(r.body).get(root) || root["details"].at(0)["code"].get(code)) return "<none>";
    EXPECT_EQ(r.headers.count("content-type") ? r.headers.at("content-type") : "",
              "application/json");
    EXPECT_FALSE(root["code"].get(grpc)) << r.body;
    EXPECT_EQ(grpc, r.status == 400 || r.status == 415 ? 3 : r.status == 405 ? 12 : -1) << r.body;
    EXPECT_FALSE(root["details"].at(0)["@type"].get(type)) << r.body;
    EXPECT_EQ(type, "type.googleapis.com/timestore.Error");
    EXPECT_FALSE(root["details"].at(0)["message"].get(message)) << r.body;
    EXPECT_FALSE(root["message"].get(status_message)) << r.body;
    EXPECT_EQ(status_message, StrCat(code, ": ", message));
    return std::string(code);
  }
  // The code of api.md's error body (the routes other than OTLP's).
  std::string ApiCode(const HttpResult& r) {
    simdjson::dom::parser p;
    std::string_view v;
    if (p.parse(r.body)["error"]["code"].get(v)) return "<none>";
    return std::string(v);
  }

  std::string dir_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<HttpClient> client_;
  simdjson::dom::parser parser_;
  HttpResult last_;
};

TEST_F(OtlpTest, JsonLogsWithNestedAttributes) {
  HttpResult r = client_->Post("/v1/logs", kLogsJson, kJson);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(r.headers["content-type"], "application/json");

  auto rows = Rows("otel_logs", R"("timestampFormat":"epoch_ns")");
  ASSERT_EQ(rows.size(), 2u) << last_.body;
  auto first = rows.at(0);
  EXPECT_EQ(int64_t(first["timestamp"]), kT0);
  EXPECT_EQ(int64_t(first["observed_timestamp"]), kT0 + 500 * kMs);
  EXPECT_EQ(Text(first["service_name"]), "checkout");
  EXPECT_EQ(int64_t(first["severity_number"]), 17);
  EXPECT_EQ(Text(first["severity_text"]), "ERROR");
  EXPECT_EQ(Text(first["body"]), "payment failed");
  EXPECT_EQ(Text(first["trace_id"]), "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(Text(first["span_id"]), "eee19b7ec3c1b174");
  EXPECT_EQ(int64_t(first["trace_flags"]), 1);
  // Canonical JSON: keys sorted, intValue as numbers, bytes as base64.
  EXPECT_EQ(Text(first["attributes"]),
            R"({"http":{"method":"POST","status":502},"raw":"AAEC","retry":true,)"
            R"("tags":["a",2,2.5],"unknownKeysAreIgnored":"x"})");
  EXPECT_EQ(Text(first["resource_attributes"]),
            R"({"host":{"cpus":8,"name":"web-1"},"service.name":"checkout"})");
  EXPECT_EQ(Text(first["scope_name"]), "app.logger");
  EXPECT_EQ(Text(first["scope_version"]), "1.2.0");
  EXPECT_TRUE(first["scope_attributes"].is_null());

  auto second = rows.at(1);
  EXPECT_EQ(int64_t(second["severity_number"]), 9);
  EXPECT_TRUE(second["severity_text"].is_null());
  EXPECT_TRUE(second["trace_id"].is_null());
  EXPECT_TRUE(second["observed_timestamp"].is_null());
  EXPECT_EQ(Text(second["body"]), R"({"msg":"ok"})");  // a structured body as JSON text
  EXPECT_TRUE(second["attributes"].is_null());

  // service_name is the series key.
  r = DatasetOnceKeyed("otel_logs");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("seriesKey":["service_name"],"seriesKeySource":"segmentBy")"),
            std::string::npos)
      << r.body;
}

TEST_F(OtlpTest, JsonTracesFindATracesSpans) {
  HttpResult r = client_->Post("/v1/traces", kTracesJson, kJson);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{}");

  auto rows = Rows("otel_traces", StrCat(R"("filters":[{"column":"trace_id","op":"eq","value":")",
                                         kTraceA, R"("}],"timestampFormat":"epoch_ns")"));
  ASSERT_EQ(rows.size(), 3u) << last_.body;
  // By start time: the root, charge, db.query.
  auto root = rows.at(0), charge = rows.at(1), db = rows.at(2);
  EXPECT_EQ(Text(root["name"]), "GET /checkout");
  EXPECT_EQ(Text(root["service_name"]), "frontend");
  EXPECT_TRUE(root["parent_span_id"].is_null());
  EXPECT_EQ(int64_t(root["duration_ns"]), 250 * kMs);
  EXPECT_EQ(int64_t(root["end_timestamp"]), kT0 + 250 * kMs);
  EXPECT_EQ(int64_t(root["kind"]), 2);
  EXPECT_EQ(int64_t(root["status_code"]), 0);
  EXPECT_EQ(Text(root["attributes"]), R"({"http":{"route":"/checkout","status_code":500}})");
  EXPECT_EQ(Text(root["scope_name"]), "http.server");

  EXPECT_EQ(Text(charge["name"]), "charge");
  EXPECT_EQ(Text(charge["service_name"]), "checkout");
  EXPECT_EQ(Text(charge["span_id"]), "00f067aa0ba902b7");
  EXPECT_EQ(Text(charge["parent_span_id"]), "b7ad6b7169203331");
  EXPECT_EQ(int64_t(charge["status_code"]), 2);
  EXPECT_EQ(Text(charge["status_message"]), "card declined");
  EXPECT_EQ(int64_t(charge["duration_ns"]), 190 * kMs);
  EXPECT_EQ(Text(charge["events"]),
            R"([{"attributes":{"exception.type":"CardError"},"name":"exception",)"
            R"("timeUnixNano":1714564800150000000}])");
  EXPECT_EQ(Text(charge["links"]),
            StrCat(R"([{"spanId":"2222222222222222","traceId":")", kTraceB, R"("}])"));
  EXPECT_EQ(Text(charge["scope_version"]), "0.9");

  EXPECT_EQ(Text(db["name"]), "db.query");
  EXPECT_EQ(int64_t(db["kind"]), 3);         // SPAN_KIND_CLIENT by name
  EXPECT_EQ(int64_t(db["status_code"]), 1);  // STATUS_CODE_OK by name
  EXPECT_TRUE(db["events"].is_null());

  rows = Rows("otel_traces",
              StrCat(R"("filters":[{"column":"trace_id","op":"eq","value":")", kTraceB, R"("}])"));
  ASSERT_EQ(rows.size(), 1u) << last_.body;
  EXPECT_EQ(Text(rows.at(0)["name"]), "GET /");

  // A path into the nested attributes (json columns, docs/api.md).
  rows = Rows("otel_traces",
              R"("filters":[{"column":"attributes.http.status_code","op":"eq","value":500}],)"
              R"("columns":["name"])");
  ASSERT_EQ(rows.size(), 1u) << last_.body;
  EXPECT_EQ(Text(rows.at(0)["name"]), "GET /checkout");

  // A flat OpenTelemetry key with a dot, stored as sent, found by the same path form.
  rows = Rows("otel_traces",
              R"("filters":[{"column":"attributes.payment.provider","op":"eq","value":"acme"}],)"
              R"("columns":["name","attributes.payment.provider"])");
  ASSERT_EQ(rows.size(), 1u) << last_.body;
  EXPECT_EQ(Text(rows.at(0)["name"]), "charge");
  EXPECT_EQ(Text(rows.at(0)["attributes.payment.provider"]), "acme");
}

// Spans sent as protobuf (the generated classes of api/otlp/otlp.proto), one
// request gzip-compressed; errors counted per service per minute.
TEST_F(OtlpTest, ProtobufSpansErrorsPerServicePerMinute) {
  std::map<std::pair<int64_t, std::string>, int> expected;  // (minute, service) -> errors
  const char* services[] = {"frontend", "checkout", "search"};
  for (int batch = 0; batch < 2; ++batch) {
    otlp::ExportTraceServiceRequest req;
    for (int s = 0; s < 3; ++s) {
      otlp::ResourceSpans* rs = req.add_resource_spans();
      otlp::KeyValue* kv = rs->mutable_resource()->add_attributes();
      kv->set_key("service.name");
      kv->mutable_value()->set_string_value(services[s]);
      otlp::ScopeSpans* ss = rs->add_scope_spans();
      for (int i = 0; i < 30; ++i) {
        const int n = batch * 30 + i;  // 60 spans a service, 1 every 3 s: 3 minutes
        otlp::Span* span = ss->add_spans();
        std::string trace(16, '\0'), id(8, '\0');
        trace[0] = static_cast<char>(s + 1);
        trace[15] = static_cast<char>(n + 1);
        id[0] = static_cast<char>(s + 1);
        id[7] = static_cast<char>(n + 1);
        span->set_trace_id(trace);
        span->set_span_id(id);
        span->set_name("op");
        const int64_t start = kT0 + int64_t{n} * 3000 * kMs;
        span->set_start_time_unix_nano(start);
        span->set_end_time_unix_nano(start + 5 * kMs);
        // Service s fails every (s + 2)th span; others are OK or unset.
        const bool error = n % (s + 2) == 0;
        span->mutable_status()->set_code(error ? 2 : n % 2);
        if (error) ++expected[{(start / (60'000 * kMs)) * 60'000 * kMs, services[s]}];
        otlp::KeyValue* attr = span->add_attributes();
        attr->set_key("attempt");
        attr->mutable_value()->set_int_value(n);
      }
    }
    std::string body = req.SerializeAsString();
    HttpHeaders headers = kProtobuf;
    if (batch == 1) {
      body = Gzip(body);
      headers.emplace_back("Content-Encoding", "gzip");
    }
    HttpResult r = client_->Post("/v1/traces", body, headers);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers["content-type"], "application/x-protobuf");
    otlp::ExportTraceServiceResponse answer;
    EXPECT_TRUE(answer.ParseFromString(r.body));
    EXPECT_FALSE(answer.has_partial_success());
  }

  auto rows =
      Rows("otel_traces",
           R"("filters":[{"column":"status_code","op":"eq","value":2}],)"
           R"("downsample":{"intervalUnit":"minute","intervalSize":1,)"
           R"("groupBy":["service_name"],"aggregations":[{"fn":"count","alias":"errors"}]},)"
           R"("timestampFormat":"epoch_ns")");
  std::map<std::pair<int64_t, std::string>, int> got;
  for (auto row : rows) {
    got[{int64_t(row["timestamp"]), Text(row["service_name"])}] = int(int64_t(row["errors"]));
  }
  EXPECT_EQ(got, expected) << last_.body;
  EXPECT_EQ(expected.size(), 9u);  // 3 minutes x 3 services

  // And all spans of one trace, by its id.
  rows = Rows(
      "otel_traces",
      R"("filters":[{"column":"trace_id","op":"eq","value":"0200000000000000000000000000000b"}])");
  ASSERT_EQ(rows.size(), 1u) << last_.body;
  EXPECT_EQ(Text(rows.at(0)["service_name"]), "checkout");
  EXPECT_EQ(Text(rows.at(0)["attributes"]), R"({"attempt":10})");
}

TEST_F(OtlpTest, ProtobufLogsAndProtobufErrors) {
  otlp::ExportLogsServiceRequest req;
  otlp::ResourceLogs* rl = req.add_resource_logs();
  otlp::KeyValue* kv = rl->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("worker");
  otlp::LogRecord* log = rl->add_scope_logs()->add_log_records();
  log->set_time_unix_nano(kT0);
  log->set_severity_number(13);
  log->set_severity_text("WARN");
  log->mutable_body()->set_string_value("queue is deep");
  log->set_trace_id(
      std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16));
  otlp::KeyValue* attr = log->add_attributes();
  attr->set_key("depth");
  attr->mutable_value()->set_double_value(1e3);
  HttpResult r = client_->Post("/v1/logs", req.SerializeAsString(), kProtobuf);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/x-protobuf");
  EXPECT_EQ(r.body, "");  // an empty ExportLogsServiceResponse

  auto rows = Rows("otel_logs");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(Text(rows.at(0)["service_name"]), "worker");
  EXPECT_EQ(Text(rows.at(0)["severity_text"]), "WARN");
  EXPECT_EQ(Text(rows.at(0)["trace_id"]), "0102030405060708090a0b0c0d0e0f10");
  EXPECT_EQ(Text(rows.at(0)["attributes"]), R"({"depth":1000})");  // whole doubles canonicalise

  // A trace id of 15 bytes: a protobuf google.rpc.Status naming the record.
  log->set_trace_id(std::string(15, '\x01'));
  r = client_->Post("/v1/logs", req.SerializeAsString(), kProtobuf);
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(r.headers["content-type"], "application/x-protobuf");
  otlp::RpcStatus status;
  ASSERT_TRUE(status.ParseFromString(r.body));
  EXPECT_EQ(status.code(), 3);  // INVALID_ARGUMENT
  EXPECT_NE(status.message().find("resourceLogs[0].scopeLogs[0].logRecords[0]: field \"traceId\""),
            std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("15 bytes"), std::string::npos) << status.message();

  // Not protobuf at all.
  r = client_->Post("/v1/logs", "\xff\xff\xff garbage", kProtobuf);
  ASSERT_EQ(r.status, 400);
  ASSERT_TRUE(status.ParseFromString(r.body));
  EXPECT_NE(status.message().find("invalid_body"), std::string::npos) << status.message();
  // Text that is not UTF-8, in a nested attribute.
  log->set_trace_id("");
  attr->mutable_value()->mutable_kvlist_value()->add_values()->set_key("bad\xc3");
  r = client_->Post("/v1/logs", req.SerializeAsString(), kProtobuf);
  ASSERT_EQ(r.status, 400);
  ASSERT_TRUE(status.ParseFromString(r.body));
  EXPECT_NE(status.message().find("attributes[0].value.kvlistValue.values[0].key"),
            std::string::npos)
      << status.message();
  EXPECT_EQ(Rows("otel_logs").size(), 1u);  // nothing more stored
}

// Each bad request is a 400 naming the record and the field, and stores
// nothing: the dataset it names never comes to exist.
TEST_F(OtlpTest, BadRequestsNameTheRecordAndFieldAndStoreNothing) {
  HttpHeaders headers = kJson;
  headers.emplace_back("x-timestore-dataset", "otel_bad");
  const std::string span_ok =
      R"({"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",)"
      R"("startTimeUnixNano":"1714564800000000000","endTimeUnixNano":"1714564800000000001"})";
  auto spans = [&](const std::string& bad) {
    return StrCat(R"({"resourceSpans":[{"scopeSpans":[{"spans":[)", span_ok, ",", bad, "]}]}]}");
  };
  auto logs = [&](const std::string& bad) {
    return StrCat(R"({"resourceLogs":[{"scopeLogs":[{},{"logRecords":[{},)", bad, "]}]}]}");
  };
  const std::string span_rec = "resourceSpans[0].scopeSpans[0].spans[1]";
  const std::string log_rec = "resourceLogs[0].scopeLogs[1].logRecords[1]";
  struct Case {
    std::string route, body, code, record, field;
  };
  const Case cases[] = {
      {"/v1/traces", R"({"resourceSpans":[{"scopeSpans":[)", "invalid_json", "<none>", "<none>"},
      {"/v1/traces",
       spans(R"({"traceId":"zz00651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",)"
             R"("startTimeUnixNano":1,"endTimeUnixNano":2})"),
       "invalid_value", span_rec, "traceId"},
      {"/v1/traces",
       spans(R"({"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b716920333",)"
             R"("startTimeUnixNano":1,"endTimeUnixNano":2})"),
       "invalid_value", span_rec, "spanId"},
      {"/v1/traces",
       spans(R"({"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331"})"),
       "invalid_value", span_rec, "startTimeUnixNano"},
      {"/v1/traces",
       spans(
           R"({"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",)"
           R"("startTimeUnixNano":"1714564800000000000","endTimeUnixNano":"1714564700000000000"})"),
       "invalid_value", span_rec, "endTimeUnixNano"},
      {"/v1/traces",
       spans(R"({"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",)"
             R"("startTimeUnixNano":1,"endTimeUnixNano":2,"kind":"SPAN_KIND_SIDEWAYS"})"),
       "invalid_value", span_rec, "kind"},
      {"/v1/traces",
       spans(
           R"({"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",)"
           R"("startTimeUnixNano":1,"endTimeUnixNano":2,"attributes":[)"
           R"({"key":"a","value":{"kvlistValue":{"values":[{"key":"b","value":{"intValue":true}}]}}}]})"),
       "invalid_value", span_rec, "attributes[0].value.kvlistValue.values[0].value.intValue"},
      {"/v1/logs", logs(R"({"timeUnixNano":"yesterday"})"), "invalid_value", log_rec,
       "timeUnixNano"},
      {"/v1/logs", logs(R"({"timeUnixNano":-5})"), "invalid_value", log_rec, "timeUnixNano"},
      {"/v1/logs", logs(R"({"timeUnixNano":1.5})"), "invalid_value", log_rec, "timeUnixNano"},
      {"/v1/logs", logs(R"({"observedTimeUnixNano":"18446744073709551615"})"), "invalid_value",
       log_rec, "observedTimeUnixNano"},
      {"/v1/logs", logs(R"({"severityNumber":"LOUD"})"), "invalid_value", log_rec,
       "severityNumber"},
      {"/v1/logs", logs(R"({"severityText":7})"), "invalid_value", log_rec, "severityText"},
      {"/v1/logs", logs(R"({"traceId":"5b8efff798038103d269b633813fc6"})"), "invalid_value",
       log_rec, "traceId"},
      {"/v1/logs", logs(R"({"body":{"stringValue":"two","intValue":2}})"), "invalid_value", log_rec,
       "body.intValue"},
      {"/v1/logs", logs(R"({"attributes":{"key":"a"}})"), "invalid_value", log_rec, "attributes"},
      {"/v1/logs",
       R"({"resourceLogs":[{"resource":{"attributes":[{"key":"k","value":{"boolValue":"yes"}}]}}]})",
       "invalid_value", "resourceLogs[0]", "resource.attributes[0].value.boolValue"},
      {"/v1/logs", R"({"resourceLogs":[{"scopeLogs":[{"scope":{"name":5}}]}]})", "invalid_value",
       "resourceLogs[0].scopeLogs[0]", "scope.name"},
      {"/v1/logs", R"({"resourceLogs":{}})", "invalid_value", "<none>", "resourceLogs"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    HttpResult r = client_->Post(c.route, c.body, headers);
    ASSERT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(Code(r), c.code) << r.body;
    if (c.record != "<none>") {
      EXPECT_EQ(Detail(r, "record"), c.record) << r.body;
    }
    EXPECT_EQ(Detail(r, "field"), c.field) << r.body;
    if (c.code == "invalid_value") {
      EXPECT_NE(r.body.find(StrCat(c.record == "<none>" ? "the request" : c.record, ": field \\\"",
                                   c.field, "\\\"")),
                std::string::npos)
          << r.body;
    }
  }
  // Neither encoding: 415; another method: 405; a bad dataset name: 400.
  HttpResult r = client_->Post("/v1/logs", "{}", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(r.status, 415) << r.body;
  EXPECT_EQ(Code(r), "unsupported_media_type");
  r = client_->Get("/v1/traces");
  EXPECT_EQ(r.status, 405) << r.body;
  EXPECT_EQ(Code(r), "method_not_allowed");
  EXPECT_EQ(r.headers["allow"], "POST");
  r = client_->Post("/v1/logs?dataset=Bad%20Name", "{}", kJson);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Code(r), "invalid_slug");

  r = client_->Post("/datasets/otel_bad/query", StrCat("{", kRange, "}"));
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(ApiCode(r), "dataset_not_found");
}

// Where rows go: the x-timestore-dataset header, else ?dataset=, else the
// signal's default; an export without records stores nothing.
TEST_F(OtlpTest, DatasetFromHeaderOrQueryAndEmptyExports) {
  HttpHeaders headers = kJson;
  headers.emplace_back("x-timestore-dataset", "app_logs");
  ASSERT_EQ(client_->Post("/v1/logs", kLogsJson, headers).status, 200);
  EXPECT_EQ(Rows("app_logs").size(), 2u);
  HttpResult r = client_->Post(
      "/v1/logs?dataset=more_logs", Gzip(kLogsJson),
      {{"Content-Type", "application/json; charset=utf-8"}, {"Content-Encoding", "gzip"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Rows("more_logs").size(), 2u);

  r = client_->Post("/v1/traces", R"({"resourceSpans":[]})", kJson);
  ASSERT_EQ(r.status, 200) << r.body;
  r = client_->Post("/v1/traces", "{}", kJson);
  ASSERT_EQ(r.status, 200) << r.body;
  r = client_->Post("/datasets/otel_traces/query", StrCat("{", kRange, "}"));
  EXPECT_EQ(r.status, 404) << r.body;
}

// A body over TIMESTORE_MAX_BODY_BYTES is refused by the HTTP server before
// any route reads it; on the OTLP paths that answer is a google.rpc.Status
// too (RESOURCE_EXHAUSTED), in the request's encoding, and /ingest keeps
// api.md's error body.
TEST_F(OtlpTest, BodiesOverTheServerLimitAreAStatus) {
  client_.reset();
  server_ = std::make_unique<TestServer>(
      dir_, std::map<std::string, std::string>{{"TIMESTORE_MAX_BODY_BYTES", "4096"}});
  ASSERT_TRUE(server_->Start()) << "see " << server_->log_path();
  const std::string big(5000, ' ');
  {
    HttpClient c(server_->port());
    HttpResult r = c.Post("/v1/logs", big, kJson);
    ASSERT_EQ(r.status, 413) << r.body;
    EXPECT_NE(r.body.find(R"("code":8)"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("payload_too_large: request body exceeds the limit of 4096 bytes"),
              std::string::npos)
        << r.body;
  }
  {
    HttpClient c(server_->port());
    HttpResult r = c.Post("/v1/traces?dataset=t", big, kProtobuf);
    ASSERT_EQ(r.status, 413) << r.body;
    EXPECT_EQ(r.headers["content-type"], "application/x-protobuf");
    otlp::RpcStatus status;
    ASSERT_TRUE(status.ParseFromString(r.body));
    EXPECT_EQ(status.code(), 8);
    EXPECT_NE(status.message().find("payload_too_large"), std::string::npos) << status.message();
  }
  {
    HttpClient c(server_->port());
    HttpResult r = c.Post("/datasets/cpu/ingest", big);
    ASSERT_EQ(r.status, 413) << r.body;
    EXPECT_NE(r.body.find(R"("error":{"code":"payload_too_large")"), std::string::npos) << r.body;
  }
  client_ = std::make_unique<HttpClient>(server_->port());
}

// Timefusion's otel_logs_and_spans: both signals into one dataset (their
// columns never clash), and a trace's spans and log lines in one query.
TEST_F(OtlpTest, LogsAndSpansShareOneDataset) {
  HttpHeaders headers = kJson;
  headers.emplace_back("x-timestore-dataset", "otel_logs_and_spans");
  ASSERT_EQ(client_->Post("/v1/traces", kTracesJson, headers).status, 200);
  const std::string log = StrCat(
      R"({"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},)"
      R"("scopeLogs":[{"logRecords":[{"timeUnixNano":"1714564800100000000","severityNumber":17,)"
      R"("traceId":")",
      kTraceA, R"(","spanId":"00f067aa0ba902b7","body":{"stringValue":"card declined"}}]}]}]})");
  HttpResult r = client_->Post("/v1/logs", log, headers);
  ASSERT_EQ(r.status, 200) << r.body;
  auto rows = Rows("otel_logs_and_spans",
                   StrCat(R"("filters":[{"column":"trace_id","op":"eq","value":")", kTraceA,
                          R"("}],"columns":["service_name","name","severity_number","body"])"));
  ASSERT_EQ(rows.size(), 4u) << last_.body;  // 3 spans and the log line, by time
  EXPECT_EQ(Text(rows.at(3)["body"]), "card declined");
  EXPECT_TRUE(rows.at(3)["name"].is_null());
  EXPECT_EQ(int64_t(rows.at(3)["severity_number"]), 17);
  EXPECT_EQ(Text(rows.at(2)["name"]), "db.query");
  EXPECT_TRUE(rows.at(2)["severity_number"].is_null());
}

// A 200 means the rows are in the fsynced WAL: kill -9 right after, restart,
// and they are there, with the series key once it was set.
TEST_F(OtlpTest, AcknowledgedRowsSurviveKill) {
  ASSERT_EQ(client_->Post("/v1/logs", kLogsJson, kJson).status, 200);
  ASSERT_EQ(client_->Post("/v1/traces", kTracesJson, kJson).status, 200);
  HttpResult keyed = DatasetOnceKeyed("otel_traces");
  ASSERT_NE(keyed.body.find(R"("seriesKey":["service_name"])"), std::string::npos) << keyed.body;
  client_.reset();
  server_->Stop(SIGKILL);
  ASSERT_TRUE(server_->Start()) << "see " << server_->log_path();
  client_ = std::make_unique<HttpClient>(server_->port());
  EXPECT_EQ(Rows("otel_logs").size(), 2u);
  auto rows = Rows("otel_traces", StrCat(R"("filters":[{"column":"trace_id","op":"eq","value":")",
                                         kTraceA, R"("}])"));
  EXPECT_EQ(rows.size(), 3u) << last_.body;
  HttpResult r = client_->Get("/admin/datasets/otel_traces");
  EXPECT_NE(r.body.find(R"("seriesKey":["service_name"])"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace timestore::testing
