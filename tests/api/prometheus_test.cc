// Prometheus remote write and read through Service::Handle, in process, with
// bodies built from the generated prometheus.proto classes: the round trip of
// labels and values (NaN payloads and staleness markers bit for bit, in
// memory, after a flush to a sealed segment and after a restart), every
// matcher type, the label-to-column mapping, the errors (and that a refused
// request stores nothing), limits and scopes. The codec functions are tested
// on their own at the end.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <future>

#include "api/body_decoding.h"
#include "api/prometheus_codec.h"
#include "api/service.h"
#include "common/strings.h"

namespace timestore::api {
namespace {

constexpr uint64_t kStaleNaN = 0x7ff0000000000002ull;  // Prometheus's staleness marker
constexpr uint64_t kQuietNaN = 0x7ff8000000000000ull;
constexpr uint64_t kPayloadNaN = 0xfff8000000abcdefull;  // negative, with a payload

double Bits(uint64_t b) { return std::bit_cast<double>(b); }

struct Answer {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return "<absent>";
  }
};

using LabelList = std::vector<std::pair<std::string, std::string>>;

void AddSeries(prometheus::WriteRequest* w, const LabelList& labels,
               const std::vector<std::pair<int64_t, double>>& samples) {
  prometheus::TimeSeries* ts = w->add_timeseries();
  for (const auto& [n, v] : labels) {
    prometheus::Label* l = ts->add_labels();
    l->set_name(n);
    l->set_value(v);
  }
  for (const auto& [t, v] : samples) {
    prometheus::Sample* s = ts->add_samples();
    s->set_timestamp(t);
    s->set_value(v);
  }
}

std::string Encode(const google::protobuf::Message& m) {
  return SnappyEncode(m.SerializeAsString());
}

prometheus::LabelMatcher Matcher(prometheus::LabelMatcher::Type type, std::string name,
                                 std::string value) {
  prometheus::LabelMatcher m;
  m.set_type(type);
  m.set_name(std::move(name));
  m.set_value(std::move(value));
  return m;
}

constexpr auto EQ = prometheus::LabelMatcher::EQ;
constexpr auto NEQ = prometheus::LabelMatcher::NEQ;
constexpr auto RE = prometheus::LabelMatcher::RE;
constexpr auto NRE = prometheus::LabelMatcher::NRE;

// A series as read back: labels "k=v,k=v" and samples.
struct ReadSeries {
  std::string labels;
  std::vector<std::pair<int64_t, uint64_t>> samples;  // time, value bits
  bool operator==(const ReadSeries&) const = default;
};

std::ostream& operator<<(std::ostream& os, const ReadSeries& s) {
  os << "{" << s.labels << " |";
  for (const auto& [t, b] : s.samples) os << " " << t << ":" << std::hex << b << std::dec;
  return os << "}";
}

class PrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/timestore-prom-XXXXXX";
    root_ = mkdtemp(tmpl);
    Start(ServiceOptions{});
  }
  void TearDown() override {
    Stop();
    std::filesystem::remove_all(root_);
  }
  void Start(ServiceOptions options) {
    service_ = std::make_unique<Service>(std::move(options));
    EngineOptions eo;
    eo.root = root_;
    eo.background_sealing = false;
    auto e = Engine::Open(Env::Default(), eo);
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
    service_->SetEngine(engine_.get());
  }
  void Stop() {
    if (service_) service_->Shutdown();
    service_.reset();
    engine_.reset();
  }
  void Restart(ServiceOptions options = {}) {
    Stop();
    Start(std::move(options));
  }

  Answer Call(std::string method, std::string target, std::string body = "",
              std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpRequest req;
    req.method = std::move(method);
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    req.body = std::move(body);
    req.headers = std::move(headers);
    std::promise<HttpResponse> p;
    auto f = p.get_future();
    service_->Handle(std::move(req), [&p](HttpResponse r) { p.set_value(std::move(r)); });
    HttpResponse r = f.get();
    return {r.status, r.body, r.headers};
  }

  // Prometheus's own headers.
  Answer Write(const prometheus::WriteRequest& w, std::string target = "/api/v1/write") {
    return Call("POST", target, Encode(w),
                {{"content-encoding", "snappy"},
                 {"content-type", "application/x-protobuf"},
                 {"x-prometheus-remote-write-version", "0.1.0"}});
  }

  Answer ReadRaw(const prometheus::ReadRequest& r, std::string target = "/api/v1/read") {
    return Call("POST", target, Encode(r),
                {{"content-encoding", "snappy"}, {"content-type", "application/x-protobuf"}});
  }

  // One query over [start, end] ms with `matchers`; the series read back.
  std::vector<ReadSeries> Read(std::vector<prometheus::LabelMatcher> matchers, int64_t start = 0,
                               int64_t end = 1'000'000'000, std::string target = "/api/v1/read") {
    prometheus::ReadRequest r;
    prometheus::Query* q = r.add_queries();
    q->set_start_timestamp_ms(start);
    q->set_end_timestamp_ms(end);
    for (auto& m : matchers) *q->add_matchers() = m;
    Answer a = ReadRaw(r, target);
    EXPECT_EQ(a.status, 200) << a.body;
    if (a.status != 200) return {};
    EXPECT_EQ(a.Header("Content-Encoding"), "snappy");
    std::string decoded;
    EXPECT_TRUE(SnappyDecode(a.body, 1 << 30, &decoded).ok());
    prometheus::ReadResponse resp;
    EXPECT_TRUE(resp.ParseFromString(decoded));
    EXPECT_EQ(resp.results_size(), 1);
    std::vector<ReadSeries> out;
    if (resp.results_size() != 1) return out;
    for (const auto& ts : resp.results(0).timeseries()) {
      ReadSeries s;
      for (const auto& l : ts.labels()) {
        StrAppend(&s.labels, s.labels.empty() ? "" : ",", l.name(), "=", l.value());
      }
      for (const auto& smp : ts.samples()) {
        s.samples.emplace_back(smp.timestamp(), std::bit_cast<uint64_t>(smp.value()));
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  std::string ErrorCode(const Answer& a) {
    simdjson::dom::element root;
    if (parser_.parse(a.body).get(root)) return "<not json>";
    std::string_view code;
    if (root["error"]["code"].get(code)) return "<none>";
    return std::string(code);
  }

  uint64_t Rows(const std::string& slug) {
    auto ds = engine_->GetDataset(slug);
    if (ds == nullptr) return 0;
    QuerySpec spec;
    spec.start = std::numeric_limits<int64_t>::min();
    spec.end = std::numeric_limits<int64_t>::max();
    spec.limit = 1'000'000;
    auto r = engine_->Query(slug, spec);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->rows : 0;
  }

  std::string root_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<Engine> engine_;
  simdjson::dom::parser parser_;
};

prometheus::WriteRequest CpuRequest() {
  prometheus::WriteRequest w;
  AddSeries(&w, {{"__name__", "cpu_usage"}, {"host", "a"}, {"region", "eu"}},
            {{1000, 1.5}, {2000, Bits(kQuietNaN)}, {3000, Bits(kStaleNaN)}});
  AddSeries(&w, {{"region", "us"}, {"__name__", "cpu_usage"}, {"host", "b"}},
            {{1000, -0.0}, {2000, Bits(kPayloadNaN)}, {3000, INFINITY}});
  // Labels that collide with the dataset's own columns, or look escaped.
  AddSeries(&w,
            {{"__name__", "odd"},
             {"value", "v"},
             {"timestamp", "t"},
             {"label_x", "lx"},
             {"empty", ""},
             {"Up", "ü"}},
            {{1500, 7}});
  return w;
}

std::vector<ReadSeries> CpuExpected() {
  return {
      {"__name__=cpu_usage,host=a,region=eu",
       {{1000, std::bit_cast<uint64_t>(1.5)}, {2000, kQuietNaN}, {3000, kStaleNaN}}},
      {"__name__=cpu_usage,host=b,region=us",
       {{1000, std::bit_cast<uint64_t>(-0.0)},
        {2000, kPayloadNaN},
        {3000, std::bit_cast<uint64_t>(double(INFINITY))}}},
  };
}

TEST_F(PrometheusTest, RoundTripKeepsLabelsAndValueBitsBeforeAndAfterFlushAndRestart) {
  Answer a = Write(CpuRequest());
  ASSERT_EQ(a.status, 204) << a.body;
  EXPECT_TRUE(a.body.empty());

  // The rows: one per sample, labels as columns, collisions escaped.
  SchemaPtr schema = engine_->GetSchema("prometheus");
  ASSERT_NE(schema, nullptr);
  EXPECT_EQ(schema->time_column, "timestamp");
  std::vector<std::string> names;
  for (const Field& f : schema->fields) names.push_back(f.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"timestamp", "value", "__name__", "host", "region",
                                      "label_value", "label_timestamp", "label_label_x", "Up"}));
  EXPECT_EQ(schema->fields[1].type, ColumnType::kDouble);
  EXPECT_EQ(Rows("prometheus"), 7u);

  auto odd = std::vector<ReadSeries>{
      {"Up=ü,__name__=odd,label_x=lx,timestamp=t,value=v", {{1500, std::bit_cast<uint64_t>(7.0)}}}};
  for (const char* stage : {"memory", "sealed", "restarted"}) {
    SCOPED_TRACE(stage);
    EXPECT_EQ(Read({Matcher(EQ, "__name__", "cpu_usage")}), CpuExpected());
    EXPECT_EQ(Read({Matcher(EQ, "__name__", "odd")}), odd);
    // The mapped-back labels match by their own names.
    EXPECT_EQ(Read({Matcher(EQ, "value", "v"), Matcher(EQ, "label_x", "lx")}), odd);
    if (std::string(stage) == "memory") {
      Answer f = Call("POST", "/admin/datasets/prometheus/flush");
      ASSERT_EQ(f.status, 200) << f.body;
      ASSERT_FALSE(engine_->GetDataset("prometheus")->segments().empty());
    } else if (std::string(stage) == "sealed") {
      // Half sealed, half replayed from the WAL after the restart.
      ASSERT_EQ(Write(CpuRequest()).status, 204);
      Restart();
    }
  }
  // After the restart every sample is there twice (sealed + replayed); the
  // read keeps one sample per millisecond, the last written.
  EXPECT_EQ(Rows("prometheus"), 14u);
}

