// The payload of a kRowBatch WAL record: the rows of one ingest request, plus
// its idempotency key and answer, so a replay restores both. Little-endian.
//
//   payload := dataset_id u64 | schema_version u32 | flags u8 | [idempotency] |
//              rows u32 | time_index u32 | ncols u32 | column{ncols}
//   flags bit 0: an idempotency block follows
//   idempotency := key (varint length + bytes) | request_hash u64 | created_ns i64 |
//                  answer_rows u64 | answer_schema_version u32 | has_watermark u8 |
//                  watermark i64
//   column := schema_index u32 | type u8 (ColumnType) | encoding u8 | body
//   encoding: 0 all null (no body) | 1 no nulls | 2 validity bitmap (ceil(rows/8)
//             bytes, LSB first, 1 = value) then values; null slots hold 0
//   values := timestamp, integer, double: rows x 8 bytes
//           | boolean: bitmap, ceil(rows/8) bytes
//           | string: dict_count varint, dict_count x (varint length + bytes),
//                     id_width u8 (1, 2 or 4), rows x id_width bytes
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/chunk.h"
#include "wal/wal_format.h"

namespace timestore {

// What an ingest answered; replayed so a repeated Idempotency-Key gets it back.
struct IngestAnswer {
  uint64_t rows = 0;
  uint32_t schema_version = 0;
  std::optional<int64_t> watermark;
};

struct IdempotencyInfo {
  std::string key;
  uint64_t request_hash = 0;
  int64_t created_ns = 0;
  IngestAnswer answer;
};

struct BatchRecord {
  uint64_t dataset_id = 0;
  uint32_t schema_version = 0;
  std::optional<IdempotencyInfo> idempotency;
  ChunkPtr chunk;
};

std::string EncodeBatchRecord(const BatchRecord& record);
// Never trusts its input: malformed bytes give DataLoss, not a crash.
absl::StatusOr<BatchRecord> DecodeBatchRecord(std::string_view payload);

// The payload of a kMultiRowBatch record: the batches of one request that
// writes several datasets, so a crash keeps all of them or none.
//   payload := count u32 | (length u32 | kRowBatch payload){count}
std::string EncodeMultiBatchRecord(const std::vector<std::string>& batch_payloads);

// True for the record types that carry rows (kRowBatch, kMultiRowBatch).
inline bool CarriesRows(wal::RecordType type) {
  return type == wal::RecordType::kRowBatch || type == wal::RecordType::kMultiRowBatch;
}
// The batches of a record that carries rows, in order. DataLoss when malformed.
absl::StatusOr<std::vector<BatchRecord>> DecodeRowRecord(wal::RecordType type,
                                                         std::string_view payload);

}  // namespace timestore
