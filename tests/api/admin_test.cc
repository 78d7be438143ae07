// The /admin routes through Service::Handle, in process: routing (404, 405
// with Allow, scope, readiness), dataset listing with its cursor, search and
// validation, storage targets, and audit events with their actor, also after
// the engine is reopened.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>

#include "api/service.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "tests/api/admin_fixture.h"
#include "tiering/memory_object_store.h"
#include "tiering/storage_targets.h"

namespace timestore::api {
namespace {

using testing::AdminTest;
using testing::Answer;

TEST_F(AdminTest, ListPagesThroughEveryDatasetOnceInSlugOrder) {
  std::vector<std::string> created;
  for (int i = 0; i < 23; ++i) created.push_back(StrCat("ds", (i * 7) % 23, "-x"));
  for (const auto& slug : created) CreateDataset(slug);
  std::sort(created.begin(), created.end());

  int pages = 0;
  EXPECT_EQ(ListAllSlugs("limit=5", &pages), created);
  EXPECT_EQ(pages, 5);
  EXPECT_EQ(ListAllSlugs("limit=23", &pages), created);
  EXPECT_EQ(pages, 1);  // exactly `limit` left: no empty last page
  EXPECT_EQ(ListAllSlugs("", &pages), created);
  EXPECT_EQ(pages, 1);

  // A dataset created between pages behind the cursor is not seen again;
  // one ahead of it is.
  Answer first = Call("GET", "/admin/datasets?limit=10");
  std::string cursor(std::string_view(Parse(first)["nextCursor"].get_string()));
  CreateDataset("aaa");
  CreateDataset("zzz");
  std::vector<std::string> rest;
  for (std::string c = cursor; !c.empty();) {
    Answer a = Call("GET", StrCat("/admin/datasets?limit=10&cursor=", c));
    ASSERT_EQ(a.status, 200) << a.body;
    auto root = Parse(a);
    for (auto item : root["datasets"].get_array()) {
      rest.emplace_back(std::string_view(item["slug"].get_string()));
    }
    c = root["nextCursor"].is_null() ? "" : std::string(std::string_view(root["nextCursor"]));
  }
  std::vector<std::string> want(created.begin() + 10, created.end());
  want.push_back("zzz");
  EXPECT_EQ(rest, want);
}

TEST_F(AdminTest, ListItemsCountHotAndSealedRows) {
  CreateDataset("cpu", 5);
  Answer a = Call("GET", "/admin/datasets");
  ASSERT_EQ(a.status, 200);
  auto item = Parse(a)["datasets"].at(0);
  std::string id(std::string_view(item["id"].get_string()));
  EXPECT_EQ(id.size(), 16u);
  EXPECT_EQ(std::string_view(item["slug"].get_string()), "cpu");
  EXPECT_EQ(std::string_view(item["status"].get_string()), "active");
  std::string_view created = item["createdAt"].get_string();
  EXPECT_TRUE(ParseRfc3339(created).ok()) << created;
  EXPECT_EQ(uint64_t(item["schemaVersion"].get_uint64()), 1u);
  EXPECT_EQ(uint64_t(item["rows"].get_uint64()), 5u);
  EXPECT_EQ(uint64_t(item["bytes"].get_uint64()), 0u);

  ASSERT_EQ(Call("POST", "/admin/datasets/cpu/flush").status, 200);
  ASSERT_EQ(Call("POST", "/datasets/cpu/ingest", R"({"records":[{"timestamp":5,"v":1}]})").status,
            200);
  a = Call("GET", "/admin/datasets");
  item = Parse(a)["datasets"].at(0);
  EXPECT_EQ(uint64_t(item["rows"].get_uint64()), 6u);  // 5 sealed + 1 in memory
  EXPECT_GT(uint64_t(item["bytes"].get_uint64()), 0u);
}

TEST_F(AdminTest, ListSearchMatchesSlugSubstringOrIdPrefix) {
  for (const char* slug : {"cpu", "cpu-west", "mem", "disk_cpu"}) CreateDataset(slug);
  int pages = 0;
  EXPECT_EQ(ListAllSlugs("search=CPU", &pages),
            (std::vector<std::string>{"cpu", "cpu-west", "disk_cpu"}));
  EXPECT_EQ(ListAllSlugs("search=cpu&limit=1", &pages),
            (std::vector<std::string>{"cpu", "cpu-west", "disk_cpu"}));
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ListAllSlugs("search=-WE", &pages), (std::vector<std::string>{"cpu-west"}));
  EXPECT_TRUE(ListAllSlugs("search=nothing%20here", &pages).empty());

  std::string id = DatasetIdString(engine_->GetDataset("mem")->id());
  std::string prefix = id.substr(0, 12);
  auto by_id = ListAllSlugs(StrCat("search=", prefix), &pages);
  ASSERT_FALSE(by_id.empty());
  EXPECT_NE(std::find(by_id.begin(), by_id.end(), "mem"), by_id.end());
  for (char& c : prefix) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(ListAllSlugs(StrCat("search=", prefix), &pages), by_id);

