#include "pgwire/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <vector>

#include "absl/strings/escaping.h"
#include "common/strings.h"
#include "pgwire/pg_error.h"

namespace timestore::pgwire {
namespace {

constexpr size_t kKeyBytes = SHA256_DIGEST_LENGTH;

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Sha256(std::string_view data) {
  unsigned char out[kKeyBytes];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<char*>(out), kKeyBytes);
}

bool Base64Decode(std::string_view in, std::string* out) {
  return absl::Base64Unescape(absl::string_view(in.data(), in.size()), out);
}

absl::Status Malformed(std::string_view detail) {
  return ProtocolViolation(StrCat("malformed SCRAM message: ", detail));
}

// Splits "a=x,b=y,..." into attributes; values may hold '=' but not ','.
struct Attribute {
  char name;
  std::string_view value;
};
bool SplitAttributes(std::string_view s, std::vector<Attribute>* out) {
  while (true) {
    const size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    if (item.size() < 2 || item[1] != '=') return false;
    out->push_back({item[0], item.substr(2)});
    if (comma == std::string_view::npos) return true;
    s.remove_prefix(comma + 1);
  }
}

bool PrintableNonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (char c : nonce)
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  return true;
}

}  // namespace

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // Without randomness nonces and salts would be predictable: refuse to go on.
    std::abort();
  }
  return out;
}

std::string ScramNonce() { return Base64Encode(RandomBytes(18)); }

std::string Base64Encode(std::string_view bytes) {
  return absl::Base64Escape(absl::string_view(bytes.data(), bytes.size()));
}

ScramSecret MakeScramSecret(std::string_view password, std::string_view salt, int iterations) {
  ScramSecret s;
  s.salt = std::string(salt);
  s.iterations = iterations;
  unsigned char salted[kKeyBytes];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), kKeyBytes, salted);
  std::string_view salted_password(reinterpret_cast<char*>(salted), kKeyBytes);
  s.stored_key = Sha256(Hmac(salted_password, "Client Key"));
  s.server_key = Hmac(salted_password, "Server Key");
  OPENSSL_cleanse(salted, sizeof(salted));
  return s;
}

ScramServer::ScramServer(std::optional<ScramSecret> secret, std::string mock_salt,
                         std::string server_nonce)
    : secret_(std::move(secret)),
      mock_salt_(std::move(mock_salt)),
      server_nonce_(std::move(server_nonce)) {}

absl::StatusOr<std::string> ScramServer::HandleClientFirst(std::string_view message) {
  // gs2-header: a channel binding flag, an (empty) authzid, then the bare message.
  if (message.size() < 3) return Malformed("client-first message too short");
  const char flag = message[0];
  if (flag == 'p') {
    return Malformed(
        "the client requires channel binding, which this server does not offer (no TLS)");
  }
  if ((flag != 'n' && flag != 'y') || message[1] != ',')
    return Malformed("unexpected channel binding flag");
  const size_t second = message.find(',', 2);
  if (second == std::string_view::npos) return Malformed("no gs2 header");
  if (second != 2) return Malformed("authorization identities are not supported");
  gs2_header_ = std::string(message.substr(0, 3));
  client_first_bare_ = std::string(message.substr(3));
  std::vector<Attribute> attrs;
  if (!SplitAttributes(client_first_bare_, &attrs) || attrs.size() < 2)
    return Malformed("client-first message is not n=...,r=...");
  if (attrs[0].name == 'm') return Malformed("mandatory extensions are not supported");
  if (attrs[0].name != 'n' || attrs[1].name != 'r')
    return Malformed("client-first message is not n=...,r=...");
  if (!PrintableNonce(attrs[1].value)) return Malformed("invalid client nonce");
  nonce_ = StrCat(attrs[1].value, server_nonce_);
  const std::string& salt = secret_ ? secret_->salt : mock_salt_;
  const int iterations = secret_ ? secret_->iterations : kScramIterations;
  server_first_ = StrCat("r=", nonce_, ",s=", Base64Encode(salt), ",i=", iterations);
  return server_first_;
}

absl::StatusOr<std::string> ScramServer::HandleClientFinal(std::string_view message) {
  if (server_first_.empty()) return Malformed("client-final message before client-first");
  std::vector<Attribute> attrs;
  if (!SplitAttributes(message, &attrs) || attrs.size() < 3 || attrs[0].name != 'c' ||
      attrs[1].name != 'r' || attrs.back().name != 'p') {
    return Malformed("client-final message is not c=...,r=...,p=...");
  }
  std::string binding;
  if (!Base64Decode(attrs[0].value, &binding) || binding != gs2_header_)
    return Malformed("channel binding data does not match the client-first message");
  if (attrs[1].value != nonce_) return Malformed("nonce does not match");
  std::string proof;
  if (!Base64Decode(attrs.back().value, &proof) || proof.size() != kKeyBytes)
    return Malformed("invalid client proof");
  const size_t proof_at = message.rfind(",p=");
  const std::string auth_message =
      StrCat(client_first_bare_, ",", server_first_, ",", message.substr(0, proof_at));
  if (!secret_) return absl::PermissionDeniedError("no such user");
  // ClientKey = proof XOR ClientSignature; it must hash to StoredKey.
  const std::string signature = Hmac(secret_->stored_key, auth_message);
  std::string client_key(kKeyBytes, '\0');
  for (size_t i = 0; i < kKeyBytes; ++i) client_key[i] = static_cast<char>(proof[i] ^ signature[i]);
  const std::string computed = Sha256(client_key);
  if (CRYPTO_memcmp(computed.data(), secret_->stored_key.data(), kKeyBytes) != 0)
    return absl::PermissionDeniedError("wrong proof");
  return StrCat("v=", Base64Encode(Hmac(secret_->server_key, auth_message)));
}

}  // namespace timestore::pgwire