TEST_F(PrometheusTest, EveryMatcherType) {
  prometheus::WriteRequest w;
  AddSeries(&w, {{"__name__", "m"}, {"host", "a"}, {"dc", "x"}}, {{10, 1}});
  AddSeries(&w, {{"__name__", "m"}, {"host", "ab"}}, {{10, 2}});
  AddSeries(&w, {{"__name__", "m"}, {"host", "b"}, {"dc", "y"}}, {{10, 3}});
  AddSeries(&w, {{"__name__", "n"}, {"host", "a\nb"}}, {{10, 4}});
  ASSERT_EQ(Write(w).status, 204);

  auto hosts = [&](std::vector<prometheus::LabelMatcher> ms) {
    std::vector<std::string> out;
    for (const auto& s : Read(std::move(ms))) out.push_back(s.labels);
    return out;
  };
  const std::string a = "__name__=m,dc=x,host=a", ab = "__name__=m,host=ab",
                    b = "__name__=m,dc=y,host=b", n = "__name__=n,host=a\nb";
  using V = std::vector<std::string>;
  EXPECT_EQ(hosts({Matcher(EQ, "host", "a")}), V{a});
  EXPECT_EQ(hosts({Matcher(NEQ, "host", "a")}), (V{b, ab, n}));
  EXPECT_EQ(hosts({Matcher(RE, "host", "a")}), V{a});          // anchored: not "ab"
  EXPECT_EQ(hosts({Matcher(RE, "host", "a.*")}), (V{a, ab}));  // '.' does not match \n
  EXPECT_EQ(hosts({Matcher(RE, "host", "(?s)a.*")}), (V{a, ab, n}));
  EXPECT_EQ(hosts({Matcher(RE, "host", "a|b")}), (V{a, b}));  // an `in` filter
  EXPECT_EQ(hosts({Matcher(NRE, "host", "a|b")}), (V{ab, n}));
  EXPECT_EQ(hosts({Matcher(NRE, "host", "a.*")}), (V{b, n}));
  // A label some series lack: they see "".
  EXPECT_EQ(hosts({Matcher(EQ, "dc", "")}), (V{ab, n}));
  EXPECT_EQ(hosts({Matcher(NEQ, "dc", "")}), (V{a, b}));
  EXPECT_EQ(hosts({Matcher(NEQ, "dc", "x")}), (V{b, ab, n}));
  EXPECT_EQ(hosts({Matcher(RE, "dc", "x|")}), (V{a, ab, n}));
  EXPECT_EQ(hosts({Matcher(RE, "dc", ".+")}), (V{a, b}));
  EXPECT_EQ(hosts({Matcher(NRE, "dc", ".*")}), V{});
  // A label no series has: "" everywhere.
  EXPECT_EQ(hosts({Matcher(EQ, "nope", "")}), (V{a, b, ab, n}));
  EXPECT_EQ(hosts({Matcher(EQ, "nope", "a")}), V{});
  EXPECT_EQ(hosts({Matcher(NEQ, "nope", "a")}), (V{a, b, ab, n}));
  EXPECT_EQ(hosts({Matcher(RE, "nope", ".+")}), V{});
  EXPECT_EQ(hosts({Matcher(NRE, "nope", "x")}), (V{a, b, ab, n}));
  // Several matchers are ANDed.
  EXPECT_EQ(
      hosts({Matcher(EQ, "__name__", "m"), Matcher(RE, "host", "a.*"), Matcher(NEQ, "dc", "x")}),
      V{ab});
  // Series in Prometheus's label-set order: pairwise by name, then value.
  EXPECT_EQ(hosts({}), (V{a, b, ab, n}));

  // A regex that does not compile is a 400 naming the label.
  prometheus::ReadRequest bad;
  *bad.add_queries()->add_matchers() = Matcher(RE, "host", "(");
  Answer r = ReadRaw(bad);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "invalid_matcher");
  EXPECT_NE(r.body.find("host"), std::string::npos) << r.body;
}