  Answer bad = Call("GET", "/admin/datasets?search=%zz");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrorDetail(bad, "field"), "search");
}

TEST_F(AdminTest, ListValidatesStatusLimitAndCursor) {
  CreateDataset("cpu");
  EXPECT_EQ(Call("GET", "/admin/datasets?status=active").status, 200);
  EXPECT_EQ(Call("GET", "/admin/datasets?status=").status, 200);  // empty: every status
  Answer a = Call("GET", "/admin/datasets?status=deleted");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(ErrorCode(a), "invalid_request");
  EXPECT_EQ(ErrorDetail(a, "field"), "status");
  EXPECT_EQ(ErrorDetail(a, "expected"), "active, tiering, deleting");
  EXPECT_NE(a.body.find("\\\"deleted\\\" is not one of: active, tiering, deleting"),
            std::string::npos)
      << a.body;
  // The filter filters: no dataset is being tiered or deleted here.
  EXPECT_NE(Call("GET", "/admin/datasets?status=active").body.find("\"slug\":\"cpu\""),
            std::string::npos);
  EXPECT_EQ(Call("GET", "/admin/datasets?status=tiering").body.find("\"slug\":\"cpu\""),
            std::string::npos);

  EXPECT_EQ(Call("GET", "/admin/datasets?limit=1").status, 200);
  EXPECT_EQ(Call("GET", "/admin/datasets?limit=1000").status, 200);
  for (const char* bad : {"0", "1001", "-1", "abc", "1.5", "99999999999999999999"}) {
    a = Call("GET", StrCat("/admin/datasets?limit=", bad));
    EXPECT_EQ(a.status, 400) << bad;
    EXPECT_EQ(ErrorCode(a), "invalid_request");
    EXPECT_EQ(ErrorDetail(a, "field"), "limit");
    EXPECT_EQ(ErrorDetail(a, "maximum"), "1000");
    EXPECT_EQ(ErrorDetail(a, "got"), bad);
  }

  // Odd length, not hex, and hex of something that is not a slug ("A/").
  for (const char* bad : {"abc", "zz", "412f"}) {
    a = Call("GET", StrCat("/admin/datasets?cursor=", bad));
    EXPECT_EQ(a.status, 400) << bad;
    EXPECT_EQ(ErrorDetail(a, "field"), "cursor");
  }
  // A well-formed cursor past the last dataset is an empty page.
  a = Call("GET", "/admin/datasets?cursor=7a7a7a");  // "zzz"
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body, R"({"datasets":[],"nextCursor":null})");
}

TEST_F(AdminTest, AuditRecordsChangesWithActorAndSurvivesReopen) {
  const std::vector<std::pair<std::string, std::string>> alice = {{"x-iam-user", "alice"}};
  CreateDataset("cpu", 3, alice);  // ingest with a user: audited
  CreateDataset("mem", 2);         // without: not audited
  ASSERT_EQ(Call("PUT", "/admin/datasets/cpu/settings", R"({"segmentBy":["host"]})", alice).status,
            200);
  ASSERT_EQ(Call("POST", "/admin/datasets/mem/flush", "", {{"x-iam-user", "bob"}}).status, 200);
  ASSERT_EQ(
      Call("PUT", "/admin/datasets/cpu/storage-target", R"({"storageTargetId":"local"})").status,
      200);
  // Failed changes are not audited.
  ASSERT_EQ(Call("PUT", "/admin/datasets/cpu/settings", R"({"segmentBy":["nope"]})", alice).status,
            400);
  ASSERT_EQ(Call("PUT", "/admin/datasets/cpu/storage-target", R"({"storageTargetId":"s3"})").status,
            400);

  const std::string cpu_id = DatasetIdString(engine_->GetDataset("cpu")->id());
  const std::string mem_id = DatasetIdString(engine_->GetDataset("mem")->id());
  auto check = [&](const std::string& label) {
    SCOPED_TRACE(label);
    Answer a = Call("GET", "/admin/audit");
    ASSERT_EQ(a.status, 200) << a.body;
    simdjson::dom::array events = Parse(a)["events"].get_array();
    ASSERT_EQ(events.size(), 4u) << a.body;
    auto e = events.at(0);  // newest first
    EXPECT_EQ(std::string_view(e["action"].get_string()), "storage_target.update");
    EXPECT_TRUE(e["actor"].is_null());
    EXPECT_EQ(simdjson::minify(e["after"]), R"({"storageTargetId":"local"})");
    e = events.at(1);
    EXPECT_EQ(std::string_view(e["action"].get_string()), "dataset.flush");
    EXPECT_EQ(std::string_view(e["actor"].get_string()), "bob");
    EXPECT_EQ(std::string_view(e["dataset"].get_string()), "mem");
    EXPECT_EQ(std::string_view(e["datasetId"].get_string()), mem_id);
    EXPECT_EQ(simdjson::minify(e["after"]), R"({"rowsSealed":2,"segments":1})");
    e = events.at(2);
    EXPECT_EQ(std::string_view(e["action"].get_string()), "settings.update");
    EXPECT_EQ(std::string_view(e["actor"].get_string()), "alice");
    EXPECT_EQ(
        simdjson::minify(e["before"]),
        R"({"partitionInterval":86400,"segmentBy":[],"seriesKey":[],"seriesKeySource":"none","dedup":null})");
    EXPECT_EQ(
        simdjson::minify(e["after"]),
        R"({"partitionInterval":86400,"segmentBy":["host"],"seriesKey":["host"],"seriesKeySource":"segmentBy","dedup":null})");
    EXPECT_TRUE(ParseRfc3339(std::string_view(e["time"].get_string())).ok());
    e = events.at(3);
    EXPECT_EQ(std::string_view(e["action"].get_string()), "ingest");
    EXPECT_EQ(std::string_view(e["actor"].get_string()), "alice");
    EXPECT_EQ(std::string_view(e["datasetId"].get_string()), cpu_id);
    EXPECT_EQ(std::string_view(e["dataset"].get_string()), "cpu");
    EXPECT_TRUE(e["before"].is_null());
    EXPECT_EQ(simdjson::minify(e["after"]), R"({"rows":3})");

    // By slug or id; limit.
    for (const std::string& key : {std::string("cpu"), cpu_id}) {
      a = Call("GET", StrCat("/admin/audit?dataset=", key));
      ASSERT_EQ(a.status, 200);
      EXPECT_EQ(Parse(a)["events"].get_array().size(), 3u) << key;
    }
    a = Call("GET", "/admin/audit?dataset=cpu&limit=1");
    simdjson::dom::array one = Parse(a)["events"].get_array();
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(std::string_view(one.at(0)["action"].get_string()), "storage_target.update");
  };
  check("before reopen");
  StopService();
  StartService(ServiceOptions{});
  check("after reopen");
}

