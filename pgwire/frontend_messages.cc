#include "pgwire/frontend_messages.h"

#include <cstring>

#include "common/strings.h"
#include "pgwire/pg_error.h"

namespace timestore::pgwire {
namespace {

int32_t LoadBigEndian32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<int32_t>((uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) |
                              (uint32_t{u[2]} << 8) | uint32_t{u[3]});
}

// Reads the fields of one message body; every read checks the bytes left.
class BodyReader {
 public:
  explicit BodyReader(std::string_view body) : body_(body) {}

  bool Int32(int32_t* out) {
    if (body_.size() < 4) return false;
    *out = LoadBigEndian32(body_.data());
    body_.remove_prefix(4);
    return true;
  }
  bool Int16(int16_t* out) {
    if (body_.size() < 2) return false;
    const auto* u = reinterpret_cast<const unsigned char*>(body_.data());
    *out = static_cast<int16_t>((u[0] << 8) | u[1]);
    body_.remove_prefix(2);
    return true;
  }
  bool Byte(char* out) {
    if (body_.empty()) return false;
    *out = body_[0];
    body_.remove_prefix(1);
    return true;
  }
  // A NUL-terminated string; false when no NUL is left in the body.
  bool String(std::string* out) {
    size_t nul = body_.find('\0');
    if (nul == std::string_view::npos) return false;
    out->assign(body_.data(), nul);
    body_.remove_prefix(nul + 1);
    return true;
  }
  bool Bytes(size_t n, std::string* out) {
    if (body_.size() < n) return false;
    out->assign(body_.data(), n);
    body_.remove_prefix(n);
    return true;
  }
  std::string_view rest() const { return body_; }
  bool done() const { return body_.empty(); }

 private:
  std::string_view body_;
};

absl::Status Malformed(char type, std::string_view what) {
  return ProtocolViolation(StrCat("invalid message format: ", MessageName(type), " ", what));
}

absl::StatusOr<FrontendMessage> DecodeParse(std::string_view body) {
  BodyReader r(body);
  Parse m;
  int16_t n = 0;
  if (!r.String(&m.name) || !r.String(&m.sql) || !r.Int16(&n) || n < 0)
    return Malformed('P', "has a truncated header");
  m.param_types.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    int32_t oid = 0;
    if (!r.Int32(&oid)) return Malformed('P', "has fewer parameter types than it declares");
    m.param_types.push_back(static_cast<uint32_t>(oid));
  }
  if (!r.done()) return Malformed('P', "has bytes after its last field");
  return m;
}

absl::StatusOr<FrontendMessage> DecodeBind(std::string_view body) {
  BodyReader r(body);
  Bind m;
  int16_t n = 0;
  if (!r.String(&m.portal) || !r.String(&m.statement) || !r.Int16(&n) || n < 0)
    return Malformed('B', "has a truncated header");
  // Declared counts are checked against the body before anything is sized by them.
  if (static_cast<size_t>(n) * 2 > r.rest().size())
    return Malformed('B', "has fewer parameter format codes than it declares");
  m.param_formats.resize(static_cast<size_t>(n));
  for (auto& f : m.param_formats)
    if (!r.Int16(&f)) return Malformed('B', "has fewer parameter format codes than it declares");
  if (!r.Int16(&n) || n < 0) return Malformed('B', "has no valid parameter count");
  if (static_cast<size_t>(n) * 4 > r.rest().size())
    return Malformed('B', "has fewer parameters than it declares");
  m.params.resize(static_cast<size_t>(n));
  for (auto& p : m.params) {
    int32_t len = 0;
    if (!r.Int32(&len) || len < -1) return Malformed('B', "has an invalid parameter length");
    if (len == -1) continue;
    // The length is checked against the body before any allocation.
    if (static_cast<size_t>(len) > r.rest().size())
      return Malformed('B', "has a parameter longer than the message");
    p.emplace();
    r.Bytes(static_cast<size_t>(len), &*p);
  }
  if (!r.Int16(&n) || n < 0) return Malformed('B', "has no valid result format count");
  m.result_formats.resize(static_cast<size_t>(n));
  for (auto& f : m.result_formats)
    if (!r.Int16(&f)) return Malformed('B', "has fewer result format codes than it declares");
  if (!r.done()) return Malformed('B', "has bytes after its last field");
  return m;
}

