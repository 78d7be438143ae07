// The object-storage settings of `timestore serve` (and `verify`, which reads
// remote segments): TIMESTORE_* variables and flags, turned into the default
// storage target, the engine's cache and remote-read options, and the mover's
// schedule.
#pragma once

#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "compaction/tier_mover.h"
#include "engine/engine.h"
#include "tiering/storage_targets.h"

namespace timestore::tools {

struct TieringConfig {
  std::string driver = "local";  // local | s3 | gcs | azure_blob
  // s3
  std::string s3_bucket, s3_endpoint, s3_region, s3_access_key_id, s3_secret_access_key,
      s3_session_token, s3_prefix;
  bool s3_force_path_style = false;
  // gcs (S3-compatible XML API, HMAC keys)
  std::string gcs_bucket, gcs_hmac_key_id, gcs_hmac_secret, gcs_endpoint, gcs_prefix;
  // azure_blob
  std::string azure_container, azure_account_name, azure_account_key, azure_sas_token,
      azure_endpoint, azure_connection_string, azure_prefix;
  std::string multipart_threshold = "64MiB";
  std::string part_size = "16MiB";
  double remote_price_per_gb_month = 0;  // 0: the driver's list price
  double local_price_per_gb_month = 0.08;
  // reads
  std::string cache_dir;  // empty: <root>/cache
  std::string cache_max_bytes = "1GiB";
  std::string cache_memory_bytes = "64MiB";
  std::string remote_timeout = "10s";
  std::string remote_merge_gap = "16KiB";
  // the mover
  std::string cold_after_default;
  bool tiering_enabled = true;
  std::string tiering_interval = "1m";
  std::string sweep_interval = "1h";
  std::string orphan_grace = "1h";
};

// Adds the flags (and their TIMESTORE_* variables) to `cmd`.
void AddTieringOptions(CLI::App* cmd, TieringConfig* c);

// The environment's storage target (TIMESTORE_STORAGE_DRIVER and its
// variables, AWS_* as fallback), or nullopt for "local". InvalidArgument
// naming the variable on a bad or missing setting.
absl::StatusOr<std::optional<tiering::StorageTargetConfig>> EnvironmentTarget(
    const TieringConfig& c);

// Fills the engine's and the mover's options; InvalidArgument naming the
// variable on a bad value.
absl::Status ApplyTieringConfig(const TieringConfig& c, EngineOptions* engine,
                                compaction::TieringOptions* mover);

// "64MiB", "1GiB", "1048576" -> bytes.
bool ParseBytes(std::string s, uint64_t* out);

}  // namespace timestore::tools