TEST_F(AdminTest, AuditValidatesItsParameters) {
  CreateDataset("cpu");
  Answer a = Call("GET", "/admin/audit?dataset=nope");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(ErrorCode(a), "dataset_not_found");
  EXPECT_EQ(ErrorDetail(a, "field"), "dataset");
  EXPECT_EQ(Call("GET", "/admin/audit?limit=10000").status, 200);
  for (const char* bad : {"0", "10001", "x"}) {
    a = Call("GET", StrCat("/admin/audit?limit=", bad));
    EXPECT_EQ(a.status, 400) << bad;
    EXPECT_EQ(ErrorDetail(a, "maximum"), "10000");
  }
  a = Call("GET", "/admin/audit?dataset=");  // empty: every dataset
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, R"({"events":[]})");
}

TEST_F(AdminTest, StorageTargets) {
  CreateDataset("cpu");
  Answer a = Call("GET", "/admin/storage-targets");
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body.find(StrCat(R"({"defaultTarget":"local","storageTargets":[{"id":"local",)",
                               R"("kind":"local","driver":"local","root":")", root_,
                               R"(","default":true,"pricePerGbMonth":0.08},)")),
            0u)
      << a.body;
  EXPECT_NE(a.body.find(R"("id":"cold","driver":"memory")"), std::string::npos) << a.body;

  a = Call("PUT", "/admin/datasets/cpu/storage-target", R"({"storageTargetId":"local"})");
  ASSERT_EQ(a.status, 200) << a.body;
  const std::string id = DatasetIdString(engine_->GetDataset("cpu")->id());
  EXPECT_EQ(a.body, StrCat(R"({"dataset":"cpu","id":")", id,
                           R"(","storageTargetId":"local","effectiveStorageTarget":"local"})"));
  // By id too, and to the object store.
  a = Call("PUT", StrCat("/admin/datasets/", id, "/storage-target"),
           R"({"storageTargetId":"cold"})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.body.find(R"("effectiveStorageTarget":"cold")"), std::string::npos) << a.body;
  // null: back to the server's default (local here).
  a = Call("PUT", "/admin/datasets/cpu/storage-target", R"({"storageTargetId":null})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.body.find(R"("storageTargetId":null,"effectiveStorageTarget":"local")"),
            std::string::npos)
      << a.body;

  a = Call("PUT", "/admin/datasets/cpu/storage-target", R"({"storageTargetId":"s3"})");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(ErrorCode(a), "unknown_storage_target");
  EXPECT_EQ(ErrorDetail(a, "got"), "s3");
  EXPECT_EQ(ErrorDetail(a, "expected"), "local, cold");
  EXPECT_NE(a.body.find("known targets: local, cold"), std::string::npos) << a.body;

  for (const char* body : {"", "{", "[]", "\"local\""}) {
    a = Call("PUT", "/admin/datasets/cpu/storage-target", body);
    EXPECT_EQ(a.status, 400) << body;
    EXPECT_EQ(ErrorCode(a), "invalid_json") << body;
  }
  for (const char* body : {"{}", R"({"storageTargetId":1})", R"({"target":"local"})"}) {
    a = Call("PUT", "/admin/datasets/cpu/storage-target", body);
    EXPECT_EQ(a.status, 400) << body;
    EXPECT_EQ(ErrorCode(a), "invalid_request") << body;
  }
  a = Call("PUT", "/admin/datasets/nope/storage-target", R"({"storageTargetId":"local"})");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(ErrorCode(a), "dataset_not_found");
}

