#include "engine/wal_payload.h"

#include <cstring>

#include "common/coding.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace timestore {
namespace {

void PutBitmap(std::string* dst, const std::vector<uint8_t>& bytes, uint32_t rows) {
  size_t start = dst->size();
  dst->resize(start + (rows + 7) / 8, 0);
  char* p = dst->data() + start;
  for (uint32_t i = 0; i < rows; ++i)
    if (bytes[i]) p[i >> 3] |= static_cast<char>(1u << (i & 7));
}

bool GetBitmap(Decoder* d, uint32_t rows, std::vector<uint8_t>* out) {
  std::string_view bits;
  if (!d->GetBytes((rows + 7) / 8, &bits)) return false;
  out->resize(rows);
  for (uint32_t i = 0; i < rows; ++i) (*out)[i] = (bits[i >> 3] >> (i & 7)) & 1;
  return true;
}

void EncodeColumn(std::string* dst, uint32_t index, const ColumnVector& c, uint32_t rows) {
  PutFixed32(dst, index);
  PutFixed8(dst, static_cast<uint8_t>(c.type));
  if (c.all_null) {
    PutFixed8(dst, 0);
    return;
  }
  PutFixed8(dst, c.valid.empty() ? 1 : 2);
  if (!c.valid.empty()) PutBitmap(dst, c.valid, rows);
  switch (c.type) {
    case ColumnType::kTimestamp:
    case ColumnType::kInteger:
      if (rows) dst->append(reinterpret_cast<const char*>(c.ints.data()), rows * 8);
      break;
    case ColumnType::kDouble:
      if (rows) dst->append(reinterpret_cast<const char*>(c.doubles.data()), rows * 8);
      break;
    case ColumnType::kBoolean:
      PutBitmap(dst, c.bools, rows);
      break;
    TIMESTORE_STRING_LIKE_CASES : {
      PutVarint64(dst, c.dict.size());
      for (const auto& s : c.dict) PutLengthPrefixed(dst, s);
      uint8_t width = c.dict.size() <= 0xff ? 1 : c.dict.size() <= 0xffff ? 2 : 4;
      PutFixed8(dst, width);
      size_t start = dst->size();
      dst->resize(start + static_cast<size_t>(rows) * width);
      char* p = dst->data() + start;
      for (uint32_t i = 0; i < rows; ++i) std::memcpy(p + i * width, &c.ids[i], width);
      break;
    }
  }
}

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(StrCat("malformed row batch in WAL record: ", what));
}

}  // namespace

std::string EncodeBatchRecord(const BatchRecord& r) {
  std::string out;
  const Chunk& c = *r.chunk;
  out.reserve(64 + c.memory_bytes);
  PutFixed64(&out, r.dataset_id);
  PutFixed32(&out, r.schema_version);
  PutFixed8(&out, r.idempotency ? 1 : 0);
  if (r.idempotency) {
    const IdempotencyInfo& i = *r.idempotency;
    PutLengthPrefixed(&out, i.key);
    PutFixed64(&out, i.request_hash);
    PutFixed64(&out, static_cast<uint64_t>(i.created_ns));
    PutFixed64(&out, i.answer.rows);
    PutFixed32(&out, i.answer.schema_version);
    PutFixed8(&out, i.answer.watermark ? 1 : 0);
    PutFixed64(&out, static_cast<uint64_t>(i.answer.watermark.value_or(0)));
  }
  PutFixed32(&out, c.rows);
  PutFixed32(&out, static_cast<uint32_t>(c.time_index));
  PutFixed32(&out, static_cast<uint32_t>(c.columns.size()));
  for (size_t i = 0; i < c.columns.size(); ++i)
    EncodeColumn(&out, static_cast<uint32_t>(i), c.columns[i], c.rows);
  return out;
}

