// The /admin routes of API.md "Administration".
//
// One table (AdminRoutes) maps a method and a path pattern to a handler.
// HandleAdmin matches the path against it and then checks, in this order: the
// path (404 route_not_found), the method (405 with an Allow header naming the
// methods the path takes), the admin scope (403), readiness (503), and the
// dataset named by {id} (404 dataset_not_found). A handler therefore starts
// with the engine and the dataset in hand and only validates its own input.
//
// Administrative changes are recorded in the audit log (synced) after they
// have been made; see engine/audit_log.h.
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <span>

#include "api/admin_call.h"
#include "api/route_helpers.h"
#include "api/service.h"
#include "auth/tenant.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "compaction/compactor.h"
#include "compaction/retention.h"
#include "engine/schema.h"

namespace timestore::api {

const std::vector<Service::AdminRoute>& Service::AdminRoutes() {
  static const std::vector<AdminRoute> kRoutes = {
      {"GET", "/admin/datasets", &Service::AdminListDatasets},
      {"GET", "/admin/datasets/{id}", &Service::AdminDatasetDetail},
      {"DELETE", "/admin/datasets/{id}", &Service::AdminDeleteDataset},
      {"GET", "/admin/datasets/{id}/retention", &Service::AdminGetRetention},
      {"PUT", "/admin/datasets/{id}/retention", &Service::AdminPutRetention},
      {"POST", "/admin/datasets/{id}/compact", &Service::AdminCompact},
      {"POST", "/admin/datasets/{id}/enforce-retention", &Service::AdminEnforceRetention},
      {"GET", "/admin/datasets/{id}/manifest", &Service::AdminManifest},
      {"PUT", "/admin/datasets/{id}/settings", &Service::AdminPutSettings},
      {"PUT", "/admin/datasets/{id}/storage-target", &Service::AdminPutStorageTarget},
      {"POST", "/admin/datasets/{id}/flush", &Service::AdminFlush},
      {"POST", "/admin/datasets/{id}/export", &Service::AdminExport},
      {"GET", "/admin/datasets/{id}/exports", &Service::AdminListExports},
      {"GET", "/admin/datasets/{id}/exports/{target}", &Service::AdminGetExport},
      {"POST", "/admin/datasets/{id}/migrations", &Service::AdminMigrate},
      {"GET", "/admin/storage-targets", &Service::AdminStorageTargets},
      {"GET", "/admin/storage-targets/{target}", &Service::AdminGetStorageTarget},
      {"PUT", "/admin/storage-targets/{target}", &Service::AdminPutStorageTargetConfig},
      {"DELETE", "/admin/storage-targets/{target}", &Service::AdminDeleteStorageTarget},
      {"GET", "/admin/audit", &Service::AdminAudit},
      {"POST", "/admin/tokens", &Service::AdminCreateToken},
      {"GET", "/admin/tokens", &Service::AdminListTokens},
      {"DELETE", "/admin/tokens/{target}", &Service::AdminRevokeToken},
      {"POST", "/admin/backup", &Service::AdminBackup},
      {"GET", "/admin/backups", &Service::AdminListBackups},
      {"POST", "/admin/restore", &Service::AdminRestore},
      {"GET", "/admin/jobs", &Service::AdminListJobs},
      {"GET", "/admin/jobs/{target}", &Service::AdminGetJob},
      {"GET", "/admin/tenants", &Service::AdminListTenants},
      {"GET", "/admin/tenants/{target}", &Service::AdminGetTenant},
      {"PUT", "/admin/tenants/{target}", &Service::AdminPutTenant},
      {"DELETE", "/admin/tenants/{target}", &Service::AdminDeleteTenant},
  };
  return kRoutes;
}

namespace {

constexpr std::string_view kIdSegment = "{id}";
constexpr std::string_view kTargetSegment = "{target}";  // a storage target's id

constexpr uint64_t kDatasetsDefaultLimit = 100;
constexpr uint64_t kDatasetsMaxLimit = 1000;
constexpr uint64_t kAuditDefaultLimit = 100;
constexpr uint64_t kAuditMaxLimit = 10'000;

// Dataset lifecycle states a listing can filter on (Dataset::lifecycle()).
constexpr std::string_view kDatasetStatuses[] = {"active", "tiering", "deleting"};

std::vector<std::string_view> PathSegments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

bool MatchRoute(std::string_view pattern, const std::vector<std::string_view>& path,
                std::string_view* id) {
  std::vector<std::string_view> want = PathSegments(pattern);
  if (want.size() != path.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == kIdSegment || want[i] == kTargetSegment) {
      if (path[i].empty()) return false;
      if (id->empty()) *id = path[i];  // the first: {id} of .../{id}/exports/{target}
    } else if (want[i] != path[i]) {
      return false;
    }
  }
  return true;
}

std::string JoinList(std::span<const std::string_view> items) {
  std::string out;
  for (std::string_view s : items) StrAppend(&out, out.empty() ? "" : ", ", s);
  return out;
}

HttpResponse DatasetNotFound(std::string_view id_or_slug, std::string_view field = "") {
  return Error(404, "dataset_not_found",
               StrCat("dataset \"", id_or_slug.substr(0, 80),
                      "\" does not exist (give its slug or its 16-hex-digit id)"),
               field.empty() ? "" : FieldDetails(field));
}

HttpResponse InvalidParameter(std::string_view field, std::string_view message,
                              std::string_view expected, std::string_view got,
                              std::optional<uint64_t> maximum = std::nullopt) {
  std::string details;
  JsonWriter w(&details);
  w.BeginObject();
  w.Key("field").String(field);
  w.Key("expected").String(expected);
  w.Key("got").String(got.substr(0, 200));
  if (maximum) w.Key("maximum").Uint(*maximum);
  w.EndObject();
  return Error(400, "invalid_request", message, details);
}

// Query parameter `name`, percent-decoded, "" when absent; a 400 when its
// encoding is malformed.
std::optional<HttpResponse> GetParam(const HttpRequest& req, std::string_view name,
                                     std::string* out) {
  out->clear();
  auto raw = QueryParam(req.query, name);
  if (!raw) return std::nullopt;
  if (!DecodeQueryValue(*raw, out)) {
    return InvalidParameter(name,
                            StrCat("query parameter ", name, " has malformed percent-encoding"),
                            "a percent-encoded value (%XX with two hex digits)", *raw);
  }
  return std::nullopt;
}

// `limit`: absent or empty is `fallback`; otherwise an integer in [1, maximum].
std::optional<HttpResponse> GetLimit(const HttpRequest& req, uint64_t fallback, uint64_t maximum,
                                     uint64_t* limit) {
  std::string value;
  if (auto bad = GetParam(req, "limit", &value)) return bad;
  *limit = fallback;
  if (value.empty()) return std::nullopt;
  if (!ParseInt(value, limit) || *limit < 1 || *limit > maximum) {
    std::string expected = StrCat("an integer from 1 to ", maximum);
    return InvalidParameter("limit",
                            StrCat("limit \"", value.substr(0, 40), "\" is not ", expected),
                            expected, value, maximum);
  }
  return std::nullopt;
}

std::string HexEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

bool HexDecode(std::string_view hex, std::string* out) {
  out->clear();
  if (hex.size() % 2 != 0) return false;
  for (size_t i = 0; i < hex.size(); i += 2) {
    uint8_t byte = 0;
    if (!ParseInt(hex.substr(i, 2), &byte, 16)) return false;
    out->push_back(static_cast<char>(byte));
  }
  return true;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The members of the settings PUT /settings can change, as they are now.
}  // namespace

void Service::AdminDatasetDetail(AdminCall& call) {
  const Dataset& ds = *call.dataset;
  const Engine& engine = *call.engine;
  SchemaPtr schema = ds.schema();
  struct Tier {
    uint64_t rows = 0, bytes = 0, segments = 0;
    std::set<int64_t> partitions;
  };
  Tier local, remote;
  std::map<std::string, uint64_t> remote_bytes;  // by target
  const auto segments = ds.segments();
  for (const auto& seg : segments) {
    Tier& t = seg->remote() ? remote : local;
    t.rows += seg->record.rows;
    t.bytes += seg->record.bytes;
    ++t.segments;
    t.partitions.insert(seg->record.partition_start);
    if (seg->remote()) remote_bytes[seg->record.target] += seg->record.bytes;
  }
  const uint64_t hot_rows = ds.hot_rows();
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("id").String(DatasetIdString(ds.id()));
  w.Key("slug").String(ds.slug());
  w.Key("status").String(ds.lifecycle());
  w.Key("createdAt").String(FormatRfc3339(ds.created_ns()));
  w.Key("schema").BeginObject();
  w.Key("version").Uint(schema->version);
  w.Key("timeColumn").String(schema->time_column);
  w.Key("fields").BeginArray();
  for (const Field& f : schema->fields) {
    w.BeginObject().Key("name").String(f.name).Key("type").String(ColumnTypeName(f.type));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.Key("settings").BeginObject();
  WriteSettingsMembers(ds, w);
  w.EndObject();
  w.Key("retention").BeginObject();
  WriteRetentionMembers(engine, ds, w);
  w.EndObject();
  // The target cold partitions go to, and what the dataset asked for.
  const std::string effective = engine.EffectiveStorageTarget(ds);
  w.Key("storageTarget").String(effective.empty() ? "local" : effective);
  w.Key("storageTargetSetting");
  if (ds.storage_target().empty()) {
    w.Null();
  } else {
    w.String(ds.storage_target());
  }
  w.Key("rows").Uint(hot_rows + local.rows + remote.rows);
  w.Key("bytes").Uint(local.bytes + remote.bytes);
  w.Key("watermark");
  if (auto wm = ds.watermark()) {
    w.String(FormatRfc3339(*wm));
  } else {
    w.Null();
  }
  // memory: rows not yet sealed; hot: sealed segments on local disk; cold:
  // segments in object storage.
  w.Key("tiers").BeginObject();
  w.Key("memory").BeginObject().Key("rows").Uint(hot_rows).Key("bytes").Uint(ds.hot_bytes());
  w.EndObject();
  for (auto [name, t] :
       {std::pair<std::string_view, const Tier*>{"hot", &local}, {"cold", &remote}}) {
    w.Key(name).BeginObject().Key("rows").Uint(t->rows).Key("bytes").Uint(t->bytes);
    w.Key("segments").Uint(t->segments).Key("partitions").Uint(t->partitions.size()).EndObject();
  }
  w.EndObject();
  // What a month of keeping these bytes costs: the number a tiering policy is
  // chosen by. Prices are USD per GB-month (1 GB = 1e9 bytes): local from
  // TIMESTORE_LOCAL_PRICE_PER_GB_MONTH, each target its pricePerGbMonth.
  w.Key("storageCost").BeginObject();
  w.Key("currency").String("USD");
  const double local_cost =
      static_cast<double>(local.bytes) / 1e9 * options_.local_price_per_gb_month;
  double total = local_cost;
  w.Key("hot").BeginObject();
  w.Key("bytes").Uint(local.bytes).Key("pricePerGbMonth").Double(options_.local_price_per_gb_month);
  w.Key("perMonth").Double(local_cost).EndObject();
  w.Key("cold").BeginArray();
  for (const auto& [target, bytes] : remote_bytes) {
    double price = 0;
    if (engine.targets() != nullptr) {
      if (auto c = engine.targets()->Get(target)) price = c->EffectivePrice();
    }
    const double cost = static_cast<double>(bytes) / 1e9 * price;
    total += cost;
    w.BeginObject().Key("storageTarget").String(target).Key("bytes").Uint(bytes);
    w.Key("pricePerGbMonth").Double(price).Key("perMonth").Double(cost).EndObject();
  }
  w.EndArray();
  w.Key("perMonth").Double(total);
  // Were every sealed byte local, or every one in the dataset's target:
  // what tiering saves (or would).
  w.Key("allHotPerMonth")
      .Double(static_cast<double>(local.bytes + remote.bytes) / 1e9 *
              options_.local_price_per_gb_month);
  w.EndObject();
  w.EndObject();
  call.respond(Json(200, std::move(out)));
}

void Service::AdminDeleteDataset(AdminCall& call) {
  RunOnAdminPool([engine = call.engine, ds = call.dataset, actor = call.actor,
                  respond = std::move(call.respond)]() mutable {
    uint64_t rows = ds->hot_rows(), bytes = 0, segments = 0;
    for (const auto& seg : ds->segments()) {
      rows += seg->record.rows;
      bytes += seg->record.bytes;
      ++segments;
    }
    if (auto s = engine->DeleteDataset(ds.get()); !s.ok()) return respond(StatusToResponse(s));
    const std::string summary =
        StrCat("{\"rows\":", rows, ",\"bytes\":", bytes, ",\"segments\":", segments, "}");
    RecordAudit(engine, DatasetEvent(actor, *ds, "dataset.delete", summary, "null"),
                /*sync=*/true);
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("dataset").String(ds->slug());
    w.Key("id").String(DatasetIdString(ds->id()));
    w.Key("deleted").Bool(true);
    w.Key("rowsDeleted").Uint(rows);
    w.Key("bytesDeleted").Uint(bytes);
    w.Key("segmentsDeleted").Uint(segments);
    w.EndObject();
    respond(Json(200, std::move(out)));
  });
}

void Service::AdminCompact(AdminCall& call) {
  RunOnAdminPool([engine = call.engine, ds = call.dataset, actor = call.actor,
                  compactor = compactor_.load(std::memory_order_acquire),
                  respond = std::move(call.respond)]() mutable {
    // Without a background compactor (embedded use), a one-off one merges.
    std::unique_ptr<compaction::Compactor> local;
    if (compactor == nullptr) {
      local = std::make_unique<compaction::Compactor>(engine, compaction::CompactionOptions{});
      compactor = local.get();
    }
    auto r = compactor->CompactDataset(ds.get());
    if (!r.ok()) return respond(StatusToResponse(r.status()));
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("dataset").String(ds->slug());
    w.Key("partitionsCompacted").Uint(r->partitions);
    w.Key("merges").Uint(r->merges);
    w.Key("segmentsMerged").Uint(r->segments_merged);
    w.Key("segmentsWritten").Uint(r->segments_written);
    w.Key("rowsRead").Uint(r->rows_read);
    w.Key("rowsWritten").Uint(r->rows_written);
    w.Key("duplicatesDropped").Uint(r->duplicates_dropped);
    w.Key("bytesRead").Uint(r->bytes_read);
    w.Key("bytesWritten").Uint(r->bytes_written);
    w.Key("aborted").Uint(r->aborted);
    w.Key("seconds").Double(r->seconds);
    w.Key("segments").Uint(ds->segments().size());
    w.EndObject();
    RecordAudit(engine, DatasetEvent(actor, *ds, "dataset.compact", "null", out), /*sync=*/true);
    respond(Json(200, std::move(out)));
  });
}

void Service::AdminEnforceRetention(AdminCall& call) {
  RunOnAdminPool([engine = call.engine, ds = call.dataset, actor = call.actor,
                  compactor = compactor_.load(std::memory_order_acquire),
                  mover = tier_mover_.load(std::memory_order_acquire),
                  respond = std::move(call.respond)]() mutable {
    auto r = compactor != nullptr ? compactor->EnforceRetentionNow(ds.get())
                                  : compaction::EnforceRetention(engine, ds.get(), NowNanos());
    if (!r.ok()) return respond(StatusToResponse(r.status()));
    // Then tiering: what is cold and not expired moves to the target now.
    std::unique_ptr<compaction::TierMover> local;
    if (mover == nullptr && engine->targets() != nullptr) {
      local = std::make_unique<compaction::TierMover>(engine, compaction::TieringOptions{});
      mover = local.get();
    }
    // Retention has happened whatever tiering does next: a tiering failure
    // is reported in the answer (and audited), not as the request's status.
    absl::StatusOr<compaction::TieringResult> tiered = compaction::TieringResult{};
    if (mover != nullptr) tiered = mover->TierDataset(ds.get(), NowNanos());
    compaction::TieringResult failed;
    if (!tiered.ok()) {
      failed.target = engine->EffectiveStorageTarget(*ds);
      failed.cold_after_ns = engine->EffectiveColdAfter(*ds);
      failed.error = std::string(ToStd(tiered.status().message()));
    }
    const compaction::TieringResult* t = tiered.ok() ? &*tiered : &failed;
    if (mover != nullptr) mover->DrainGarbage();  // objects of the partitions just dropped
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("dataset").String(ds->slug());
    w.Key("deleteAfter");
    if (r->delete_after_ns > 0) {
      WriteSeconds(w, r->delete_after_ns);
      w.Key("cutoff").String(FormatRfc3339(r->cutoff_ns));
    } else {
      w.Null();
    }
    w.Key("partitionsDropped").Uint(r->partitions_dropped);
    w.Key("segmentsDropped").Uint(r->segments_dropped);
    w.Key("rowsDropped").Uint(r->rows_dropped);
    w.Key("bytesDropped").Uint(r->bytes_dropped);
    w.Key("tiering").BeginObject();
    w.Key("storageTarget").String(t->target.empty() ? "local" : t->target);
    w.Key("coldAfter");
    if (t->cold_after_ns > 0 && !t->target.empty()) {
      WriteSeconds(w, t->cold_after_ns);
      w.Key("cutoff").String(FormatRfc3339(t->cutoff_ns));
    } else {
      w.Null();
    }
    w.Key("partitionsMoved").Uint(t->partitions_moved);
    w.Key("segmentsMoved").Uint(t->segments_moved);
    w.Key("rowsMoved").Uint(t->rows_moved);
    w.Key("bytesMoved").Uint(t->bytes_moved);
    w.Key("segmentsFailed").Uint(t->segments_failed);
    w.Key("error");
    if (t->error.empty()) {
      w.Null();
    } else {
      w.String(t->error);
    }
    w.EndObject();
    w.Key("segmentsMovedToCold").Uint(t->segments_moved);
    w.EndObject();
    RecordAudit(engine, DatasetEvent(actor, *ds, "retention.enforce", "null", out), /*sync=*/true);
    respond(Json(200, std::move(out)));
  });
}

void Service::HandleAdmin(HttpRequest&& req, Responder respond) {
  const std::vector<std::string_view> path = PathSegments(req.path);
  const AdminRoute* route = nullptr;
  std::string_view id;
  std::vector<std::string_view> allowed;  // methods of the routes whose path matches
  for (const AdminRoute& r : AdminRoutes()) {
    std::string_view matched;
    if (!MatchRoute(r.pattern, path, &matched)) continue;
    if (r.method == req.method) {
      route = &r;
      id = matched;
      break;
    }
    if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end()) {
      allowed.push_back(r.method);
    }
  }
  if (route == nullptr) {
    if (!allowed.empty()) return respond(MethodNotAllowed(req, JoinList(allowed)));
    std::string known;
    for (const AdminRoute& r : AdminRoutes()) {
      StrAppend(&known, known.empty() ? "" : ", ", r.method, " ", r.pattern);
    }
    return respond(Error(404, "route_not_found",
                         StrCat("no route ", req.method, " ", req.path.substr(0, 200),
                                "; the admin routes are ", known)));
  }
  if (auto denied = CheckScope(req, options_.admin_scope)) return respond(*denied);
  const bool dataset_route = route->pattern.find(kIdSegment) != std::string_view::npos;
  // Routes about the whole server are not for tokens restricted to some
  // datasets; the dataset list only shows them what they may see.
  if (!dataset_route && route->handler != &Service::AdminListDatasets) {
    if (auto denied = CheckUnrestricted(req)) return respond(*denied);
  }
  Engine* engine = engine_.load(std::memory_order_acquire);
  if (engine == nullptr) return respond(NotReady());
  AdminCall call;
  if (dataset_route) {
    call.dataset = engine->FindDataset(id);
    if (call.dataset == nullptr) return respond(DatasetNotFound(id));
    if (auto denied = CheckDataset(req, engine, call.dataset->slug(), auth::kAdmin,
                                   options_.admin_scope, options_.admin_scope)) {
      // To a token restricted to some datasets, the others do not exist: a
      // 403 would tell it which slugs are taken.
      if (req.principal && req.principal->datasets) return respond(DatasetNotFound(id));
      return respond(*denied);
    }
  } else if (route->pattern.find(kTargetSegment) != std::string_view::npos) {
    call.target_id = std::string(id);
  }
  call.engine = engine;
  call.actor = ActorOf(req);
  call.req = std::move(req);
  call.respond = std::move(respond);
  (this->*route->handler)(call);
}

void Service::AdminListDatasets(AdminCall& call) {
  const HttpRequest& req = call.req;
  std::string status, search, cursor_param, tenant;
  for (auto [name, value] : {std::pair<std::string_view, std::string*>{"status", &status},
                             {"search", &search},
                             {"cursor", &cursor_param},
                             {"tenant", &tenant}}) {
    if (auto bad = GetParam(req, name, value)) return call.respond(*bad);
  }
  if (!tenant.empty() && !auth::IsValidTenantId(tenant)) {
    return call.respond(InvalidParameter(
        "tenant",
        StrCat("tenant \"", tenant.substr(0, 40),
               "\" is not a tenant id: 1 to 32 of a-z 0-9 and -, starting with a letter or digit"),
        "a tenant id", tenant));
  }
  if (!status.empty() && std::find(std::begin(kDatasetStatuses), std::end(kDatasetStatuses),
                                   status) == std::end(kDatasetStatuses)) {
    std::string known = JoinList(kDatasetStatuses);
    return call.respond(
        InvalidParameter("status",
                         StrCat("status \"", status.substr(0, 40), "\" is not one of: ", known,
                                " (leave it out for datasets in every status)"),
                         known, status));
  }
  uint64_t limit = 0;
  if (auto bad = GetLimit(req, kDatasetsDefaultLimit, kDatasetsMaxLimit, &limit)) {
    return call.respond(*bad);
  }
  // The cursor is the hex of the last slug returned; a page starts after it,
  // so datasets created or deleted between pages shift nothing else.
  std::string after;
  if (!cursor_param.empty() && (!HexDecode(cursor_param, &after) || !IsValidSlug(after))) {
    return call.respond(InvalidParameter("cursor",
                                         "cursor is not one this server handed out; pass the "
                                         "nextCursor of the previous page "
                                         "unchanged, or leave it out for the first page",
                                         "the nextCursor of a previous page", cursor_param));
  }
  const std::string needle = AsciiLower(search);

  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("datasets").BeginArray();
  uint64_t n = 0;
  bool more = false;
  std::string last;
  for (const auto& ds : call.engine->ListDatasets()) {  // ordered by slug
    if (!after.empty() && ds->slug() <= after) continue;
    if (!MaySee(req, ds->slug())) continue;
    if (!status.empty() && ds->lifecycle() != status) continue;
    if (!tenant.empty() && auth::TenantOfSlug(ds->slug()) != tenant) continue;
    const std::string id = DatasetIdString(ds->id());
    // Slugs are lower case and ids lower-case hex: matching `needle` is
    // case-insensitive; so is the match on the display name.
    if (!needle.empty() && ds->slug().find(needle) == std::string::npos &&
        id.compare(0, needle.size(), needle) != 0 &&
        AsciiLower(ds->display_name_and_description().first).find(needle) == std::string::npos) {
      continue;
    }
    if (n == limit) {
      more = true;
      break;
    }
    uint64_t rows = ds->hot_rows();
    uint64_t bytes = 0;
    for (const auto& seg : ds->segments()) {
      rows += seg->record.rows;
      bytes += seg->record.bytes;
    }
    w.BeginObject();
    w.Key("id").String(id);
    w.Key("slug").String(ds->slug());
    w.Key("status").String(ds->lifecycle());
    const std::string display_name = ds->display_name_and_description().first;
    if (!display_name.empty()) w.Key("displayName").String(display_name);
    w.Key("createdAt").String(FormatRfc3339(ds->created_ns()));
    w.Key("schemaVersion").Uint(ds->schema()->version);
    w.Key("rows").Uint(rows);
    w.Key("bytes").Uint(bytes);
    w.Key("tenant").String(auth::TenantOfSlug(ds->slug()));
    w.EndObject();
    last = ds->slug();
    ++n;
  }
  w.EndArray();
  w.Key("nextCursor");
  if (more) {
    w.String(HexEncode(last));
  } else {
    w.Null();
  }
  w.EndObject();
  call.respond(Json(200, std::move(out)));
}

void Service::AdminManifest(AdminCall& call) {
  const Dataset& ds = *call.dataset;
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("dataset").String(ds.slug());
  w.Key("id").String(DatasetIdString(ds.id()));
  w.Key("schemaVersion").Uint(ds.schema()->version);
  w.Key("hotRows").Uint(ds.hot_rows());
  std::map<int64_t, std::vector<SegmentPtr>> parts;
  for (const auto& seg : ds.segments()) parts[seg->record.partition_start].push_back(seg);
  const int64_t interval = ds.partition_interval_ns();
  w.Key("partitions").BeginArray();
  for (const auto& [start, segs] : parts) {
    w.BeginObject();
    w.Key("start").String(FormatRfc3339(start));
    w.Key("end").String(FormatRfc3339(SaturatingAdd(start, interval)));
    w.Key("segments").BeginArray();
    for (const auto& seg : segs) {
      w.BeginObject();
      w.Key("id").String(DatasetIdString(seg->record.id));
      w.Key("rows").Uint(seg->record.rows);
      w.Key("bytes").Uint(seg->record.bytes);
      w.Key("minTime").String(FormatRfc3339(seg->record.min_ts));
      w.Key("maxTime").String(FormatRfc3339(seg->record.max_ts));
      w.Key("level").Uint(seg->record.level);
      w.Key("tier").String(seg->remote() ? "remote" : "local");
      if (seg->remote()) {
        w.Key("storageTarget").String(seg->record.target);
        w.Key("object").String(seg->record.key);
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  call.respond(Json(200, std::move(out)));
}

void Service::AdminFlush(AdminCall& call) {
  // Sealing writes files: off the I/O threads.
  RunOnAdminPool([engine = call.engine, ds = call.dataset, actor = call.actor,
                  respond = std::move(call.respond)]() mutable {
    auto r = engine->Flush(ds->slug());
    if (!r.ok()) return respond(StatusToResponse(r.status()));
    RecordAudit(engine,
                DatasetEvent(
                    actor, *ds, "dataset.flush", "null",
                    StrCat("{\"rowsSealed\":", r->rows, ",\"segments\":", r->segments.size(), "}")),
                /*sync=*/true);
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("dataset").String(ds->slug());
    w.Key("rowsSealed").Uint(r->rows);
    w.Key("sealedThroughSeq").Uint(r->sealed_through_seq);
    w.Key("walFilesDeleted").Int(r->wal_files_deleted);
    w.Key("seconds").Double(r->seconds);
    w.Key("segments").BeginArray();
    for (const auto& s : r->segments) {
      w.BeginObject();
      w.Key("id").String(DatasetIdString(s.id));
      w.Key("partitionStart").String(FormatRfc3339(s.partition_start));
      w.Key("rows").Uint(s.rows);
      w.Key("bytes").Uint(s.bytes);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    respond(Json(200, std::move(out)));
  });
}

void Service::AdminAudit(AdminCall& call) {
  std::string dataset;
  if (auto bad = GetParam(call.req, "dataset", &dataset)) return call.respond(*bad);
  uint64_t limit = 0;
  if (auto bad = GetLimit(call.req, kAuditDefaultLimit, kAuditMaxLimit, &limit)) {
    return call.respond(*bad);
  }
  std::string dataset_id;
  if (!dataset.empty()) {
    auto ds = call.engine->FindDataset(dataset);
    if (ds == nullptr) return call.respond(DatasetNotFound(dataset, "dataset"));
    dataset_id = DatasetIdString(ds->id());
  }
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("events").BeginArray();
  for (const AuditEvent& e : call.engine->audit()->Query(dataset_id, limit)) {
    w.Raw(AuditEventJson(e));
  }
  w.EndArray();
  w.EndObject();
  call.respond(Json(200, std::move(out)));
}

}  // namespace timestore::api