TEST_F(AdminTest, StorageTargetSecretsAreWriteOnly) {
  const std::string secret = "wJalrXUtnFEMI-SECRET-do-not-show";
  Answer a = Call("PUT", "/admin/storage-targets/archive?verify=false",
                  StrCat(R"({"driver":"s3","bucket":"b1","region":"eu-west-1","prefix":"ts",)",
                         R"("endpoint":"http://127.0.0.1:1","forcePathStyle":true,)",
                         R"("accessKeyId":"AKIDEXAMPLE","secretAccessKey":")", secret, R"("})"),
                  {{"x-iam-user", "ops"}});
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_EQ(a.body.find(secret), std::string::npos) << a.body;
  EXPECT_NE(a.body.find(R"("hasSecretAccessKey":true)"), std::string::npos) << a.body;
  EXPECT_NE(a.body.find(R"("location":"s3://b1/ts")"), std::string::npos) << a.body;
  EXPECT_NE(a.body.find(R"("credentials":"static")"), std::string::npos) << a.body;
  for (const char* path :
       {"/admin/storage-targets", "/admin/storage-targets/archive", "/admin/audit?limit=100"}) {
    a = Call("GET", path);
    ASSERT_EQ(a.status, 200) << path;
    EXPECT_EQ(a.body.find(secret), std::string::npos) << path << ": " << a.body;
  }
  EXPECT_NE(Call("GET", "/admin/audit").body.find("storage_target.create"), std::string::npos);
  // Persisted, readable by the owner alone.
  const std::string file = root_ + "/storage-targets.json";
  EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // A change without the secret keeps it.
  a = Call("PUT", "/admin/storage-targets/archive?verify=false",
           R"({"driver":"s3","bucket":"b2","region":"eu-west-1","accessKeyId":"AKIDEXAMPLE"})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.body.find(R"("hasSecretAccessKey":true)"), std::string::npos) << a.body;
  StopService();
  StartService(ServiceOptions{});
  a = Call("GET", "/admin/storage-targets/archive");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.body.find(R"("bucket":"b2")"), std::string::npos) << a.body;
  EXPECT_NE(a.body.find(R"("hasSecretAccessKey":true)"), std::string::npos) << a.body;

  // Bad bodies name the field; nothing is saved.
  for (auto [body, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"driver":"ftp","bucket":"x"})", "driver"},
           {R"({"driver":"s3"})", "bucket"},
           {R"({"driver":"s3","bucket":"x","secretAccessKey":"s"})", "accessKeyId"},
           {R"({"driver":"azure_blob","container":"c","accountName":"a"})", "accountKey"},
           {R"({"driver":"s3","bucket":"x","colour":"red"})", "colour"},
           {R"({"driver":"s3","bucket":1})", "bucket"}}) {
    a = Call("PUT", "/admin/storage-targets/bad?verify=false", body);
    EXPECT_EQ(a.status, 400) << body;
    EXPECT_EQ(ErrorCode(a), "invalid_storage_target") << body;
    EXPECT_EQ(ErrorDetail(a, "field"), field) << body << " " << a.body;
  }
  EXPECT_EQ(Call("GET", "/admin/storage-targets/bad").status, 404);
  a = Call("PUT", "/admin/storage-targets/Bad_Id?verify=false", R"({"driver":"s3","bucket":"x"})");
  EXPECT_EQ(a.status, 400);
  a = Call("PUT", "/admin/storage-targets/local?verify=false", R"({"driver":"s3","bucket":"x"})");
  EXPECT_EQ(a.status, 400);

  // In use: refused; unused: removed.
  CreateDataset("cpu");
  ASSERT_EQ(
      Call("PUT", "/admin/datasets/cpu/storage-target", R"({"storageTargetId":"archive"})").status,
      200);
  a = Call("DELETE", "/admin/storage-targets/archive");
  EXPECT_EQ(a.status, 409);
  EXPECT_EQ(ErrorCode(a), "storage_target_in_use");
  ASSERT_EQ(Call("PUT", "/admin/datasets/cpu/storage-target", R"({"storageTargetId":null})").status,
            200);
  EXPECT_EQ(Call("DELETE", "/admin/storage-targets/archive").status, 200);
  EXPECT_EQ(Call("GET", "/admin/storage-targets/archive").status, 404);
  EXPECT_EQ(Call("DELETE", "/admin/storage-targets/archive").status, 404);
}

