#include "auth/authenticator.h"

#include <arpa/inet.h>

#include "common/strings.h"
#include "common/time_util.h"
#include "tiering/http_util.h"

namespace timestore::auth {
namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

std::optional<std::array<uint8_t, 16>> ParseAddress(std::string_view text) {
  std::string s(text);
  std::array<uint8_t, 16> out{};
  in_addr v4;
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

bool IsV4Mapped(const std::array<uint8_t, 16>& a) {
  for (int i = 0; i < 10; ++i) {
    if (a[i] != 0) return false;
  }
  return a[10] == 0xff && a[11] == 0xff;
}

}  // namespace

std::string_view ModeName(Mode m) {
  switch (m) {
    case Mode::kNone:
      return "none";
    case Mode::kProxy:
      return "proxy";
    case Mode::kToken:
      return "token";
  }
  return "?";
}

absl::StatusOr<Mode> ParseMode(std::string_view name) {
  if (name == "token") return Mode::kToken;
  if (name == "proxy") return Mode::kProxy;
  if (name == "none") return Mode::kNone;
  return absl::InvalidArgumentError(
      StrCat("TIMESTORE_AUTH is \"", name, "\"; expected token, proxy or none"));
}

absl::StatusOr<std::vector<Cidr>> ParseCidrList(std::string_view list) {
  std::vector<Cidr> out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = StripWhitespace(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (item.empty()) continue;
    size_t slash = item.find('/');
    auto addr = ParseAddress(item.substr(0, slash));
    if (!addr) {
      return absl::InvalidArgumentError(
          StrCat("trusted proxy \"", item, "\" is not an IP address or CIDR network"));
    }
    Cidr c;
    c.addr = *addr;
    const bool v4 = IsV4Mapped(*addr) && item.find(':') == std::string_view::npos;
    c.prefix = 128;
    if (slash != std::string_view::npos) {
      int bits = -1;
      if (!ParseInt(item.substr(slash + 1), &bits) || bits < 0 || bits > (v4 ? 32 : 128)) {
        return absl::InvalidArgumentError(
            StrCat("trusted proxy \"", item, "\" has a bad prefix length (0-", v4 ? 32 : 128, ")"));
      }
      // "::ffff:10.0.0.0/8" would be ::/8 and trust every IPv4 peer: an
      // IPv4-mapped network needs a prefix of at least 96.
      if (!v4 && IsV4Mapped(*addr) && bits < 96) {
        return absl::InvalidArgumentError(StrCat(
            "trusted proxy \"", item,
            "\" is an IPv4-mapped address with a prefix below 96; write the IPv4 network instead"));
      }
      c.prefix = v4 ? 96 + bits : bits;
    }
    out.push_back(c);
  }
  return out;
}

std::optional<std::array<uint8_t, 16>> ParsePeerAddress(std::string_view peer) {
  if (!peer.empty() && peer.front() == '[') {
    size_t close = peer.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return ParseAddress(peer.substr(1, close - 1));
  }
  if (auto a = ParseAddress(peer)) return a;
  size_t colon = peer.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return ParseAddress(peer.substr(0, colon));
}

bool CidrContains(const Cidr& net, const std::array<uint8_t, 16>& addr) {
  int bits = net.prefix;
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((net.addr[i] & mask) != (addr[i] & mask)) return false;
  }
  return true;
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  auto a = ParseAddress(host);
  if (!a) return false;
  if (IsV4Mapped(*a)) return (*a)[12] == 127;
  std::array<uint8_t, 16> one{};
  one[15] = 1;
  return *a == one;
}

std::vector<std::string> SplitScopes(std::string_view header) {
  std::vector<std::string> out;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view s = StripWhitespace(header.substr(0, comma));
    if (!s.empty()) out.emplace_back(s);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
  }
  return out;
}

Authenticator::Authenticator(AuthConfig config, TokenStore* tokens)
    : config_(std::move(config)), tokens_(tokens) {}