TEST_F(PrometheusTest, TimeRangeIsInclusiveAndSeveralQueriesAnswerInOrder) {
  prometheus::WriteRequest w;
  AddSeries(&w, {{"__name__", "m"}}, {{100, 1}, {200, 2}, {300, 3}, {400, 4}});
  ASSERT_EQ(Write(w).status, 204);
  auto times = [&](int64_t s, int64_t e) {
    std::vector<int64_t> out;
    for (const auto& series : Read({Matcher(EQ, "__name__", "m")}, s, e))
      for (const auto& [t, v] : series.samples) out.push_back(t);
    return out;
  };
  EXPECT_EQ(times(200, 300), (std::vector<int64_t>{200, 300}));
  EXPECT_EQ(times(201, 299), std::vector<int64_t>{});
  EXPECT_EQ(times(300, 200), std::vector<int64_t>{});
  EXPECT_EQ(times(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()),
            (std::vector<int64_t>{100, 200, 300, 400}));

  prometheus::ReadRequest r;
  for (int64_t s : {400, 100, 1000}) {
    prometheus::Query* q = r.add_queries();
    q->set_start_timestamp_ms(s);
    q->set_end_timestamp_ms(s);
  }
  // Prometheus 2.x sends no accepted types; a client that lists both gets SAMPLES.
  r.add_accepted_response_types(prometheus::ReadRequest::STREAMED_XOR_CHUNKS);
  r.add_accepted_response_types(prometheus::ReadRequest::SAMPLES);
  Answer a = ReadRaw(r);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.Header("Content-Encoding"), "snappy");
  std::string decoded;
  ASSERT_TRUE(SnappyDecode(a.body, 1 << 20, &decoded).ok());
  prometheus::ReadResponse resp;
  ASSERT_TRUE(resp.ParseFromString(decoded));
  ASSERT_EQ(resp.results_size(), 3);
  EXPECT_EQ(resp.results(0).timeseries(0).samples(0).value(), 4);
  EXPECT_EQ(resp.results(1).timeseries(0).samples(0).value(), 1);
  EXPECT_EQ(resp.results(2).timeseries_size(), 0);
}