TEST_F(AdminTest, WrongMethodIs405WithAllow) {
  CreateDataset("cpu");
  struct Case {
    const char* method;
    const char* path;
    const char* allow;
  };
  for (const Case& c :
       {Case{"DELETE", "/admin/datasets", "GET"}, Case{"POST", "/admin/audit", "GET"},
        Case{"PUT", "/admin/storage-targets", "GET"},
        Case{"GET", "/admin/datasets/cpu/flush", "POST"},
        Case{"POST", "/admin/datasets/cpu/manifest", "GET"},
        Case{"GET", "/admin/datasets/cpu/settings", "PUT"},
        Case{"POST", "/admin/datasets/cpu/storage-target", "PUT"},
        // The method is checked before the dataset exists.
        Case{"GET", "/admin/datasets/nope/flush", "POST"}}) {
    Answer a = Call(c.method, c.path);
    EXPECT_EQ(a.status, 405) << c.method << " " << c.path;
    EXPECT_EQ(ErrorCode(a), "method_not_allowed");
    EXPECT_EQ(a.Header("Allow"), c.allow) << c.path;
  }
}

TEST_F(AdminTest, UnknownAdminRouteIs404) {
  CreateDataset("cpu");
  for (const char* path : {"/admin/", "/admin/nope", "/admin/datasets/", "/admin/datasets/cpu/nope",
                           "/admin/datasets/cpu/flush/x", "/admin/datasets//flush",
                           "/admin/datasets/cpu/flush/", "/admin/audit/x"}) {
    Answer a = Call("GET", path);
    EXPECT_EQ(a.status, 404) << path;
    EXPECT_EQ(ErrorCode(a), "route_not_found") << path;
  }
  Answer a = Call("GET", "/admin/nope");
  EXPECT_NE(a.body.find("GET /admin/datasets/{id}/manifest"), std::string::npos) << a.body;
  a = Call("POST", "/admin/datasets/nope/flush");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(ErrorCode(a), "dataset_not_found");
}

// The detail shows the series key seals sort by: inferred from the data when
// nobody set segmentBy, the setting once one is set.
TEST_F(AdminTest, DetailShowsTheInferredSeriesKey) {
  CreateDataset("cpu", 1500);
  Answer a = Call("GET", "/admin/datasets/cpu");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.body.find(R"("seriesKey":[],"seriesKeySource":"none")"), std::string::npos) << a.body;
  ASSERT_EQ(Call("POST", "/admin/datasets/cpu/flush").status, 200);
  a = Call("GET", "/admin/datasets/cpu");
  EXPECT_NE(a.body.find(R"("segmentBy":[],"seriesKey":["host"],"seriesKeySource":"inferred")"),
            std::string::npos)
      << a.body;
  a = Call("PUT", "/admin/datasets/cpu/settings", R"({"segmentBy":[]})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.body.find(R"("segmentBy":[],"seriesKey":[],"seriesKeySource":"segmentBy")"),
            std::string::npos)
      << a.body;
}

TEST_F(AdminTest, ExistingRoutesStillAnswer) {
  CreateDataset("cpu", 4);
  Answer a = Call("PUT", "/admin/datasets/cpu/settings", R"({"partitionInterval":"6h"})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(
      a.body,
      R"({"dataset":"cpu","partitionInterval":21600,"segmentBy":[],"seriesKey":[],"seriesKeySource":"none","dedup":null})");
  a = Call("PUT", "/admin/datasets/cpu/settings", R"({"dedup":{}})");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(ErrorCode(a), "invalid_settings");
  EXPECT_NE(a.body.find("keys is required"), std::string::npos) << a.body;
  a = Call("PUT", "/admin/datasets/cpu/settings", R"({"iam":{"readers":[]}})");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(ErrorCode(a), "invalid_settings");
  EXPECT_NE(a.body.find("readScopes"), std::string::npos) << a.body;
  // An unknown key is named in details, escaped (it was pasted in raw).
  a = Call("PUT", "/admin/datasets/cpu/settings", R"({"a\"b":1})");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(ErrorCode(a), "invalid_settings");
  EXPECT_EQ(ErrorDetail(a, "field"), "a\"b");
  a = Call("POST", "/admin/datasets/cpu/flush");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(uint64_t(Parse(a)["rowsSealed"].get_uint64()), 4u);
  a = Call("GET", "/admin/datasets/cpu/manifest");
  ASSERT_EQ(a.status, 200) << a.body;
  auto root = Parse(a);
  EXPECT_EQ(std::string_view(root["dataset"].get_string()), "cpu");
  EXPECT_EQ(root["partitions"].get_array().size(), 1u);
}

