// Connector input formats: CSV, envelopes, bulk splitting, mutated inputs.
#include "tests/connectors/connectors_fixture.h"

namespace timestore::connectors {
namespace {

TEST(CsvTest, QuotesCrlfAndEmbeddedNewlines) {
  CsvReader r("a,b,c\r\n1,\"x,y\",\"say \"\"hi\"\"\"\r\n\r\n2,\"two\nlines\",\n");
  std::vector<std::string> f;
  ASSERT_TRUE(*r.Next(&f));
  EXPECT_EQ(f, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_TRUE(*r.Next(&f));
  EXPECT_EQ(f, (std::vector<std::string>{"1", "x,y", "say \"hi\""}));
  EXPECT_EQ(r.line(), 2);
  ASSERT_TRUE(*r.Next(&f));
  EXPECT_EQ(f, (std::vector<std::string>{"2", "two\nlines", ""}));
  EXPECT_EQ(r.line(), 4);
  EXPECT_FALSE(*r.Next(&f));
}

TEST(CsvTest, UnterminatedQuoteNamesItsLine) {
  CsvReader r("a\n1\n\"open\n2\n");
  std::vector<std::string> f;
  ASSERT_TRUE(*r.Next(&f));
  ASSERT_TRUE(*r.Next(&f));
  auto bad = r.Next(&f);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(Message(bad.status()),
            "line 3: a quoted field is not closed before the end of the file");
}

TEST(CsvTest, TypesLikeTheJsonPath) {
  std::vector<std::string> header = {"timestamp", "host", "v", "ok", "note"};
  std::string out;
  ASSERT_TRUE(
      AppendCsvRecordJson(header, {"1714564800000", "h1", "2.5", "TRUE", "007"}, nullptr, &out)
          .ok());
  EXPECT_EQ(out, R"({"timestamp":1714564800000,"host":"h1","v":2.5,"ok":true,"note":"007"})");
  out.clear();
  ASSERT_TRUE(
      AppendCsvRecordJson(header, {"2024-05-01T12:00:00Z", "", "-1e3"}, nullptr, &out).ok());
  EXPECT_EQ(out, R"({"timestamp":"2024-05-01T12:00:00Z","v":-1e3})");
  // A stored string column keeps digits a string; a stored double column
  // gets a bad value as a string (the parser then names it).
  Schema s;
  s.time_column = "timestamp";
  s.fields = {{"timestamp", ColumnType::kTimestamp},
              {"host", ColumnType::kString},
              {"v", ColumnType::kDouble}};
  out.clear();
  ASSERT_TRUE(AppendCsvRecordJson(header, {"5", "123", "abc"}, &s, &out).ok());
  EXPECT_EQ(out, R"({"timestamp":5,"host":"123","v":"abc"})");
  auto extra = AppendCsvRecordJson({"a"}, {"1", "2"}, nullptr, &out);
  ASSERT_FALSE(extra.ok());
  EXPECT_EQ(Message(extra), "has 2 fields; the header names 1 columns");
  EXPECT_TRUE(IsJsonNumber("0"));
  EXPECT_TRUE(IsJsonNumber("-0.5e+7"));
  EXPECT_FALSE(IsJsonNumber("01"));
  EXPECT_FALSE(IsJsonNumber("1."));
  EXPECT_FALSE(IsJsonNumber("NaN"));
  EXPECT_FALSE(IsJsonNumber(""));
}

TEST(CsvTest, TypedColumnsTakeCanonicalText) {
  // A cell of a json, uuid or array column is the value's text; the record
  // carries its canonical form (json and arrays as JSON, a uuid a string).
  Schema s;
  s.time_column = "timestamp";
  s.fields = {{"timestamp", ColumnType::kTimestamp},
              {"attrs", ColumnType::kJson},
              {"id", ColumnType::kUuid},
              {"vals", ColumnType::kDoubleArray},
              {"tags", ColumnType::kStringArray},
              {"flags", ColumnType::kBooleanArray},
              {"n", ColumnType::kIntegerArray}};
  std::vector<std::string> header = {"timestamp", "attrs", "id", "vals", "tags", "flags", "n"};
  std::string out;
  ASSERT_TRUE(AppendCsvRecordJson(header,
                                  {"5", R"({ "b": 1, "a": [true, null] })",
                                   "{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}", "[1, 2.5]",
                                   R"(["x", "y z"])", "[false]", "[1,2]"},
                                  &s, &out)
                  .ok());
  EXPECT_EQ(out, R"({"timestamp":5,"attrs":{"a":[true,null],"b":1},)"
                 R"("id":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","vals":[1,2.5],"tags":["x","y z"],)"
                 R"("flags":[false],"n":[1,2]})");
  // A bad value names the column, its type and the value; the bulk loader
  // adds the file and line.
  out.clear();
  auto bad = AppendCsvRecordJson({"timestamp", "attrs"}, {"5", "{oops"}, &s, &out);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(Message(bad),
            R"(column "attrs" is json and the value "{oops" is not: invalid JSON object)");
  bad = AppendCsvRecordJson({"timestamp", "id"}, {"5", "12345"}, &s, &out);
  EXPECT_EQ(Message(bad),
            R"(column "id" is uuid and the value "12345" is not: expected a uuid (8-4-4-4-12 )"
            "hex digits)");
  bad = AppendCsvRecordJson({"timestamp", "n"}, {"5", "[1.5]"}, &s, &out);
  EXPECT_NE(Message(bad).find(R"(column "n" is integer[] and the value "[1.5]" is not: )"),
            std::string::npos)
      << Message(bad);
  std::string dataset = "d";
  auto split = SplitBulkFile("timestamp,id\n1,not-a-uuid\n", BulkFormat::kCsv, 10, &dataset, &s);
  ASSERT_FALSE(split.ok());
  EXPECT_NE(Message(split.status()).find(R"(line 2: column "id" is uuid)"), std::string::npos)
      << Message(split.status());
}

// ---------------------------------------------------------------------------
// Envelopes

TEST(EnvelopeTest, TheOriginalsShape) {
  auto e = ParseEnvelope(
      R"({"offset":42,"idempotencyKey":"k-42","ingestion":{"datasetSlug":"orders",
          "datasetName":"Orders","tableName":"orders","receivedAt":"2024-05-01T00:00:00Z",
          "schema":{"fields":[{"name":"timestamp","type":"timestamp"},{"name":"v","type":"double"}]},
          "partition":{"key":{"region":"eu"},"timeRange":{"start":"a","end":"b"}},
          "rows":[{"timestamp":"2024-05-01T12:00:00Z","v":1}]}})",
      "");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->offset, "42");
  EXPECT_EQ(e->idempotency_key, "k-42");
  EXPECT_EQ(e->dataset, "orders");
  EXPECT_EQ(
      e->body,
      R"({"schema":{"fields":[{"name":"timestamp","type":"timestamp"},{"name":"v","type":"double"}]},"partitionKey":{"region":"eu"},"records":[{"timestamp":"2024-05-01T12:00:00Z","v":1}]})");
  auto again = ParseEnvelope(
      R"({"offset":42,"idempotencyKey":"k-42","ingestion":{"datasetSlug":"orders",
          "datasetName":"Orders","tableName":"orders","receivedAt":"2024-05-01T00:00:00Z",
          "schema":{"fields":[{"name":"timestamp","type":"timestamp"},{"name":"v","type":"double"}]},
          "partition":{"key":{"region":"eu"},"timeRange":{"start":"a","end":"b"}},
          "rows":[{"timestamp":"2024-05-01T12:00:00Z","v":1}]}})",
      "");
  EXPECT_EQ(e->hash, again->hash);
}

