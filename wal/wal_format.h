// The log file format shared by the write-ahead log (wal/NNNNNN.wal) and the
// manifest (MANIFEST-NNNNNN). Everything is little-endian.
//
//   file    := file_header record*
//   file_header (16 bytes) :=
//       magic    u32le   kWalMagic ("TSWL") or kManifestMagic ("TSMF")
//       version  u32le   kLogFormatVersion
//       reserved u64le   0
//   record  := header payload
//   header (21 bytes) :=
//       checksum u64le   xxh3-64 of every byte after this field: length, type, seq, payload
//       length   u32le   payload length in bytes (<= kMaxPayloadBytes)
//       type     u8      RecordType; 0 is never written, so zero-filled tails read as torn
//       seq      u64le   sequence number, strictly increasing across the whole log
//   payload := length bytes, meaning given by `type` (see engine/wal_payload.h and
//              engine/manifest.h)
//
// A record is written with one write() and acknowledged only after fdatasync
// (TIMESTORE_WAL_SYNC=always), so one record is the unit of atomicity: one
// ingest request is one record.
//
// Recovery (LogReader): reading stops at the first record that is incomplete
// or fails its checksum. In the newest file, when no intact record follows the
// damaged one (only zero bytes, an incomplete record or garbage), that is a torn
// tail: it is dropped and reported. Anywhere else it is corruption, reported as
// DataLoss naming file and offset.
#pragma once

#include <cstdint>

namespace timestore::wal {

inline constexpr uint32_t kWalMagic = 0x4c575354;       // "TSWL", on disk: never change
inline constexpr uint32_t kManifestMagic = 0x464d5354;  // "TSMF", on disk: never change
inline constexpr uint32_t kLogFormatVersion = 1;
inline constexpr size_t kFileHeaderSize = 16;
inline constexpr size_t kRecordHeaderSize = 21;
inline constexpr uint32_t kMaxPayloadBytes = 1u << 30;

// on disk: never renumber
enum class RecordType : uint8_t {
  kInvalid = 0,        // never written
  kRowBatch = 1,       // WAL: rows of one ingest request (engine/wal_payload.h)
  kManifestEdit = 2,   // manifest: one catalog edit (engine/manifest.h)
  kMultiRowBatch = 3,  // WAL: rows of one request for several datasets, all or none
};

}  // namespace timestore::wal