TEST_F(AdminTest, ScopeIsCheckedOnEveryAdminRoute) {
  CreateDataset("cpu");
  StopService();
  ServiceOptions so;
  so.admin_scope = "ts:admin";
  StartService(so);
  struct Case {
    const char* method;
    const char* path;
    const char* body;
  };
  const Case cases[] = {
      {"GET", "/admin/datasets", ""},
      {"GET", "/admin/datasets/cpu/manifest", ""},
      {"PUT", "/admin/datasets/cpu/settings", "{}"},
      {"POST", "/admin/datasets/cpu/flush", ""},
      {"GET", "/admin/storage-targets", ""},
      {"PUT", "/admin/datasets/cpu/storage-target", R"({"storageTargetId":"local"})"},
      {"GET", "/admin/audit", ""},
  };
  for (const Case& c : cases) {
    Answer a = Call(c.method, c.path, c.body, {{"x-iam-scopes", "ts:read, ts:write"}});
    EXPECT_EQ(a.status, 403) << c.path;
    EXPECT_EQ(ErrorCode(a), "forbidden");
    EXPECT_EQ(ErrorDetail(a, "requiredScope"), "ts:admin");
    // The scope is checked before the dataset is looked up.
    if (std::string_view(c.path).find("/cpu/") != std::string_view::npos) {
      std::string other(c.path);
      other.replace(other.find("/cpu/"), 5, "/nope/");
      EXPECT_EQ(Call(c.method, other, c.body).status, 403) << other;
    }
    a = Call(c.method, c.path, c.body, {{"x-iam-scopes", "ts:read, ts:admin"}});
    EXPECT_EQ(a.status, 200) << c.path << ": " << a.body;
  }
  // Unknown routes stay 404 without a scope.
  EXPECT_EQ(Call("GET", "/admin/nope").status, 404);
}

TEST(AdminNotReadyTest, AdminRoutesAnswer503BeforeRecovery) {
  ServiceOptions so;
  so.admin_scope = "ts:admin";
  Service s(so);
  auto call = [&](std::string method, std::string path,
                  std::vector<std::pair<std::string, std::string>> headers) {
    HttpRequest req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.headers = std::move(headers);
    std::promise<HttpResponse> p;
    auto f = p.get_future();
    s.Handle(std::move(req), [&p](HttpResponse r) { p.set_value(std::move(r)); });
    return f.get();
  };
  HttpResponse r = call("GET", "/admin/datasets", {{"x-iam-scopes", "ts:admin"}});
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("not_ready"), std::string::npos);
  EXPECT_EQ(call("GET", "/admin/audit", {}).status, 403);  // scope first
  EXPECT_EQ(call("GET", "/admin/nope", {}).status, 404);
  EXPECT_EQ(call("DELETE", "/admin/audit", {}).status, 405);
}

TEST_F(AdminTest, DatasetDetailShowsSchemaSettingsRetentionAndTiers) {
  CreateDataset("cpu", 6);
  ASSERT_EQ(Call("POST", "/admin/datasets/cpu/flush").status, 200);
  CreateDataset("cpu", 2);  // two more rows stay in memory
  Answer a = Call("GET", "/admin/datasets/cpu");
  ASSERT_EQ(a.status, 200) << a.body;
  auto root = Parse(a);
  EXPECT_EQ(std::string_view(root["slug"].get_string()), "cpu");
  EXPECT_EQ(root["schema"]["version"].get_uint64().value(), 1u);
  EXPECT_EQ(root["schema"]["fields"].get_array().size(), 3u);
  EXPECT_EQ(root["rows"].get_uint64().value(), 8u);
  EXPECT_EQ(root["tiers"]["memory"]["rows"].get_uint64().value(), 2u);
  EXPECT_EQ(root["tiers"]["hot"]["rows"].get_uint64().value(), 6u);
  EXPECT_EQ(root["tiers"]["cold"]["rows"].get_uint64().value(), 0u);
  EXPECT_TRUE(root["retention"]["stored"]["deleteAfter"].is_null());
  EXPECT_EQ(std::string_view(root["storageTarget"].get_string()), "local");
  // By id as well as by slug.
  std::string id(root["id"].get_string().value());
  EXPECT_EQ(Call("GET", "/admin/datasets/" + id).status, 200);
  EXPECT_EQ(Call("GET", "/admin/datasets/nope").status, 404);
}

