// The OTLP/HTTP routes' refusals through Service::Handle (api/otlp_routes.h):
// a google.rpc.Status in the request's encoding for the 401 of
// authentication and the 403 of a missing scope, while the audit log still
// records the reason of each.
#include "api/otlp_routes.h"

#include <chrono>
#include <future>
#include <memory>

#include "api/otlp/otlp.pb.h"
#include "tests/api/token_fixture.h"
#include "tests/e2e/test_server.h"

namespace timestore::api::testing {
namespace {

constexpr char kLogs[] =
    R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"5"}]}]}]})";

class OtlpRoutesTest : public TokenModeTest {
 protected:
  // A request from `peer` (the audit keeps one refusal per address per 10 s).
  HttpResponse Send(const std::string& path, std::string body, Headers headers,
                    const std::string& peer) {
    HttpRequest req;
    req.method = "POST";
    req.path = path;
    req.body = std::move(body);
    req.headers = std::move(headers);
    req.remote_address = peer + ":4000";
    std::promise<HttpResponse> p;
    service_->Handle(std::move(req), [&p](HttpResponse r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  // The JSON google.rpc.Status of `r`: checks its shape, returns the
  // message of the api.md error inside.
  std::string StatusMessage(const HttpResponse& r, int64_t grpc, std::string_view code) {
    EXPECT_EQ(r.content_type, "application/json");
    simdjson::dom::parser p;
    simdjson::dom::element root;
    if (p.parse(r.body).get(root)) {
      ADD_FAILURE() << r.body;
      return "";
    }
    int64_t got = 0;
    std::string_view type, inner_code, message, status_message;
    EXPECT_FALSE(root["code"].get(got)) << r.body;
    EXPECT_EQ(got, grpc) << r.body;
    EXPECT_FALSE(root["details"].at(0)["@type"].get(type)) << r.body;
    EXPECT_EQ(type, "type.googleapis.com/timestore.Error");
    EXPECT_FALSE(root["details"].at(0)["code"].get(inner_code)) << r.body;
    EXPECT_EQ(inner_code, code);
    EXPECT_FALSE(root["details"].at(0)["message"].get(message)) << r.body;
    EXPECT_FALSE(root["message"].get(status_message)) << r.body;
    EXPECT_EQ(status_message, StrCat(code, ": ", message));
    EXPECT_FALSE(message.empty());
    return std::string(message);
  }
  // The reason of the auth.failure event from `peer` ("<none>" without one).
  std::string AuditReason(const std::string& peer) {
    Answer a = Call("GET", "/admin/audit", "", Bearer(kBootstrap));
    simdjson::dom::parser p;
    simdjson::dom::array events;
    if (p.parse(a.body)["events"].get(events)) return "<no audit> " + a.body;
    for (simdjson::dom::element e : events) {
      std::string_view source, reason;
      if (e["after"]["source"].get(source) || source != peer + ":4000") continue;
      if (e["after"]["reason"].get(reason)) return "<none>";
      return std::string(reason);
    }
    return "<no event> " + a.body;
  }
};

TEST_F(OtlpRoutesTest, UnauthenticatedIsAJsonStatusAndAudited) {
  HttpResponse r = Send("/v1/logs", kLogs, {{"content-type", "application/json"}}, "192.0.2.10");
  ASSERT_EQ(r.status, 401) << r.body;
  const std::string message = StatusMessage(r, 16, "unauthorized");
  size_t challenges = 0;
  for (const auto& [k, v] : r.headers) challenges += k == "WWW-Authenticate";
  EXPECT_EQ(challenges, 2u);  // the headers stay
  EXPECT_EQ(AuditReason("192.0.2.10"), message);
}

TEST_F(OtlpRoutesTest, ForbiddenIsAStatusInEitherEncodingAndTheAuditKeepsTheReason) {
  const std::string reader = NewToken(R"({"name":"r","scopes":["read"]})");
  Headers json = Bearer(reader);
  json.emplace_back("content-type", "application/json");
  HttpResponse r = Send("/v1/traces", R"({"resourceSpans":[]})", json, "192.0.2.11");
  ASSERT_EQ(r.status, 403) << r.body;
  const std::string message = StatusMessage(r, 7, "forbidden");
  EXPECT_EQ(AuditReason("192.0.2.11"), message);

  // Protobuf: a protobuf Status; the audit reads the reason before the
  // conversion, so it has it too.
  Headers proto = Bearer(reader);
  proto.emplace_back("content-type", "application/x-protobuf");
  r = Send("/v1/logs", otlp::ExportLogsServiceRequest().SerializeAsString(), proto, "192.0.2.12");
  ASSERT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.content_type, "application/x-protobuf");
  otlp::RpcStatus status;
  ASSERT_TRUE(status.ParseFromString(r.body));
  EXPECT_EQ(status.code(), 7);
  EXPECT_EQ(status.message(), StrCat("forbidden: ", message));
  EXPECT_EQ(AuditReason("192.0.2.12"), message);
}

// A gzip body of a few kilobytes can hold millions of empty records: they are
// counted and refused before any is built. Each body ends with a bad record
// that building them would have reported instead (a 400).
TEST_F(OtlpRoutesTest, MillionsOfEmptyRecordsInASmallGzipBodyAre413) {
  constexpr int kRecords = 3'000'000;  // past 32 Mi cells / 15 columns
  const std::string writer = NewToken(R"({"name":"w","scopes":["write"]})");
  auto varint = [](uint64_t v) {
    std::string out;
    for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>(v | 0x80));
    out.push_back(static_cast<char>(v));
    return out;
  };
  // ScopeLogs: empty LogRecords (field 2, length 0), then one that is not
  // protobuf inside (a tag that never ends).
  std::string scope;
  scope.reserve(2 * kRecords + 3);
  for (int i = 0; i < kRecords; ++i) scope.append("\x12\x00", 2);
  scope.append("\x12\x01\xff", 3);
  const std::string resource = "\x12" + varint(scope.size()) + scope;
  const std::string proto = "\x0a" + varint(resource.size()) + resource;
  std::string gz = timestore::testing::Gzip(proto);
  EXPECT_LT(gz.size(), 64u << 10);
  Headers headers = Bearer(writer);
  headers.emplace_back("content-encoding", "gzip");
  headers.emplace_back("content-type", "application/x-protobuf");
  HttpResponse r = Send("/v1/logs", std::move(gz), headers, "192.0.2.20");
  ASSERT_EQ(r.status, 413) << r.body.substr(0, 300);
  otlp::RpcStatus status;
  ASSERT_TRUE(status.ParseFromString(r.body));
  EXPECT_EQ(status.code(), 8);
  EXPECT_NE(status.message().find("payload_too_large: the request has 3000001 log records"),
            std::string::npos)
      << status.message();

  std::string json = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[)";
  json.reserve(json.size() + 3 * kRecords + 64);
  for (int i = 0; i < kRecords; ++i) json.append("{},");
  json.append(R"({"timeUnixNano":"soon"}]}]}]})");
  headers.back().second = "application/json";
  r = Send("/v1/logs", timestore::testing::Gzip(json), headers, "192.0.2.20");
  ASSERT_EQ(r.status, 413) << r.body.substr(0, 300);
  EXPECT_NE(StatusMessage(r, 8, "payload_too_large").find("the request has 3000001 log records"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(engine_->GetDataset("otel_logs"), nullptr);
}

// The 200 is sent once the rows are durable, not from the admin-pool task
// that makes service_name the series key: that pool (two threads) is shared
// with migrations, deletes and storage checks. With the pool joined, as at
// shutdown, a task posted to it never runs; the export is answered anyway.
TEST_F(OtlpRoutesTest, ExportIsAnsweredWithoutWaitingForTheAdminPool) {
  const std::string writer = NewToken(R"({"name":"w","scopes":["write"]})");
  service_->Shutdown();
  HttpRequest req;
  req.method = "POST";
  req.path = "/v1/logs";
  req.body = kLogs;
  req.headers = Bearer(writer);
  req.headers.emplace_back("content-type", "application/json");
  req.remote_address = "192.0.2.30:4000";
  auto p = std::make_shared<std::promise<HttpResponse>>();
  service_->Handle(std::move(req), [p](HttpResponse r) { p->set_value(std::move(r)); });
  auto answer = p->get_future();
  // A bound on a hang, not a timing: without the fix no answer ever comes.
  ASSERT_EQ(answer.wait_for(std::chrono::seconds(120)), std::future_status::ready);
  HttpResponse r = answer.get();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{}");
  // The settings task did not run (the pool is joined): harmless, the rows
  // are stored and a later export sets the series key.
  std::shared_ptr<Dataset> ds = engine_->GetDataset("otel_logs");
  ASSERT_NE(ds, nullptr);
  EXPECT_FALSE(ds->chosen_segment_by().has_value());
}

TEST(OtlpErrorAnswerTest, StatusBodies) {
  HttpResponse r;
  r.status = 429;
  r.body = R"({"error":{"code":"rate_limited","message":"slow down","details":{"retryAfter":2}}})";
  r.headers.emplace_back("Retry-After", "2");
  HttpResponse j = OtlpErrorAnswer("application/json; charset=utf-8", r);
  EXPECT_EQ(j.status, 429);
  EXPECT_EQ(j.body,
            R"({"code":8,"message":"rate_limited: slow down","details":[{"@type":)"
            R"("type.googleapis.com/timestore.Error","code":"rate_limited","message":"slow down",)"
            R"("details":{"retryAfter":2}}]})");
  EXPECT_EQ(j.headers, r.headers);
  // Anything that is not api.md's error: the body as the message, no details.
  r.status = 503;
  r.body = "not json";
  EXPECT_EQ(OtlpErrorAnswer("", r).body, R"({"code":14,"message":"not json","details":[]})");
  r.status = 200;
  EXPECT_EQ(OtlpErrorAnswer("", r).body, "not json");
  EXPECT_EQ(OtlpGrpcCode(413), 8);
  EXPECT_EQ(OtlpGrpcCode(422), 9);
}

}  // namespace
}  // namespace timestore::api::testing
