#include "pgwire/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "common/strings.h"
#include "pgwire/frontend_messages.h"
#include "pgwire/pg_error.h"

namespace timestore::pgwire {
namespace {

std::string Md5Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

// Compares secrets in time independent of where they differ and of their
// lengths (both sides are hashed first).
bool SecretsEqual(std::string_view a, std::string_view b) {
  unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), da);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), db);
  return CRYPTO_memcmp(da, db, sizeof(da)) == 0;
}

// Splits `s` at unescaped `sep`, resolving the escapes of the users syntax.
absl::Status SplitEscaped(std::string_view s, char sep, std::string_view what,
                          std::vector<std::string>* parts_out) {
  std::vector<std::string>& parts = *parts_out;
  parts.assign(1, std::string());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\') {
      if (i + 1 == s.size() ||
          (s[i + 1] != ',' && s[i + 1] != ':' && s[i + 1] != '+' && s[i + 1] != '\\')) {
        return absl::InvalidArgumentError(
            StrCat(what, ": a backslash must be followed by , : + or \\"));
      }
      parts.back().push_back(s[++i]);
    } else if (c == sep) {
      parts.emplace_back();
    } else {
      parts.back().push_back(c);
    }
  }
  return absl::OkStatus();
}

// Splits at unescaped `sep` keeping the escapes (for the outer levels).
std::vector<std::string_view> SplitRaw(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

}  // namespace

std::string_view AuthMethodName(AuthMethod method) {
  switch (method) {
    case AuthMethod::kTrust:
      return "trust";
    case AuthMethod::kPassword:
      return "password";
    case AuthMethod::kMd5:
      return "md5";
    case AuthMethod::kScramSha256:
      return "scram-sha-256";
    case AuthMethod::kToken:
      return "token";
  }
  return "?";
}

std::string Md5PasswordResponse(std::string_view user, std::string_view password,
                                std::string_view salt) {
  return StrCat("md5", Md5Hex(StrCat(Md5Hex(StrCat(password, user)), salt)));
}

absl::StatusOr<std::vector<PgUser>> ParsePgUsers(std::string_view spec) {
  std::vector<PgUser> users;
  int index = 0;
  for (std::string_view entry : SplitRaw(spec, ',')) {
    ++index;
    if (entry.empty()) continue;  // "a:x,,b:y" or a trailing comma
    const std::string what = StrCat("TIMESTORE_PG_USERS entry ", index);
    std::vector<std::string_view> fields = SplitRaw(entry, ':');
    if (fields.size() < 2 || fields.size() > 3) {
      return absl::InvalidArgumentError(
          StrCat(what, " is not name:password[:scope+scope...] (escape , : + \\ with \\)"));
    }
    PgUser u;
    std::vector<std::string> parts;
    for (int f = 0; f < 2; ++f) {
      if (auto s = SplitEscaped(fields[f], '\0', what, &parts); !s.ok()) return s;
      (f == 0 ? u.name : u.password) = parts[0];
    }
    if (u.name.empty() || u.password.empty())
      return absl::InvalidArgumentError(StrCat(what, " has an empty name or password"));
    if (fields.size() == 3) {
      if (auto s = SplitEscaped(fields[2], '+', what, &parts); !s.ok()) return s;
      for (auto& scope : parts)
        if (!scope.empty()) u.scopes.push_back(std::move(scope));
    }
    for (const auto& other : users) {
      if (other.name == u.name)
        return absl::InvalidArgumentError(StrCat(what, ": user \"", u.name, "\" appears twice"));
    }
    users.push_back(std::move(u));
  }
  return users;
}

absl::StatusOr<std::shared_ptr<const AuthConfig>> AuthConfig::Make(
    std::string_view method, std::vector<PgUser> users,
    std::shared_ptr<const auth::Authenticator> tokens) {
  auto config = std::make_shared<AuthConfig>();
  config->tokens_ = std::move(tokens);
  if (method.empty()) {
    config->method_ = !users.empty()    ? AuthMethod::kScramSha256
                      : config->tokens_ ? AuthMethod::kToken
                                        : AuthMethod::kTrust;
  } else if (method == "token") {
    if (config->tokens_ == nullptr) {
      return absl::InvalidArgumentError(
          "TIMESTORE_PG_AUTH=token needs TIMESTORE_AUTH=token or proxy");
    }
    config->method_ = AuthMethod::kToken;
  } else if (method == "trust") {
    config->method_ = AuthMethod::kTrust;
  } else if (method == "password") {
    config->method_ = AuthMethod::kPassword;
  } else if (method == "md5") {
    config->method_ = AuthMethod::kMd5;
  } else if (method == "scram-sha-256") {
    config->method_ = AuthMethod::kScramSha256;
  } else {
    return absl::InvalidArgumentError(StrCat(
        "TIMESTORE_PG_AUTH \"", method, "\" is not trust, password, md5, scram-sha-256 or token"));
  }
  if (config->method_ != AuthMethod::kTrust && config->method_ != AuthMethod::kToken &&
      users.empty()) {
    return absl::InvalidArgumentError(StrCat("TIMESTORE_PG_AUTH=", AuthMethodName(config->method_),
                                             " needs users in TIMESTORE_PG_USERS"));
  }
  config->mock_key_ = RandomBytes(32);
  for (auto& u : users) {
    // A fresh salt per user and process, like a password set at startup.
    if (config->method_ == AuthMethod::kScramSha256)
      config->scram_.emplace(u.name, MakeScramSecret(u.password, RandomBytes(16)));
    std::string name = u.name;
    config->users_.emplace(std::move(name), std::move(u));
  }
  return std::shared_ptr<const AuthConfig>(std::move(config));
}