TEST_F(PrometheusTest, UnknownDatasetReadsEmptyAndDatasetParameterIsChecked) {
  prometheus::ReadRequest r;
  r.add_queries()->set_end_timestamp_ms(1000);
  r.add_queries()->set_end_timestamp_ms(1000);
  Answer a = ReadRaw(r, "/api/v1/read?dataset=nothing-here");
  ASSERT_EQ(a.status, 200) << a.body;
  std::string decoded;
  ASSERT_TRUE(SnappyDecode(a.body, 1 << 20, &decoded).ok());
  prometheus::ReadResponse resp;
  ASSERT_TRUE(resp.ParseFromString(decoded));
  EXPECT_EQ(resp.results_size(), 2);
  EXPECT_EQ(resp.results(0).timeseries_size(), 0);

  prometheus::WriteRequest w;
  AddSeries(&w, {{"__name__", "m"}}, {{1, 1}});
  ASSERT_EQ(Write(w, "/api/v1/write?dataset=other").status, 204);
  EXPECT_EQ(Rows("other"), 1u);
  EXPECT_EQ(Rows("prometheus"), 0u);
  EXPECT_EQ(Read({}, 0, 10, "/api/v1/read?dataset=other").size(), 1u);
  for (const char* bad : {"Bad", "", "a%2Fb", "-x"}) {
    Answer b = Write(w, StrCat("/api/v1/write?dataset=", bad));
    EXPECT_EQ(b.status, 400) << bad;
    EXPECT_EQ(ErrorCode(b), "invalid_slug") << bad;
    EXPECT_EQ(ReadRaw(r, StrCat("/api/v1/read?dataset=", bad)).status, 400) << bad;
  }
}

