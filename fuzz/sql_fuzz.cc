// SQL statements: split, parse (libpg_query), lower onto the query plan and
// run against a small dataset in a real Engine. Any input must end in an
// answer or a SQLSTATE, never a crash.
#include <stdlib.h>

#include <cstdint>
#include <future>
#include <string>

#include "api/ingest_parser.h"
#include "engine/engine.h"
#include "sql/session.h"

namespace {

timestore::Engine* SharedEngine() {
  using namespace timestore;
  static Engine* engine = [] {
    char tmpl[] = "/tmp/timestore-sqlfuzz-XXXXXX";
    EngineOptions eo;
    eo.root = mkdtemp(tmpl);
    eo.background_sealing = false;
    Engine* e = Engine::Open(Env::Default(), eo).value().release();
    std::string body = R"({"records":[)";
    for (int k = 0; k < 200; ++k) {
      if (k) body += ",";
      body += "{\"timestamp\":" + std::to_string(1714521600000LL + k * 7000) +
              ",\"host\":" + (k % 7 ? "\"h" + std::to_string(k % 4) + "\"" : "null") +
              ",\"v\":" + (k % 5 ? std::to_string(k * 0.25) : "null") +
              ",\"ok\":" + (k % 3 ? "true" : "false") + "}";
    }
    body += "]}";
    api::IngestParseOptions o;
    o.slug = "cpu";
    o.format = api::BodyFormat::kJson;
    o.precision = Precision::kMilliseconds;
    auto req = api::ParseIngestBody(&body, o);
    std::promise<void> done;
    e->Ingest(std::move(*req), [&](absl::StatusOr<IngestResult>) { done.set_value(); });
    done.get_future().wait();
    (void)e->Flush("cpu");  // sealed segments, then more rows in memory
    return e;
  }();
  return engine;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace timestore;
  std::string sql(reinterpret_cast<const char*>(data), size);
  sql::SessionOptions o;
  o.max_rows = 1000;
  sql::Session session(SharedEngine(), o);
  auto stmts = session.Split(sql);
  if (!stmts.ok()) return 0;
  for (const std::string& s : *stmts) {
    auto p = session.Prepare(s, {});
    if (!p.ok()) continue;
    (void)session.Describe(*p);
    std::vector<sql::Param> params(p->param_count, std::string("1"));
    (void)session.Execute(*p, params);
  }
  return 0;
}