TEST(EnvelopeTest, DefaultsAndErrors) {
  auto e = ParseEnvelope(R"({"offset":"7","ingestion":{"records":[{"v":1}]}})", "metrics");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->dataset, "metrics");
  EXPECT_EQ(e->idempotency_key, "");
  EXPECT_EQ(e->body, R"({"records":[{"v":1}]})");
  struct Case {
    std::string line, want;
  };
  std::vector<Case> cases = {
      {"not json", "envelope: not valid JSON"},
      {"[1]", "envelope: expected a JSON object"},
      {R"({"offset":1})", "envelope: member \"ingestion\" is required"},
      {R"({"offset":1,"payload":{},"ingestion":{}})",
       "envelope: member \"payload\" is not one of offset, idempotencyKey, ingestion"},
      {R"({"ingestion":{"rows":[]}})",
       "member \"ingestion.datasetSlug\" is required (the connector names no dataset)"},
      {R"({"ingestion":{"datasetSlug":"Bad Slug","rows":[]}})", "dataset slug \"Bad Slug\""},
      {R"({"ingestion":{"datasetSlug":"a","rows":{}}})",
       "member \"ingestion.rows\": expected an array"},
      {R"({"ingestion":{"datasetSlug":"a"}})", "member \"ingestion.rows\" is required"},
      {R"({"ingestion":{"datasetSlug":"a","rows":[],"extra":1}})",
       "member \"ingestion.extra\" is not one of"},
      {R"({"offset":[1],"ingestion":{"datasetSlug":"a","rows":[]}})",
       "member \"offset\": expected a string or a whole number"},
  };
  for (const Case& c : cases) {
    auto r = ParseEnvelope(c.line, "");
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_NE(Message(r.status()).find(c.want), std::string::npos)
        << c.line << "\n  got: " << r.status().message();
  }
}

