#include "tools/tiering_config.h"

#include <cctype>
#include <cstdlib>

#include "common/strings.h"
#include "common/time_util.h"

namespace timestore::tools {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string FirstSet(std::initializer_list<std::string> values) {
  for (const auto& v : values)
    if (!v.empty()) return v;
  return "";
}

absl::Status Bad(std::string_view variable, std::string_view what) {
  return absl::InvalidArgumentError(StrCat(variable, ": ", what));
}

absl::StatusOr<int64_t> Duration(std::string_view variable, const std::string& value,
                                 bool allow_zero = false) {
  if (allow_zero && !value.empty() && value.find_first_not_of("0") != 0 &&
      value.find_first_not_of("0msdhw") == std::string::npos) {
    return 0;  // "0", "0s", "0ms": none
  }
  auto d = ParseDurationNanos(value);
  if (!d.ok() || *d < 0 || (*d == 0 && !allow_zero)) {
    return Bad(variable,
               StrCat("must be a positive duration such as 10s or 1h, not \"", value, "\""));
  }
  return *d;
}

}  // namespace

bool ParseBytes(std::string s, uint64_t* out) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  uint64_t mult = 1;
  auto strip = [&](std::string_view suffix, uint64_t m) {
    if (s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix) {
      s.resize(s.size() - suffix.size());
      mult = m;
      return true;
    }
    return false;
  };
  strip("kib", 1ull << 10) || strip("mib", 1ull << 20) || strip("gib", 1ull << 30) ||
      strip("kb", 1000) || strip("mb", 1000000) || strip("gb", 1000000000) || strip("b", 1);
  uint64_t v;
  if (!ParseInt(s, &v)) return false;
  *out = v * mult;
  return true;
}

void AddTieringOptions(CLI::App* cmd, TieringConfig* c) {
  auto opt = [&](const char* flag, auto& field, const char* help, const char* env) {
    cmd->add_option(flag, field, help)->envname(env);
  };
  opt("--storage-driver", c->driver,
      "Default storage target of cold partitions: local (none), s3, gcs or azure_blob",
      "TIMESTORE_STORAGE_DRIVER");
  opt("--s3-bucket", c->s3_bucket, "S3 bucket", "TIMESTORE_S3_BUCKET");
  opt("--s3-endpoint", c->s3_endpoint, "S3 endpoint URL (default: AWS for the region)",
      "TIMESTORE_S3_ENDPOINT");
  opt("--s3-region", c->s3_region, "S3 region (default AWS_REGION, else us-east-1)",
      "TIMESTORE_S3_REGION");
  opt("--s3-access-key-id", c->s3_access_key_id, "S3 access key id (default AWS_ACCESS_KEY_ID)",
      "TIMESTORE_S3_ACCESS_KEY_ID");
  opt("--s3-secret-access-key", c->s3_secret_access_key,
      "S3 secret access key (default AWS_SECRET_ACCESS_KEY)", "TIMESTORE_S3_SECRET_ACCESS_KEY");
  opt("--s3-session-token", c->s3_session_token, "S3 session token (default AWS_SESSION_TOKEN)",
      "TIMESTORE_S3_SESSION_TOKEN");
  opt("--s3-force-path-style", c->s3_force_path_style,
      "Path-style URLs (endpoint/bucket/key) instead of bucket.endpoint/key",
      "TIMESTORE_S3_FORCE_PATH_STYLE");
  opt("--s3-prefix", c->s3_prefix, "Key prefix inside the bucket", "TIMESTORE_S3_PREFIX");
  opt("--gcs-bucket", c->gcs_bucket, "Google Cloud Storage bucket", "TIMESTORE_GCS_BUCKET");
  opt("--gcs-hmac-key-id", c->gcs_hmac_key_id, "GCS HMAC key id", "TIMESTORE_GCS_HMAC_KEY_ID");
  opt("--gcs-hmac-secret", c->gcs_hmac_secret, "GCS HMAC secret", "TIMESTORE_GCS_HMAC_SECRET");
  opt("--gcs-endpoint", c->gcs_endpoint, "GCS XML API endpoint (https://storage.googleapis.com)",
      "TIMESTORE_GCS_ENDPOINT");
  opt("--gcs-prefix", c->gcs_prefix, "Key prefix inside the bucket", "TIMESTORE_GCS_PREFIX");
  opt("--azure-container", c->azure_container, "Azure Blob Storage container",
      "TIMESTORE_AZURE_CONTAINER");
  opt("--azure-account-name", c->azure_account_name, "Azure storage account",
      "TIMESTORE_AZURE_ACCOUNT_NAME");
  opt("--azure-account-key", c->azure_account_key, "Azure account key (SharedKey auth)",
      "TIMESTORE_AZURE_ACCOUNT_KEY");
  opt("--azure-sas-token", c->azure_sas_token, "Azure SAS token", "TIMESTORE_AZURE_SAS_TOKEN");
  opt("--azure-endpoint", c->azure_endpoint,
      "Azure blob endpoint (default https://<account>.blob.core.windows.net)",
      "TIMESTORE_AZURE_ENDPOINT");
  opt("--azure-connection-string", c->azure_connection_string,
      "Azure connection string (AccountName, AccountKey or SharedAccessSignature, BlobEndpoint)",
      "TIMESTORE_AZURE_CONNECTION_STRING");
  opt("--azure-prefix", c->azure_prefix, "Blob name prefix inside the container",
      "TIMESTORE_AZURE_PREFIX");
  opt("--multipart-threshold", c->multipart_threshold,
      "Uploads above this size go in parts (multipart / blocks)", "TIMESTORE_MULTIPART_THRESHOLD");
  opt("--part-size", c->part_size, "Size of each part of such an upload (>= 5MiB on S3)",
      "TIMESTORE_PART_SIZE");
  opt("--remote-price-per-gb-month", c->remote_price_per_gb_month,
      "USD per GB-month of the default target, for cost estimates (0: list price)",
      "TIMESTORE_REMOTE_PRICE_PER_GB_MONTH");
  opt("--local-price-per-gb-month", c->local_price_per_gb_month,
      "USD per GB-month of local disk, for cost estimates", "TIMESTORE_LOCAL_PRICE_PER_GB_MONTH");
  cmd->add_option("--cache-dir", c->cache_dir, "Block cache of remote segments (<root>/cache)")
      ->envname("TIMESTORE_CACHE_DIR");
  cmd->add_option("--cache-max-bytes", c->cache_max_bytes,
                  "Bound of the block cache (0 disables it)")
      ->envname("TIMESTORE_CACHE_MAX_BYTES");
  cmd->add_option("--cache-memory-bytes", c->cache_memory_bytes,
                  "Of the block cache, the most recently used bytes also kept in memory")
      ->envname("TIMESTORE_CACHE_MEMORY_BYTES");
  opt("--remote-timeout", c->remote_timeout,
      "A query's reads from object storage give up after this (503)", "TIMESTORE_REMOTE_TIMEOUT");
  opt("--remote-merge-gap", c->remote_merge_gap,
      "Remote block ranges this close are fetched in one request", "TIMESTORE_REMOTE_MERGE_GAP");
  opt("--cold-after-default", c->cold_after_default,
      "coldAfter of datasets without their own (e.g. 7d; empty = none)",
      "TIMESTORE_COLD_AFTER_DEFAULT");
  opt("--tiering-enabled", c->tiering_enabled, "Move cold partitions in the background",
      "TIMESTORE_TIERING_ENABLED");
  opt("--tiering-interval", c->tiering_interval, "How often cold partitions are looked for",
      "TIMESTORE_TIERING_INTERVAL");
  opt("--tiering-sweep-interval", c->sweep_interval,
      "How often orphan objects and stale multipart uploads are swept",
      "TIMESTORE_TIERING_SWEEP_INTERVAL");
  opt("--tiering-orphan-grace", c->orphan_grace,
      "Objects no segment lists are deleted once this old", "TIMESTORE_TIERING_ORPHAN_GRACE");
}

