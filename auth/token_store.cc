#include "auth/token_store.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "auth/tenant.h"
#include "common/env.h"
#include "common/json_writer.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "tiering/http_util.h"

namespace timestore::auth {
namespace {

constexpr std::string_view kPrefix = "tsk_";
constexpr size_t kIdHex = 16;
constexpr size_t kSecretHex = 64;
constexpr size_t kMaxName = 128;
constexpr size_t kMaxScopes = 64;
constexpr size_t kMaxGrants = 256;

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

absl::Status Invalid(std::string_view member, std::string_view message) {
  std::string details;
  JsonWriter(&details).BeginObject().Key("field").String(member).EndObject();
  return MakeError(absl::StatusCode::kInvalidArgument, "invalid_request",
                   StrCat(member, ": ", message), details);
}

void WriteGrants(JsonWriter& w, const std::vector<DatasetGrant>& grants) {
  w.BeginArray();
  for (const DatasetGrant& g : grants) {
    w.BeginObject().Key("pattern").String(g.pattern).Key("access").BeginArray();
    for (Access a : {kRead, kWrite, kAdmin}) {
      if (g.access & a) w.String(AccessName(a));
    }
    w.EndArray().EndObject();
  }
  w.EndArray();
}

// The settings a token request carries, shared by the stored form and the
// request the CLI sends: scopes, datasets (when restricted) and rate limits.
void WriteTokenSettings(JsonWriter& w, const TokenInfo& t) {
  w.Key("scopes").BeginArray();
  for (const auto& s : t.scopes) w.String(s);
  w.EndArray();
  if (t.datasets) {
    w.Key("datasets");
    WriteGrants(w, *t.datasets);
  }
  w.Key("rateLimits").BeginObject();
  w.Key("ingestRowsPerSecond").Double(t.limits.ingest_rows_per_second);
  w.Key("queriesPerSecond").Double(t.limits.queries_per_second);
  w.EndObject();
  if (t.tenant) w.Key("tenant").String(*t.tenant);
}

absl::Status ParseTenant(simdjson::dom::element v, std::optional<std::string>* out) {
  std::string_view id;
  if (v.get(id) || !IsValidTenantId(id)) {
    return Invalid("tenant",
                   "must be a tenant id: 1 to 32 of a-z 0-9 and -, starting with a letter or "
                   "digit (its datasets are named <tenant>__<name>)");
  }
  *out = std::string(id);
  return absl::OkStatus();
}

// The members both the file and the API show.
void WriteTokenMembers(JsonWriter& w, const TokenInfo& t) {
  w.Key("id").String(t.id);
  w.Key("name").String(t.name);
  WriteTokenSettings(w, t);
  w.Key("createdAt").String(FormatRfc3339(t.created_ns));
  w.Key("expiresAt");
  if (t.expires_ns) {
    w.String(FormatRfc3339(*t.expires_ns));
  } else {
    w.Null();
  }
}

absl::Status ParseScopes(simdjson::dom::element v, std::vector<std::string>* out) {
  simdjson::dom::array a;
  if (v.get(a)) return Invalid("scopes", "must be an array of strings");
  for (simdjson::dom::element e : a) {
    std::string_view s;
    if (e.get(s) || s.empty() || s.size() > kMaxName || s.find(',') != std::string_view::npos) {
      return Invalid("scopes", "each scope must be a non-empty string without commas");
    }
    out->emplace_back(s);
  }
  if (out->size() > kMaxScopes) return Invalid("scopes", "at most 64 scopes are allowed");
  return absl::OkStatus();
}

absl::Status ParseGrants(simdjson::dom::element v, std::vector<DatasetGrant>* out) {
  simdjson::dom::array a;
  if (v.get(a)) return Invalid("datasets", "must be an array of {\"pattern\", \"access\"}");
  for (simdjson::dom::element e : a) {
    simdjson::dom::object o;
    if (e.get(o)) return Invalid("datasets", "each entry must be {\"pattern\", \"access\"}");
    DatasetGrant g;
    bool has_pattern = false;
    for (auto [k, val] : o) {
      if (k == "pattern") {
        std::string_view p;
        if (val.get(p) || p.empty() || p.size() > 128) {
          return Invalid("datasets", "pattern must be a non-empty slug pattern (* and ? allowed)");
        }
        g.pattern = std::string(p);
        has_pattern = true;
      } else if (k == "access") {
        auto add = [&](simdjson::dom::element x) -> absl::Status {
          std::string_view name;
          std::optional<Access> acc;
          if (x.get(name) || !(acc = ParseAccess(name))) {
            return Invalid("datasets",
                           "access must be \"read\", \"write\" or \"admin\" (or a list)");
          }
          g.access |= *acc;
          return absl::OkStatus();
        };
        simdjson::dom::array list;
        if (!val.get(list)) {
          for (simdjson::dom::element x : list) {
            if (auto s = add(x); !s.ok()) return s;
          }
        } else if (auto s = add(val); !s.ok()) {
          return s;
        }
      } else {
        return Invalid("datasets",
                       StrCat("unknown member \"", k.substr(0, 40), "\" (known: pattern, access)"));
      }
    }
    if (!has_pattern || g.access == 0) {
      return Invalid("datasets", "each entry needs a pattern and at least one access");
    }
    out->push_back(std::move(g));
  }
  if (out->size() > kMaxGrants) return Invalid("datasets", "at most 256 entries are allowed");
  return absl::OkStatus();
}

absl::Status ParseRate(simdjson::dom::element v, RateLimits* out) {
  simdjson::dom::object o;
  if (v.get(o)) return Invalid("rateLimits", "must be an object");
  for (auto [k, val] : o) {
    double* target = k == "ingestRowsPerSecond" ? &out->ingest_rows_per_second
                     : k == "queriesPerSecond"  ? &out->queries_per_second
                                                : nullptr;
    if (target == nullptr) {
      return Invalid("rateLimits", StrCat("unknown member \"", k.substr(0, 40),
                                          "\" (known: ingestRowsPerSecond, queriesPerSecond)"));
    }
    double d = 0;
    if (val.get(d) || !(d >= 0) || d > 1e12) {
      return Invalid("rateLimits", StrCat(k, " must be a number >= 0 (0: the server default)"));
    }
    *target = d;
  }
  return absl::OkStatus();
}

}  // namespace

std::string TokenInfoJson(const TokenInfo& t, int64_t now_ns) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  WriteTokenMembers(w, t);
  w.Key("expired").Bool(t.Expired(now_ns));
  w.EndObject();
  return out;
}

