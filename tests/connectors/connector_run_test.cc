// The streaming and bulk connectors over a real engine.
#include "tests/connectors/connectors_fixture.h"

namespace timestore::connectors {
namespace {

TEST_F(ConnectorEngineTest, StreamingDeadLettersAndReplaysAsDuplicates) {
  const std::string file = dir_ + "/events.ndjson";
  std::string text;
  for (int i = 0; i < 10; ++i) text += Envelope(i);
  text += "{not json\n";
  text += Envelope(10, "\"abc\"");  // a string in the double column v
  for (int i = 11; i < 20; ++i) text += Envelope(i);
  Append(file, text);
  StreamingConfig c;
  c.id = "s1";
  c.path = file;
  c.poll_interval_ms = 10;
  c.batch_size = 4;
  const BackpressureConfig bp = NoBackpressure();
  {
    StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
    s.Start();
    ASSERT_TRUE(WaitFor([&] { return s.status().offset == text.size(); })) << s.status().offset;
    ConnectorStatus st = s.status();
    EXPECT_EQ(st.rows, 19u);
    EXPECT_EQ(st.dead_letters, 2u);
    EXPECT_EQ(st.lag_bytes, 0u);
    s.Stop();
  }
  EXPECT_EQ(Count("events"), 19u);
  std::string dlq = Read(engine_->options().root + "/connectors/s1.dlq.ndjson");
  EXPECT_NE(dlq.find(R"("source":")" + file + R"(")"), std::string::npos) << dlq;
  EXPECT_NE(dlq.find(R"("reason":"envelope: not valid JSON)"), std::string::npos) << dlq;
  EXPECT_NE(dlq.find(R"("line":"{not json")"), std::string::npos) << dlq;
  EXPECT_NE(dlq.find(R"(column \"v\")"), std::string::npos) << dlq;

  // A lost checkpoint replays the file: every envelope is a duplicate.
  std::filesystem::remove(engine_->options().root + "/connectors/s1.checkpoint.json");
  std::filesystem::remove(engine_->options().root + "/connectors/s1.dlq.ndjson");
  {
    StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
    s.Start();
    ASSERT_TRUE(WaitFor([&] { return s.status().offset == text.size(); }));
    EXPECT_EQ(s.status().rows, 0u);  // nothing new stored
    s.Stop();
  }
  EXPECT_EQ(Count("events"), 19u);

  // Rotation: the file renamed, more lines in the old one, then a new file.
  {
    StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
    s.Start();
    std::filesystem::rename(file, file + ".1");
    Append(file + ".1", Envelope(20) + Envelope(21));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    Append(file, Envelope(22) + Envelope(23) + Envelope(24));
    ASSERT_TRUE(WaitFor([&] { return Count("events") == 24u; })) << Count("events");
    ASSERT_TRUE(WaitFor([&] { return s.status().file == file && s.status().lag_bytes == 0; }));
    s.Stop();
  }
  EXPECT_EQ(Count("events"), 24u);
}

TEST_F(ConnectorEngineTest, RotatedTwiceWhileStoppedEveryFileIsRead) {
  // app.log -> app.log.1 -> app.log.2 (logrotate's numbering) twice while
  // the connector is stopped: the checkpointed file is app.log.2 now, with
  // unread lines; app.log.1 held the path in between; app.log is new.
  const std::string dir = dir_ + "/logs";
  std::filesystem::create_directories(dir);
  const std::string file = dir + "/app.log";
  auto lines = [](int from, int to) {
    std::string t;
    for (int i = from; i < to; ++i) t += i % 2 ? Keyless(i) : Envelope(i);
    return t;
  };
  // Their last changes in the order they were written (a loaded machine can
  // write them all within one clock tick).
  auto set_mtime = [](const std::string& p, int seconds_ago) {
    std::filesystem::last_write_time(
        p, std::filesystem::file_time_type::clock::now() - std::chrono::seconds(seconds_ago));
  };
  Append(file, lines(0, 5));
  StreamingConfig c;
  c.id = "rot2";
  c.path = file;
  c.poll_interval_ms = 5;
  c.batch_size = 2;
  const BackpressureConfig bp = NoBackpressure();
  {
    StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
    s.Start();
    ASSERT_TRUE(WaitFor([&] { return Count("events") == 5u; }));
    s.Stop();
  }
  Append(file, lines(5, 8));  // written before the first rotation, not read
  set_mtime(file, 30);
  std::filesystem::rename(file, file + ".1");
  Append(file, lines(8, 12));  // the middle file
  set_mtime(file, 20);
  std::filesystem::rename(file + ".1", file + ".2");
  std::filesystem::rename(file, file + ".1");
  Append(file + ".2.gz", "not read");  // an older compressed one: no gap
  set_mtime(file + ".2.gz", 40);

  Append(file, lines(12, 15));
  // The finished file compressed (gzip keeps the mtime): no gap either.
  Append(file + ".3.gz", "not read");
  std::filesystem::last_write_time(file + ".3.gz", std::filesystem::last_write_time(file + ".2"));
  {
    StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
    s.Start();
    ASSERT_TRUE(WaitFor([&] { return Count("events") == 15u; }))
        << Count("events") << " " << s.status().last_error;
    ASSERT_TRUE(WaitFor([&] { return s.status().file == file && s.status().lag_bytes == 0; }));
    s.Stop();
    EXPECT_EQ(s.status().dead_letters, 0u);
    EXPECT_EQ(s.status().rows, 10u);
    EXPECT_EQ(s.status().last_error, "");
  }
  EXPECT_EQ(Count("events"), 15u);  // each row once
  // A third rotation while running: no older file is read again. A
  // compressed name modified later than the finished file is a gap, named.
  Append(file + ".9.gz", "not read");
  set_mtime(file + ".9.gz", -60);
  {
    StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
    s.Start();
    std::filesystem::rename(file + ".1", file + ".2");
    std::filesystem::rename(file, file + ".1");
    Append(file, lines(15, 17));
    ASSERT_TRUE(WaitFor([&] { return Count("events") == 17u; })) << Count("events");
    ASSERT_TRUE(WaitFor([&] { return s.status().file == file && s.status().lag_bytes == 0; }));
    s.Stop();
    EXPECT_NE(s.status().last_error.find("not read (compressed): " + file + ".9.gz"),
              std::string::npos)
        << s.status().last_error;
  }
  EXPECT_EQ(Count("events"), 17u);
}

TEST_F(ConnectorEngineTest, AStreamingBatchIsBoundedByBytes) {
  const std::string file = dir_ + "/events.ndjson";
  std::string text;
  for (int i = 0; i < 60; ++i) text += Envelope(i);
  // One line longer than the byte bound: a batch of its own.
  text += StrCat(R"({"offset":60,"ingestion":{"datasetSlug":"events","rows":[{"timestamp":)",
                 1714564800060, R"(,"v":1,"note":")", std::string(3000, 'x'), "\"}]}}\n");
  Append(file, text);
  StreamingConfig c;
  c.id = "bytes";
  c.path = file;
  c.poll_interval_ms = 5;
  c.batch_size = 1000;  // by count, one batch would take the whole file
  c.max_batch_bytes = 1000;
  const BackpressureConfig bp = NoBackpressure();
  StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
  s.Start();
  ASSERT_TRUE(WaitFor([&] { return s.status().offset == text.size(); }));
  s.Stop();
  EXPECT_EQ(Count("events"), 61u);
  EXPECT_EQ(s.status().dead_letters, 0u);
  // About 130 bytes a line: 8 lines a batch (the 8th crosses the bound).
  const uint64_t line = Envelope(0).size();
  EXPECT_GE(s.status().batches, 60 / (1000 / line + 1) + 1) << s.status().batches;
}

TEST_F(ConnectorEngineTest, AnOverLongLineIsDeadLetteredOnceAcrossARestart) {
  const std::string file = dir_ + "/events.ndjson";
  // An envelope, then the start of a line over the limit (its writer not done).
  Append(file, Envelope(0) + std::string(5000, 'x'));
  StreamingConfig c;
  c.id = "long";
  c.path = file;
  c.poll_interval_ms = 5;
  c.max_line_bytes = 2000;
  const BackpressureConfig bp = NoBackpressure();
  const uint64_t size = Envelope(0).size() + 5000;
  {
    StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
    s.Start();
    // The head is dead-lettered and the checkpoint passes it, mid-line.
    ASSERT_TRUE(WaitFor([&] { return s.status().offset == size; }));
    s.Stop();
    EXPECT_EQ(s.status().dead_letters, 1u);
  }
  auto cp = LoadCheckpoint(engine_->options().root + "/connectors/long.checkpoint.json");
  ASSERT_TRUE(cp.ok() && cp->has_value());
  EXPECT_TRUE((*cp)->in_long_line);
  // The line's rest (itself longer than the limit) and its newline, then an
  // envelope: after the restart the rest is skipped, not dead-lettered again.
  Append(file, std::string(3000, 'x') + "\n" + Envelope(1));
  {
    StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
    s.Start();
    ASSERT_TRUE(WaitFor([&] { return Count("events") == 2u; })) << s.status().last_error;
    s.Stop();
    EXPECT_EQ(s.status().dead_letters, 0u);
  }
  std::string dlq = Read(engine_->options().root + "/connectors/long.dlq.ndjson");
  EXPECT_EQ(std::count(dlq.begin(), dlq.end(), '\n'), 1) << dlq;
  EXPECT_NE(dlq.find("line longer than 2000 bytes"), std::string::npos) << dlq;
}

TEST_F(ConnectorEngineTest, AHalfWrittenLineWaitsForItsNewline) {
  const std::string file = dir_ + "/events.ndjson";
  const std::string line = Envelope(1);
  Append(file, line.substr(0, 30));
  StreamingConfig c;
  c.id = "half";
  c.path = file;
  c.poll_interval_ms = 5;
  const BackpressureConfig bp = NoBackpressure();
  StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
  s.Start();
  // Several polls see the half line; it is neither stored nor dead-lettered.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(s.status().offset, 0u);
  EXPECT_EQ(s.status().dead_letters, 0u);
  Append(file, line.substr(30));
  ASSERT_TRUE(WaitFor([&] { return s.status().offset == line.size(); }));
  s.Stop();
  EXPECT_EQ(Count("events"), 1u);
  EXPECT_EQ(s.status().dead_letters, 0u);
  // The checkpoint fingerprints the file's first bytes (all of it here).
  auto cp = LoadCheckpoint(engine_->options().root + "/connectors/half.checkpoint.json");
  ASSERT_TRUE(cp.ok() && cp->has_value());
  EXPECT_EQ((*cp)->fingerprint_bytes, line.size());
  EXPECT_EQ((*cp)->fingerprint, Checksum64(line));
  EXPECT_NE((*cp)->device, 0u);
}

TEST_F(ConnectorEngineTest, ATruncatedFileIsReadAgainFromItsStart) {
  const std::string file = dir_ + "/events.ndjson";
  std::string text;
  for (int i = 0; i < 5; ++i) text += Keyless(i);
  Append(file, text);
  StreamingConfig c;
  c.id = "trunc";
  c.path = file;
  c.poll_interval_ms = 5;
  const BackpressureConfig bp = NoBackpressure();
  StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
  s.Start();
  ASSERT_TRUE(WaitFor([&] { return s.status().offset == text.size(); }));
  // copytruncate: the same inode, cut to nothing, then new lines shorter
  // than the old offset.
  std::filesystem::resize_file(file, 0);
  // The same byte offsets as lines 0 and 1, other rows: stored, not taken
  // for replays (the truncation began a new key generation).
  Append(file, Keyless(5) + Keyless(6));
  ASSERT_TRUE(WaitFor([&] { return Count("events") == 7u; })) << s.status().last_error;
  s.Stop();
  EXPECT_EQ(s.status().dead_letters, 0u);
  EXPECT_NE(s.status().last_error.find("was truncated"), std::string::npos);
}

TEST_F(ConnectorEngineTest, BulkLoadsInChunksAndSetsBadFilesAside) {
  const std::string stage = dir_ + "/stage";
  std::filesystem::create_directories(stage);
  std::string csv = "timestamp,host,v\n";
  for (int i = 0; i < 25; ++i) csv += StrCat(1714564800000 + i, ",h", i % 3, ",", i, ".5\n");
  Append(stage + "/a.csv", csv);
  Append(stage + "/b.csv", "timestamp,host,v\n1714564900000,h1,abc\n");  // v is a double
  Append(stage + "/c.txt", "x");
  BulkConfig c;
  c.id = "b1";
  c.directory = stage;
  c.dataset = "cpu";
  c.chunk_size = 10;
  c.poll_interval_ms = 10;
  const BackpressureConfig bp = NoBackpressure();
  BulkConnector b(c, engine_.get(), engine_->options().root, bp);
  b.Start();
  ASSERT_TRUE(FilesSettled(b, 3));
  b.Stop();
  EXPECT_EQ(Count("cpu"), 25u);
  EXPECT_TRUE(std::filesystem::exists(stage + "/a.csv.processed"));
  EXPECT_FALSE(std::filesystem::exists(stage + "/a.csv"));
  EXPECT_TRUE(std::filesystem::exists(stage + "/b.csv.failed"));
  std::string note = Read(stage + "/b.csv.error");
  EXPECT_NE(note.find("records 1-1: "), std::string::npos) << note;
  EXPECT_NE(note.find("column \"v\""), std::string::npos) << note;
  EXPECT_TRUE(std::filesystem::exists(stage + "/c.txt.failed"));
  EXPECT_NE(Read(stage + "/c.txt.error").find("cannot tell the format"), std::string::npos);
  EXPECT_EQ(b.status().rows, 25u);
  EXPECT_EQ(b.status().files_failed, 2u);
}

TEST_F(ConnectorEngineTest, BulkChecksTheWholeFileAgainstTheSchemaItsChunksBuild) {
  // Chunk 0 makes v a double column of a new dataset (JSON numbers are
  // doubles; in line protocol 1i is an integer), chunk 1 gives it a string
  // (a double). Checked chunk by chunk against the schema as it was, both
  // pass and chunk 0 would be stored before chunk 1 fails. Checked against
  // the schema the chunks before it build, the file is set aside untouched.
  const std::string stage = dir_ + "/stage";
  std::filesystem::create_directories(stage);
  Append(stage + "/a.ndjson",
         "{\"timestamp\":1714564800000,\"v\":1}\n{\"timestamp\":1714564800001,\"v\":2}\n"
         "{\"timestamp\":1714564800002,\"v\":\"high\"}\n");
  Append(stage + "/b.lp",
         "lpm v=1i 1714564800000000000\nlpm v=2i 1714564800000000001\n"
         "lpm v=2.5 1714564800000000002\n");
  BulkConfig c;
  c.id = "whole";
  c.directory = stage;
  c.dataset = "fresh";
  c.chunk_size = 2;
  c.poll_interval_ms = 10;
  const BackpressureConfig bp = NoBackpressure();
  BulkConnector b(c, engine_.get(), engine_->options().root, bp);
  b.Start();
  ASSERT_TRUE(WaitFor([&] { return b.status().files_failed == 2; })) << b.status().last_error;
  b.Stop();
  EXPECT_EQ(b.status().rows, 0u);
  EXPECT_EQ(engine_->GetSchema("fresh"), nullptr);  // nothing stored, not even the dataset
  EXPECT_EQ(engine_->GetSchema("freshlpm"), nullptr);
  EXPECT_TRUE(std::filesystem::exists(stage + "/a.ndjson.failed"));
  EXPECT_TRUE(std::filesystem::exists(stage + "/b.lp.failed"));
  std::string note = Read(stage + "/a.ndjson.error");
  EXPECT_NE(note.find("column \"v\""), std::string::npos) << note;
  EXPECT_EQ(note.find("were stored"), std::string::npos) << note;
  note = Read(stage + "/b.lp.error");
  EXPECT_NE(note.find("\"v\""), std::string::npos) << note;

  // v = 1, 2, 2.5 in JSON: every JSON number is a double, so no conflict:
  // all three stored.
  const std::string stage2 = dir_ + "/stage2";
  std::filesystem::create_directories(stage2);
  Append(stage2 + "/c.ndjson",
         "{\"timestamp\":1714564800000,\"v\":1}\n{\"timestamp\":1714564800001,\"v\":2}\n"
         "{\"timestamp\":1714564800002,\"v\":2.5}\n");
  c.id = "whole2";
  c.directory = stage2;
  c.dataset = "mixed";
  BulkConnector b2(c, engine_.get(), engine_->options().root, bp);
  b2.Start();
  ASSERT_TRUE(WaitFor([&] { return b2.status().files_loaded == 1; })) << b2.status().last_error;
  b2.Stop();
  EXPECT_EQ(Count("mixed"), 3u);
}

TEST_F(ConnectorEngineTest, BulkSetsAsideAFileOverMaxFileBytes) {
  const std::string stage = dir_ + "/stage";
  std::filesystem::create_directories(stage);
  std::string csv = "timestamp,v\n";
  for (int i = 0; i < 20; ++i) csv += StrCat(1714564800000 + i, ",", i, "\n");
  Append(stage + "/big.csv", csv);
  Append(stage + "/small.csv", "timestamp,v\n1714564800000,1\n");
  BulkConfig c;
  c.id = "max";
  c.directory = stage;
  c.dataset = "capped";
  c.poll_interval_ms = 10;
  c.max_file_bytes = 100;
  const BackpressureConfig bp = NoBackpressure();
  BulkConnector b(c, engine_.get(), engine_->options().root, bp);
  b.Start();
  ASSERT_TRUE(FilesSettled(b, 2));
  b.Stop();
  EXPECT_EQ(b.status().files_failed, 1u);
  EXPECT_EQ(Count("capped"), 1u);
  EXPECT_TRUE(std::filesystem::exists(stage + "/big.csv.failed"));
  std::string note = Read(stage + "/big.csv.error");
  EXPECT_NE(note.find(StrCat("big.csv is ", csv.size(),
                             " bytes, over the connector's "
                             "maxFileBytes (100)")),
            std::string::npos)
      << note;
}

TEST_F(ConnectorEngineTest, BulkErrorsNameTheBadRecordsLineInTheFile) {
  const std::string stage = dir_ + "/stage";
  std::filesystem::create_directories(stage);
  std::string nd;
  for (int i = 0; i < 6; ++i) {
    nd += StrCat("{\"timestamp\":", 1714564800000 + i, ",\"v\":", i, "}\n\n");  // blank lines
  }
  nd += "{\"timestamp\":1714564800009,\"v\":true,}\n";  // line 13: not JSON
  Append(stage + "/a.ndjson", nd);
  Append(stage + "/b.lp", "# header\n\nm v=1 1\nm v=2 2\n# more\nm v=3 3\nm v= 4\n");  // line 7
  BulkConfig c;
  c.id = "lines";
  c.directory = stage;
  c.dataset = "lines";
  c.chunk_size = 2;
  c.poll_interval_ms = 10;
  const BackpressureConfig bp = NoBackpressure();
  BulkConnector b(c, engine_.get(), engine_->options().root, bp);
  b.Start();
  ASSERT_TRUE(WaitFor([&] { return b.status().files_failed == 2; })) << b.status().last_error;
  b.Stop();
  std::string note = Read(stage + "/a.ndjson.error");
  EXPECT_NE(note.find(": line 13"), std::string::npos) << note;
  note = Read(stage + "/b.lp.error");
  EXPECT_NE(note.find(": line 7"), std::string::npos) << note;
}

}  // namespace
}  // namespace timestore::connectors
