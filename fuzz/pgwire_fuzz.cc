// The PostgreSQL wire protocol, from the bytes a client sends: framing
// (startup packet, then typed messages), each message's decoder, the
// authentication parsers (password, SASL, SCRAM), binary parameters, and the
// query protocol state machine (statements, portals, row limits, skip until
// Sync) over a stub session. Any input must give messages or an error status,
// never a crash, an over-read or a hang.
#include <cstdint>
#include <string>

#include "pgwire/auth.h"
#include "pgwire/frontend_messages.h"
#include "pgwire/pg_error.h"
#include "pgwire/query_protocol.h"
#include "pgwire/scram.h"
#include "pgwire/value_format.h"

namespace {

using namespace timestore;
using namespace timestore::pgwire;

// Statements are anything; "$n" marks parameters, "x" makes Execute fail,
// and results have as many rows as the statement has characters.
class StubSession : public SqlSession {
 public:
  absl::StatusOr<std::vector<std::string>> Split(std::string_view sql) override {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < sql.size()) {
      size_t semi = sql.find(';', start);
      if (semi == std::string_view::npos) semi = sql.size();
      if (semi > start) out.emplace_back(sql.substr(start, semi - start));
      start = semi + 1;
    }
    if (sql.find('!') != std::string_view::npos) return PgError("42601", "syntax");
    return out;
  }
  absl::StatusOr<sql::Prepared> Prepare(std::string_view sql,
                                        std::vector<uint32_t> types) override {
    sql::Prepared p;
    p.sql = std::string(sql);
    for (size_t i = 0; i + 1 < sql.size(); ++i)
      if (sql[i] == '$' && sql[i + 1] >= '1' && sql[i + 1] <= '9')
        p.param_count = std::max(p.param_count, sql[i + 1] - '0');
    p.param_types = std::move(types);
    p.param_types.resize(p.param_count);
    return p;
  }
  absl::StatusOr<std::vector<sql::SqlColumn>> Describe(const sql::Prepared& stmt) override {
    if (stmt.sql.empty() || stmt.sql[0] == 's') return std::vector<sql::SqlColumn>{};
    return std::vector<sql::SqlColumn>{{"n", sql::oid::kInt8},
                                       {"t", sql::oid::kText},
                                       {"f", sql::oid::kFloat8},
                                       {"ts", sql::oid::kTimestamptz},
                                       {"num", sql::oid::kNumeric}};
  }
  absl::StatusOr<sql::SqlResult> Execute(const sql::Prepared& stmt,
                                         const std::vector<sql::Param>& params) override {
    if (params.size() != static_cast<size_t>(stmt.param_count)) __builtin_trap();
    if (stmt.sql.find('x') != std::string::npos) return PgError("22012", "boom");
    if (stmt.sql.find('b') != std::string::npos) tx_ = 'T';
    if (stmt.sql.find('c') != std::string::npos) tx_ = 'I';
    sql::SqlResult r;
    auto cols = Describe(stmt);
    r.columns = *cols;
    r.returns_rows = !r.columns.empty();
    r.command_tag = r.returns_rows ? "SELECT" : "SET";
    if (!r.returns_rows) return r;
    const size_t rows = std::min<size_t>(stmt.sql.size(), 50);
    r.table.rows = rows;
    r.table.columns.resize(5);
    ColumnType types[] = {ColumnType::kInteger, ColumnType::kString, ColumnType::kDouble,
                          ColumnType::kTimestamp, ColumnType::kDouble};
    for (int c = 0; c < 5; ++c) {
      auto& col = r.table.columns[c];
      col.type = types[c];
      for (size_t i = 0; i < rows; ++i) {
        const unsigned char b = static_cast<unsigned char>(stmt.sql[i]);
        col.valid.push_back(b % 7 != 0);
        col.ints.push_back(static_cast<int64_t>(b) * -123456789012345);
        col.doubles.push_back(static_cast<double>(b) / 3.0);
        col.strings.push_back(std::string_view(stmt.sql).substr(i, 1));
      }
    }
    return r;
  }
  void Cancel() override {}
  char transaction_status() const override { return tx_; }
  void MarkFailed() override {
    if (tx_ == 'T') tx_ = 'E';
  }
  const std::map<std::string, std::string>& settings() const override { return settings_; }
  std::string SqlStateOf(const absl::Status& status) const override {
    return PayloadSqlState(status);
  }

 private:
  char tx_ = 'I';
  std::map<std::string, std::string> settings_{{"server_version", "15.0"}};
};

// Splits `message` as SCRAM would, with a known secret.
void Scram(std::string_view first, std::string_view final_message) {
  static const ScramSecret secret = MakeScramSecret("pencil", "saltsaltsaltsalt", 16);
  ScramServer server(secret, "mock", "servernonce");
  if (server.HandleClientFirst(first).ok()) (void)server.HandleClientFinal(final_message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  if (mode & 0x80) {
    // Authentication parsers and binary parameters, on the raw input.
    (void)DecodePasswordMessage(input);
    (void)DecodeSaslInitialResponse(input);
    const size_t cut = input.find('\n');
    Scram(input.substr(0, cut), cut == std::string_view::npos ? "" : input.substr(cut + 1));
    (void)ParsePgUsers(input);
    static const uint32_t kOids[] = {16, 20, 21, 23, 25, 26, 700, 701, 1043, 1114, 1184, 1700};
    (void)BinaryParamToText(kOids[mode % 12], input, 1);
    (void)IsValidUtf8(input);
    return 0;
  }

  // A connection's byte stream, delivered in chunks of a size set by `mode`.
  FrameReader reader(1 << 16);
  StubSession session;
  BackendWriter out;
  QueryProtocol protocol(&session, &out, [&out] {
    out.Clear();
    return true;
  });
  const size_t chunk = 1 + (mode & 0x1f);
  bool started = (mode & 0x40) != 0;  // skip the startup packet
  for (size_t pos = 0; pos < input.size(); pos += chunk) {
    reader.Append(input.substr(pos, chunk));
    while (true) {
      if (!started) {
        auto body = reader.NextStartupPacket();
        if (!body.ok()) return 0;
        if (!body->has_value()) break;
        if (body->value().size() + 4 > kMaxStartupPacketBytes) __builtin_trap();
        auto packet = DecodeStartupPacket(**body);
        if (!packet.ok()) return 0;
        started = std::holds_alternative<StartupMessage>(*packet);
        continue;
      }
      auto frame = reader.NextMessage();
      if (!frame.ok()) return 0;
      if (!frame->has_value()) break;
      if ((*frame)->body.size() > MaxBodyBytes((*frame)->type, 1 << 16)) __builtin_trap();
      auto message = DecodeMessage((*frame)->type, (*frame)->body);
      if (!message.ok()) return 0;
      if (protocol.Handle(*std::move(message)) == QueryProtocol::Next::kClose) return 0;
    }
  }
  return 0;
}