absl::StatusOr<TokenInfo> ParseTokenRequest(std::string_view json, int64_t now_ns) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) {
    return MakeError(absl::StatusCode::kInvalidArgument, "invalid_json",
                     "the body is not valid JSON");
  }
  simdjson::dom::object o;
  if (root.get(o)) {
    return MakeError(absl::StatusCode::kInvalidArgument, "invalid_request",
                     "the body must be a JSON object");
  }
  TokenInfo t;
  bool has_name = false;
  for (auto [k, v] : o) {
    if (k == "name") {
      std::string_view name;
      if (v.get(name)) return Invalid("name", "must be a string");
      const bool name_chars = std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
      });
      // Not 16 hex digits either: revoke takes an id or a name, and a name
      // that reads as another token's id would revoke that token.
      if (name.empty() || name.size() > kMaxName || !name_chars ||
          (name.size() == kIdHex && IsHex(name))) {
        return Invalid("name",
                       "must be 1 to 128 of A-Z a-z 0-9 . _ - (and not 16 hex digits, the shape "
                       "of a token id)");
      }
      t.name = std::string(name);
      has_name = true;
    } else if (k == "scopes") {
      if (auto s = ParseScopes(v, &t.scopes); !s.ok()) return s;
    } else if (k == "datasets") {
      if (v.is_null()) continue;
      t.datasets.emplace();
      if (auto s = ParseGrants(v, &*t.datasets); !s.ok()) return s;
    } else if (k == "expiresAt" || k == "expiresIn") {
      if (v.is_null()) continue;
      std::string_view text;
      if (v.get(text)) return Invalid(k, "must be a string");
      if (k == "expiresAt") {
        auto at = ParseRfc3339(text);
        if (!at.ok()) return Invalid(k, "must be an RFC 3339 time like 2027-01-01T00:00:00Z");
        t.expires_ns = *at;
      } else {
        auto d = ParseDurationNanos(text);
        if (!d.ok() || *d <= 0) return Invalid(k, "must be a positive duration like \"30d\"");
        t.expires_ns = now_ns + *d;
      }
      if (*t.expires_ns <= now_ns) return Invalid(k, "the token would already be expired");
    } else if (k == "rateLimits") {
      if (auto s = ParseRate(v, &t.limits); !s.ok()) return s;
    } else if (k == "tenant") {
      if (v.is_null()) continue;
      if (auto s = ParseTenant(v, &t.tenant); !s.ok()) return s;
    } else {
      return Invalid(k.substr(0, 40),
                     "unknown member (known: name, scopes, datasets, tenant, expiresAt, "
                     "expiresIn, rateLimits)");
    }
  }
  if (!has_name) return Invalid("name", "is required");
  if (t.scopes.empty() && !t.datasets) {
    return Invalid("scopes", "a token needs at least one scope (read, write, admin, ...)");
  }
  return t;
}