TEST_F(AdminTest, RetentionPutMergesAndValidates) {
  CreateDataset("cpu", 1);
  Answer a = Call("PUT", "/admin/datasets/cpu/retention", R"({"deleteAfter":"90d"})");
  ASSERT_EQ(a.status, 200) << a.body;
  a = Call("PUT", "/admin/datasets/cpu/retention", R"({"coldAfter":604800})");
  ASSERT_EQ(a.status, 200) << a.body;
  a = Call("GET", "/admin/datasets/cpu/retention");
  ASSERT_EQ(a.status, 200);
  auto root = Parse(a);
  // Stored as PUT; the first value was kept by the second PUT (merge).
  EXPECT_EQ(simdjson::minify(root["stored"]), R"({"deleteAfter":"90d","coldAfter":604800})");
  EXPECT_EQ(root["effective"]["deleteAfter"].get_int64().value(), 90 * 86400);
  EXPECT_EQ(root["effective"]["coldAfter"].get_int64().value(), 604800);
  // null clears.
  a = Call("PUT", "/admin/datasets/cpu/retention", R"({"deleteAfter":null})");
  ASSERT_EQ(a.status, 200);
  EXPECT_TRUE(Parse(a)["stored"]["deleteAfter"].is_null());
  EXPECT_TRUE(Parse(a)["effective"]["deleteAfter"].is_null());
  for (const char* bad :
       {R"({"deleteAfter":"90x"})", R"({"deleteAfter":-5})", R"({"deleteAfter":"0d"})",
        R"({"deleteAfter":true})", R"({"keepFor":"1d"})", "[]", "{"}) {
    a = Call("PUT", "/admin/datasets/cpu/retention", bad);
    EXPECT_EQ(a.status, 400) << bad << " -> " << a.body;
  }
  a = Call("PUT", "/admin/datasets/cpu/retention", R"({"coldAfter":"soon"})");
  EXPECT_EQ(ErrorDetail(a, "field"), "coldAfter");
  // Audited, and durable across a restart.
  StopService();
  StartService(ServiceOptions{});
  a = Call("GET", "/admin/datasets/cpu/retention");
  EXPECT_EQ(simdjson::minify(Parse(a)["stored"]), R"({"deleteAfter":null,"coldAfter":604800})");
  a = Call("GET", "/admin/audit?dataset=cpu");
  EXPECT_NE(a.body.find("retention.update"), std::string::npos) << a.body;
}

TEST_F(AdminTest, EnforceRetentionDropsOldPartitions) {
  CreateDataset("cpu", 5);  // timestamps in 1970: far older than any limit
  ASSERT_EQ(Call("POST", "/admin/datasets/cpu/flush").status, 200);
  Answer a = Call("POST", "/admin/datasets/cpu/enforce-retention");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(Parse(a)["partitionsDropped"].get_uint64().value(), 0u) << "no retention set";
  ASSERT_EQ(Call("PUT", "/admin/datasets/cpu/retention", R"({"deleteAfter":"30d"})").status, 200);
  a = Call("POST", "/admin/datasets/cpu/enforce-retention");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(Parse(a)["partitionsDropped"].get_uint64().value(), 1u) << a.body;
  EXPECT_EQ(Parse(a)["rowsDropped"].get_uint64().value(), 5u);
  a = Call("GET", "/admin/datasets/cpu");
  EXPECT_EQ(Parse(a)["rows"].get_uint64().value(), 0u);
}

TEST_F(AdminTest, CompactMergesAndDedupApplies) {
  CreateDataset("cpu", 6);
  ASSERT_EQ(Call("PUT", "/admin/datasets/cpu/settings",
                 R"({"segmentBy":["host"],"dedup":{"keys":["host"],"keep":"last"}})")
                .status,
            200);
  for (int k = 0; k < 3; ++k) {
    CreateDataset("cpu", 6);  // the same 6 rows again: duplicates
    ASSERT_EQ(Call("POST", "/admin/datasets/cpu/flush").status, 200);
  }
  Answer q = Call("POST", "/datasets/cpu/query",
                  R"({"timeRange":{"start":"1970-01-01T00:00:00Z","end":"1970-01-02T00:00:00Z"},)"
                  R"("downsample":{"aggregations":[{"fn":"count","alias":"n"}]}})");
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_NE(q.body.find("\"n\":6"), std::string::npos) << "merge on read: " << q.body;
  Answer a = Call("POST", "/admin/datasets/cpu/compact");
  ASSERT_EQ(a.status, 200) << a.body;
  auto root = Parse(a);
  EXPECT_GE(root["segmentsMerged"].get_uint64().value(), 3u);
  EXPECT_EQ(root["rowsWritten"].get_uint64().value(), 6u) << a.body;
  EXPECT_EQ(root["segments"].get_uint64().value(), 1u);
  // Settings errors name the column.
  a = Call("PUT", "/admin/datasets/cpu/settings", R"({"dedup":{"keys":["nope"]}})");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(ErrorDetail(a, "column"), "nope");
  a = Call("PUT", "/admin/datasets/cpu/settings", R"({"dedup":{"keys":["host"],"keep":"mid"}})");
  EXPECT_EQ(a.status, 400);
  a = Call("PUT", "/admin/datasets/cpu/settings", R"({"segmentBy":["v"]})");
  EXPECT_EQ(a.status, 400) << "segmentBy outside the dedup keys";
  a = Call("PUT", "/admin/datasets/cpu/settings", R"({"partitionInterval":"soon"})");
  EXPECT_EQ(a.status, 400);
}

