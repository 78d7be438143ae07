#include "api/tenant_quotas.h"

#include <cmath>
#include <cstdlib>
#include <set>

#include "api/route_helpers.h"
#include "common/json_writer.h"
#include "common/status_util.h"
#include "engine/engine.h"

namespace timestore::api {
namespace {

constexpr int64_t kUsageMaxAgeNs = 1'000'000'000;  // maxBytes reads usage at most 1 s old
constexpr int64_t kRateWindow = 10;                // seconds of the reported ingest rate

std::string FormatNumber(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return StrCat(static_cast<int64_t>(v));
  return StrCat(v);
}

// Prometheus label values: \, " and newline escaped.
std::string LabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

absl::StatusOr<TenantQuotaDefaults> TenantDefaultsFromEnvironment() {
  TenantQuotaDefaults d;
  auto bad = [](std::string_view var, std::string_view what) {
    return absl::InvalidArgumentError(StrCat(var, " must be ", what, " (0 or unset: unlimited)"));
  };
  if (const char* v = std::getenv("TIMESTORE_TENANT_DEFAULT_MAX_DATASETS"); v && *v) {
    if (!ParseInt(std::string_view(v), &d.max_datasets)) {
      return bad("TIMESTORE_TENANT_DEFAULT_MAX_DATASETS", "an integer >= 0");
    }
  }
  if (const char* v = std::getenv("TIMESTORE_TENANT_DEFAULT_MAX_BYTES"); v && *v) {
    auto b = auth::ParseByteSize(v);
    if (!b) return bad("TIMESTORE_TENANT_DEFAULT_MAX_BYTES", "a byte size like 50GiB");
    d.max_bytes = *b;
  }
  if (const char* v = std::getenv("TIMESTORE_TENANT_DEFAULT_MAX_INGEST_ROWS_PER_SECOND"); v && *v) {
    char* end = nullptr;
    const double r = std::strtod(v, &end);
    if (end == v || *end != '\0' || !std::isfinite(r) || r < 0) {
      return bad("TIMESTORE_TENANT_DEFAULT_MAX_INGEST_ROWS_PER_SECOND", "a number >= 0");
    }
    d.max_ingest_rows_per_second = r;
  }
  return d;
}

class TenantQuotas::Reservation {
 public:
  Reservation(TenantQuotas* owner, std::vector<std::string> slugs)
      : owner_(owner), slugs_(std::move(slugs)) {}
  ~Reservation() { owner_->Release(slugs_); }
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;

