// What a PostgreSQL client sends (protocol 3.0, PostgreSQL's "Message
// Formats" chapter): framing of the byte stream and decoding of each message
// into a struct. Every integer is big-endian; a String is bytes ending in NUL.
//
//   startup packet := length i32 (includes itself) | code i32 | body
//     code 196608 (3.0): StartupMessage, body = (name String | value String)* | NUL
//     code 80877103: SSLRequest     code 80877104: GSSENCRequest (no body)
//     code 80877102: CancelRequest, body = pid i32 | secret i32
//   message := type u8 | length i32 (includes itself, not the type) | body
//     'Q' Query      sql String
//     'P' Parse      name String | sql String | n i16 | param type oid i32 * n
//     'B' Bind       portal String | statement String | n i16 | format i16 * n |
//                    m i16 | (length i32 (-1 = NULL) | bytes) * m | k i16 | format i16 * k
//     'D' Describe   'S' or 'P' | name String
//     'E' Execute    portal String | max rows i32 (0 = all)
//     'C' Close      'S' or 'P' | name String
//     'S' Sync   'H' Flush   'X' Terminate   (no body)
//     'p' password, SASLInitialResponse or SASLResponse (meaning set by the
//         authentication exchange; see auth.h)
//     'F' FunctionCall (refused), 'd' 'c' 'f' CopyData/Done/Fail (ignored
//         outside COPY, as PostgreSQL does)
//
// Every decoder checks every length against the bytes present: malformed input
// is an error status with SQLSTATE 08P01, never a crash or an over-read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace timestore::pgwire {

inline constexpr int32_t kProtocolVersion3 = 3 << 16;  // 3.0
inline constexpr int32_t kCancelRequestCode = 80877102;
inline constexpr int32_t kSslRequestCode = 80877103;
inline constexpr int32_t kGssEncRequestCode = 80877104;

// PostgreSQL's limits: a startup packet of at most 10000 bytes
// (MAX_STARTUP_PACKET_LENGTH), authentication messages of at most 65535
// (PG_MAX_AUTH_TOKEN_LENGTH), and control messages (Sync, Describe, ...) of
// at most 10000 (PQ_SMALL_MESSAGE_LIMIT). Query, Parse and Bind may be as
// large as FrameReader's configured maximum.
inline constexpr uint32_t kMaxStartupPacketBytes = 10000;
inline constexpr uint32_t kMaxAuthMessageBytes = 65535;
inline constexpr uint32_t kMaxSmallMessageBytes = 10000;
inline constexpr uint32_t kDefaultMaxMessageBytes = 64u << 20;

struct SslRequest {};
struct GssEncRequest {};
struct CancelRequest {
  int32_t pid = 0;
  int32_t secret = 0;
};
struct StartupMessage {
  int32_t protocol = 0;
  std::vector<std::pair<std::string, std::string>> params;  // in the order sent
  // The value of parameter `name`, or nullopt.
  std::optional<std::string> Param(std::string_view name) const;
};
using StartupPacket = std::variant<SslRequest, GssEncRequest, CancelRequest, StartupMessage>;

// Decodes a startup packet's body (what follows its length). A protocol other
// than 3.x is 0A000 naming the version; anything malformed is 08P01.
absl::StatusOr<StartupPacket> DecodeStartupPacket(std::string_view body);

struct Query {
  std::string sql;
};
struct Parse {
  std::string name;
  std::string sql;
  std::vector<uint32_t> param_types;
};
struct Bind {
  std::string portal;
  std::string statement;
  std::vector<int16_t> param_formats;
  std::vector<std::optional<std::string>> params;  // nullopt: NULL
  std::vector<int16_t> result_formats;
};
struct Describe {
  char kind = 'S';  // 'S' statement, 'P' portal
  std::string name;
};
struct Execute {
  std::string portal;
  int32_t max_rows = 0;  // <= 0: all
};
struct Close {
  char kind = 'S';
  std::string name;
};
struct Sync {};
struct Flush {};
struct Terminate {};
struct PasswordData {  // 'p': decoded further by the authentication exchange
  std::string data;
};
struct FunctionCall {};
struct CopyMessage {
  char type = 'd';
};
using FrontendMessage = std::variant<Query, Parse, Bind, Describe, Execute, Close, Sync, Flush,
                                     Terminate, PasswordData, FunctionCall, CopyMessage>;

// Decodes the body of a message of `type`. An unknown type is 08P01.
absl::StatusOr<FrontendMessage> DecodeMessage(char type, std::string_view body);

// "Parse", "Bind", ... or "message type 122" for a byte that names none.
std::string MessageName(char type);

// The largest body a message of `type` may have, given the configured
// maximum for large messages; 0 for a type that is not a frontend message.
uint32_t MaxBodyBytes(char type, uint32_t max_message_bytes);

// The bodies of 'p' messages, by authentication state.
absl::StatusOr<std::string> DecodePasswordMessage(std::string_view body);
struct SaslInitialResponse {
  std::string mechanism;
  std::optional<std::string> data;  // nullopt: the client sent length -1
};
absl::StatusOr<SaslInitialResponse> DecodeSaslInitialResponse(std::string_view body);

// Splits the byte stream of one connection into startup packets and typed
// messages. Lengths are checked as soon as the header arrives, so an
// oversized message is refused before its body is buffered.
// Not thread-safe.
class FrameReader {
 public:
  explicit FrameReader(uint32_t max_message_bytes = kDefaultMaxMessageBytes)
      : max_message_bytes_(max_message_bytes) {}
  // The largest query-carrying message from now on (small until the client
  // has logged in, the configured limit after).
  void set_max_message_bytes(uint32_t n) { max_message_bytes_ = n; }

  // Space for `n` more bytes from the socket; call Commit with what was read.
  char* PrepareWrite(size_t n);
  void Commit(size_t n);
  void Append(std::string_view bytes);

  // The next complete startup packet's body (without its length), nullopt
  // while more bytes are needed. The view is valid until the next call of
  // any method.
  absl::StatusOr<std::optional<std::string_view>> NextStartupPacket();

  struct Frame {
    char type = 0;
    std::string_view body;  // valid until the next call of any method
  };
  // The next complete typed message, nullopt while more bytes are needed.
  absl::StatusOr<std::optional<Frame>> NextMessage();

  // Bytes received and not yet consumed.
  size_t buffered() const { return used_ - pos_; }

 private:
  void Compact();

  uint32_t max_message_bytes_;
  std::string buf_;
  size_t pos_ = 0;   // start of unconsumed bytes
  size_t used_ = 0;  // bytes of buf_ holding data (buf_ may be larger while a read is prepared)
};

}  // namespace timestore::pgwire