AuthResult Authenticator::AuthenticateSecret(std::string_view secret) const {
  AuthResult r;
  auto fail = [&](AuthResult::Failure f, std::string message) {
    r.failure = f;
    r.message = std::move(message);
    return r;
  };
  if (!config_.bootstrap_hash.empty() && SecretMatches(secret, config_.bootstrap_hash)) {
    r.principal.kind = Principal::Kind::kBootstrap;
    r.principal.name = "admin";
    for (const std::string* s : {&config_.read_scope, &config_.write_scope, &config_.admin_scope}) {
      if (!s->empty() && !r.principal.HasScope(*s)) r.principal.scopes.push_back(*s);
    }
    return r;
  }
  std::optional<TokenInfo> t = tokens_ ? tokens_->Find(secret) : std::nullopt;
  if (!t) return fail(AuthResult::Failure::kInvalid, "the token is not valid (unknown or revoked)");
  if (t->Expired(NowNanos())) {
    return fail(AuthResult::Failure::kExpired,
                StrCat("the token \"", t->name, "\" expired at ", FormatRfc3339(*t->expires_ns)));
  }
  Principal& p = r.principal;
  p.kind = Principal::Kind::kToken;
  p.name = t->name;
  p.token_id = t->id;
  p.scopes = t->scopes;
  p.datasets = t->datasets;
  p.tenant = t->tenant;
  // A tenant token is restricted whether or not it names datasets: every
  // check of a restricted principal (routes about the whole server, 404 for
  // others' datasets) applies to it; GrantAllows adds the tenant.
  if (p.tenant && !p.datasets) p.datasets.emplace(1, DatasetGrant{"*", kRead | kWrite | kAdmin});
  if (!config_.admin_scope.empty() && p.HasScope(config_.admin_scope)) {
    for (const std::string* s : {&config_.read_scope, &config_.write_scope}) {
      if (!s->empty() && !p.HasScope(*s)) p.scopes.push_back(*s);
    }
  }
  p.limits = t->limits;
  if (p.limits.ingest_rows_per_second == 0) {
    p.limits.ingest_rows_per_second = config_.default_limits.ingest_rows_per_second;
  }
  if (p.limits.queries_per_second == 0) {
    p.limits.queries_per_second = config_.default_limits.queries_per_second;
  }
  return r;
}

AuthResult Authenticator::Authenticate(const Credentials& c) const {
  AuthResult r;
  if (config_.mode == Mode::kNone) {
    // Today's behaviour: anyone's headers are believed (loopback only).
    r.principal.kind = Principal::Kind::kHeaders;
    r.principal.scopes = SplitScopes(c.iam_scopes);
    r.principal.name = std::string(c.iam_user);
    return r;
  }
  if (config_.mode == Mode::kProxy && (!c.iam_scopes.empty() || !c.iam_user.empty())) {
    auto addr = ParsePeerAddress(c.peer);
    bool trusted = false;
    for (const Cidr& net : config_.trusted_proxies) {
      if (addr && CidrContains(net, *addr)) {
        trusted = true;
        break;
      }
    }
    if (trusted) {
      r.principal.kind = Principal::Kind::kProxy;
      r.principal.scopes = SplitScopes(c.iam_scopes);
      r.principal.name = std::string(c.iam_user);
      return r;
    }
    // From anyone else the headers mean nothing; a token may still follow.
  }
  std::string_view h = StripWhitespace(c.authorization);
  std::string secret;
  if (h.empty()) {
    if (c.query_password.empty()) return r;  // anonymous
    secret = std::string(c.query_password);
  } else if (StartsWithNoCase(h, "bearer ") || StartsWithNoCase(h, "token ")) {
    secret = std::string(StripWhitespace(h.substr(h.find(' ') + 1)));
  } else if (StartsWithNoCase(h, "basic ")) {
    auto decoded = tiering::Base64Decode(StripWhitespace(h.substr(6)));
    if (!decoded.ok()) {
      r.failure = AuthResult::Failure::kMalformed;
      r.message = "the Basic credentials are not valid base64";
      return r;
    }
    // user:password, with the token as password; a client that can only set
    // a user name may put it there.
    size_t colon = decoded->find(':');
    secret = colon == std::string::npos ? *decoded : decoded->substr(colon + 1);
    if (secret.empty() && colon != std::string::npos) secret = decoded->substr(0, colon);
  } else {
    r.failure = AuthResult::Failure::kMalformed;
    r.message = "the Authorization header must be \"Bearer <token>\", \"Token <token>\" or Basic";
    return r;
  }
  if (secret.empty()) {
    r.failure = AuthResult::Failure::kMalformed;
    r.message = "the Authorization header carries no token";
    return r;
  }
  return AuthenticateSecret(secret);
}

}  // namespace timestore::auth