TEST_F(AdminTest, DeleteDatasetRemovesItAndFreesTheName) {
  CreateDataset("cpu", 3);
  ASSERT_EQ(Call("POST", "/admin/datasets/cpu/flush").status, 200);
  Answer a = Call("DELETE", "/admin/datasets/cpu", "", {{"x-iam-user", "ops"}});
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(Parse(a)["rowsDeleted"].get_uint64().value(), 3u);
  EXPECT_EQ(Call("GET", "/admin/datasets/cpu").status, 404);
  EXPECT_EQ(Call("DELETE", "/admin/datasets/cpu").status, 404);
  a = Call("GET", "/admin/audit");
  EXPECT_NE(a.body.find("dataset.delete"), std::string::npos) << a.body;
  EXPECT_NE(a.body.find("\"ops\""), std::string::npos) << a.body;
  StopService();
  StartService(ServiceOptions{});
  EXPECT_EQ(Call("GET", "/admin/datasets/cpu").status, 404);
  CreateDataset("cpu", 1);
  EXPECT_EQ(Parse(Call("GET", "/admin/datasets/cpu"))["rows"].get_uint64().value(), 1u);
}

}  // namespace
}  // namespace timestore::api

namespace timestore::api {
namespace {

TEST_F(AdminTest, StorageTargetIdsLocationsAndEnvironmentCredentials) {
  // The environment's ids are reserved.
  for (const char* id : {"s3", "gcs", "azure"}) {
    Answer a = Call("PUT", StrCat("/admin/storage-targets/", id, "?verify=false"),
                    R"({"driver":"s3","bucket":"x"})");
    EXPECT_EQ(a.status, 400) << id;
    EXPECT_NE(a.body.find("reserved"), std::string::npos) << a.body;
  }
  // Two targets must not share a bucket prefix.
  ASSERT_EQ(Call("PUT", "/admin/storage-targets/one?verify=false",
                 R"({"driver":"s3","bucket":"b","prefix":"ts"})")
                .status,
            201);
  for (const char* prefix : {"ts", "ts/sub", "", "ts/"}) {
    Answer a = Call("PUT", "/admin/storage-targets/two?verify=false",
                    StrCat(R"({"driver":"s3","bucket":"b","prefix":")", prefix, R"("})"));
    EXPECT_EQ(a.status, 409) << prefix << " " << a.body;
    EXPECT_EQ(ErrorCode(a), "storage_target_conflict") << prefix;
  }
  EXPECT_EQ(Call("PUT", "/admin/storage-targets/two?verify=false",
                 R"({"driver":"s3","bucket":"b","prefix":"other"})")
                .status,
            201);
  // Credentials from AWS_* are used, shown as such, and never written.
  ::setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "env-secret-never-on-disk", 1);
  Answer a =
      Call("PUT", "/admin/storage-targets/three?verify=false", R"({"driver":"s3","bucket":"c"})");
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_NE(a.body.find(R"("credentials":"environment")"), std::string::npos) << a.body;
  std::ifstream in(root_ + "/storage-targets.json");
  const std::string file(std::istreambuf_iterator<char>(in), {});
  EXPECT_EQ(file.find("env-secret-never-on-disk"), std::string::npos) << file;
  EXPECT_EQ(file.find("AKIAENVIRONMENT"), std::string::npos) << file;
}

TEST_F(AdminTest, TargetHoldingSegmentsCannotMoveButCanChangePrice) {
  CreateDataset("cpu", 100);
  ASSERT_EQ(Call("POST", "/admin/datasets/cpu/flush").status, 200);
  ASSERT_EQ(
      Call("PUT", "/admin/datasets/cpu/storage-target", R"({"storageTargetId":"cold"})").status,
      200);
  ASSERT_EQ(Call("PUT", "/admin/datasets/cpu/retention", R"({"coldAfter":"1h"})").status, 200);
  Answer a = Call("POST", "/admin/datasets/cpu/enforce-retention");
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_NE(a.body.find(R"("segmentsMoved":1)"), std::string::npos) << a.body;
  a = Call("PUT", "/admin/storage-targets/cold?verify=false",
           R"({"driver":"memory","bucket":"elsewhere"})");
  EXPECT_EQ(a.status, 409) << a.body;
  EXPECT_EQ(ErrorCode(a), "storage_target_in_use");
  a = Call("PUT", "/admin/storage-targets/cold?verify=false",
           R"({"driver":"memory","bucket":"bucket","pricePerGbMonth":0.004})");
  EXPECT_EQ(a.status, 200) << a.body;
  a = Call("GET", "/admin/datasets/cpu");
  EXPECT_NE(a.body.find(R"("pricePerGbMonth":0.004)"), std::string::npos) << a.body;
  a = Call("DELETE", "/admin/storage-targets/cold");
  EXPECT_EQ(a.status, 409) << a.body;
  // The answers still come (from the in-memory store).
  a = Call(
      "POST", "/datasets/cpu/query",
      R"({"timeRange":{"start":0,"end":999999999999},"downsample":{"aggregations":[{"fn":"count"}]}})");
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.body.find(R"("count":100)"), std::string::npos) << a.body;
}

}  // namespace
}  // namespace timestore::api
