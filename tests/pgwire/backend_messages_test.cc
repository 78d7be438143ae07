// The server's messages, byte by byte as PostgreSQL's protocol chapter lays
// them out, read back with the test client's independent parser.
#include "pgwire/backend_messages.h"

#include <gtest/gtest.h>

#include "tests/pgwire/wire_client.h"

namespace timestore::pgwire {
namespace {

using client::BackendMessage;
using client::GetInt16;
using client::GetInt32;

std::vector<BackendMessage> Written(BackendWriter* w) {
  std::string bytes = *w->buffer();
  auto messages = client::SplitBackend(&bytes);
  EXPECT_TRUE(bytes.empty()) << "a partial message was left";
  return messages;
}

TEST(BackendWriterTest, StartupMessages) {
  BackendWriter w;
  w.AuthenticationOk();
  w.AuthenticationMd5Password("abcd");
  w.AuthenticationSasl({"SCRAM-SHA-256"});
  w.ParameterStatus("server_version", "15.0");
  w.BackendKeyData(1234, -7);
  w.ReadyForQuery('I');
  w.NegotiateProtocolVersion(0, {"_pq_.x"});
  auto m = Written(&w);
  ASSERT_EQ(m.size(), 7u);
  EXPECT_EQ(m[0].type, 'R');
  EXPECT_EQ(m[0].body, std::string(4, '\0'));
  EXPECT_EQ(m[1].body, std::string("\0\0\0\5abcd", 8));
  EXPECT_EQ(m[2].body, std::string("\0\0\0\x0aSCRAM-SHA-256\0\0", 19));
  EXPECT_EQ(m[3].type, 'S');
  EXPECT_EQ(m[3].body, std::string("server_version\0"
                                   "15.0\0",
                                   20));
  EXPECT_EQ(m[4].type, 'K');
  EXPECT_EQ(GetInt32(m[4].body, 0), 1234);
  EXPECT_EQ(GetInt32(m[4].body, 4), -7);
  EXPECT_EQ(m[5].type, 'Z');
  EXPECT_EQ(m[5].body, "I");
  EXPECT_EQ(m[6].type, 'v');
  EXPECT_EQ(m[6].body, std::string("\0\0\0\0\0\0\0\1_pq_.x\0", 15));
}

TEST(BackendWriterTest, RowDescriptionAndDataRow) {
  BackendWriter w;
  w.RowDescription({{"n", sql::oid::kInt8}, {"host", sql::oid::kText}}, {1, 0});
  w.BeginDataRow(2);
  size_t mark = w.BeginValue();
  w.buffer()->append("42");
  w.EndValue(mark);
  w.NullValue();
  w.EndDataRow();
  w.CommandComplete("SELECT 1");
  auto m = Written(&w);
  ASSERT_EQ(m.size(), 3u);
  auto cols = client::RowDescriptionColumns(m[0].body);
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_EQ(cols[0].name, "n");
  EXPECT_EQ(cols[0].type_oid, 20u);
  EXPECT_EQ(cols[0].format, 1);
  EXPECT_EQ(cols[1].name, "host");
  EXPECT_EQ(cols[1].type_oid, 25u);
  EXPECT_EQ(cols[1].format, 0);
  // int8 is 8 bytes, text variable (-1).
  EXPECT_EQ(GetInt16(m[0].body, 2 + 2 + 4 + 2 + 4), 8);
  EXPECT_EQ(m[1].type, 'D');
  auto values = client::DataRowValues(m[1].body);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0], "42");
  EXPECT_EQ(values[1], std::nullopt);
  EXPECT_EQ(m[2].body, std::string("SELECT 1\0", 9));
}

TEST(BackendWriterTest, ErrorResponseFields) {
  BackendWriter w;
  ErrorFields e;
  e.severity = "FATAL";
  e.sqlstate = "28P01";
  e.message = "password authentication failed for user \"x\"";
  e.hint = "check it";
  e.position = 12;
  w.ErrorResponse(e);
  ErrorFields plain;
  plain.message = std::string("nul\0inside", 10);  // must not split the field
  w.NoticeResponse(plain);
  auto m = Written(&w);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].type, 'E');
  auto f = client::ErrorFieldsOf(m[0].body);
  EXPECT_EQ(f['S'], "FATAL");
  EXPECT_EQ(f['V'], "FATAL");
  EXPECT_EQ(f['C'], "28P01");
  EXPECT_EQ(f['M'], e.message);
  EXPECT_EQ(f['H'], "check it");
  EXPECT_EQ(f['P'], "12");
  EXPECT_EQ(f.count('D'), 0u);
  EXPECT_EQ(m[1].type, 'N');
  EXPECT_EQ(client::ErrorFieldsOf(m[1].body)['M'], "nulinside");
}

TEST(BackendWriterTest, ExtendedProtocolAcks) {
  BackendWriter w;
  w.ParseComplete();
  w.BindComplete();
  w.CloseComplete();
  w.NoData();
  w.PortalSuspended();
  w.EmptyQueryResponse();
  w.ParameterDescription({23, 25});
  auto m = Written(&w);
  ASSERT_EQ(m.size(), 7u);
  std::string types;
  for (auto& x : m) types.push_back(x.type);
  EXPECT_EQ(types, "123nsIt");
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(m[i].body.empty());
  EXPECT_EQ(GetInt16(m[6].body, 0), 2);
  EXPECT_EQ(GetInt32(m[6].body, 2), 23);
  EXPECT_EQ(GetInt32(m[6].body, 6), 25);
}

}  // namespace
}  // namespace timestore::pgwire