// Describe and Close: a kind byte and a name.
template <typename T>
absl::StatusOr<FrontendMessage> DecodeTarget(char type, std::string_view body) {
  BodyReader r(body);
  T m;
  if (!r.Byte(&m.kind) || !r.String(&m.name) || !r.done())
    return Malformed(type, "is not a kind byte and a name");
  if (m.kind != 'S' && m.kind != 'P') {
    return ProtocolViolation(StrCat("invalid ", type == 'D' ? "DESCRIBE" : "CLOSE",
                                    " message subtype ", static_cast<int>(m.kind)));
  }
  return m;
}

}  // namespace

std::string MessageName(char type) {
  switch (type) {
    case 'Q':
      return "Query";
    case 'P':
      return "Parse";
    case 'B':
      return "Bind";
    case 'D':
      return "Describe";
    case 'E':
      return "Execute";
    case 'C':
      return "Close";
    case 'S':
      return "Sync";
    case 'H':
      return "Flush";
    case 'X':
      return "Terminate";
    case 'p':
      return "PasswordMessage";
    case 'F':
      return "FunctionCall";
    case 'd':
      return "CopyData";
    case 'c':
      return "CopyDone";
    case 'f':
      return "CopyFail";
  }
  return StrCat("message type ", static_cast<int>(static_cast<unsigned char>(type)));
}

std::optional<std::string> StartupMessage::Param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return std::nullopt;
}

absl::StatusOr<StartupPacket> DecodeStartupPacket(std::string_view body) {
  BodyReader r(body);
  int32_t code = 0;
  if (!r.Int32(&code)) return ProtocolViolation("invalid length of startup packet");
  switch (code) {
    case kSslRequestCode:
    case kGssEncRequestCode:
      if (!r.done()) return ProtocolViolation("invalid length of startup packet");
      if (code == kSslRequestCode) return SslRequest{};
      return GssEncRequest{};
    case kCancelRequestCode: {
      CancelRequest c;
      if (!r.Int32(&c.pid) || !r.Int32(&c.secret) || !r.done())
        return ProtocolViolation("invalid length of cancel request packet");
      return c;
    }
    default:
      break;
  }
  const int major = static_cast<uint32_t>(code) >> 16;
  const int minor = code & 0xffff;
  if (major != 3) {
    return PgError("0A000", StrCat("unsupported frontend protocol ", major, ".", minor,
                                   ": server supports 3.0"));
  }
  StartupMessage m;
  m.protocol = code;
  // (name NUL value NUL)* NUL, and nothing after the final NUL.
  if (r.rest().empty() || r.rest().back() != '\0')
    return ProtocolViolation("invalid startup packet layout: expected terminator as last byte");
  while (r.rest().size() > 1) {
    std::string name, value;
    if (!r.String(&name) || name.empty() || !r.String(&value))
      return ProtocolViolation("invalid startup packet layout: a parameter without a value");
    m.params.emplace_back(std::move(name), std::move(value));
  }
  if (r.rest() != std::string_view("\0", 1))
    return ProtocolViolation("invalid startup packet layout: expected terminator as last byte");
  return m;
}

absl::StatusOr<FrontendMessage> DecodeMessage(char type, std::string_view body) {
  switch (type) {
    case 'Q': {
      BodyReader r(body);
      Query m;
      if (!r.String(&m.sql) || !r.done()) return Malformed(type, "is not one string");
      return m;
    }
    case 'P':
      return DecodeParse(body);
    case 'B':
      return DecodeBind(body);
    case 'D':
      return DecodeTarget<Describe>(type, body);
    case 'C':
      return DecodeTarget<Close>(type, body);
    case 'E': {
      BodyReader r(body);
      Execute m;
      if (!r.String(&m.portal) || !r.Int32(&m.max_rows) || !r.done())
        return Malformed(type, "is not a portal name and a row count");
      return m;
    }
    case 'S':
    case 'H':
    case 'X':
      if (!body.empty()) return Malformed(type, "has a body");
      if (type == 'S') return Sync{};
      if (type == 'H') return Flush{};
      return Terminate{};
    case 'p':
      return PasswordData{std::string(body)};
    case 'F':
      return FunctionCall{};
    case 'd':
    case 'c':
    case 'f':
      return CopyMessage{type};
  }
  return ProtocolViolation(
      StrCat("invalid frontend message type ", static_cast<int>(static_cast<unsigned char>(type))));
}

