// The export routes in process (api/admin_export_routes.cc): the job, its
// answer and listing, who may export where, and refusals naming the member.
#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/api/token_fixture.h"

namespace timestore::api::testing {
namespace {

class ExportRoutesTest : public TokenModeTest {
 protected:
  void SetUp() override {
    TokenModeTest::SetUp();
    out_ = root_ + "-out";
  }
  void TearDown() override {
    TokenModeTest::TearDown();
    std::filesystem::remove_all(out_);
  }
  // Waits for the job of a 202 answer; returns the finished job's answer.
  Answer Finish(const std::string& slug, const Answer& started, const Headers& h) {
    EXPECT_EQ(started.status, 202) << started.body;
    std::string_view id;
    if (Parse(started)["id"].get(id)) return started;
    const std::string path = StrCat("/admin/datasets/", slug, "/exports/", id);
    EXPECT_EQ(started.Header("Location"), path);
    for (int i = 0; i < 500; ++i) {
      Answer a = Call("GET", path, "", h);
      std::string_view state;
      if (a.status != 200 || Parse(a)["state"].get(state) || state != "running") return a;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "the export job did not end";
    return started;
  }
  std::string out_;
};

TEST_F(ExportRoutesTest, JobsAnswerTheManifestAndTokensLimitWhere) {
  CreateDataset("cpu-a", 5, Bearer(kBootstrap));
  CreateDataset("mem", 2, Bearer(kBootstrap));
  Answer made = Call("POST", "/admin/tokens",
                     R"({"name":"team","scopes":["read","write","admin"],)"
                     R"("datasets":[{"pattern":"cpu-*","access":["read","write","admin"]}]})",
                     Bearer(kBootstrap));
  ASSERT_EQ(made.status, 201) << made.body;
  std::string_view token_view;
  ASSERT_FALSE(Parse(made)["token"].get(token_view));
  const std::string team(token_view);

  // A directory is the server's own disk: not for a token limited to some datasets.
  Answer local = Call("POST", "/admin/datasets/cpu-a/export", StrCat(R"({"out":")", out_, R"("})"),
                      Bearer(team));
  EXPECT_EQ(local.status, 403) << local.body;
  // A storage target is.
  Answer to_target = Finish("cpu-a",
                            Call("POST", "/admin/datasets/cpu-a/export",
                                 R"({"out":"s3://cold/exp","compression":"snappy"})", Bearer(team)),
                            Bearer(team));
  ASSERT_EQ(to_target.status, 200) << to_target.body;
  std::string_view state;
  ASSERT_FALSE(Parse(to_target)["state"].get(state));
  EXPECT_EQ(state, "succeeded") << to_target.body;
  uint64_t rows = 0;
  EXPECT_FALSE(Parse(to_target)["result"]["rows"].get(rows)) << to_target.body;
  EXPECT_EQ(rows, 5u);
  auto manifest = store_->Get("exp/dataset=cpu-a/_timestore_export.json");
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_NE(manifest->find("\"compression\":\"snappy\""), std::string::npos) << *manifest;
  // Another dataset does not exist for it.
  EXPECT_EQ(
      Call("POST", "/admin/datasets/mem/export", R"({"out":"s3://cold/exp"})", Bearer(team)).status,
      404);
  EXPECT_EQ(Call("GET", "/admin/datasets/mem/exports", "", Bearer(team)).status, 404);

  // The unrestricted admin may write a directory on the server.
  Answer to_dir =
      Finish("cpu-a",
             Call("POST", "/admin/datasets/cpu-a/export",
                  StrCat(R"({"out":")", out_, R"(","from":0,"to":"1970-01-01T00:16:43Z"})"),
                  Bearer(kBootstrap)),
             Bearer(kBootstrap));
  ASSERT_EQ(to_dir.status, 200) << to_dir.body;
  EXPECT_FALSE(Parse(to_dir)["result"]["rows"].get(rows));
  EXPECT_EQ(rows, 3u);  // at 1000, 1001 and 1002 s: the range ends before 1003 s
  // The range cuts the day: its bounds are in the file name.
  EXPECT_TRUE(std::filesystem::exists(
      out_ + "/dataset=cpu-a/date=1970-01-01/part-0-19700101T000000Z-19700101T001643Z.parquet"));
  EXPECT_TRUE(std::filesystem::exists(out_ + "/dataset=cpu-a/_timestore_export.json"));

  // Listing: the dataset's export jobs, newest first; an unknown job is 404.
  Answer list = Call("GET", "/admin/datasets/cpu-a/exports", "", Bearer(kBootstrap));
  ASSERT_EQ(list.status, 200) << list.body;
  simdjson::dom::array jobs;
  ASSERT_FALSE(Parse(list)["exports"].get(jobs));
  EXPECT_EQ(jobs.size(), 2u);
  Answer missing =
      Call("GET", "/admin/datasets/cpu-a/exports/job-0000000000000000", "", Bearer(kBootstrap));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorCode(missing), "job_not_found");
}

TEST_F(ExportRoutesTest, RefusalsNameTheMember) {
  CreateDataset("cpu", 1, Bearer(kBootstrap));
  const Headers h = Bearer(kBootstrap);
  struct Case {
    const char* body;
    int status;
    const char* field;
  } cases[] = {
      {R"({"to":"2024-01-01T00:00:00Z"})", 400, "out"},
      {R"({"out":"s3://cold/x","format":"csv"})", 400, "format"},
      {R"({"out":"s3://cold/x","compression":"lz4"})", 400, "compression"},
      {R"({"out":"s3://cold/x","from":"yesterday"})", 400, "from"},
      {R"({"out":"s3://cold/x","from":5,"to":5})", 400, "to"},
      {R"({"out":"s3://nowhere/x"})", 404, "out"},
      {R"({"out":""})", 400, "out"},
  };
  for (const Case& c : cases) {
    Answer a = Call("POST", "/admin/datasets/cpu/export", c.body, h);
    EXPECT_EQ(a.status, c.status) << c.body << " -> " << a.body;
    EXPECT_EQ(ErrorDetail(a, "field"), c.field) << c.body << " -> " << a.body;
  }
  EXPECT_EQ(Call("POST", "/admin/datasets/cpu/export", "not json", h).status, 400);
  EXPECT_EQ(Call("POST", "/admin/datasets/nope/export", R"({"out":"s3://cold/x"})", h).status, 404);
}

}  // namespace
}  // namespace timestore::api::testing
