#include "tests/pgwire/wire_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace timestore::pgwire::client {

void PutInt16(std::string* out, int16_t v) {
  out->push_back(static_cast<char>((static_cast<uint16_t>(v) >> 8) & 0xff));
  out->push_back(static_cast<char>(static_cast<uint16_t>(v) & 0xff));
}

void PutInt32(std::string* out, int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  for (int shift = 24; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((u >> shift) & 0xff));
}

void PutString(std::string* out, std::string_view s) {
  out->append(s);
  out->push_back('\0');
}

int32_t GetInt32(std::string_view b, size_t at) {
  uint32_t u = 0;
  for (size_t i = 0; i < 4; ++i) u = (u << 8) | static_cast<unsigned char>(b[at + i]);
  return static_cast<int32_t>(u);
}

int16_t GetInt16(std::string_view b, size_t at) {
  return static_cast<int16_t>((static_cast<unsigned char>(b[at]) << 8) |
                              static_cast<unsigned char>(b[at + 1]));
}

std::string Message(char type, std::string_view body) {
  std::string out(1, type);
  PutInt32(&out, static_cast<int32_t>(body.size() + 4));
  out.append(body);
  return out;
}

std::string Startup(const std::vector<std::pair<std::string, std::string>>& params,
                    int32_t protocol) {
  std::string body;
  PutInt32(&body, protocol);
  for (const auto& [k, v] : params) {
    PutString(&body, k);
    PutString(&body, v);
  }
  body.push_back('\0');
  std::string out;
  PutInt32(&out, static_cast<int32_t>(body.size() + 4));
  return out + body;
}

static std::string CodePacket(int32_t code) {
  std::string out;
  PutInt32(&out, 8);
  PutInt32(&out, code);
  return out;
}

std::string SslRequestPacket() { return CodePacket(80877103); }
std::string GssEncRequestPacket() { return CodePacket(80877104); }

std::string CancelRequestPacket(int32_t pid, int32_t secret) {
  std::string out;
  PutInt32(&out, 16);
  PutInt32(&out, 80877102);
  PutInt32(&out, pid);
  PutInt32(&out, secret);
  return out;
}

std::string QueryMessage(std::string_view sql) {
  std::string body;
  PutString(&body, sql);
  return Message('Q', body);
}

std::string ParseMessage(std::string_view name, std::string_view sql,
                         const std::vector<uint32_t>& types) {
  std::string body;
  PutString(&body, name);
  PutString(&body, sql);
  PutInt16(&body, static_cast<int16_t>(types.size()));
  for (uint32_t t : types) PutInt32(&body, static_cast<int32_t>(t));
  return Message('P', body);
}

std::string BindMessage(std::string_view portal, std::string_view statement,
                        const std::vector<int16_t>& param_formats,
                        const std::vector<std::optional<std::string>>& params,
                        const std::vector<int16_t>& result_formats) {
  std::string body;
  PutString(&body, portal);
  PutString(&body, statement);
  PutInt16(&body, static_cast<int16_t>(param_formats.size()));
  for (int16_t f : param_formats) PutInt16(&body, f);
  PutInt16(&body, static_cast<int16_t>(params.size()));
  for (const auto& p : params) {
    if (!p) {
      PutInt32(&body, -1);
    } else {
      PutInt32(&body, static_cast<int32_t>(p->size()));
      body.append(*p);
    }
  }
  PutInt16(&body, static_cast<int16_t>(result_formats.size()));
  for (int16_t f : result_formats) PutInt16(&body, f);
  return Message('B', body);
}

std::string DescribeMessage(char kind, std::string_view name) {
  std::string body(1, kind);
  PutString(&body, name);
  return Message('D', body);
}

std::string ExecuteMessage(std::string_view portal, int32_t max_rows) {
  std::string body;
  PutString(&body, portal);
  PutInt32(&body, max_rows);
  return Message('E', body);
}

std::string CloseMessage(char kind, std::string_view name) {
  std::string body(1, kind);
  PutString(&body, name);
  return Message('C', body);
}

std::string SyncMessage() { return Message('S', ""); }
std::string FlushMessage() { return Message('H', ""); }
std::string TerminateMessage() { return Message('X', ""); }

std::string PasswordMessage(std::string_view password) {
  std::string body;
  PutString(&body, password);
  return Message('p', body);
}

std::string SaslInitialResponseMessage(std::string_view mechanism, std::string_view data) {
  std::string body;
  PutString(&body, mechanism);
  PutInt32(&body, static_cast<int32_t>(data.size()));
  body.append(data);
  return Message('p', body);
}