// ---------------------------------------------------------------------------
// Checkpoints

TEST(BulkSplitTest, ChunksOfEachFormat) {
  std::string dataset = "d";
  auto j = SplitBulkFile(R"([{"v":1},{"v":2},{"v":3}])", BulkFormat::kJson, 2, &dataset, nullptr);
  ASSERT_TRUE(j.ok()) << j.status();
  ASSERT_EQ(j->size(), 2u);
  EXPECT_EQ((*j)[0].body, R"({"records":[{"v":1},{"v":2}]})");
  EXPECT_EQ((*j)[1].body, R"({"records":[{"v":3}]})");
  EXPECT_EQ((*j)[1].first_row, 3u);

  auto orig = SplitBulkFile(
      R"({"ingestion":{"datasetSlug":"orders","schema":{"fields":[{"name":"v","type":"double"}]}},"rows":[{"v":1}]})",
      BulkFormat::kJson, 10, &dataset, nullptr);
  ASSERT_TRUE(orig.ok()) << orig.status();
  EXPECT_EQ(dataset, "orders");
  EXPECT_EQ((*orig)[0].body,
            R"({"schema":{"fields":[{"name":"v","type":"double"}]},"records":[{"v":1}]})");
  auto unknown = SplitBulkFile(R"({"recs":[]})", BulkFormat::kJson, 10, &dataset, nullptr);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(Message(unknown.status()).find("member \"recs\""), std::string::npos);

  auto nd =
      SplitBulkFile("{\"v\":1}\n\n{\"v\":2}\n{\"v\":3}", BulkFormat::kNdjson, 2, &dataset, nullptr);
  ASSERT_TRUE(nd.ok());
  ASSERT_EQ(nd->size(), 2u);
  EXPECT_EQ((*nd)[0].first_row, 1u);
  EXPECT_EQ((*nd)[0].last_row, 3u);
  EXPECT_EQ((*nd)[1].body, "{\"v\":3}\n");

  auto lp = SplitBulkFile("# comment\ncpu v=1 1\ncpu v=2 2\n", BulkFormat::kLineProtocol, 5,
                          &dataset, nullptr);
  ASSERT_TRUE(lp.ok());
  ASSERT_EQ(lp->size(), 1u);
  EXPECT_EQ((*lp)[0].body, "cpu v=1 1\ncpu v=2 2\n");

  auto csv = SplitBulkFile("timestamp,v\n1,2\n3,4\n5,6\n", BulkFormat::kCsv, 2, &dataset, nullptr);
  ASSERT_TRUE(csv.ok());
  ASSERT_EQ(csv->size(), 2u);
  EXPECT_EQ((*csv)[0].body, R"({"records":[{"timestamp":1,"v":2},{"timestamp":3,"v":4}]})");
  auto bom =
      SplitBulkFile("\xEF\xBB\xBFtimestamp,v\n1,2\n", BulkFormat::kCsv, 2, &dataset, nullptr);
  ASSERT_TRUE(bom.ok());
  EXPECT_EQ((*bom)[0].body, R"({"records":[{"timestamp":1,"v":2}]})");
  auto dup = SplitBulkFile("a,a\n1,2\n", BulkFormat::kCsv, 2, &dataset, nullptr);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(Message(dup.status()), "header names column \"a\" twice");
  EXPECT_EQ(FormatOfName("x.jsonl"), BulkFormat::kNdjson);
  EXPECT_EQ(FormatOfName("x.lp"), BulkFormat::kLineProtocol);
  EXPECT_EQ(FormatOfName("x.txt"), BulkFormat::kAuto);
}

