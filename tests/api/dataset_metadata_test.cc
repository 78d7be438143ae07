// Dataset metadata for people and operators: a display name and description
// set through PUT settings (kept in the manifest across restarts, shown in
// the detail and the listing, searchable), and the lifecycle status the
// listing shows and filters on.
#include <gtest/gtest.h>

#include "tests/api/admin_fixture.h"

namespace timestore::api {
namespace {

using testing::AdminTest;
using testing::Answer;

TEST_F(AdminTest, DisplayNameAndDescriptionPersistAndShow) {
  CreateDataset("cpu");
  Answer a =
      Call("PUT", "/admin/datasets/cpu/settings",
           R"j({"displayName":"CPU usage (EU)","description":"Telegraf cpu plugin, 10 s"})j");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.body.find(R"j("displayName":"CPU usage (EU)")j"), std::string::npos) << a.body;
  // Other settings are left as they were; the name survives a restart.
  ASSERT_EQ(Call("PUT", "/admin/datasets/cpu/settings", R"({"segmentBy":["host"]})").status, 200);
  StopService();
  StartService(ServiceOptions{});
  a = Call("GET", "/admin/datasets/cpu");
  ASSERT_EQ(a.status, 200);
  EXPECT_NE(a.body.find(R"j("displayName":"CPU usage (EU)")j"), std::string::npos) << a.body;
  EXPECT_NE(a.body.find(R"("description":"Telegraf cpu plugin, 10 s")"), std::string::npos);
  // Listed, and found by a search on the display name, case-insensitively.
  a = Call("GET", "/admin/datasets?search=usage%20(eu");
  EXPECT_NE(a.body.find(R"("slug":"cpu")"), std::string::npos) << a.body;
  EXPECT_NE(a.body.find(R"j("displayName":"CPU usage (EU)")j"), std::string::npos) << a.body;
  // null clears; wrong types and oversized text are 400s naming the setting.
  ASSERT_EQ(Call("PUT", "/admin/datasets/cpu/settings", R"({"description":null})").status, 200);
  EXPECT_EQ(Call("GET", "/admin/datasets/cpu").body.find("description"), std::string::npos);
  a = Call("PUT", "/admin/datasets/cpu/settings", R"({"displayName":5})");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(ErrorDetail(a, "field"), "displayName");
  a = Call("PUT", "/admin/datasets/cpu/settings",
           StrCat(R"({"displayName":")", std::string(201, 'x'), R"("})"));
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(a.body.find("at most 200"), std::string::npos) << a.body;
}

TEST_F(AdminTest, ListingShowsAndFiltersTheLifecycle) {
  CreateDataset("cpu");
  CreateDataset("mem");
  Answer a = Call("GET", "/admin/datasets");
  EXPECT_NE(a.body.find(R"("slug":"cpu","status":"active")"), std::string::npos) << a.body;
  {
    // While partitions move to object storage, the dataset says so.
    auto ds = engine_->GetDataset("cpu");
    Dataset::TieringScope tiering(ds.get());
    a = Call("GET", "/admin/datasets?status=tiering");
    EXPECT_NE(a.body.find(R"("slug":"cpu","status":"tiering")"), std::string::npos) << a.body;
    EXPECT_EQ(a.body.find(R"("slug":"mem")"), std::string::npos) << a.body;
    EXPECT_EQ(
        Call("GET", "/admin/datasets/cpu").body.find(R"("status":"tiering")") == std::string::npos,
        false);
  }
  a = Call("GET", "/admin/datasets?status=active");
  EXPECT_NE(a.body.find(R"("slug":"cpu")"), std::string::npos) << a.body;
  EXPECT_NE(a.body.find(R"("slug":"mem")"), std::string::npos) << a.body;
}

}  // namespace
}  // namespace timestore::api