absl::StatusOr<std::optional<tiering::StorageTargetConfig>> EnvironmentTarget(
    const TieringConfig& c) {
  tiering::StorageTargetConfig t;
  uint64_t threshold = 0, part = 0;
  if (!ParseBytes(c.multipart_threshold, &threshold) || threshold == 0) {
    return Bad("TIMESTORE_MULTIPART_THRESHOLD", "must be a byte size such as 64MiB");
  }
  if (!ParseBytes(c.part_size, &part) || part == 0) {
    return Bad("TIMESTORE_PART_SIZE", "must be a byte size such as 16MiB");
  }
  t.multipart_threshold = threshold;
  t.part_size = part;
  t.price_per_gb_month = c.remote_price_per_gb_month;
  t.source = "environment";
  if (c.driver == "local" || c.driver.empty()) return std::optional<tiering::StorageTargetConfig>();
  if (c.driver == "s3") {
    t.id = "s3";
    t.driver = "s3";
    t.bucket = c.s3_bucket;
    t.endpoint = FirstSet({c.s3_endpoint, Env("AWS_ENDPOINT_URL_S3"), Env("AWS_ENDPOINT_URL")});
    t.region = FirstSet({c.s3_region, Env("AWS_REGION"), Env("AWS_DEFAULT_REGION"), "us-east-1"});
    t.force_path_style = c.s3_force_path_style;
    t.access_key_id = c.s3_access_key_id;
    t.secret_access_key = c.s3_secret_access_key;
    t.session_token = c.s3_session_token;
    t.prefix = c.s3_prefix;
    if (t.bucket.empty())
      return Bad("TIMESTORE_S3_BUCKET", "is required with TIMESTORE_STORAGE_DRIVER=s3");
  } else if (c.driver == "gcs") {
    t.id = "gcs";
    t.driver = "gcs";
    t.bucket = c.gcs_bucket;
    t.endpoint = FirstSet({c.gcs_endpoint, "https://storage.googleapis.com"});
    t.region = "auto";
    t.access_key_id = c.gcs_hmac_key_id;
    t.secret_access_key = c.gcs_hmac_secret;
    t.prefix = FirstSet({c.gcs_prefix, c.s3_prefix});
    if (t.bucket.empty())
      return Bad("TIMESTORE_GCS_BUCKET", "is required with TIMESTORE_STORAGE_DRIVER=gcs");
    if (t.access_key_id.empty() || t.secret_access_key.empty()) {
      return Bad("TIMESTORE_GCS_HMAC_KEY_ID",
                 "TIMESTORE_GCS_HMAC_KEY_ID and TIMESTORE_GCS_HMAC_SECRET are required with "
                 "TIMESTORE_STORAGE_DRIVER=gcs");
    }
  } else if (c.driver == "azure_blob" || c.driver == "azure") {
    t.id = "azure";
    t.driver = "azure_blob";
    t.container = c.azure_container;
    t.account_name = c.azure_account_name;
    t.account_key = c.azure_account_key;
    t.sas_token = c.azure_sas_token;
    t.endpoint = c.azure_endpoint;
    t.prefix = c.azure_prefix;
    if (!c.azure_connection_string.empty()) {
      auto parsed = tiering::ParseConnectionStringInto(c.azure_connection_string, &t);
      if (!parsed.ok()) return Bad("TIMESTORE_AZURE_CONNECTION_STRING", ToStd(parsed.message()));
    }
    if (t.container.empty()) {
      return Bad("TIMESTORE_AZURE_CONTAINER",
                 "is required with TIMESTORE_STORAGE_DRIVER=azure_blob");
    }
  } else {
    return Bad("TIMESTORE_STORAGE_DRIVER",
               StrCat("must be local, s3, gcs or azure_blob, not \"", c.driver, "\""));
  }
  tiering::ResolveCredentials(&t);
  if (absl::Status s = tiering::ValidateStorageTarget(t, /*from_environment=*/true); !s.ok()) {
    return Bad("TIMESTORE_STORAGE_DRIVER",
               StrCat("the ", c.driver, " target: ", ToStd(s.message())));
  }
  return std::optional<tiering::StorageTargetConfig>(std::move(t));
}