 private:
  TenantQuotas* const owner_;
  const std::vector<std::string> slugs_;
};

TenantQuotas::TenantQuotas(std::unique_ptr<auth::TenantStore> store, TenantQuotaDefaults defaults)
    : store_(std::move(store)), defaults_(defaults) {}

absl::StatusOr<std::shared_ptr<TenantQuotas>> TenantQuotas::Open(const std::string& root) {
  auto defaults = TenantDefaultsFromEnvironment();
  if (!defaults.ok()) return defaults.status();
  auto store = auth::TenantStore::Open(root);
  if (!store.ok()) return store.status();
  return std::make_shared<TenantQuotas>(*std::move(store), *defaults);
}

TenantQuotaDefaults TenantQuotas::Effective(std::string_view tenant) const {
  TenantQuotaDefaults e = defaults_;
  if (auto t = store_->Get(tenant)) {
    if (t->limits.max_datasets) e.max_datasets = *t->limits.max_datasets;
    if (t->limits.max_bytes) e.max_bytes = *t->limits.max_bytes;
    if (t->limits.max_ingest_rows_per_second) {
      e.max_ingest_rows_per_second = *t->limits.max_ingest_rows_per_second;
    }
  }
  return e;
}

std::map<std::string, TenantUsage, std::less<>> TenantQuotas::ComputeUsage(const Engine& engine) {
  std::map<std::string, TenantUsage, std::less<>> usage;
  for (const auto& ds : engine.ListDatasets()) {
    TenantUsage& u = usage[std::string(auth::TenantOfSlug(ds->slug()))];
    ++u.datasets;
    u.rows += ds->hot_rows();
    u.memory_bytes += ds->hot_bytes();
    for (const auto& seg : ds->segments()) {
      u.rows += seg->record.rows;
      (seg->remote() ? u.cold_bytes : u.hot_bytes) += seg->record.bytes;
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  usage_ = usage;
  usage_at_ns_ = NowNanos();
  return usage;
}

void TenantQuotas::InvalidateUsage() {
  std::lock_guard<std::mutex> l(mu_);
  usage_at_ns_ = 0;
}

std::optional<HttpResponse> TenantQuotas::Refuse(const Engine& engine, std::string_view tenant,
                                                 std::string_view quota, int status,
                                                 std::string message, double limit, double usage,
                                                 std::string_view dataset, int64_t retry_after) {
  // The counter's label: a writer names any tenant it likes, so only
  // configured tenants and tenants that hold datasets get their own.
  bool known = store_->Get(tenant).has_value();
  if (!known) {
    for (const auto& ds : engine.ListDatasets()) {
      if (auth::TenantOfSlug(ds->slug()) == tenant) {
        known = true;
        break;
      }
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    ++counters_[known ? std::string(tenant) : std::string(kOtherTenantsLabel)]
          .rejections[std::string(quota)];
  }
  std::string details;
  JsonWriter w(&details);
  w.BeginObject();
  w.Key("tenant").String(tenant).Key("quota").String(quota);
  w.Key("limit").Raw(FormatNumber(limit)).Key("usage").Raw(FormatNumber(usage));
  if (!dataset.empty()) w.Key("dataset").String(dataset);
  if (retry_after > 0) w.Key("retryAfterSeconds").Int(retry_after);
  w.EndObject();
  HttpResponse r = Error(status, "quota_exceeded", message, details);
  if (retry_after > 0) r.headers.emplace_back("Retry-After", StrCat(retry_after));
  return r;
}

void TenantQuotas::Release(const std::vector<std::string>& slugs) {
  if (slugs.empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  for (const std::string& s : slugs) {
    auto it = pending_.find(s);
    if (it != pending_.end() && --it->second <= 0) pending_.erase(it);
  }
}

std::optional<HttpResponse> TenantQuotas::Admit(
    const Engine& engine, const std::vector<std::pair<std::string, uint64_t>>& writes,
    int64_t now_ns, std::shared_ptr<Reservation>* reservation) {
  reservation->reset();
  // Nothing limits any tenant (the usual unconfigured server): no work.
  if (defaults_.max_datasets == 0 && defaults_.max_bytes == 0 &&
      !(defaults_.max_ingest_rows_per_second > 0) && !store_->AnyLimits()) {
    return std::nullopt;
  }
  // Per tenant: the rows of this request and the datasets it would create.
  struct Ask {
    uint64_t rows = 0;
    std::vector<std::string> new_slugs;
  };
  std::map<std::string, Ask, std::less<>> asks;
  for (const auto& [slug, rows] : writes) {
    Ask& a = asks[std::string(auth::TenantOfSlug(slug))];
    a.rows += rows;
    if (engine.GetDataset(slug) == nullptr &&
        std::find(a.new_slugs.begin(), a.new_slugs.end(), slug) == a.new_slugs.end()) {
      a.new_slugs.push_back(slug);
    }
  }
  std::vector<std::pair<std::string, TenantQuotaDefaults>> limits;
  bool need_usage = false;
  for (const auto& [tenant, ask] : asks) {
    limits.emplace_back(tenant, Effective(tenant));
    need_usage |= limits.back().second.max_bytes > 0;
  }
  if (need_usage) {
    bool stale;
    {
      std::lock_guard<std::mutex> l(mu_);
      stale = usage_at_ns_ == 0 || now_ns - usage_at_ns_ > kUsageMaxAgeNs || now_ns < usage_at_ns_;
    }
    if (stale) ComputeUsage(engine);
  }
  // Storage quotas first, for every tenant of the request, so a refusal
  // spends nobody's rate.
  std::vector<std::string> claimed;
  for (const auto& [tenant, lim] : limits) {
    const Ask& ask = asks.find(tenant)->second;
    if (lim.max_bytes > 0) {
      uint64_t bytes = 0;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (auto it = usage_.find(tenant); it != usage_.end()) bytes = it->second.bytes();
      }
      if (bytes >= lim.max_bytes) {
        Release(claimed);
        return Refuse(
            engine, tenant, "maxBytes", 507,
            StrCat("tenant ", tenant, " is at its maxBytes quota (", bytes, " bytes stored, limit ",
                   lim.max_bytes, "); delete data or raise the quota"),
            static_cast<double>(lim.max_bytes), static_cast<double>(bytes), "", 0);
      }
    }
    if (ask.new_slugs.empty()) continue;
    // Counted and claimed under one lock: the datasets that exist plus
    // those other admitted requests are creating now.
    std::set<std::string> names;
    if (lim.max_datasets > 0) {
      for (const auto& ds : engine.ListDatasets()) {
        if (auth::TenantOfSlug(ds->slug()) == tenant) names.insert(ds->slug());
      }
    }
    uint64_t existing = 0;
    bool over = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (lim.max_datasets > 0) {
        for (const auto& [slug, n] : pending_) {
          if (auth::TenantOfSlug(slug) == tenant) names.insert(slug);
        }
        existing = names.size();
        uint64_t after = existing;
        for (const std::string& s : ask.new_slugs) after += names.count(s) == 0;
        over = after > lim.max_datasets;
      }
      if (!over) {
        for (const std::string& s : ask.new_slugs) {
          ++pending_[s];
          claimed.push_back(s);
        }
      }
    }
    if (over) {
      const std::string& slug = ask.new_slugs.front();
      Release(claimed);
      return Refuse(
          engine, tenant, "maxDatasets", 507,
          StrCat("tenant ", tenant, " is at its maxDatasets quota (", existing, " datasets, limit ",
                 lim.max_datasets, "); dataset \"", slug, "\" was not created"),
          static_cast<double>(lim.max_datasets), static_cast<double>(existing), slug, 0);
    }
  }
  for (const auto& [tenant, lim] : limits) {
    const Ask& ask = asks.find(tenant)->second;
    if (!(lim.max_ingest_rows_per_second > 0)) continue;
    auto wait = limiter_.Admit(tenant, lim.max_ingest_rows_per_second,
                               static_cast<double>(ask.rows), now_ns);
    if (!wait) continue;
    Release(claimed);
    const int64_t retry = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(*wait)));
    return Refuse(engine, tenant, "maxIngestRowsPerSecond", 429,
                  StrCat("tenant ", tenant, " is over its maxIngestRowsPerSecond quota (limit ",
                         FormatNumber(lim.max_ingest_rows_per_second), " rows/s, ",
                         FormatNumber(IngestRate(tenant, now_ns)),
                         " rows/s stored over the last 10 s; this request has ", ask.rows,
                         " rows); retry in ", retry, " s"),
                  lim.max_ingest_rows_per_second, IngestRate(tenant, now_ns), "", retry);
  }
  if (!claimed.empty()) *reservation = std::make_shared<Reservation>(this, std::move(claimed));
  return std::nullopt;
}

void TenantQuotas::RecordIngested(std::string_view slug, uint64_t rows, int64_t now_ns) {
  const int64_t second = now_ns / 1'000'000'000;
  const std::string_view tenant = auth::TenantOfSlug(slug);
  std::lock_guard<std::mutex> l(mu_);
  auto it = counters_.find(tenant);  // no string built for a known tenant
  if (it == counters_.end()) it = counters_.emplace(std::string(tenant), Counters{}).first;
  Counters& c = it->second;
  c.rows_ingested += rows;
  const size_t i = static_cast<size_t>(second % kRateWindow);
  if (c.seconds[i] != second) {
    c.seconds[i] = second;
    c.rows_by_second[i] = 0;
  }
  c.rows_by_second[i] += rows;
}

double TenantQuotas::IngestRate(std::string_view tenant, int64_t now_ns) const {
  const int64_t second = now_ns / 1'000'000'000;
  std::lock_guard<std::mutex> l(mu_);
  auto it = counters_.find(tenant);
  if (it == counters_.end()) return 0;
  uint64_t rows = 0;
  for (size_t i = 0; i < it->second.seconds.size(); ++i) {
    if (second - it->second.seconds[i] < kRateWindow) rows += it->second.rows_by_second[i];
  }
  return static_cast<double>(rows) / kRateWindow;
}

uint64_t TenantQuotas::RowsIngested(std::string_view tenant) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = counters_.find(tenant);
  return it == counters_.end() ? 0 : it->second.rows_ingested;
}

std::map<std::string, uint64_t> TenantQuotas::Rejections(std::string_view tenant) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = counters_.find(tenant);
  return it == counters_.end() ? std::map<std::string, uint64_t>{} : it->second.rejections;
}