TEST_F(PrometheusTest, MalformedBodiesAre4xxAndStoreNothing) {
  // A good series first: it must not be stored when a later one is bad.
  auto with_bad = [](const LabelList& labels,
                     std::vector<std::pair<int64_t, double>> samples = {{1, 1}}) {
    prometheus::WriteRequest w;
    AddSeries(&w, {{"__name__", "good"}, {"k", "v"}}, {{1, 1}});
    AddSeries(&w, labels, samples);
    return w;
  };
  struct Case {
    const char* what;
    prometheus::WriteRequest request;
    const char* code;
    const char* mentions;
  };
  std::vector<Case> cases = {
      {"empty label name", with_bad({{"__name__", "m"}, {"", "x"}}), "invalid_labels",
       "empty name"},
      {"duplicate label", with_bad({{"__name__", "m"}, {"a", "1"}, {"a", "2"}}), "invalid_labels",
       "more than once"},
      {"invalid UTF-8 value", with_bad({{"__name__", "m"}, {"a", "\xff\xfe"}}), "invalid_labels",
       "\\\\xff\\\\xfe"},
      {"invalid UTF-8 name", with_bad({{"__name__", "m"}, {"\xc3\x28", "1"}}), "invalid_labels",
       "UTF-8"},
      {"control character in name", with_bad({{"__name__", "m"}, {"a\x01", "1"}}), "invalid_labels",
       "cannot name a column"},
      {"no metric name", with_bad({{"job", "j"}}), "invalid_labels", "__name__"},
      {"empty metric name", with_bad({{"__name__", ""}, {"job", "j"}}), "invalid_labels",
       "__name__"},
      {"timestamp past 2262", with_bad({{"__name__", "m"}}, {{1, 1}, {9'300'000'000'000, 1}}),
       "invalid_timestamp", "sample 1"},
      {"timestamp before 1678",
       with_bad({{"__name__", "m"}}, {{std::numeric_limits<int64_t>::min(), 1}}),
       "invalid_timestamp", "int64"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Answer a = Write(c.request);
    EXPECT_EQ(a.status, 400) << a.body;
    EXPECT_EQ(ErrorCode(a), c.code) << a.body;
    EXPECT_NE(a.body.find(c.mentions), std::string::npos) << a.body;
    EXPECT_NE(a.body.find("\"seriesIndex\":1"), std::string::npos) << a.body;
    simdjson::dom::element root;
    EXPECT_FALSE(parser_.parse(a.body).get(root)) << "not valid JSON: " << a.body;
  }
  EXPECT_EQ(engine_->GetDataset("prometheus"), nullptr);  // not even created

  // Bytes that are not snappy, and snappy that is not a WriteRequest.
  for (const std::string& body :
       {std::string("not snappy at all \xff\xff\xff\xff\xff"), SnappyEncode("\x0a\xff\xff\xff"),
        SnappyEncode(std::string("\x0a\x05\x12\x03\x09\x00", 6)), std::string()}) {
    Answer a = Call("POST", "/api/v1/write", body, {{"content-encoding", "snappy"}});
    EXPECT_EQ(a.status, 400) << a.body;
    EXPECT_EQ(ErrorCode(a), "invalid_body") << a.body;
    Answer r = Call("POST", "/api/v1/read", body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(ErrorCode(r), "invalid_body") << r.body;
  }

  // The same request without the header is decoded the same (exactly once).
  prometheus::WriteRequest ok;
  AddSeries(&ok, {{"__name__", "m"}}, {{1, 1}});
  EXPECT_EQ(Call("POST", "/api/v1/write", Encode(ok)).status, 204);
  // A snappy body snappy-compressed again is not decoded twice.
  Answer twice =
      Call("POST", "/api/v1/write", SnappyEncode(Encode(ok)), {{"content-encoding", "snappy"}});
  EXPECT_EQ(twice.status, 400) << twice.body;
  // Other encodings, and remote write 2.0.
  Answer gz = Call("POST", "/api/v1/write", Encode(ok), {{"content-encoding", "gzip"}});
  EXPECT_EQ(gz.status, 415) << gz.body;
  EXPECT_EQ(ErrorCode(gz), "unsupported_encoding");
  EXPECT_EQ(Call("POST", "/api/v1/read", Encode(ok), {{"content-encoding", "zstd"}}).status, 415);
  Answer v2 =
      Call("POST", "/api/v1/write", Encode(ok),
           {{"content-encoding", "snappy"},
            {"content-type", "application/x-protobuf;proto=io.prometheus.write.v2.Request"}});
  EXPECT_EQ(v2.status, 415) << v2.body;
  // Wrong method.
  Answer get = Call("GET", "/api/v1/write");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.Header("Allow"), "POST");
  EXPECT_EQ(Call("PUT", "/api/v1/read").status, 405);
  EXPECT_EQ(Rows("prometheus"), 1u);
}

TEST_F(PrometheusTest, ColumnTypeConflictIs400NamingSeriesAndStoresNothing) {
  // A dataset made by the JSON API whose `value` is an integer and `host` a double.
  Answer c = Call("POST", "/datasets/ints/ingest",
                  R"({"schema":{"fields":[{"name":"timestamp","type":"timestamp"},)"
                  R"({"name":"value","type":"integer"},{"name":"host","type":"double"}]},)"
                  R"("records":[{"timestamp":1,"value":1,"host":2}]})");
  ASSERT_EQ(c.status, 200) << c.body;
  prometheus::WriteRequest w;
  AddSeries(&w, {{"__name__", "up"}, {"job", "x"}}, {{5, 1}});
  Answer a = Write(w, "/api/v1/write?dataset=ints");
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_EQ(ErrorCode(a), "type_conflict");
  EXPECT_NE(a.body.find(R"(column \"value\" of dataset \"ints\" is integer)"), std::string::npos)
      << a.body;
  EXPECT_NE(a.body.find(R"({__name__=\"up\", job=\"x\"})"), std::string::npos) << a.body;
  EXPECT_NE(a.body.find(R"("expected":"column \"value\" of type double")"), std::string::npos)
      << a.body;

  Answer d = Call("POST", "/datasets/hosts/ingest",
                  R"({"records":[{"timestamp":1,"value":1.5,"host":2.5}]})");
  ASSERT_EQ(d.status, 200) << d.body;
  prometheus::WriteRequest h;
  AddSeries(&h, {{"__name__", "up"}, {"zone", "z"}}, {{5, 1}});
  AddSeries(&h, {{"__name__", "up"}, {"host", "a"}}, {{5, 1}});
  Answer b = Write(h, "/api/v1/write?dataset=hosts");
  EXPECT_EQ(b.status, 400) << b.body;
  EXPECT_NE(b.body.find(R"(column \"host\" of dataset \"hosts\" is double)"), std::string::npos)
      << b.body;
  EXPECT_EQ(Rows("ints"), 1u);
  EXPECT_EQ(Rows("hosts"), 1u);
  EXPECT_EQ(engine_->GetSchema("hosts")->fields.size(), 3u);  // no `zone`, no `__name__`

  // Reading a dataset whose `value` is a string is a 400 too.
  ASSERT_EQ(
      Call("POST", "/datasets/strs/ingest", R"({"records":[{"timestamp":1,"value":"x"}]})").status,
      200);
  prometheus::ReadRequest r;
  r.add_queries()->set_end_timestamp_ms(10);
  EXPECT_EQ(ReadRaw(r, "/api/v1/read?dataset=strs").status, 400);
  // An integer `value` reads as doubles.
  auto ints = Read({}, 0, 10, "/api/v1/read?dataset=ints");
  ASSERT_EQ(ints.size(), 1u);
  EXPECT_EQ(ints[0].samples[0].second, std::bit_cast<uint64_t>(1.0));
}

TEST_F(PrometheusTest, DecompressionBombIs413) {
  Restart([] {
    ServiceOptions o;
    o.max_body_bytes = 1 << 20;
    return o;
  }());
  // 8 MiB of zeros compresses to a few hundred KiB.
  std::string bomb = SnappyEncode(std::string(8 << 20, '\0'));
  ASSERT_LT(bomb.size(), 1u << 20);
  Answer a = Call("POST", "/api/v1/write", bomb, {{"content-encoding", "snappy"}});
  EXPECT_EQ(a.status, 413) << a.body;
  EXPECT_EQ(ErrorCode(a), "payload_too_large");
  EXPECT_EQ(Call("POST", "/api/v1/read", bomb).status, 413);
  // A lying length preamble is caught before any allocation too.
  Answer lie = Call("POST", "/api/v1/write", std::string("\xff\xff\xff\xff\x0f", 5) + "xx");
  EXPECT_EQ(lie.status, 413) << lie.body;
}

TEST_F(PrometheusTest, ReadIsBoundedByTheQueryLimitAndRefusesStreamedChunks) {
  Restart([] {
    ServiceOptions o;
    o.query_max_limit = 5;
    return o;
  }());
  prometheus::WriteRequest w;
  AddSeries(&w, {{"__name__", "m"}, {"i", "1"}}, {{1, 1}, {2, 2}, {3, 3}});
  AddSeries(&w, {{"__name__", "m"}, {"i", "2"}}, {{1, 1}, {2, 2}, {3, 3}});
  ASSERT_EQ(Write(w).status, 204);
  EXPECT_EQ(Read({Matcher(EQ, "i", "1")}).size(), 1u);  // 3 rows: fine
  prometheus::ReadRequest r;
  r.add_queries()->set_end_timestamp_ms(10);
  Answer a = ReadRaw(r);
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_EQ(ErrorCode(a), "too_many_samples");
  EXPECT_NE(a.body.find("more than 5 samples"), std::string::npos) << a.body;
  // The budget is for the whole request: two queries of 3 rows pass it.
  prometheus::ReadRequest two;
  for (const char* i : {"1", "2"}) {
    auto* q = two.add_queries();
    q->set_end_timestamp_ms(10);
    *q->add_matchers() = Matcher(EQ, "i", i);
  }
  EXPECT_EQ(ReadRaw(two).status, 400);

  prometheus::ReadRequest streamed;
  streamed.add_queries()->set_end_timestamp_ms(10);
  streamed.add_accepted_response_types(prometheus::ReadRequest::STREAMED_XOR_CHUNKS);
  Answer s = ReadRaw(streamed);
  EXPECT_EQ(s.status, 400) << s.body;
  EXPECT_EQ(ErrorCode(s), "unsupported_response_type");
  EXPECT_NE(s.body.find("SAMPLES"), std::string::npos);
}

TEST_F(PrometheusTest, ScopesGateWriteAndRead) {
  Restart([] {
    ServiceOptions o;
    o.require_scope = "ts:read";
    o.require_write_scope = "ts:write";
    return o;
  }());
  prometheus::WriteRequest w;
  AddSeries(&w, {{"__name__", "m"}}, {{1, 1}});
  EXPECT_EQ(Write(w).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/write", Encode(w), {{"x-iam-scopes", "ts:read"}}).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/write", Encode(w), {{"x-iam-scopes", "ts:write"}}).status, 204);
  prometheus::ReadRequest r;
  r.add_queries()->set_end_timestamp_ms(10);
  EXPECT_EQ(ReadRaw(r).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/read", Encode(r), {{"x-iam-scopes", "x, ts:read"}}).status, 200);
}

TEST_F(PrometheusTest, MetadataOnlyAndSampleLessSeriesStoreNothing) {
  prometheus::WriteRequest w;
  auto* md = w.add_metadata();
  md->set_type(prometheus::MetricMetadata::GAUGE);
  md->set_metric_family_name("m");
  md->set_help("help");
  // A series with only an exemplar: skipped, even with labels that a series
  // with samples could not have.
  auto* ts = w.add_timeseries();
  auto* l = ts->add_labels();
  l->set_name("");
  auto* ex = ts->add_exemplars();
  ex->set_value(1);
  EXPECT_EQ(Write(w).status, 204);
  EXPECT_EQ(engine_->GetDataset("prometheus"), nullptr);
}

TEST_F(PrometheusTest, RetriedSamplesReadOncePerMillisecondLastWins) {
  prometheus::WriteRequest w;
  AddSeries(&w, {{"__name__", "m"}}, {{1, 1}, {2, 2}});
  ASSERT_EQ(Write(w).status, 204);
  prometheus::WriteRequest again;
  AddSeries(&again, {{"__name__", "m"}}, {{2, 20}, {3, 3}});
  ASSERT_EQ(Write(again).status, 204);
  auto s = Read({});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].samples,
            (std::vector<std::pair<int64_t, uint64_t>>{{1, std::bit_cast<uint64_t>(1.0)},
                                                       {2, std::bit_cast<uint64_t>(20.0)},
                                                       {3, std::bit_cast<uint64_t>(3.0)}}));
}

