// The tenant routes of API.md "Tenants and quotas": GET /admin/tenants,
// GET/PUT/DELETE /admin/tenants/{tenant}. Settings live in
// auth::TenantStore (<root>/tenants.json); usage is computed from the
// engine's datasets when asked. Changes are audited (tenant.put,
// tenant.delete), synced.
#include <set>

#include "api/admin_call.h"
#include "api/route_helpers.h"
#include "api/service.h"
#include "api/tenant_quotas.h"
#include "common/json_writer.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "spdlog/spdlog.h"

namespace timestore::api {
namespace {

void WriteLimit(JsonWriter& w, std::string_view key, double v) {
  w.Key(key);
  if (v > 0) {
    w.Double(v);
  } else {
    w.Null();  // unlimited
  }
}

// A tenant as the routes show it: its settings, the quotas in force, usage.
void WriteTenant(JsonWriter& w, TenantQuotas& q, const auth::TenantConfig& t, bool configured,
                 const TenantUsage& u) {
  const int64_t now = NowNanos();
  w.BeginObject();
  WriteTenantMembers(w, t, configured);
  w.Key("configured").Bool(configured);
  const TenantQuotaDefaults e = q.Effective(t.id);
  w.Key("effective").BeginObject();
  WriteLimit(w, "maxDatasets", static_cast<double>(e.max_datasets));
  WriteLimit(w, "maxBytes", static_cast<double>(e.max_bytes));
  WriteLimit(w, "maxIngestRowsPerSecond", e.max_ingest_rows_per_second);
  w.EndObject();
  w.Key("usage").BeginObject();
  w.Key("datasets").Uint(u.datasets);
  w.Key("rows").Uint(u.rows);
  w.Key("bytes").Uint(u.bytes());
  w.Key("memoryBytes").Uint(u.memory_bytes);
  w.Key("hotBytes").Uint(u.hot_bytes);
  w.Key("coldBytes").Uint(u.cold_bytes);
  w.Key("rowsIngested").Uint(q.RowsIngested(t.id));
  w.Key("ingestRowsPerSecond").Double(q.IngestRate(t.id, now));
  w.Key("quotaRejections").BeginObject();
  for (const auto& [quota, n] : q.Rejections(t.id)) w.Key(quota).Uint(n);
  w.EndObject();
  w.EndObject();
  w.EndObject();
}

HttpResponse BadTenantId(std::string_view id) {
  return Error(400, "invalid_request",
               StrCat("tenant \"", id.substr(0, 40),
                      "\" is not a tenant id: 1 to 32 of a-z 0-9 and -, starting with a letter or "
                      "digit"),
               FieldDetails("tenant"));
}

HttpResponse TenantNotFound(std::string_view id) {
  return Error(404, "tenant_not_found",
               StrCat("tenant \"", id.substr(0, 40),
                      "\" is neither configured nor holds datasets (its datasets would be named \"",
                      id.substr(0, 40), "__<name>\")"),
               FieldDetails("tenant"));
}

std::string TenantJson(const auth::TenantConfig& t) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  WriteTenantMembers(w, t, true);
  w.EndObject();
  return out;
}

}  // namespace

absl::StatusOr<TenantQuotas*> Service::Tenants(Engine* engine) {
  // Set once and never replaced: the ingest hot path takes no lock.
  if (TenantQuotas* ready = tenants_ready_.load(std::memory_order_acquire)) return ready;
  std::lock_guard<std::mutex> l(tenants_mu_);
  if (tenants_ == nullptr) tenants_ = options_.tenants;
  if (tenants_ == nullptr) {
    if (engine == nullptr) return absl::UnavailableError("the server is recovering");
    auto opened = TenantQuotas::Open(engine->options().root);
    if (!opened.ok()) {
      spdlog::error("tenants: {}", ToStd(opened.status().message()));
      return opened.status();
    }
    tenants_ = *std::move(opened);
  }
  tenants_ready_.store(tenants_.get(), std::memory_order_release);
  return tenants_.get();
}

std::optional<HttpResponse> Service::AdmitTenantIngest(
    Engine* engine, const std::vector<std::pair<std::string, uint64_t>>& writes,
    std::shared_ptr<void>* claim) {
  auto q = Tenants(engine);
  if (!q.ok()) return StatusToResponse(q.status());
  std::shared_ptr<TenantQuotas::Reservation> r;
  auto refused = (*q)->Admit(*engine, writes, NowNanos(), &r);
  *claim = std::move(r);
  return refused;
}

void Service::RecordTenantIngest(std::string_view slug, uint64_t rows) {
  auto q = Tenants(engine_.load(std::memory_order_acquire));
  if (q.ok()) (*q)->RecordIngested(slug, rows, NowNanos());
}