std::string TokenRequestJson(const TokenInfo& t) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("name").String(t.name);
  WriteTokenSettings(w, t);
  if (t.expires_ns) w.Key("expiresAt").String(FormatRfc3339(*t.expires_ns));
  w.EndObject();
  return out;
}

std::string_view TokenIdOf(std::string_view secret) {
  if (secret.size() != kPrefix.size() + kIdHex + 1 + kSecretHex) return {};
  if (secret.substr(0, kPrefix.size()) != kPrefix) return {};
  std::string_view id = secret.substr(kPrefix.size(), kIdHex);
  if (secret[kPrefix.size() + kIdHex] != '_') return {};
  if (!IsHex(id) || !IsHex(secret.substr(kPrefix.size() + kIdHex + 1))) return {};
  return id;
}

std::string HashSecret(std::string_view secret) { return tiering::Sha256Hex(secret); }

bool SecretMatches(std::string_view secret, std::string_view hash_hex) {
  const std::string h = HashSecret(secret);
  return h.size() == hash_hex.size() && CRYPTO_memcmp(h.data(), hash_hex.data(), h.size()) == 0;
}

std::string GenerateToken(std::string* id) {
  unsigned char bytes[8 + 32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();  // no entropy: nothing is safe
  std::string raw(reinterpret_cast<const char*>(bytes), sizeof(bytes));
  *id = tiering::HexEncode(raw.substr(0, 8));
  return StrCat(kPrefix, *id, "_", tiering::HexEncode(raw.substr(8)));
}

absl::Status WritePrivateFile(const std::string& path, std::string_view data) {
  const std::string dir = DirName(path);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return PosixError("mkdir", dir, errno);
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return PosixError("open", tmp, errno);
  ::fchmod(fd, 0600);  // an old temporary file keeps its mode otherwise
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return PosixError("write", tmp, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return PosixError("fsync", tmp, err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return PosixError("rename", path, errno);
  return Env::Default()->SyncDir(dir);
}

TokenStore::TokenStore(std::string dir)
    : dir_(std::move(dir)), path_(JoinPath(dir_, "tokens.json")) {}

absl::StatusOr<std::unique_ptr<TokenStore>> TokenStore::Open(std::string dir) {
  std::unique_ptr<TokenStore> store(new TokenStore(std::move(dir)));
  if (auto s = store->Load(); !s.ok()) return s;
  return store;
}

absl::Status TokenStore::Load() {
  auto text = Env::Default()->ReadFile(path_);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) return absl::OkStatus();
    return text.status();
  }
  auto corrupt = [&](std::string_view why) {
    return absl::DataLossError(StrCat(path_, ": ", why, " (fix or remove the file)"));
  };
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(*text).get(root)) return corrupt("not valid JSON");
  simdjson::dom::array tokens;
  if (root["tokens"].get(tokens)) return corrupt("no \"tokens\" array");
  for (simdjson::dom::element e : tokens) {
    Entry entry;
    std::string_view id, name, hash, created;
    if (e["id"].get(id) || e["name"].get(name) || e["hash"].get(hash) ||
        e["createdAt"].get(created) || id.size() != kIdHex || !IsHex(id) || hash.size() != 64) {
      return corrupt("a token entry lacks id, name, hash or createdAt");
    }
    entry.info.id = std::string(id);
    entry.info.name = std::string(name);
    entry.hash = std::string(hash);
    auto created_ns = ParseRfc3339(created);
    if (!created_ns.ok()) return corrupt("bad createdAt");
    entry.info.created_ns = *created_ns;
    simdjson::dom::element v;
    if (!e["scopes"].get(v)) {
      if (!ParseScopes(v, &entry.info.scopes).ok()) return corrupt("bad scopes");
    }
    if (!e["datasets"].get(v) && !v.is_null()) {
      entry.info.datasets.emplace();
      if (!ParseGrants(v, &*entry.info.datasets).ok()) return corrupt("bad datasets");
    }
    std::string_view expires;
    if (!e["expiresAt"].get(expires)) {
      auto at = ParseRfc3339(expires);
      if (!at.ok()) return corrupt("bad expiresAt");
      entry.info.expires_ns = *at;
    }
    if (!e["rateLimits"].get(v)) {
      if (!ParseRate(v, &entry.info.limits).ok()) return corrupt("bad rateLimits");
    }
    if (!e["tenant"].get(v) && !v.is_null()) {
      if (!ParseTenant(v, &entry.info.tenant).ok()) return corrupt("bad tenant");
    }
    entries_.push_back(std::move(entry));
  }
  return absl::OkStatus();
}