TEST(BulkSplitTest, ErrorsNameTheFilesLine) {
  std::string dataset = "d";
  // Lines 1-2 records, 3 blank, 4 record, 5-6 blank, 7 record, 8 record.
  auto nd = SplitBulkFile("{\"v\":1}\n{\"v\":2}\n\n{\"v\":3}\n\n  \n{\"v\":4}\n{\"v\":5}\n",
                          BulkFormat::kNdjson, 3, &dataset, nullptr);
  ASSERT_TRUE(nd.ok());
  ASSERT_EQ(nd->size(), 2u);
  EXPECT_EQ(FileLineOf((*nd)[0], 1), 1u);
  EXPECT_EQ(FileLineOf((*nd)[0], 3), 4u);
  EXPECT_EQ(FileLineOf((*nd)[0], 4), 0u);  // not in the chunk
  EXPECT_EQ(FileLineOf((*nd)[1], 1), 7u);
  EXPECT_EQ(FileLineOf((*nd)[1], 2), 8u);
  EXPECT_EQ(LocateInFile((*nd)[1], "line 2, column \"v\": expected double, got string"),
            "line 8, column \"v\": expected double, got string");
  EXPECT_EQ(LocateInFile((*nd)[1], "column \"v\" is stored as double"),
            "column \"v\" is stored as double");
  auto lp = SplitBulkFile("# c\ncpu v=1 1\n\n# c\ncpu v=2 2\ncpu v=3 3\n",
                          BulkFormat::kLineProtocol, 2, &dataset, nullptr);
  ASSERT_TRUE(lp.ok());
  ASSERT_EQ(lp->size(), 2u);
  EXPECT_EQ(FileLineOf((*lp)[0], 2), 5u);
  EXPECT_EQ(FileLineOf((*lp)[1], 1), 6u);
}

// ---------------------------------------------------------------------------
// Outside bytes, mutated: every parser answers (a value or an error), none
// crashes. A seeded smoke run, not a fuzzer.

TEST(ConnectorParsersTest, MutatedInputsNeverCrash) {
  const std::vector<std::string> seeds = {
      R"({"offset":1,"idempotencyKey":"k","ingestion":{"datasetSlug":"a","schema":{"fields":[{"name":"v","type":"double"}]},"partition":{"key":{"r":"eu"}},"rows":[{"timestamp":1,"v":2}]}})",
      "timestamp,host,v\n1,\"a,b\",2.5\n2,\"x\"\"y\",true\n",
      R"({"ingestion":{"datasetSlug":"d"},"rows":[{"v":1},{"v":2}],"chunkSize":3})",
      "cpu,host=a v=1i,s=\"x\" 1\n# c\nmem v=2 2\n",
      R"([{"id":"a","path":"/x","batchSize":5,"startAtOldest":false}])",
      R"([{"id":"b","directory":"/d","format":"csv","chunkSize":2}])",
      R"({"version":1,"path":"/x","inode":1,"offset":2,"generation":3})",
  };
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const char specials[] = {'"', ',', '\n', '\r', '{', '}', '[', ']', ':', '\\', '\0', '\xff'};
  for (int iter = 0; iter < 3000; ++iter) {
    std::string in = seeds[next() % seeds.size()];
    int edits = 1 + next() % 4;
    for (int e = 0; e < edits && !in.empty(); ++e) {
      size_t at = next() % in.size();
      switch (next() % 3) {
        case 0:
          in[at] = specials[next() % sizeof(specials)];
          break;
        case 1:
          in.erase(at, 1 + next() % 8);
          break;
        case 2:
          in.insert(at, in.substr(next() % in.size(), 1 + next() % 16));
          break;
      }
    }
    (void)ParseEnvelope(in, iter % 2 ? "d" : "");
    for (BulkFormat f :
         {BulkFormat::kJson, BulkFormat::kNdjson, BulkFormat::kCsv, BulkFormat::kLineProtocol}) {
      std::string dataset = "d";
      (void)SplitBulkFile(in, f, 1 + next() % 3, &dataset, nullptr);
    }
    (void)ParseStreamingConnectors(in, "S");
    (void)ParseBulkConnectors(in, "B");
    (void)ParseBackpressure(in, "P");
    (void)ParseConnectorsFile(in, "F");
    (void)DecodeCheckpoint(in, "C");
  }
}

}  // namespace
}  // namespace timestore::connectors