void TenantQuotas::RenderMetrics(const Engine& engine, std::string* out) {
  auto usage = ComputeUsage(engine);
  std::set<std::string> tenants;
  for (const auto& [t, u] : usage) tenants.insert(t);
  for (const auto& t : store_->List()) tenants.insert(t.id);
  std::map<std::string, Counters, std::less<>> counters;
  {
    std::lock_guard<std::mutex> l(mu_);
    counters = counters_;
  }
  for (const auto& [t, c] : counters) tenants.insert(t);
  auto family = [&](std::string_view name, std::string_view type, std::string_view help) {
    StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  };
  family("timestore_tenant_datasets", "gauge", "Datasets of each tenant.");
  for (const auto& t : tenants) {
    auto it = usage.find(t);
    StrAppend(out, "timestore_tenant_datasets{tenant=\"", LabelValue(t), "\"} ",
              it == usage.end() ? 0 : it->second.datasets, "\n");
  }
  family("timestore_tenant_bytes", "gauge",
         "Bytes each tenant stores (memory, hot segments and cold segments).");
  for (const auto& t : tenants) {
    auto it = usage.find(t);
    StrAppend(out, "timestore_tenant_bytes{tenant=\"", LabelValue(t), "\"} ",
              it == usage.end() ? 0 : it->second.bytes(), "\n");
  }
  family("timestore_tenant_rows_ingested_total", "counter",
         "Rows each tenant stored since the server started.");
  for (const auto& t : tenants) {
    auto it = counters.find(t);
    StrAppend(out, "timestore_tenant_rows_ingested_total{tenant=\"", LabelValue(t), "\"} ",
              it == counters.end() ? 0 : it->second.rows_ingested, "\n");
  }
  family("timestore_tenant_quota_rejections_total", "counter",
         "Ingest requests refused by a tenant quota, by quota.");
  for (const auto& t : tenants) {
    auto it = counters.find(t);
    for (std::string_view q : {"maxDatasets", "maxBytes", "maxIngestRowsPerSecond"}) {
      uint64_t n = 0;
      if (it != counters.end()) {
        if (auto r = it->second.rejections.find(std::string(q)); r != it->second.rejections.end()) {
          n = r->second;
        }
      }
      StrAppend(out, "timestore_tenant_quota_rejections_total{tenant=\"", LabelValue(t),
                "\",quota=\"", q, "\"} ", n, "\n");
    }
  }
}

}  // namespace timestore::api
