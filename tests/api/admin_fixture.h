// The in-process fixture of the /admin route tests: a Service over an Engine
// with an in-memory object-store target "cold", and a Call() that sends a
// request through Service::Handle and waits for the answer.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>

#include "api/service.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "tiering/memory_object_store.h"
#include "tiering/storage_targets.h"

namespace timestore::api::testing {

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

// The whole content of the file at `path` ("" when it cannot be read).
inline std::string ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The header of a request made with `token` (as Service::Handle takes them).
inline std::vector<std::pair<std::string, std::string>> Bearer(const std::string& token) {
  return {{"authorization", "Bearer " + token}};
}

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/timestore-admin-XXXXXX";
    root_ = mkdtemp(tmpl);
    StartService(ServiceOptions{});
  }
  void TearDown() override {
    StopService();
    std::filesystem::remove_all(root_);
  }

  void StartService(ServiceOptions options) {
    service_ = std::make_unique<Service>(std::move(options));
    EngineOptions eo;
    eo.root = root_;
    eo.background_sealing = false;
    // A registry with one target over an in-memory store.
    // "memory" targets are this in-memory store (rebuilt after a change).
    if (store_ == nullptr) store_ = std::make_shared<tiering::MemoryObjectStore>("bucket");
    auto t =
        tiering::StorageTargets::Open(Env::Default(), root_, std::nullopt,
                                      [store = store_](const tiering::StorageTargetConfig& c)
                                          -> absl::StatusOr<std::shared_ptr<tiering::ObjectStore>> {
                                        if (c.driver == "memory")
                                          return std::shared_ptr<tiering::ObjectStore>(store);
                                        return tiering::MakeObjectStore(c);
                                      });
    ASSERT_TRUE(t.ok()) << t.status();
    targets_ = *std::move(t);
    tiering::StorageTargetConfig cold;
    cold.id = "cold";
    cold.driver = "memory";
    cold.bucket = "bucket";
    cold.price_per_gb_month = 0.01;
    cold.credentials = "none";
    targets_->AddForTest(cold, store_);
    eo.targets = targets_.get();
    auto e = Engine::Open(Env::Default(), eo);
    ASSERT_TRUE(e.ok()) << e.status().message();
    engine_ = std::move(*e);
    service_->SetEngine(engine_.get());
  }
  void StopService() {
    if (service_) service_->Shutdown();
    service_.reset();
    engine_.reset();
    targets_.reset();
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

  // Creates `slug` with a schema and `rows` rows (ts 1000 s + k, v = k).
  void CreateDataset(const std::string& slug, int rows = 0,
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    std::string records;
    for (int k = 0; k < rows; ++k) {
      StrAppend(&records, k ? "," : "", "{\"timestamp\":", 1'000'000 + k * 1000, ",\"v\":", k,
                ",\"host\":\"h", k % 3, "\"}");
    }
    Answer a = Call("POST", StrCat("/datasets/", slug, "/ingest"),
                    StrCat(R"({"schema":{"fields":[{"name":"timestamp","type":"timestamp"},)",
                           R"({"name":"v","type":"double"},{"name":"host","type":"string"}]},)",
                           R"("records":[)", records, "]}"),
                    std::move(headers));
    ASSERT_EQ(a.status, 200) << a.body;
  }

  simdjson::dom::element Parse(const Answer& a) {
    simdjson::dom::element root;
    EXPECT_FALSE(parser_.parse(a.body).get(root)) << a.body;
    return root;
  }
  std::string ErrorCode(const Answer& a) {
    std::string_view code;
    if (Parse(a)["error"]["code"].get(code)) return "<none>";
    return std::string(code);
  }
  std::string ErrorDetail(const Answer& a, const char* key) {
    simdjson::dom::element v;
    if (Parse(a)["error"]["details"][key].get(v)) return "<absent>";
    if (v.is_string()) return std::string(v.get_string().value_unsafe());
    return simdjson::minify(v);
  }

  // Every page of GET /admin/datasets with `query`, following nextCursor.
  std::vector<std::string> ListAllSlugs(const std::string& query, int* pages) {
    std::vector<std::string> slugs;
    std::string cursor;
    *pages = 0;
    while (true) {
      Answer a = Call("GET", StrCat("/admin/datasets?", query,
                                    cursor.empty() ? "" : StrCat("&cursor=", cursor)));
      EXPECT_EQ(a.status, 200) << a.body;
      if (a.status != 200) return slugs;
      ++*pages;
      auto root = Parse(a);
      for (auto item : root["datasets"].get_array()) {
        slugs.emplace_back(std::string_view(item["slug"].get_string()));
      }
      simdjson::dom::element next = root["nextCursor"];
      if (next.is_null()) return slugs;
      cursor = std::string(std::string_view(next.get_string()));
      if (*pages > 100) {
        ADD_FAILURE() << "pagination does not end";
        return slugs;
      }
    }
  }

  std::string root_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<tiering::StorageTargets> targets_;
  std::shared_ptr<tiering::MemoryObjectStore> store_;
  std::unique_ptr<Engine> engine_;
  simdjson::dom::parser parser_;
};

}  // namespace timestore::api::testing