absl::Status ApplyTieringConfig(const TieringConfig& c, EngineOptions* engine,
                                compaction::TieringOptions* mover) {
  uint64_t cache = 0, gap = 0, memory = 0;
  if (!ParseBytes(c.cache_max_bytes, &cache)) {
    return Bad("TIMESTORE_CACHE_MAX_BYTES", "must be a byte size such as 1GiB (0 disables)");
  }
  if (!ParseBytes(c.cache_memory_bytes, &memory)) {
    return Bad("TIMESTORE_CACHE_MEMORY_BYTES", "must be a byte size such as 64MiB (0: none)");
  }
  engine->cache_memory_bytes = memory;
  if (!ParseBytes(c.remote_merge_gap, &gap)) {
    return Bad("TIMESTORE_REMOTE_MERGE_GAP", "must be a byte size such as 16KiB");
  }
  engine->cache_dir = c.cache_dir;
  engine->cache_max_bytes = cache;
  engine->remote.merge_gap_bytes = gap;
  auto timeout = Duration("TIMESTORE_REMOTE_TIMEOUT", c.remote_timeout);
  if (!timeout.ok()) return timeout.status();
  engine->remote.timeout = std::chrono::milliseconds(std::max<int64_t>(1, *timeout / 1'000'000));
  if (!c.cold_after_default.empty()) {
    auto d = Duration("TIMESTORE_COLD_AFTER_DEFAULT", c.cold_after_default);
    if (!d.ok()) return d.status();
    engine->cold_after_default_ns = *d;
  }
  mover->enabled = c.tiering_enabled;
  auto every = Duration("TIMESTORE_TIERING_INTERVAL", c.tiering_interval);
  auto sweep = Duration("TIMESTORE_TIERING_SWEEP_INTERVAL", c.sweep_interval);
  auto grace = Duration("TIMESTORE_TIERING_ORPHAN_GRACE", c.orphan_grace, /*allow_zero=*/true);
  for (const auto* s : {&every, &sweep}) {
    if (!s->ok()) return s->status();
  }
  if (!grace.ok()) return grace.status();
  mover->interval_ms = std::max<int64_t>(1, *every / 1'000'000);
  mover->sweep_interval_ms = std::max<int64_t>(1, *sweep / 1'000'000);
  mover->orphan_grace_ns = *grace;
  if (c.local_price_per_gb_month < 0) {
    return Bad("TIMESTORE_LOCAL_PRICE_PER_GB_MONTH", "must not be negative");
  }
  return absl::OkStatus();
}

}  // namespace timestore::tools