std::string SaslResponseMessage(std::string_view data) { return Message('p', data); }

std::vector<BackendMessage> SplitBackend(std::string* bytes) {
  std::vector<BackendMessage> out;
  size_t pos = 0;
  while (bytes->size() - pos >= 5) {
    const int32_t len = GetInt32(*bytes, pos + 1);
    if (len < 4 || bytes->size() - pos < 1 + static_cast<size_t>(len)) break;
    out.push_back({(*bytes)[pos], bytes->substr(pos + 5, static_cast<size_t>(len) - 4)});
    pos += 1 + static_cast<size_t>(len);
  }
  bytes->erase(0, pos);
  return out;
}

std::map<char, std::string> ErrorFieldsOf(std::string_view body) {
  std::map<char, std::string> fields;
  size_t pos = 0;
  while (pos < body.size() && body[pos] != '\0') {
    const char code = body[pos++];
    const size_t nul = body.find('\0', pos);
    if (nul == std::string_view::npos) break;
    fields[code] = std::string(body.substr(pos, nul - pos));
    pos = nul + 1;
  }
  return fields;
}

std::vector<std::optional<std::string>> DataRowValues(std::string_view body) {
  std::vector<std::optional<std::string>> values;
  const int n = GetInt16(body, 0);
  size_t pos = 2;
  for (int i = 0; i < n; ++i) {
    const int32_t len = GetInt32(body, pos);
    pos += 4;
    if (len < 0) {
      values.emplace_back();
    } else {
      values.emplace_back(std::string(body.substr(pos, static_cast<size_t>(len))));
      pos += static_cast<size_t>(len);
    }
  }
  return values;
}

std::vector<DescribedColumn> RowDescriptionColumns(std::string_view body) {
  std::vector<DescribedColumn> columns;
  const int n = GetInt16(body, 0);
  size_t pos = 2;
  for (int i = 0; i < n; ++i) {
    DescribedColumn c;
    const size_t nul = body.find('\0', pos);
    c.name = std::string(body.substr(pos, nul - pos));
    pos = nul + 1;
    pos += 4 + 2;  // table oid, column number
    c.type_oid = static_cast<uint32_t>(GetInt32(body, pos));
    pos += 4 + 2 + 4;  // type oid, size, modifier
    c.format = GetInt16(body, pos);
    pos += 2;
    columns.push_back(std::move(c));
  }
  return columns;
}

RawConnection::RawConnection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  timeval tv{60, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::Send(std::string_view bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::vector<BackendMessage> RawConnection::ReadUntil(std::string_view until) {
  std::vector<BackendMessage> all;
  while (true) {
    auto got = SplitBackend(&buf_);
    for (size_t i = 0; i < got.size(); ++i) {
      all.push_back(std::move(got[i]));
      if (until.find(all.back().type) != std::string_view::npos) {
        // Keep what follows for the next read.
        std::string rest;
        for (size_t j = i + 1; j < got.size(); ++j) {
          rest.push_back(got[j].type);
          PutInt32(&rest, static_cast<int32_t>(got[j].body.size() + 4));
          rest.append(got[j].body);
        }
        buf_.insert(0, rest);
        return all;
      }
    }
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) return all;
    buf_.append(tmp, static_cast<size_t>(n));
  }
}

std::optional<char> RawConnection::ReadByte() {
  if (!buf_.empty()) {
    char c = buf_[0];
    buf_.erase(0, 1);
    return c;
  }
  char c;
  if (::recv(fd_, &c, 1, 0) != 1) return std::nullopt;
  return c;
}

bool RawConnection::WaitClosed() {
  char tmp[4096];
  while (true) {
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
    buf_.append(tmp, static_cast<size_t>(n));
  }
}

void RawConnection::CloseWrite() { ::shutdown(fd_, SHUT_WR); }

std::vector<BackendMessage> RawConnection::Login(const std::string& user,
                                                 const std::string& password) {
  Send(Startup({{"user", user}, {"database", "timestore"}}));
  std::vector<BackendMessage> all;
  while (true) {
    auto got = ReadUntil("RZE");
    if (got.empty()) return all;
    const BackendMessage last = got.back();
    for (auto& m : got) all.push_back(std::move(m));
    if (last.type == 'R' && GetInt32(last.body, 0) == 3) {
      Send(PasswordMessage(password));
    } else if (last.type != 'R') {
      return all;
    }
  }
}

}  // namespace timestore::pgwire::client
