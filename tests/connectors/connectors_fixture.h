// Shared by the connectors tests (config_test.cc, formats_test.cc,
// checkpoint_test.cc, connector_run_test.cc): the status message helper and
// the fixture that runs the connectors over a real engine.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <thread>

#include "common/checksum.h"
#include "common/env.h"
#include "common/strings.h"
#include "connectors/bulk_connector.h"
#include "connectors/checkpoint.h"
#include "connectors/config.h"
#include "connectors/csv.h"
#include "connectors/envelope.h"
#include "connectors/streaming_connector.h"
#include "engine/engine.h"

namespace timestore::connectors {

inline std::string Message(const absl::Status& s) { return std::string(ToStd(s.message())); }

class ConnectorEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/timestore-connectors-XXXXXX";
    dir_ = mkdtemp(tmpl);
    EngineOptions o;
    o.root = dir_ + "/data";
    auto e = Engine::Open(Env::Default(), o);
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
  }
  void TearDown() override {
    if (engine_) engine_->Close();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  uint64_t Count(const std::string& slug) {
    if (engine_->GetSchema(slug) == nullptr) return 0;
    QuerySpec q;
    q.start = std::numeric_limits<int64_t>::min();
    q.end = std::numeric_limits<int64_t>::max();
    Downsample ds;
    ds.aggregations = {{AggFn::kCount, "", 0.5, "n"}};
    q.downsample = ds;
    auto r = engine_->Query(slug, q);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || r->rows == 0) return 0;
    return static_cast<uint64_t>(r->columns[1].ints[0]);
  }
  // Waits (up to 60 s) until `done` holds.
  template <typename F>
  bool WaitFor(F done) {
    for (int i = 0; i < 6000; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  // Back-pressure limits no test reaches.
  static BackpressureConfig NoBackpressure() { return {1ull << 40, 1ull << 39, 25, 200}; }
  // Waits until `b` has loaded or set aside `files` files.
  bool FilesSettled(const BulkConnector& b, uint64_t files) {
    return WaitFor([&] {
      auto s = b.status();
      return s.files_loaded + s.files_failed == files;
    });
  }
  static void Append(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::app) << text;
  }
  static std::string Envelope(int n, const std::string& value = "1.5") {
    return StrCat(R"({"offset":)", n,
                  R"(,"ingestion":{"datasetSlug":"events","rows":[{"timestamp":)",
                  1714564800000 + n, R"(,"v":)", value, "}]}}\n");
  }
  // Without offset or key: keyed by generation and byte offset.
  static std::string Keyless(int n) {
    return StrCat(R"({"ingestion":{"datasetSlug":"events","rows":[{"timestamp":)",
                  1714564800000 + n, R"(,"v":)", n, "}]}}\n");
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string dir_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace timestore::connectors
