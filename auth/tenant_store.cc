#include "auth/tenant_store.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>

#include "auth/token_store.h"
#include "common/env.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"

namespace timestore::auth {
namespace {

constexpr size_t kMaxDisplayName = 200;
constexpr std::string_view kKnownMembers =
    "displayName, maxDatasets, maxBytes, maxIngestRowsPerSecond";

absl::Status Invalid(std::string_view member, std::string_view message) {
  std::string details;
  JsonWriter(&details).BeginObject().Key("field").String(member).EndObject();
  return MakeError(absl::StatusCode::kInvalidArgument, "invalid_request",
                   StrCat(member, ": ", message), details);
}

// One quota member of a request or of the file. `bytes` also takes a size
// string ("50GiB").
absl::Status ParseQuota(std::string_view member, simdjson::dom::element v, bool bytes,
                        std::optional<uint64_t>* out) {
  if (v.is_null()) {
    out->reset();
    return absl::OkStatus();
  }
  uint64_t u = 0;
  if (!v.get(u)) {
    *out = u;
    return absl::OkStatus();
  }
  std::string_view text;
  if (bytes && !v.get(text)) {
    auto parsed = ParseByteSize(text);
    if (!parsed) {
      return Invalid(member, StrCat("\"", text.substr(0, 40),
                                    "\" is not a byte size (like 1073741824, \"500MB\" or "
                                    "\"50GiB\")"));
    }
    *out = *parsed;
    return absl::OkStatus();
  }
  return Invalid(member, bytes ? "must be a byte count >= 0, a size like \"50GiB\", or null "
                                 "(the server default); 0 is unlimited"
                               : "must be an integer >= 0 or null (the server default); 0 is "
                                 "unlimited");
}

absl::Status ParseRate(simdjson::dom::element v, std::optional<double>* out) {
  if (v.is_null()) {
    out->reset();
    return absl::OkStatus();
  }
  double d = 0;
  if (v.get(d) || !std::isfinite(d) || d < 0 || d > 1e12) {
    return Invalid("maxIngestRowsPerSecond",
                   "must be a number >= 0 or null (the server default); 0 is unlimited");
  }
  *out = d;
  return absl::OkStatus();
}

absl::Status ParseMembers(simdjson::dom::object o, TenantConfig* t) {
  for (auto [k, v] : o) {
    if (k == "displayName") {
      std::string_view name;
      if (v.is_null()) {
        t->display_name.clear();
        continue;
      }
      if (v.get(name) || name.size() > kMaxDisplayName) {
        return Invalid(k, "must be a string of at most 200 bytes");
      }
      t->display_name = std::string(name);
    } else if (k == "maxDatasets") {
      if (auto s = ParseQuota(k, v, false, &t->limits.max_datasets); !s.ok()) return s;
    } else if (k == "maxBytes") {
      if (auto s = ParseQuota(k, v, true, &t->limits.max_bytes); !s.ok()) return s;
    } else if (k == "maxIngestRowsPerSecond") {
      if (auto s = ParseRate(v, &t->limits.max_ingest_rows_per_second); !s.ok()) return s;
    } else if (k == "tenant" || k == "createdAt" || k == "updatedAt" || k == "configured" ||
               k == "effective" || k == "usage") {
      // What GET answers may be sent back as it is: read-only members.
      continue;
    } else {
      return Invalid(k.substr(0, 40), StrCat("unknown member (known: ", kKnownMembers, ")"));
    }
  }
  return absl::OkStatus();
}

void WriteOptional(JsonWriter& w, std::string_view key, const std::optional<uint64_t>& v) {
  w.Key(key);
  if (v) {
    w.Uint(*v);
  } else {
    w.Null();
  }
}

}  // namespace

absl::StatusOr<TenantConfig> ParseTenantRequest(std::string_view id, std::string_view json) {
  if (!IsValidTenantId(id)) {
    return Invalid("tenant", StrCat("\"", id.substr(0, 40),
                                    "\" is not a tenant id: 1 to 32 of a-z 0-9 and -, starting "
                                    "with a letter or digit"));
  }
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
  TenantConfig t;
  t.id = std::string(id);
  if (auto s = ParseMembers(o, &t); !s.ok()) return s;
  return t;
}

void WriteTenantMembers(JsonWriter& w, const TenantConfig& t, bool configured) {
  w.Key("tenant").String(t.id);
  w.Key("displayName").String(t.display_name);
  WriteOptional(w, "maxDatasets", t.limits.max_datasets);
  WriteOptional(w, "maxBytes", t.limits.max_bytes);
  w.Key("maxIngestRowsPerSecond");
  if (t.limits.max_ingest_rows_per_second) {
    w.Double(*t.limits.max_ingest_rows_per_second);
  } else {
    w.Null();
  }
  for (auto [key, ns] : {std::pair<std::string_view, int64_t>{"createdAt", t.created_ns},
                         {"updatedAt", t.updated_ns}}) {
    w.Key(key);
    if (configured) {
      w.String(FormatRfc3339(ns));
    } else {
      w.Null();
    }
  }
}

absl::StatusOr<std::unique_ptr<TenantStore>> TenantStore::Open(std::string dir) {
  std::unique_ptr<TenantStore> store(new TenantStore(JoinPath(dir, "tenants.json")));
  if (auto s = store->Load(); !s.ok()) return s;
  return store;
}

absl::Status TenantStore::Load() {
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
  simdjson::dom::array tenants;
  if (root["tenants"].get(tenants)) return corrupt("no \"tenants\" array");
  size_t index = 0;
  for (simdjson::dom::element e : tenants) {
    simdjson::dom::object o;
    std::string_view id, created, updated;
    if (e.get(o) || e["tenant"].get(id) || !IsValidTenantId(id) || e["createdAt"].get(created) ||
        e["updatedAt"].get(updated)) {
      return corrupt(
          StrCat("tenant entry ", index, " lacks a valid tenant, createdAt or updatedAt"));
    }
    TenantConfig t;
    t.id = std::string(id);
    if (auto s = ParseMembers(o, &t); !s.ok()) {
      return corrupt(StrCat("tenant \"", id, "\": ", s.message()));
    }
    auto c = ParseRfc3339(created);
    auto u = ParseRfc3339(updated);
    if (!c.ok() || !u.ok()) return corrupt(StrCat("tenant \"", id, "\": bad createdAt/updatedAt"));
    t.created_ns = *c;
    t.updated_ns = *u;
    if (std::any_of(tenants_.begin(), tenants_.end(),
                    [&](const TenantConfig& x) { return x.id == t.id; })) {
      return corrupt(StrCat("tenant \"", id, "\" appears twice"));
    }
    tenants_.push_back(std::move(t));
    ++index;
  }
  std::sort(tenants_.begin(), tenants_.end(),
            [](const TenantConfig& a, const TenantConfig& b) { return a.id < b.id; });
  UpdateAnyLimitsLocked();
  return absl::OkStatus();
}

void TenantStore::UpdateAnyLimitsLocked() {
  auto set = [](const auto& v) { return v.has_value() && *v > 0; };
  any_limits_.store(std::any_of(tenants_.begin(), tenants_.end(),
                                [&](const TenantConfig& t) {
                                  return set(t.limits.max_datasets) || set(t.limits.max_bytes) ||
                                         set(t.limits.max_ingest_rows_per_second);
                                }),
                    std::memory_order_release);
}

absl::Status TenantStore::SaveLocked() const {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("version").Int(1).Key("tenants").BeginArray();
  for (const TenantConfig& t : tenants_) {
    w.BeginObject();
    WriteTenantMembers(w, t, /*configured=*/true);
    w.EndObject();
  }
  w.EndArray().EndObject();
  out.push_back('\n');
  return WritePrivateFile(path_, out);
}

absl::StatusOr<std::pair<TenantConfig, bool>> TenantStore::Put(TenantConfig t, int64_t now_ns) {
  std::lock_guard<std::mutex> l(mu_);
  auto it =
      std::lower_bound(tenants_.begin(), tenants_.end(), t.id,
                       [](const TenantConfig& a, const std::string& id) { return a.id < id; });
  const bool created = it == tenants_.end() || it->id != t.id;
  t.updated_ns = now_ns;
  t.created_ns = created ? now_ns : it->created_ns;
  std::optional<TenantConfig> before;
  if (created) {
    it = tenants_.insert(it, t);
  } else {
    before = *it;
    *it = t;
  }
  if (auto s = SaveLocked(); !s.ok()) {
    if (created) {
      tenants_.erase(it);
    } else {
      *it = *before;
    }
    return s;
  }
  UpdateAnyLimitsLocked();
  return std::make_pair(std::move(t), created);
}

std::optional<TenantConfig> TenantStore::Get(std::string_view id) const {
  std::lock_guard<std::mutex> l(mu_);
  for (const TenantConfig& t : tenants_) {
    if (t.id == id) return t;
  }
  return std::nullopt;
}

std::vector<TenantConfig> TenantStore::List() const {
  std::lock_guard<std::mutex> l(mu_);
  return tenants_;
}

absl::StatusOr<TenantConfig> TenantStore::Remove(std::string_view id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = std::find_if(tenants_.begin(), tenants_.end(),
                         [&](const TenantConfig& t) { return t.id == id; });
  if (it == tenants_.end()) {
    return MakeError(absl::StatusCode::kNotFound, "not_found",
                     StrCat("tenant \"", id.substr(0, 40), "\" is not configured"));
  }
  TenantConfig removed = *it;
  const size_t pos = static_cast<size_t>(it - tenants_.begin());
  tenants_.erase(it);
  if (auto s = SaveLocked(); !s.ok()) {
    tenants_.insert(tenants_.begin() + static_cast<std::ptrdiff_t>(pos), removed);
    return s;
  }
  UpdateAnyLimitsLocked();
  return removed;
}

}  // namespace timestore::auth