// ---- the codec on its own ----

TEST(PrometheusCodecTest, LabelColumnMappingIsOneToOne) {
  for (std::string_view time_column : {"timestamp", "ts"}) {
    for (std::string_view label : {"host", "__name__", "value", "timestamp", "ts", "label_",
                                   "label_x", "label_label_x", "labelx", "Value"}) {
      std::string column = LabelColumnName(label, time_column);
      EXPECT_EQ(ColumnLabelName(column), label) << label << " via " << column;
      EXPECT_NE(column, time_column);
      EXPECT_NE(column, "value");
    }
  }
  EXPECT_EQ(LabelColumnName("value", "timestamp"), "label_value");
  EXPECT_EQ(LabelColumnName("ts", "ts"), "label_ts");
  EXPECT_EQ(LabelColumnName("timestamp", "ts"), "timestamp");
  EXPECT_EQ(LabelColumnName("label_x", "ts"), "label_label_x");
  EXPECT_TRUE(ValidateColumnName("__name__").ok());
}

TEST(PrometheusCodecTest, DescribeSeriesEscapesAndBounds) {
  prometheus::TimeSeries ts;
  auto add = [&](std::string n, std::string v) {
    auto* l = ts.add_labels();
    l->set_name(std::move(n));
    l->set_value(std::move(v));
  };
  add("__name__", "up");
  add("q", "say \"hi\"\\");
  add("bin", std::string("\xff\x00\xc3\xa9", 4));
  EXPECT_EQ(DescribeSeries(ts.labels()),
            "{__name__=\"up\", q=\"say \\\"hi\\\"\\\\\", bin=\"\\xff\\x00é\"}");
  add("long", std::string(1000, 'x'));
  std::string d = DescribeSeries(ts.labels());
  EXPECT_LE(d.size(), 300u);
  EXPECT_TRUE(d.ends_with("...}")) << d;
}

