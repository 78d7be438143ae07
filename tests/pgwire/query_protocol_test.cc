// The simple and extended query protocols over a real socket with scripted
// sessions (tests/pgwire/fake_session.h): message sequences, row values in
// text and binary, portals fetched in parts, PostgreSQL's naming rules, and
// error recovery (skip until Sync).
#include <gtest/gtest.h>

#include "tests/pgwire/server_fixture.h"

namespace timestore::pgwire {
namespace {

using namespace client;  // NOLINT: the client-side builders

std::string Be(uint64_t v, int bytes) {
  std::string s;
  for (int i = bytes - 1; i >= 0; --i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}

std::string TagOf(const std::vector<BackendMessage>& got, int nth = 0) {
  for (const auto& m : got)
    if (m.type == 'C' && nth-- == 0) return m.body.substr(0, m.body.size() - 1);
  return "";
}

class QueryProtocolTest : public PgServerTest {
 protected:
  void SetUp() override {
    StartServer();
    conn_ = Connect();
  }
  std::vector<BackendMessage> Exchange(const std::string& bytes) {
    conn_->Send(bytes);
    return conn_->ReadUntil("Z");
  }
  std::unique_ptr<RawConnection> conn_;
};

TEST_F(QueryProtocolTest, SimpleQueryRowsInText) {
  auto got = Exchange(QueryMessage("rows 3"));
  EXPECT_EQ(Types(got), "TDDDCZ");
  auto cols = RowDescriptionColumns(got[0].body);
  ASSERT_EQ(cols.size(), 5u);
  EXPECT_EQ(cols[0].name, "i");
  EXPECT_EQ(cols[0].type_oid, 20u);
  EXPECT_EQ(cols[3].type_oid, 1184u);
  for (const auto& c : cols) EXPECT_EQ(c.format, 0);
  EXPECT_EQ(Rows(got), (std::vector<std::string>{
                           "0|row0|0.5|2024-05-01 12:00:00+00|f",
                           "1|row1|1.5|2024-05-01 12:00:01+00|t",
                           "2|∅|2.5|2024-05-01 12:00:02+00|f",
                       }));
  EXPECT_EQ(TagOf(got), "SELECT 3");
  EXPECT_EQ(got.back().body, "I");
}

TEST_F(QueryProtocolTest, SimpleQueryZeroRowsStillDescribes) {
  EXPECT_EQ(Types(Exchange(QueryMessage("rows 0"))), "TCZ");
}

TEST_F(QueryProtocolTest, SeveralStatementsAndChangedSettings) {
  auto got = Exchange(QueryMessage("rows 1; set application_name psql2; rows 2"));
  EXPECT_EQ(Types(got), "TDCCTDDCSZ");
  EXPECT_EQ(TagOf(got, 1), "SET");
  EXPECT_EQ(got[8].body, std::string("application_name\0psql2\0", 23));
  // Unchanged settings are not sent again.
  EXPECT_EQ(Types(Exchange(QueryMessage("set application_name psql2"))), "CZ");
}

TEST_F(QueryProtocolTest, ErrorStopsTheRestOfASimpleQuery) {
  auto got = Exchange(QueryMessage("rows 1; fail; rows 1"));
  EXPECT_EQ(Types(got), "TDCEZ");
  EXPECT_EQ(ErrorField(got), "22012");
  EXPECT_EQ(ErrorField(got, 'S'), "ERROR");
  EXPECT_EQ(ErrorField(got, 'M'), "division by zero");
  // The connection goes on.
  EXPECT_EQ(Types(Exchange(QueryMessage("rows 1"))), "TDCZ");
}

TEST_F(QueryProtocolTest, SyntaxErrorInAnyStatementFailsTheWholeString) {
  auto got = Exchange(QueryMessage("rows 1; syntax"));
  EXPECT_EQ(Types(got), "EZ");
  EXPECT_EQ(ErrorField(got), "42601");
  got = Exchange(QueryMessage("nonsense"));
  EXPECT_EQ(ErrorField(got), "42601");
}

TEST_F(QueryProtocolTest, EmptyQueries) {
  EXPECT_EQ(Types(Exchange(QueryMessage(""))), "IZ");
  EXPECT_EQ(Types(Exchange(QueryMessage("  ; ;"))), "IZ");
}

TEST_F(QueryProtocolTest, TransactionStatusInReadyForQuery) {
  auto got = Exchange(QueryMessage("begin"));
  EXPECT_EQ(got.back().body, "T");
  got = Exchange(QueryMessage("fail"));
  EXPECT_EQ(got.back().body, "E");
  got = Exchange(QueryMessage("rows 1"));
  EXPECT_EQ(ErrorField(got), "25P02");
  got = Exchange(QueryMessage("commit"));
  EXPECT_EQ(got.back().body, "I");
}

TEST_F(QueryProtocolTest, SimpleQueryWithParametersIsRefused) {
  auto got = Exchange(QueryMessage("echo $1"));
  EXPECT_EQ(ErrorField(got), "42P02");
}

TEST_F(QueryProtocolTest, InvalidUtf8QueryIsRefused) {
  auto got = Exchange(QueryMessage("rows \xff"));
  EXPECT_EQ(ErrorField(got), "22021");
}

TEST_F(QueryProtocolTest, ExtendedTextParametersAndResults) {
  auto got = Exchange(ParseMessage("", "echo $1 $2") +
                      BindMessage("", "", {}, {std::string("héllo"), std::nullopt}, {}) +
                      DescribeMessage('P', "") + ExecuteMessage("", 0) + SyncMessage());
  EXPECT_EQ(Types(got), "12TDCZ");
  EXPECT_EQ(Rows(got), std::vector<std::string>{"héllo|∅"});
  EXPECT_EQ(TagOf(got), "SELECT 1");
}

TEST_F(QueryProtocolTest, ExtendedBinaryParameters) {
  // $1 int4, $2 float8, $3 bool, $4 timestamptz, $5 text: one format code each.
  auto got = Exchange(ParseMessage("", "echo $1 $2 $3 $4 $5", {23, 701, 16, 1184, 25}) +
                      BindMessage("", "", {1},
                                  {Be(42, 4), Be(0x3FF8000000000000ull, 8), std::string(1, '\1'),
                                   Be(0, 8), std::string("raw")},
                                  {}) +
                      ExecuteMessage("", 0) + SyncMessage());
  EXPECT_EQ(Types(got), "12DCZ");
  EXPECT_EQ(Rows(got), std::vector<std::string>{"42|1.5|true|2000-01-01 00:00:00+00|raw"});
}

TEST_F(QueryProtocolTest, ExtendedBinaryResults) {
  auto got = Exchange(ParseMessage("", "rows 2") + BindMessage("", "", {}, {}, {1}) +
                      DescribeMessage('P', "") + ExecuteMessage("", 0) + SyncMessage());
  ASSERT_EQ(Types(got), "12TDDCZ");
  for (const auto& c : RowDescriptionColumns(got[2].body)) EXPECT_EQ(c.format, 1);
  auto row = DataRowValues(got[4].body);
  ASSERT_EQ(row.size(), 5u);
  EXPECT_EQ(row[0], Be(1, 8));
  EXPECT_EQ(row[1], "row1");
  EXPECT_EQ(row[2], Be(0x3FF8000000000000ull, 8));  // 1.5
  EXPECT_EQ(row[3], Be((1714564801LL * 1000000) - 946684800000000LL, 8));
  EXPECT_EQ(row[4], std::string(1, '\1'));
  // Per-column codes: only column 0 in binary.
  got = Exchange(ParseMessage("", "rows 1") + BindMessage("", "", {}, {}, {1, 0, 0, 0, 0}) +
                 DescribeMessage('P', "") + ExecuteMessage("", 0) + SyncMessage());
  ASSERT_EQ(Types(got), "12TDCZ");
  auto cols = RowDescriptionColumns(got[2].body);
  EXPECT_EQ(cols[0].format, 1);
  EXPECT_EQ(cols[1].format, 0);
  EXPECT_EQ(DataRowValues(got[3].body)[2], "0.5");
}

TEST_F(QueryProtocolTest, ExecuteWithRowLimitSuspendsAndResumes) {
  auto got = Exchange(ParseMessage("", "rows 5") + BindMessage("", "", {}, {}, {}) +
                      ExecuteMessage("", 2) + ExecuteMessage("", 2) + ExecuteMessage("", 2) +
                      SyncMessage());
  EXPECT_EQ(Types(got), "12DDsDDsDCZ");
  EXPECT_EQ(Rows(got).size(), 5u);
  EXPECT_EQ(Rows(got)[4].substr(0, 2), "4|");
  EXPECT_EQ(TagOf(got), "SELECT 1");  // the rows of the last Execute, as PostgreSQL counts
  // A limit equal to the rows left completes without PortalSuspended.
  got = Exchange(ParseMessage("", "rows 2") + BindMessage("", "", {}, {}, {}) +
                 ExecuteMessage("", 2) + SyncMessage());
  EXPECT_EQ(Types(got), "12DDCZ");
  EXPECT_EQ(TagOf(got), "SELECT 2");
}

TEST_F(QueryProtocolTest, NamedPortalsSurviveUntilTheTransactionEnds) {
  auto got = Exchange(QueryMessage("begin"));
  got = Exchange(ParseMessage("s", "rows 3") + BindMessage("c", "s", {}, {}, {}) +
                 ExecuteMessage("c", 1) + SyncMessage());
  EXPECT_EQ(Types(got), "12DsZ");
  EXPECT_EQ(got.back().body, "T");
  got = Exchange(ExecuteMessage("c", 0) + SyncMessage());
  EXPECT_EQ(Types(got), "DDCZ");
  got = Exchange(QueryMessage("commit"));
  got = Exchange(ExecuteMessage("c", 0) + SyncMessage());
  EXPECT_EQ(ErrorField(got), "34000");
  // The named statement outlives the transaction.
  got = Exchange(BindMessage("", "s", {}, {}, {}) + ExecuteMessage("", 0) + SyncMessage());
  EXPECT_EQ(Types(got), "2DDDCZ");
}

TEST_F(QueryProtocolTest, DescribeStatement) {
  auto got = Exchange(ParseMessage("s1", "echo $1 $2", {23}) + DescribeMessage('S', "s1") +
                      ParseMessage("s2", "set a b") + DescribeMessage('S', "s2") + SyncMessage());
  ASSERT_EQ(Types(got), "1tT1tnZ");
  // Declared int4, and text for the one left unspecified.
  EXPECT_EQ(GetInt16(got[1].body, 0), 2);
  EXPECT_EQ(GetInt32(got[1].body, 2), 23);
  EXPECT_EQ(GetInt32(got[1].body, 6), 25);
  EXPECT_EQ(RowDescriptionColumns(got[2].body).size(), 2u);
  EXPECT_EQ(GetInt16(got[4].body, 0), 0);
}

TEST_F(QueryProtocolTest, CommandsInTheExtendedProtocol) {
  auto got = Exchange(ParseMessage("", "set x 1") + BindMessage("", "", {}, {}, {}) +
                      DescribeMessage('P', "") + ExecuteMessage("", 0) + SyncMessage());
  EXPECT_EQ(Types(got), "12nCSZ");  // ParameterStatus for the new setting x, before Z
  EXPECT_EQ(TagOf(got), "SET");
}

TEST_F(QueryProtocolTest, EmptyStatementInTheExtendedProtocol) {
  auto got = Exchange(ParseMessage("", "") + BindMessage("", "", {}, {}, {}) +
                      DescribeMessage('P', "") + ExecuteMessage("", 0) + SyncMessage());
  EXPECT_EQ(Types(got), "12nIZ");
}

TEST_F(QueryProtocolTest, ErrorSkipsEverythingUntilSync) {
  auto got =
      Exchange(ParseMessage("", "fail") + BindMessage("", "", {}, {}, {}) + ExecuteMessage("", 0) +
               ParseMessage("", "rows 1") + BindMessage("", "", {}, {}, {}) +
               ExecuteMessage("", 0) + QueryMessage("rows 1") + SyncMessage());
  // Parse, Bind, then Execute fails; the rest up to Sync is ignored.
  EXPECT_EQ(Types(got), "12EZ");
  EXPECT_EQ(ErrorField(got), "22012");
  // After Sync all is well.
  got = Exchange(ParseMessage("", "rows 1") + BindMessage("", "", {}, {}, {}) +
                 ExecuteMessage("", 0) + SyncMessage());
  EXPECT_EQ(Types(got), "12DCZ");
}

TEST_F(QueryProtocolTest, FlushSendsWithoutReadyForQuery) {
  conn_->Send(ParseMessage("", "rows 1") + BindMessage("", "", {}, {}, {}) + ExecuteMessage("", 0) +
              FlushMessage());
  EXPECT_EQ(Types(conn_->ReadUntil("C")), "12DC");
  EXPECT_EQ(Types(Exchange(SyncMessage())), "Z");
}

TEST_F(QueryProtocolTest, StatementAndPortalNames) {
  auto got = Exchange(ParseMessage("s", "rows 1") + ParseMessage("s", "rows 2") + SyncMessage());
  EXPECT_EQ(Types(got), "1EZ");
  EXPECT_EQ(ErrorField(got), "42P05");
  // The unnamed statement is replaced silently.
  got = Exchange(ParseMessage("", "rows 1") + ParseMessage("", "rows 2") +
                 BindMessage("", "", {}, {}, {}) + ExecuteMessage("", 0) + SyncMessage());
  EXPECT_EQ(Types(got), "112DDCZ");
  // Closed, the name can be used again; closing what does not exist is fine.
  got = Exchange(CloseMessage('S', "s") + CloseMessage('S', "nope") + CloseMessage('P', "nope") +
                 ParseMessage("s", "rows 1") + SyncMessage());
  EXPECT_EQ(Types(got), "3331Z");
  got = Exchange(BindMessage("", "missing", {}, {}, {}) + SyncMessage());
  EXPECT_EQ(ErrorField(got), "26000");
  got = Exchange(BindMessage("", "", {}, {}, {}) + SyncMessage());
  EXPECT_EQ(Types(got), "2Z");  // the unnamed statement survived Sync
  got = Exchange(QueryMessage("rows 0"));
  got = Exchange(BindMessage("", "", {}, {}, {}) + SyncMessage());
  EXPECT_EQ(ErrorField(got), "26000");  // ... but not a simple query
  EXPECT_EQ(ErrorField(got, 'M'), "unnamed prepared statement does not exist");
  Exchange(QueryMessage("begin"));
  got = Exchange(BindMessage("p", "s", {}, {}, {}) + BindMessage("p", "s", {}, {}, {}) +
                 SyncMessage());
  EXPECT_EQ(ErrorField(got), "42P03");
  got = Exchange(DescribeMessage('P', "ghost") + SyncMessage());
  EXPECT_EQ(ErrorField(got), "34000");
  got = Exchange(DescribeMessage('S', "ghost") + SyncMessage());
  EXPECT_EQ(ErrorField(got), "26000");
  Exchange(QueryMessage("commit"));
}

TEST_F(QueryProtocolTest, MultipleCommandsCannotBePrepared) {
  auto got = Exchange(ParseMessage("", "rows 1; rows 2") + SyncMessage());
  EXPECT_EQ(ErrorField(got), "42601");
}

TEST_F(QueryProtocolTest, BindChecks) {
  struct Case {
    std::string name;
    std::string bind;
    std::string sqlstate;
  };
  auto parse = ParseMessage("", "echo $1 $2", {23, 25});
  const Case cases[] = {
      {"too few parameters", BindMessage("", "", {}, {std::string("1")}, {}), "08P01"},
      {"too many parameters",
       BindMessage("", "", {}, {std::string("1"), std::string("2"), std::string("3")}, {}),
       "08P01"},
      {"format count", BindMessage("", "", {0, 0, 0}, {std::string("1"), std::string("2")}, {}),
       "08P01"},
      {"format code 2", BindMessage("", "", {2}, {std::string("1"), std::string("2")}, {}),
       "22023"},
      {"binary int4 of 3 bytes",
       BindMessage("", "", {1, 0}, {std::string("abc"), std::string("x")}, {}), "22P03"},
      {"invalid UTF-8 text", BindMessage("", "", {}, {std::string("1"), std::string("\xc3")}, {}),
       "22021"},
      {"result format count",
       BindMessage("", "", {}, {std::string("1"), std::string("2")}, {0, 0, 0}), "08P01"},
      {"result format code 7", BindMessage("", "", {}, {std::string("1"), std::string("2")}, {7}),
       "22023"},
  };
  for (const auto& c : cases) {
    auto got = Exchange(parse + c.bind + ExecuteMessage("", 0) + SyncMessage());
    EXPECT_EQ(Types(got), "1EZ") << c.name;
    EXPECT_EQ(ErrorField(got), c.sqlstate) << c.name << ": " << ErrorField(got, 'M');
    EXPECT_EQ(ErrorField(got, 'S'), "ERROR") << c.name;
  }
  // A binary parameter of a type with no binary form here names its OID.
  auto got = Exchange(ParseMessage("", "echo $1", {1700}) +
                      BindMessage("", "", {1}, {std::string(8, '\0')}, {}) + SyncMessage());
  EXPECT_EQ(ErrorField(got), "0A000");
  EXPECT_NE(ErrorField(got, 'M').find("1700"), std::string::npos);
  // So does a binary result of such a type.
  got = Exchange(ParseMessage("", "numeric") + BindMessage("", "", {}, {}, {1}) + SyncMessage());
  EXPECT_EQ(ErrorField(got), "0A000");
  got = Exchange(QueryMessage("numeric"));
  EXPECT_EQ(Rows(got), std::vector<std::string>{"1.25"});
}

TEST_F(QueryProtocolTest, BrokenResultIsAnErrorNotACrash) {
  auto got = Exchange(QueryMessage("broken"));
  EXPECT_EQ(ErrorField(got), "XX000");
  EXPECT_EQ(Types(Exchange(QueryMessage("rows 1"))), "TDCZ");
}

// A stored array that does not parse ends the result with XX001 naming the
// column and row, in text and in binary; the rows before it are sent whole.
TEST_F(QueryProtocolTest, StoredTextThatDoesNotParseIsDataCorrupted) {
  auto got = Exchange(QueryMessage("corrupt"));
  EXPECT_EQ(Types(got), "TDEZ");
  EXPECT_EQ(Rows(got), (std::vector<std::string>{"{1.5}"}));
  EXPECT_EQ(ErrorField(got), "XX001");
  EXPECT_EQ(ErrorField(got, 'M'),
            "row 2 of result column \"vals\" holds stored text that is not a double precision[] "
            "value: \"[1,\"");
  got = Exchange(ParseMessage("", "corrupt") + BindMessage("", "", {}, {}, {1}) +
                 ExecuteMessage("", 0) + SyncMessage());
  EXPECT_EQ(Types(got), "12DEZ");
  EXPECT_EQ(ErrorField(got), "XX001");
  EXPECT_EQ(Types(Exchange(QueryMessage("rows 1"))), "TDCZ");
}

TEST_F(QueryProtocolTest, RowsMustMatchWhatDescribeAnnounced) {
  auto got = Exchange(ParseMessage("", "shifty") + BindMessage("", "", {}, {}, {}) +
                      DescribeMessage('P', "") + ExecuteMessage("", 0) + SyncMessage());
  EXPECT_EQ(Types(got), "12TEZ");
  EXPECT_EQ(ErrorField(got), "XX000");
  // Without a Describe there is nothing to contradict.
  got = Exchange(ParseMessage("", "shifty") + BindMessage("", "", {}, {}, {}) +
                 ExecuteMessage("", 0) + SyncMessage());
  EXPECT_EQ(Types(got), "12DCZ");
}

TEST_F(QueryProtocolTest, FunctionCallIsRefusedAndCopyDataIgnored) {
  auto got = Exchange(Message('F', std::string(10, '\0')));
  EXPECT_EQ(Types(got), "EZ");
  EXPECT_EQ(ErrorField(got), "0A000");
  got = Exchange(Message('d', "stray copy data") + Message('c', "") + QueryMessage("rows 1"));
  EXPECT_EQ(Types(got), "TDCZ");
}

TEST_F(QueryProtocolTest, LargeResultsStream) {
  auto got = Exchange(QueryMessage("rows 100000"));
  EXPECT_EQ(Rows(got).size(), 100000u);
  EXPECT_EQ(TagOf(got), "SELECT 100000");
}

TEST_F(QueryProtocolTest, TerminateCloses) {
  conn_->Send(TerminateMessage());
  EXPECT_TRUE(conn_->WaitClosed());
}

}  // namespace
}  // namespace timestore::pgwire
