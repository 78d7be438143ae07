// The client side of the PostgreSQL protocol, for tests: builds frontend
// messages byte by byte (independently of pgwire's decoder, so the two check
// each other), splits backend bytes into messages, and drives a raw socket.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace timestore::pgwire::client {

void PutInt16(std::string* out, int16_t v);
void PutInt32(std::string* out, int32_t v);
void PutString(std::string* out, std::string_view s);  // bytes + NUL
int32_t GetInt32(std::string_view bytes, size_t at);
int16_t GetInt16(std::string_view bytes, size_t at);

// Whole frontend messages (type, length, body).
std::string Message(char type, std::string_view body);
std::string Startup(const std::vector<std::pair<std::string, std::string>>& params,
                    int32_t protocol = 196608);
std::string SslRequestPacket();
std::string GssEncRequestPacket();
std::string CancelRequestPacket(int32_t pid, int32_t secret);
std::string QueryMessage(std::string_view sql);
std::string ParseMessage(std::string_view name, std::string_view sql,
                         const std::vector<uint32_t>& types = {});
std::string BindMessage(std::string_view portal, std::string_view statement,
                        const std::vector<int16_t>& param_formats,
                        const std::vector<std::optional<std::string>>& params,
                        const std::vector<int16_t>& result_formats);
std::string DescribeMessage(char kind, std::string_view name);
std::string ExecuteMessage(std::string_view portal, int32_t max_rows);
std::string CloseMessage(char kind, std::string_view name);
std::string SyncMessage();
std::string FlushMessage();
std::string TerminateMessage();
std::string PasswordMessage(std::string_view password);
std::string SaslInitialResponseMessage(std::string_view mechanism, std::string_view data);
std::string SaslResponseMessage(std::string_view data);

struct BackendMessage {
  char type = 0;
  std::string body;
};
// Splits `bytes` into whole messages; a partial tail stays in `bytes`.
std::vector<BackendMessage> SplitBackend(std::string* bytes);
// The fields of an ErrorResponse/NoticeResponse body, by code ('C', 'M', ...).
std::map<char, std::string> ErrorFieldsOf(std::string_view body);
// The values of a DataRow body (nullopt: NULL).
std::vector<std::optional<std::string>> DataRowValues(std::string_view body);
// Column names and type OIDs of a RowDescription, with their format codes.
struct DescribedColumn {
  std::string name;
  uint32_t type_oid = 0;
  int16_t format = 0;
};
std::vector<DescribedColumn> RowDescriptionColumns(std::string_view body);

// A blocking loopback connection to 127.0.0.1:port. Not thread-safe.
class RawConnection {
 public:
  explicit RawConnection(int port);
  ~RawConnection();
  bool connected() const { return fd_ >= 0; }
  bool Send(std::string_view bytes);
  // Reads until a message of one of the types in `until` arrives (included),
  // the peer closes, or 60 s pass; returns every message read.
  std::vector<BackendMessage> ReadUntil(std::string_view until);
  // Reads one raw byte (the answer to SSLRequest); nullopt on close.
  std::optional<char> ReadByte();
  // True when the server closed the connection (reads return EOF or reset)
  // within 60 s, after draining what it sent first.
  bool WaitClosed();
  // Half-closes: the server reads end-of-file.
  void CloseWrite();
  // Startup (and, for a password method, the cleartext exchange) through the
  // first ReadyForQuery; the messages received.
  std::vector<BackendMessage> Login(const std::string& user, const std::string& password = "");
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::string buf_;
};

}  // namespace timestore::pgwire::client