TEST(PrometheusCodecTest, CellLimitBoundsTheColumnsBuilt) {
  prometheus::WriteRequest w;
  for (int i = 0; i < 50; ++i) {
    AddSeries(&w, {{"__name__", "m"}, {StrCat("l", i), "v"}}, {{1, 1}, {2, 2}});
  }
  RemoteWriteOptions o;
  o.slug = "p";
  o.max_cells = 100 * 53 - 1;  // 100 rows × (time, value, __name__, l0..l49)
  auto r = DecodeRemoteWrite(Encode(w), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("100 rows × 53 columns"), std::string::npos) << r.status();
  o.max_cells = 100 * 53;
  r = DecodeRemoteWrite(Encode(w), o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows, 100u);
  ASSERT_EQ(r->columns.size(), 53u);
  EXPECT_EQ(r->fields[3].name, "l0");
  EXPECT_EQ(r->columns[3].NullCount(), 98u);
}

TEST(PrometheusCodecTest, PlanPushesDownWhatTheEngineCanDecide) {
  Schema schema;
  schema.time_column = "timestamp";
  schema.fields = {{"timestamp", ColumnType::kTimestamp}, {"value", ColumnType::kDouble},
                   {"__name__", ColumnType::kString},     {"host", ColumnType::kString},
                   {"n", ColumnType::kInteger},           {"label_value", ColumnType::kString}};
  prometheus::Query q;
  q.set_start_timestamp_ms(5);
  q.set_end_timestamp_ms(7);
  *q.add_matchers() = Matcher(EQ, "__name__", "up");
  *q.add_matchers() = Matcher(RE, "host", "a|b");
  *q.add_matchers() = Matcher(RE, "value", "x.+");
  *q.add_matchers() = Matcher(NEQ, "host", "c");
  *q.add_matchers() = Matcher(EQ, "n", "");  // not a label column: "" everywhere
  auto plan = PlanRemoteRead(q, schema, 100);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_FALSE(plan->match_nothing);
  EXPECT_EQ(plan->spec.start, 5'000'000);
  EXPECT_EQ(plan->spec.end, 8'000'000);
  EXPECT_EQ(plan->spec.limit, 100u);
  EXPECT_EQ(plan->labels, (std::vector<std::string>{"__name__", "host", "value"}));
  EXPECT_EQ(*plan->spec.columns,
            (std::vector<std::string>{"value", "__name__", "host", "label_value"}));
  ASSERT_EQ(plan->spec.filters.size(), 3u);
  EXPECT_EQ(plan->spec.filters[0].op, FilterOp::kEq);
  EXPECT_EQ(plan->spec.filters[1].op, FilterOp::kIn);
  EXPECT_EQ(plan->spec.filters[1].values.size(), 2u);
  EXPECT_EQ(plan->spec.filters[2].op, FilterOp::kIsNotNull);
  EXPECT_EQ(plan->spec.filters[2].column, "label_value");
  ASSERT_EQ(plan->residual.size(), 2u);  // value=~"x.+" and host!="c"

  *q.add_matchers() = Matcher(EQ, "n", "1");
  plan = PlanRemoteRead(q, schema, 100);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->match_nothing);
}

}  // namespace
}  // namespace timestore::api