uint32_t MaxBodyBytes(char type, uint32_t max_message_bytes) {
  switch (type) {
    case 'Q':
    case 'P':
    case 'B':
    case 'F':
    case 'd':
      return max_message_bytes;
    case 'p':
      return kMaxAuthMessageBytes;
    case 'D':
    case 'E':
    case 'C':
    case 'S':
    case 'H':
    case 'X':
    case 'c':
    case 'f':
      return kMaxSmallMessageBytes;
  }
  return 0;
}

absl::StatusOr<std::string> DecodePasswordMessage(std::string_view body) {
  BodyReader r(body);
  std::string password;
  if (!r.String(&password) || !r.done()) return ProtocolViolation("invalid password packet size");
  return password;
}

absl::StatusOr<SaslInitialResponse> DecodeSaslInitialResponse(std::string_view body) {
  BodyReader r(body);
  SaslInitialResponse m;
  int32_t len = 0;
  if (!r.String(&m.mechanism) || !r.Int32(&len) || len < -1)
    return ProtocolViolation("malformed SASLInitialResponse message");
  if (len >= 0) {
    m.data.emplace();
    if (!r.Bytes(static_cast<size_t>(len), &*m.data))
      return ProtocolViolation("malformed SASLInitialResponse message: truncated data");
  }
  if (!r.done()) return ProtocolViolation("malformed SASLInitialResponse message: trailing bytes");
  return m;
}

char* FrameReader::PrepareWrite(size_t n) {
  Compact();
  buf_.resize(used_ + n);
  return buf_.data() + used_;
}

void FrameReader::Commit(size_t n) {
  used_ = std::min(used_ + n, buf_.size());
  buf_.resize(used_);
}

void FrameReader::Append(std::string_view bytes) {
  std::memcpy(PrepareWrite(bytes.size()), bytes.data(), bytes.size());
  Commit(bytes.size());
}

// Consumed bytes are dropped once they are most of the buffer, so a long
// pipeline of small messages does not grow it and moves stay amortised.
void FrameReader::Compact() {
  if (pos_ == 0) return;
  if (pos_ == used_) {
    used_ = pos_ = 0;
    buf_.clear();
  } else if (pos_ >= (used_ + 1) / 2) {
    buf_.erase(0, pos_);
    used_ -= pos_;
    pos_ = 0;
  }
}

absl::StatusOr<std::optional<std::string_view>> FrameReader::NextStartupPacket() {
  if (used_ - pos_ < 4) return std::nullopt;
  const int32_t length = LoadBigEndian32(buf_.data() + pos_);
  // The length includes itself and a 4-byte code.
  if (length < 8 || static_cast<uint32_t>(length) > kMaxStartupPacketBytes)
    return ProtocolViolation("invalid length of startup packet");
  if (used_ - pos_ < static_cast<size_t>(length)) return std::nullopt;
  std::string_view body(buf_.data() + pos_ + 4, static_cast<size_t>(length) - 4);
  pos_ += static_cast<size_t>(length);
  return body;
}

absl::StatusOr<std::optional<FrameReader::Frame>> FrameReader::NextMessage() {
  if (used_ - pos_ < 1) return std::nullopt;
  const char type = buf_[pos_];
  const uint32_t max_body = MaxBodyBytes(type, max_message_bytes_);
  // An unknown type is refused at once: its length means nothing.
  if (max_body == 0) {
    return ProtocolViolation(StrCat("invalid frontend message type ",
                                    static_cast<int>(static_cast<unsigned char>(type))));
  }
  if (used_ - pos_ < 5) return std::nullopt;
  const int32_t length = LoadBigEndian32(buf_.data() + pos_ + 1);
  if (length < 4) {
    return ProtocolViolation(
        StrCat("invalid message length ", length, " of ", MessageName(type), " (at least 4)"));
  }
  const uint32_t body_bytes = static_cast<uint32_t>(length) - 4;
  if (body_bytes > max_body) {
    return ProtocolViolation(StrCat(MessageName(type), " message of ", body_bytes,
                                    " bytes is larger than the limit of ", max_body, " bytes"));
  }
  if (used_ - pos_ < 1 + static_cast<size_t>(length)) return std::nullopt;
  Frame f{type, std::string_view(buf_.data() + pos_ + 5, body_bytes)};
  pos_ += 1 + static_cast<size_t>(length);
  return f;
}

}  // namespace timestore::pgwire