absl::Status TokenStore::SaveLocked() const {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("version").Int(1).Key("tokens").BeginArray();
  for (const Entry& e : entries_) {
    w.BeginObject();
    WriteTokenMembers(w, e.info);
    w.Key("hash").String(e.hash);
    w.EndObject();
  }
  w.EndArray().EndObject();
  out.push_back('\n');
  return WritePrivateFile(path_, out);
}

absl::StatusOr<std::pair<TokenInfo, std::string>> TokenStore::Create(TokenInfo spec,
                                                                     int64_t now_ns) {
  std::lock_guard<std::mutex> l(mu_);
  for (const Entry& e : entries_) {
    if (e.info.name == spec.name) {
      return MakeError(absl::StatusCode::kAlreadyExists, "conflict",
                       StrCat("a token named \"", spec.name, "\" exists (id ", e.info.id,
                              "); revoke it first or choose another name"));
    }
  }
  std::string id;
  std::string secret = GenerateToken(&id);
  spec.id = id;
  spec.created_ns = now_ns;
  entries_.push_back(Entry{spec, HashSecret(secret)});
  if (auto s = SaveLocked(); !s.ok()) {
    entries_.pop_back();
    return s;
  }
  return std::make_pair(std::move(spec), std::move(secret));
}

std::vector<TokenInfo> TokenStore::List() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<TokenInfo> out;
  for (const Entry& e : entries_) out.push_back(e.info);
  return out;
}

absl::StatusOr<TokenInfo> TokenStore::Revoke(std::string_view id_or_name) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.info.id == id_or_name; });
  if (it == entries_.end()) {
    it = std::find_if(entries_.begin(), entries_.end(),
                      [&](const Entry& e) { return e.info.name == id_or_name; });
  }
  if (it == entries_.end()) {
    return MakeError(absl::StatusCode::kNotFound, "not_found",
                     StrCat("no token with id or name \"", id_or_name.substr(0, 128), "\""));
  }
  Entry removed = *it;
  entries_.erase(it);
  if (auto s = SaveLocked(); !s.ok()) {
    entries_.push_back(std::move(removed));
    return s;
  }
  return removed.info;
}

std::optional<TokenInfo> TokenStore::Find(std::string_view secret) const {
  std::string_view id = TokenIdOf(secret);
  if (id.empty()) return std::nullopt;
  std::lock_guard<std::mutex> l(mu_);
  for (const Entry& e : entries_) {
    if (e.info.id == id) {
      if (SecretMatches(secret, e.hash)) return e.info;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace timestore::auth