void Service::AdminListTenants(AdminCall& call) {
  auto q = Tenants(call.engine);
  if (!q.ok()) return call.respond(StatusToResponse(q.status()));
  auto usage = (*q)->ComputeUsage(*call.engine);
  std::map<std::string, std::optional<auth::TenantConfig>> all;
  for (const auto& [id, u] : usage) all[id];
  for (auto& t : (*q)->store().List()) all[t.id] = std::move(t);
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("defaults").BeginObject();
  const TenantQuotaDefaults& d = (*q)->defaults();
  WriteLimit(w, "maxDatasets", static_cast<double>(d.max_datasets));
  WriteLimit(w, "maxBytes", static_cast<double>(d.max_bytes));
  WriteLimit(w, "maxIngestRowsPerSecond", d.max_ingest_rows_per_second);
  w.EndObject();
  w.Key("tenants").BeginArray();
  for (const auto& [id, config] : all) {
    auth::TenantConfig t;
    t.id = id;
    auto it = usage.find(id);
    WriteTenant(w, **q, config ? *config : t, config.has_value(),
                it == usage.end() ? TenantUsage{} : it->second);
  }
  w.EndArray();
  w.EndObject();
  call.respond(Json(200, std::move(out)));
}

void Service::AdminGetTenant(AdminCall& call) {
  if (!auth::IsValidTenantId(call.target_id)) return call.respond(BadTenantId(call.target_id));
  auto q = Tenants(call.engine);
  if (!q.ok()) return call.respond(StatusToResponse(q.status()));
  auto usage = (*q)->ComputeUsage(*call.engine);
  auto config = (*q)->store().Get(call.target_id);
  auto it = usage.find(call.target_id);
  if (!config && it == usage.end()) return call.respond(TenantNotFound(call.target_id));
  auth::TenantConfig t;
  t.id = call.target_id;
  std::string out;
  JsonWriter w(&out);
  WriteTenant(w, **q, config ? *config : t, config.has_value(),
              it == usage.end() ? TenantUsage{} : it->second);
  call.respond(Json(200, std::move(out)));
}

void Service::AdminPutTenant(AdminCall& call) {
  auto q = Tenants(call.engine);
  if (!q.ok()) return call.respond(StatusToResponse(q.status()));
  auto spec = auth::ParseTenantRequest(call.target_id, call.req.body);
  if (!spec.ok()) return call.respond(StatusToResponse(spec.status()));
  auto before = (*q)->store().Get(call.target_id);
  auto stored = (*q)->store().Put(*std::move(spec), NowNanos());
  if (!stored.ok()) return call.respond(StatusToResponse(stored.status()));
  (*q)->InvalidateUsage();
  AuditEvent e;
  e.actor = call.actor;
  e.action = "tenant.put";
  e.before = before ? TenantJson(*before) : "null";
  e.after = TenantJson(stored->first);
  RecordAudit(call.engine, std::move(e), /*sync=*/true);
  auto usage = (*q)->ComputeUsage(*call.engine);
  auto it = usage.find(call.target_id);
  std::string out;
  JsonWriter w(&out);
  WriteTenant(w, **q, stored->first, true, it == usage.end() ? TenantUsage{} : it->second);
  call.respond(Json(stored->second ? 201 : 200, std::move(out)));
}

void Service::AdminDeleteTenant(AdminCall& call) {
  if (!auth::IsValidTenantId(call.target_id)) return call.respond(BadTenantId(call.target_id));
  auto q = Tenants(call.engine);
  if (!q.ok()) return call.respond(StatusToResponse(q.status()));
  auto usage = (*q)->ComputeUsage(*call.engine);
  if (auto it = usage.find(call.target_id); it != usage.end() && it->second.datasets > 0) {
    std::string details;
    JsonWriter(&details)
        .BeginObject()
        .Key("tenant")
        .String(call.target_id)
        .Key("datasets")
        .Uint(it->second.datasets)
        .EndObject();
    return call.respond(
        Error(409, "conflict",
              StrCat("tenant \"", call.target_id, "\" still has ", it->second.datasets,
                     " datasets; delete them first (DELETE /admin/datasets/{id})"),
              details));
  }
  auto removed = (*q)->store().Remove(call.target_id);
  if (!removed.ok()) {
    if (absl::IsNotFound(removed.status())) return call.respond(TenantNotFound(call.target_id));
    return call.respond(StatusToResponse(removed.status()));
  }
  AuditEvent e;
  e.actor = call.actor;
  e.action = "tenant.delete";
  e.before = TenantJson(*removed);
  RecordAudit(call.engine, std::move(e), /*sync=*/true);
  std::string out;
  JsonWriter(&out)
      .BeginObject()
      .Key("tenant")
      .String(call.target_id)
      .Key("deleted")
      .Bool(true)
      .EndObject();
  call.respond(Json(200, std::move(out)));
}

}  // namespace timestore::api
