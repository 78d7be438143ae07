// Framing and decoding of what clients send: every message type round-trips
// from bytes built independently (tests/pgwire/wire_client.h), and every
// malformed form (short lengths, truncated bodies, oversized messages,
// unknown types, bad startup packets) is a 08P01/0A000 error, never a crash.
#include "pgwire/frontend_messages.h"

#include <gtest/gtest.h>

#include "pgwire/pg_error.h"
#include "tests/pgwire/wire_client.h"

namespace timestore::pgwire {
namespace {

using namespace client;  // NOLINT: the client-side builders

std::string StateOf(const absl::Status& s) { return PayloadSqlState(s, "none"); }

// Frames one whole message and decodes it.
absl::StatusOr<FrontendMessage> RoundTrip(const std::string& bytes) {
  FrameReader reader;
  reader.Append(bytes);
  auto frame = reader.NextMessage();
  if (!frame.ok()) return frame.status();
  if (!frame->has_value()) return absl::InternalError("incomplete");
  if (reader.buffered() != 0) return absl::InternalError("bytes left over");
  return DecodeMessage((*frame)->type, (*frame)->body);
}

TEST(StartupPacketTest, StartupMessageWithParameters) {
  FrameReader reader;
  reader.Append(Startup({{"user", "alice"}, {"database", "db"}, {"application_name", "psql"}}));
  auto body = reader.NextStartupPacket();
  ASSERT_TRUE(body.ok() && body->has_value());
  auto packet = DecodeStartupPacket(**body);
  ASSERT_TRUE(packet.ok()) << packet.status();
  auto* m = std::get_if<StartupMessage>(&*packet);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->protocol, kProtocolVersion3);
  EXPECT_EQ(m->Param("user"), "alice");
  EXPECT_EQ(m->Param("database"), "db");
  EXPECT_EQ(m->Param("application_name"), "psql");
  EXPECT_EQ(m->Param("options"), std::nullopt);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(StartupPacketTest, SslGssAndCancelRequests) {
  FrameReader reader;
  reader.Append(SslRequestPacket() + GssEncRequestPacket() + CancelRequestPacket(1234, -5678));
  auto decode = [&]() {
    auto body = reader.NextStartupPacket();
    EXPECT_TRUE(body.ok() && body->has_value());
    return DecodeStartupPacket(**body);
  };
  EXPECT_TRUE(std::holds_alternative<SslRequest>(*decode()));
  EXPECT_TRUE(std::holds_alternative<GssEncRequest>(*decode()));
  auto cancel = decode();
  ASSERT_TRUE(std::holds_alternative<CancelRequest>(*cancel));
  EXPECT_EQ(std::get<CancelRequest>(*cancel).pid, 1234);
  EXPECT_EQ(std::get<CancelRequest>(*cancel).secret, -5678);
}

TEST(StartupPacketTest, ArrivesByteByByte) {
  const std::string bytes = Startup({{"user", "u"}});
  FrameReader reader;
  for (size_t i = 0; i + 1 < bytes.size(); ++i) {
    reader.Append(bytes.substr(i, 1));
    auto body = reader.NextStartupPacket();
    ASSERT_TRUE(body.ok());
    EXPECT_FALSE(body->has_value()) << "complete after " << i + 1 << " bytes";
  }
  reader.Append(bytes.substr(bytes.size() - 1));
  auto body = reader.NextStartupPacket();
  ASSERT_TRUE(body.ok() && body->has_value());
}

TEST(StartupPacketTest, LengthsOutOfRangeAreRefused) {
  for (int32_t length : {-1, 0, 3, 4, 7, 10001, 0x7fffffff}) {
    std::string bytes;
    PutInt32(&bytes, length);
    PutInt32(&bytes, 196608);
    FrameReader reader;
    reader.Append(bytes);
    auto body = reader.NextStartupPacket();
    ASSERT_FALSE(body.ok()) << length;
    EXPECT_EQ(StateOf(body.status()), "08P01");
  }
  // 10000 bytes is the largest allowed.
  std::string big = Startup({{"user", "u"}, {"x", std::string(10000 - 19, 'v')}});
  ASSERT_EQ(big.size(), 10000u);
  FrameReader reader;
  reader.Append(big);
  auto body = reader.NextStartupPacket();
  ASSERT_TRUE(body.ok() && body->has_value());
  EXPECT_TRUE(DecodeStartupPacket(**body).ok());
}

TEST(StartupPacketTest, MalformedBodiesAreRefused) {
  struct Case {
    std::string body;
    std::string sqlstate;
  };
  auto code = [](int32_t c, std::string_view rest) {
    std::string b;
    PutInt32(&b, c);
    b.append(rest);
    return b;
  };
  const Case cases[] = {
      {"", "08P01"},                                            // no code
      {"\x00\x03", "08P01"},                                    // half a code
      {code(196608, ""), "08P01"},                              // no terminator
      {code(196608, std::string("user\0u", 6)), "08P01"},       // no final NUL
      {code(196608, std::string("user\0", 5)), "08P01"},        // name without value
      {code(196608, std::string("user\0u\0\0x", 9)), "08P01"},  // bytes after terminator
      {code(196608, std::string("\0u\0\0", 4)), "08P01"},       // empty name
      {code(80877103, "x"), "08P01"},                           // SSLRequest with a body
      {code(80877102, std::string(4, '\0')), "08P01"},          // cancel without secret
      {code(80877102, std::string(12, '\0')), "08P01"},         // cancel too long
      {code(2 << 16, std::string(1, '\0')), "0A000"},           // protocol 2.0
      {code(4 << 16, std::string(1, '\0')), "0A000"},           // protocol 4.0
      {code(1234, std::string(1, '\0')), "0A000"},              // nonsense code
  };
  for (const auto& c : cases) {
    auto packet = DecodeStartupPacket(c.body);
    ASSERT_FALSE(packet.ok()) << "body of " << c.body.size() << " bytes";
    EXPECT_EQ(StateOf(packet.status()), c.sqlstate) << packet.status();
  }
  // A 3.x minor version is decoded (the connection negotiates it down).
  auto minor = DecodeStartupPacket(code((3 << 16) | 2, std::string(1, '\0')));
  ASSERT_TRUE(minor.ok());
  EXPECT_EQ(std::get<StartupMessage>(*minor).protocol, (3 << 16) | 2);
  // An empty parameter list is fine (the connection asks for "user").
  EXPECT_TRUE(DecodeStartupPacket(code(196608, std::string(1, '\0'))).ok());
}

TEST(FrontendMessageTest, EveryTypeRoundTrips) {
  auto q = RoundTrip(QueryMessage("SELECT 1; SELECT 2"));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(std::get<Query>(*q).sql, "SELECT 1; SELECT 2");

  auto p = RoundTrip(ParseMessage("s1", "SELECT $1, $2", {23, 0}));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(std::get<Parse>(*p).name, "s1");
  EXPECT_EQ(std::get<Parse>(*p).sql, "SELECT $1, $2");
  EXPECT_EQ(std::get<Parse>(*p).param_types, (std::vector<uint32_t>{23, 0}));

  auto b = RoundTrip(BindMessage("p1", "s1", {0, 1}, {std::string("42"), std::nullopt, ""}, {1}));
  ASSERT_TRUE(b.ok()) << b.status();
  const Bind& bind = std::get<Bind>(*b);
  EXPECT_EQ(bind.portal, "p1");
  EXPECT_EQ(bind.statement, "s1");
  EXPECT_EQ(bind.param_formats, (std::vector<int16_t>{0, 1}));
  ASSERT_EQ(bind.params.size(), 3u);
  EXPECT_EQ(bind.params[0], "42");
  EXPECT_EQ(bind.params[1], std::nullopt);
  EXPECT_EQ(bind.params[2], "");  // empty, not NULL
  EXPECT_EQ(bind.result_formats, (std::vector<int16_t>{1}));

  auto d = RoundTrip(DescribeMessage('P', "p1"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::get<Describe>(*d).kind, 'P');
  EXPECT_EQ(std::get<Describe>(*d).name, "p1");

  auto e = RoundTrip(ExecuteMessage("", 100));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(std::get<Execute>(*e).portal, "");
  EXPECT_EQ(std::get<Execute>(*e).max_rows, 100);

  auto c = RoundTrip(CloseMessage('S', "s1"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(std::get<Close>(*c).kind, 'S');

  EXPECT_TRUE(std::holds_alternative<Sync>(*RoundTrip(SyncMessage())));
  EXPECT_TRUE(std::holds_alternative<Flush>(*RoundTrip(FlushMessage())));
  EXPECT_TRUE(std::holds_alternative<Terminate>(*RoundTrip(TerminateMessage())));
  auto pw = RoundTrip(PasswordMessage("secret"));
  ASSERT_TRUE(pw.ok());
  EXPECT_EQ(*DecodePasswordMessage(std::get<PasswordData>(*pw).data), "secret");
  EXPECT_TRUE(std::holds_alternative<FunctionCall>(*RoundTrip(Message('F', "xyz"))));
  EXPECT_EQ(std::get<CopyMessage>(*RoundTrip(Message('d', "row"))).type, 'd');
}

TEST(FrontendMessageTest, SaslInitialResponse) {
  auto m = DecodeSaslInitialResponse(
      SaslInitialResponseMessage("SCRAM-SHA-256", "n,,n=,r=abc").substr(5));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->mechanism, "SCRAM-SHA-256");
  EXPECT_EQ(m->data, "n,,n=,r=abc");

  std::string no_data;
  PutString(&no_data, "SCRAM-SHA-256");
  PutInt32(&no_data, -1);
  m = DecodeSaslInitialResponse(no_data);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->data, std::nullopt);

  for (int32_t len : {-2, 5, 1000}) {
    std::string bad;
    PutString(&bad, "SCRAM-SHA-256");
    PutInt32(&bad, len);
    bad.append("abc");
    EXPECT_EQ(StateOf(DecodeSaslInitialResponse(bad).status()), "08P01") << len;
  }
  EXPECT_EQ(StateOf(DecodeSaslInitialResponse("no-terminator").status()), "08P01");
  EXPECT_EQ(StateOf(DecodePasswordMessage("no-terminator").status()), "08P01");
  EXPECT_EQ(StateOf(DecodePasswordMessage(std::string("pw\0x", 4)).status()), "08P01");
}

TEST(FrameReaderTest, LengthBelowFourIsRefused) {
  for (int32_t length : {-100, -1, 0, 1, 3}) {
    std::string bytes = "Q";
    PutInt32(&bytes, length);
    FrameReader reader;
    reader.Append(bytes);
    auto frame = reader.NextMessage();
    ASSERT_FALSE(frame.ok()) << length;
    EXPECT_EQ(StateOf(frame.status()), "08P01");
    EXPECT_NE(std::string(frame.status().message()).find("invalid message length"),
              std::string::npos);
  }
}

TEST(FrameReaderTest, OversizedMessagesAreRefusedFromTheHeader) {
  // Only the header is sent: the reader must refuse without waiting for (or
  // allocating) the body.
  FrameReader reader(1000);
  std::string header = "Q";
  PutInt32(&header, 1005);
  reader.Append(header);
  auto frame = reader.NextMessage();
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(StateOf(frame.status()), "08P01");

  FrameReader exact(1000);
  exact.Append(QueryMessage(std::string(999, 'x')));  // 1000-byte body
  auto ok = exact.NextMessage();
  ASSERT_TRUE(ok.ok() && ok->has_value());

  // Control messages have PostgreSQL's small limit whatever the maximum.
  FrameReader small;
  std::string sync = "S";
  PutInt32(&sync, 10005);
  small.Append(sync);
  EXPECT_EQ(StateOf(small.NextMessage().status()), "08P01");

  // The default maximum is 64 MiB.
  FrameReader def;
  std::string huge = "Q";
  PutInt32(&huge, (64 << 20) + 5);
  def.Append(huge);
  EXPECT_EQ(StateOf(def.NextMessage().status()), "08P01");
  FrameReader at_limit;
  std::string fits = "Q";
  PutInt32(&fits, (64 << 20) + 4);
  at_limit.Append(fits);
  auto pending = at_limit.NextMessage();
  ASSERT_TRUE(pending.ok());
  EXPECT_FALSE(pending->has_value());
}

TEST(FrameReaderTest, UnknownTypeIsRefusedAtOnce) {
  for (char type : {'z', 'A', '\0', '\xff', 'T', 'R', 'Z'}) {
    FrameReader reader;
    reader.Append(std::string(1, type));  // not even a length yet
    auto frame = reader.NextMessage();
    ASSERT_FALSE(frame.ok()) << static_cast<int>(type);
    EXPECT_EQ(StateOf(frame.status()), "08P01");
    EXPECT_NE(std::string(frame.status().message()).find("invalid frontend message type"),
              std::string::npos);
  }
}

TEST(FrameReaderTest, PipelinedMessagesSplitAtEveryByte) {
  const std::string stream = ParseMessage("", "SELECT $1", {23}) +
                             BindMessage("", "", {}, {std::string("7")}, {}) +
                             DescribeMessage('P', "") + ExecuteMessage("", 0) + SyncMessage();
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameReader reader;
    std::vector<char> types;
    auto drain = [&] {
      while (true) {
        auto f = reader.NextMessage();
        ASSERT_TRUE(f.ok()) << f.status();
        if (!f->has_value()) return;
        ASSERT_TRUE(DecodeMessage((*f)->type, (*f)->body).ok());
        types.push_back((*f)->type);
      }
    };
    reader.Append(stream.substr(0, cut));
    drain();
    reader.Append(stream.substr(cut));
    drain();
    EXPECT_EQ(std::string(types.begin(), types.end()), "PBDES") << "cut at " << cut;
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

TEST(FrontendMessageTest, EveryTruncationIsAnError) {
  // Each message, with its body cut short by 1..n bytes (and the length
  // adjusted, so framing succeeds and the decoder sees a short body).
  const std::string messages[] = {
      QueryMessage("SELECT 1"),
      ParseMessage("s", "SELECT $1", {23, 25}),
      BindMessage("p", "s", {1, 0}, {std::string("\0\0\0\1", 4), std::nullopt}, {0, 1}),
      DescribeMessage('S', "s"),
      ExecuteMessage("p", 5),
      CloseMessage('P', "p"),
  };
  for (const auto& full : messages) {
    const std::string body = full.substr(5);
    for (size_t keep = 0; keep < body.size(); ++keep) {
      auto m = DecodeMessage(full[0], body.substr(0, keep));
      ASSERT_FALSE(m.ok()) << MessageName(full[0]) << " cut to " << keep;
      EXPECT_EQ(StateOf(m.status()), "08P01");
    }
    // And a trailing byte is refused too (Query ends at its NUL).
    auto longer = DecodeMessage(full[0], body + "x");
    EXPECT_FALSE(longer.ok()) << MessageName(full[0]);
  }
}

TEST(FrontendMessageTest, BadFieldsAreErrors) {
  auto bad = [](char type, std::string body) {
    auto m = DecodeMessage(type, body);
    EXPECT_FALSE(m.ok()) << MessageName(type);
    return m.ok() ? std::string("ok") : StateOf(m.status());
  };
  std::string b;
  // Bind: negative counts, a parameter length below -1, a length past the end.
  PutString(&b, "");
  PutString(&b, "");
  PutInt16(&b, -1);
  EXPECT_EQ(bad('B', b), "08P01");
  b.clear();
  PutString(&b, "");
  PutString(&b, "");
  PutInt16(&b, 0);
  PutInt16(&b, 1);
  PutInt32(&b, -2);
  EXPECT_EQ(bad('B', b + std::string(2, '\0')), "08P01");
  b.clear();
  PutString(&b, "");
  PutString(&b, "");
  PutInt16(&b, 0);
  PutInt16(&b, 1);
  PutInt32(&b, 0x7fffffff);
  EXPECT_EQ(bad('B', b + "abc"), "08P01");
  // Parse with a negative type count.
  b.clear();
  PutString(&b, "");
  PutString(&b, "SELECT 1");
  PutInt16(&b, -3);
  EXPECT_EQ(bad('P', b), "08P01");
  // Describe / Close with a kind other than S or P.
  EXPECT_EQ(bad('D', std::string("X\0", 2)), "08P01");
  EXPECT_EQ(bad('C', std::string("s\0", 2)), "08P01");
  // Sync, Flush and Terminate have no body.
  EXPECT_EQ(bad('S', "x"), "08P01");
  EXPECT_EQ(bad('H', "x"), "08P01");
  EXPECT_EQ(bad('X', "x"), "08P01");
  // Types that are not frontend messages.
  EXPECT_EQ(bad('T', ""), "08P01");
  EXPECT_EQ(bad('\0', ""), "08P01");
}

}  // namespace
}  // namespace timestore::pgwire
