// SCRAM-SHA-256 (RFC 5802, RFC 7677), the server side, as PostgreSQL speaks
// it inside AuthenticationSASL: no channel binding (the server offers only
// "SCRAM-SHA-256", not "-PLUS", since connections are not TLS), no authzid,
// the user name taken from the startup packet rather than the SCRAM "n=".
//
//   client-first  = gs2-header client-first-bare
//     gs2-header  = ("n" | "y") ",," ;  client-first-bare = "n=" user ",r=" cnonce
//   server-first  = "r=" cnonce snonce ",s=" base64(salt) ",i=" iterations
//   client-final  = "c=" base64(gs2-header) ",r=" cnonce snonce ",p=" base64(proof)
//   server-final  = "v=" base64(ServerSignature)
//
//   SaltedPassword = PBKDF2-HMAC-SHA256(password, salt, iterations)
//   StoredKey = SHA256(HMAC(SaltedPassword, "Client Key"))
//   ServerKey = HMAC(SaltedPassword, "Server Key")
//   AuthMessage = client-first-bare "," server-first "," client-final-without-proof
//   proof = HMAC(SaltedPassword, "Client Key") XOR HMAC(StoredKey, AuthMessage)
//
// Passwords are used as given; PostgreSQL's client applies SASLprep (NFKC)
// first, which changes nothing for ASCII and already-normalized text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace timestore::pgwire {

inline constexpr int kScramIterations = 4096;
inline constexpr std::string_view kScramMechanism = "SCRAM-SHA-256";

// What the server keeps of a password (raw bytes, not base64).
struct ScramSecret {
  std::string salt;
  int iterations = kScramIterations;
  std::string stored_key;  // 32 bytes
  std::string server_key;  // 32 bytes
};
ScramSecret MakeScramSecret(std::string_view password, std::string_view salt,
                            int iterations = kScramIterations);

// `n` bytes from OpenSSL's CSPRNG.
std::string RandomBytes(size_t n);
// A server nonce: 18 random bytes in base64 (as PostgreSQL makes them).
std::string ScramNonce();

std::string Base64Encode(std::string_view bytes);

// One exchange. Not thread-safe.
class ScramServer {
 public:
  // `secret`: the user's, or nullopt for a user that does not exist, for whom
  // the exchange runs to the end with `mock_salt` and then fails exactly like
  // a wrong password (the client learns nothing about which names exist).
  ScramServer(std::optional<ScramSecret> secret, std::string mock_salt, std::string server_nonce);

  // The client-first message; returns server-first. 08P01 when malformed.
  absl::StatusOr<std::string> HandleClientFirst(std::string_view message);
  // The client-final message; returns server-final when the proof is right,
  // PermissionDenied when it is not (or the user does not exist), 08P01 when
  // malformed.
  absl::StatusOr<std::string> HandleClientFinal(std::string_view message);

 private:
  std::optional<ScramSecret> secret_;
  std::string mock_salt_;
  std::string server_nonce_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;  // client nonce + server nonce
};

}  // namespace timestore::pgwire