absl::StatusOr<BatchRecord> DecodeBatchRecord(std::string_view payload) {
  Decoder d(payload);
  BatchRecord r;
  uint8_t flags;
  if (!d.GetFixed64(&r.dataset_id) || !d.GetFixed32(&r.schema_version) || !d.GetFixed8(&flags))
    return Corrupt("truncated header");
  if (flags & 1) {
    IdempotencyInfo i;
    std::string_view key;
    uint64_t created, wm;
    uint8_t has_wm;
    if (!d.GetLengthPrefixed(&key) || !d.GetFixed64(&i.request_hash) || !d.GetFixed64(&created) ||
        !d.GetFixed64(&i.answer.rows) || !d.GetFixed32(&i.answer.schema_version) ||
        !d.GetFixed8(&has_wm) || !d.GetFixed64(&wm))
      return Corrupt("truncated idempotency block");
    i.key = std::string(key);
    i.created_ns = static_cast<int64_t>(created);
    if (has_wm) i.answer.watermark = static_cast<int64_t>(wm);
    r.idempotency = std::move(i);
  }
  auto chunk = std::make_shared<Chunk>();
  uint32_t time_index, ncols;
  if (!d.GetFixed32(&chunk->rows) || !d.GetFixed32(&time_index) || !d.GetFixed32(&ncols))
    return Corrupt("truncated chunk header");
  if (ncols > 100000 || time_index >= ncols) return Corrupt("bad column count");
  chunk->time_index = static_cast<int>(time_index);
  const uint32_t rows = chunk->rows;
  // The time column stores 8 bytes per row: bound rows by the payload before allocating.
  if (rows > payload.size() / 8) return Corrupt("row count exceeds the payload");
  chunk->columns.resize(ncols);
  for (uint32_t n = 0; n < ncols; ++n) {
    uint32_t index;
    uint8_t type, enc;
    if (!d.GetFixed32(&index) || !d.GetFixed8(&type) || !d.GetFixed8(&enc))
      return Corrupt("truncated column header");
    if (index != n || !IsValidColumnType(type) || enc > 2) return Corrupt("bad column header");
    ColumnVector& c = chunk->columns[n];
    c.type = static_cast<ColumnType>(type);
    c.length = rows;
    if (enc == 0) {
      c.all_null = rows > 0;
      continue;
    }
    if (enc == 2 && !GetBitmap(&d, rows, &c.valid)) return Corrupt("truncated validity");
    std::string_view raw;
    switch (c.type) {
      case ColumnType::kTimestamp:
      case ColumnType::kInteger:
        if (!d.GetBytes(static_cast<size_t>(rows) * 8, &raw)) return Corrupt("truncated values");
        c.ints.resize(rows);
        if (rows > 0) std::memcpy(c.ints.data(), raw.data(), raw.size());  // data() may be null
        break;
      case ColumnType::kDouble:
        if (!d.GetBytes(static_cast<size_t>(rows) * 8, &raw)) return Corrupt("truncated values");
        c.doubles.resize(rows);
        if (rows > 0) std::memcpy(c.doubles.data(), raw.data(), raw.size());
        break;
      case ColumnType::kBoolean:
        if (!GetBitmap(&d, rows, &c.bools)) return Corrupt("truncated booleans");
        break;
      TIMESTORE_STRING_LIKE_CASES : {
        uint64_t count;
        if (!d.GetVarint64(&count) || count > d.remaining()) return Corrupt("bad dictionary");
        c.dict.reserve(count);
        for (uint64_t k = 0; k < count; ++k) {
          std::string_view s;
          if (!d.GetLengthPrefixed(&s)) return Corrupt("truncated dictionary");
          c.dict.emplace_back(s);
        }
        uint8_t width;
        if (!d.GetFixed8(&width) || (width != 1 && width != 2 && width != 4))
          return Corrupt("bad id width");
        if (!d.GetBytes(static_cast<size_t>(rows) * width, &raw)) return Corrupt("truncated ids");
        c.ids.assign(rows, 0);
        for (uint32_t i = 0; i < rows; ++i) {
          uint32_t id = 0;
          std::memcpy(&id, raw.data() + static_cast<size_t>(i) * width, width);
          if (id >= count && !c.IsNull(i)) return Corrupt("string id out of range");
          c.ids[i] = id;
        }
        break;
      }
    }
  }
  if (!d.empty()) return Corrupt("trailing bytes");
  const ColumnVector& tcol = chunk->columns[time_index];
  if (tcol.type != ColumnType::kTimestamp || tcol.HasNulls())
    return Corrupt("time column missing or null");
  chunk->ComputeStats();
  r.chunk = std::move(chunk);
  return r;
}

std::string EncodeMultiBatchRecord(const std::vector<std::string>& batch_payloads) {
  size_t total = 4;
  for (const auto& p : batch_payloads) total += 4 + p.size();
  std::string out;
  out.reserve(total);
  PutFixed32(&out, static_cast<uint32_t>(batch_payloads.size()));
  for (const auto& p : batch_payloads) {
    PutFixed32(&out, static_cast<uint32_t>(p.size()));
    out.append(p);
  }
  return out;
}

absl::StatusOr<std::vector<BatchRecord>> DecodeRowRecord(wal::RecordType type,
                                                         std::string_view payload) {
  std::vector<BatchRecord> out;
  if (type == wal::RecordType::kRowBatch) {
    ASSIGN_OR_RETURN(BatchRecord r, DecodeBatchRecord(payload));
    out.push_back(std::move(r));
    return out;
  }
  if (type != wal::RecordType::kMultiRowBatch) {
    return absl::DataLossError(StrCat("record type ", static_cast<int>(type), " carries no rows"));
  }
  if (payload.size() < 4) return absl::DataLossError("multi-batch record: truncated count");
  uint32_t count = DecodeFixed32(payload.data());
  payload.remove_prefix(4);
  // Each batch takes at least its 4-byte length: a count past that is garbage.
  if (count > payload.size() / 4) return absl::DataLossError("multi-batch record: bad count");
  out.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    if (payload.size() < 4) return absl::DataLossError("multi-batch record: truncated length");
    uint32_t len = DecodeFixed32(payload.data());
    payload.remove_prefix(4);
    if (len > payload.size()) return absl::DataLossError("multi-batch record: truncated batch");
    auto r = DecodeBatchRecord(payload.substr(0, len));
    if (!r.ok()) {
      return absl::DataLossError(
          StrCat("multi-batch record, batch ", i, ": ", r.status().message()));
    }
    out.push_back(*std::move(r));
    payload.remove_prefix(len);
  }
  if (!payload.empty()) return absl::DataLossError("multi-batch record: trailing bytes");
  return out;
}

}  // namespace timestore