const PgUser* AuthConfig::FindUser(std::string_view name) const {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : &it->second;
}

const ScramSecret* AuthConfig::FindScram(std::string_view name) const {
  auto it = scram_.find(name);
  return it == scram_.end() ? nullptr : &it->second;
}

std::string AuthConfig::MockSalt(std::string_view name) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), mock_key_.data(), static_cast<int>(mock_key_.size()),
       reinterpret_cast<const unsigned char*>(name.data()), name.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), 16);
}

Authenticator::Authenticator(std::shared_ptr<const AuthConfig> config, std::string user)
    : config_(std::move(config)), user_(std::move(user)) {}

absl::Status Authenticator::Failed() const {
  return PgError(sql::sqlstate::kInvalidPassword,
                 StrCat("password authentication failed for user \"", user_, "\""));
}

bool Authenticator::Start(BackendWriter* out) {
  switch (config_->method()) {
    case AuthMethod::kTrust:
      state_ = State::kDone;
      return true;
    case AuthMethod::kPassword:
    case AuthMethod::kToken:
      out->AuthenticationCleartextPassword();
      state_ = State::kPassword;
      return false;
    case AuthMethod::kMd5:
      md5_salt_ = RandomBytes(4);
      out->AuthenticationMd5Password(md5_salt_);
      state_ = State::kPassword;
      return false;
    case AuthMethod::kScramSha256: {
      out->AuthenticationSasl({std::string(kScramMechanism)});
      const ScramSecret* secret = config_->FindScram(user_);
      scram_.emplace(secret ? std::optional<ScramSecret>(*secret) : std::nullopt,
                     config_->MockSalt(user_), ScramNonce());
      state_ = State::kSaslInitial;
      return false;
    }
  }
  return false;
}

absl::StatusOr<bool> Authenticator::Step(std::string_view body, BackendWriter* out) {
  switch (state_) {
    case State::kPassword: {
      auto given = DecodePasswordMessage(body);
      if (!given.ok()) return given.status();
      if (config_->method() == AuthMethod::kToken) {
        auth::AuthResult r = config_->tokens()->AuthenticateSecret(*given);
        if (!r.ok() || r.principal.anonymous()) {
          return PgError(sql::sqlstate::kInvalidPassword,
                         StrCat("password authentication failed for user \"", user_,
                                "\": the password must be a valid API token (",
                                r.message.empty() ? "none given" : r.message, ")"));
        }
        principal_ = std::make_shared<const auth::Principal>(std::move(r.principal));
        state_ = State::kDone;
        return true;
      }
      const PgUser* u = config_->FindUser(user_);
      // Unknown users are compared against a throwaway secret so that the
      // work done (and the answer) does not tell them apart.
      const std::string expected =
          config_->method() == AuthMethod::kMd5
              ? Md5PasswordResponse(user_, u ? u->password : md5_salt_, md5_salt_)
              : (u ? u->password : RandomBytes(16));
      if (given->empty() || !SecretsEqual(*given, expected) || u == nullptr) return Failed();
      state_ = State::kDone;
      return true;
    }
    case State::kSaslInitial: {
      auto initial = DecodeSaslInitialResponse(body);
      if (!initial.ok()) return initial.status();
      if (initial->mechanism != kScramMechanism) {
        return PgError(sql::sqlstate::kProtocolViolation,
                       StrCat("client selected an invalid SASL authentication mechanism \"",
                              initial->mechanism, "\""));
      }
      if (!initial->data) return ProtocolViolation("SASLInitialResponse without data");
      auto first = scram_->HandleClientFirst(*initial->data);
      if (!first.ok()) return first.status();
      out->AuthenticationSaslContinue(*first);
      state_ = State::kSaslContinue;
      return false;
    }
    case State::kSaslContinue: {
      auto final_message = scram_->HandleClientFinal(body);
      if (!final_message.ok()) {
        if (final_message.status().code() == absl::StatusCode::kPermissionDenied) return Failed();
        return final_message.status();
      }
      out->AuthenticationSaslFinal(*final_message);
      state_ = State::kDone;
      return true;
    }
    case State::kStart:
    case State::kDone:
      break;
  }
  return ProtocolViolation("unexpected password message");
}

std::vector<std::string> Authenticator::scopes() const {
  if (state_ != State::kDone || config_->method() == AuthMethod::kTrust) return {};
  if (principal_) return principal_->scopes;
  const PgUser* u = config_->FindUser(user_);
  return u ? u->scopes : std::vector<std::string>{};
}

}  // namespace timestore::pgwire
