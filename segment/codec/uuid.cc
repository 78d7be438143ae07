#include "segment/codec/uuid.h"

#include <memory>

#include "absl/container/flat_hash_set.h"
#include "segment/codec/codec.h"
#include "segment/codec/codec_internal.h"
#include "segment/typed_text.h"

namespace timestore::codec::uuid {
namespace {

bool IsCanonicalUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status EncodeText(ColumnType type, std::span<const std::string_view> values,
                        std::string* out) {
  if (type != ColumnType::kUuid) return CannotEncode(kName, "holds only uuid columns");
  const size_t n = values.size();
  if (n > UINT32_MAX) return CannotEncode(kName, "block of ", n, " rows");
  std::vector<std::string_view> entries;
  std::vector<int64_t> ids(n);
  absl::flat_hash_map<std::string_view, uint32_t, StringViewHash, StringViewEq> index;
  index.reserve(n);
  uint64_t empty_entry = 0;
  uint32_t last_id = 0;
  for (size_t i = 0; i < n; ++i) {
    std::string_view s = values[i];
    if (i > 0 && s == entries[last_id]) {
      ids[i] = last_id;
      continue;
    }
    if (!s.empty() && !IsCanonicalUuid(s)) {
      return CannotEncode(kName, "value ", i, " is not a canonical uuid");
    }
    auto [it, inserted] = index.try_emplace(s, static_cast<uint32_t>(entries.size()));
    if (inserted) {
      if (s.empty()) empty_entry = entries.size() + 1;
      entries.push_back(s);
    }
    last_id = it->second;
    ids[i] = last_id;
  }
  PutVarint64(out, entries.size());
  PutVarint64(out, empty_entry);
  for (std::string_view s : entries) {
    if (s.empty()) continue;
    uint8_t bytes[16];
    UuidToBytes(s, bytes);
    out->append(reinterpret_cast<const char*>(bytes), 16);
  }
  const size_t id_pos = out->size();
  PutFixed8(out, 0);
  absl::StatusOr<CodecId> codec = EncodeIntsBest(ids, /*is_timestamp=*/false, out);
  if (!codec.ok()) return codec.status();
  (*out)[id_pos] = static_cast<char>(*codec);
  return absl::OkStatus();
}

absl::Status DecodeText(ColumnType type, std::string_view in, size_t n,
                        std::vector<std::string>* dict, std::vector<uint32_t>* ids) {
  dict->clear();
  ids->clear();
  if (type != ColumnType::kUuid) return Corrupt(kName, "holds only uuid columns");
  Decoder d(in);
  uint64_t count, empty_entry;
  if (!d.GetVarint64(&count) || !d.GetVarint64(&empty_entry)) {
    return Corrupt(kName, "missing entry count");
  }
  if (count > n || (count == 0 && n > 0)) return Corrupt(kName, count, " entries for ", n, " rows");
  if (empty_entry > count) return Corrupt(kName, "empty entry ", empty_entry, " of ", count);
  const uint64_t stored = count - (empty_entry > 0 ? 1 : 0);
  if (stored > d.remaining() / 16) return Corrupt(kName, count, " entries truncated");
  dict->reserve(count);
  absl::flat_hash_set<std::string_view> seen;
  seen.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    if (empty_entry == i + 1) {
      dict->emplace_back();
      continue;
    }
    std::string_view bytes;
    d.GetBytes(16, &bytes);
    if (!seen.insert(bytes).second) return Corrupt(kName, "entry ", i, " repeats an earlier one");
    dict->push_back(UuidFromBytes(reinterpret_cast<const uint8_t*>(bytes.data())));
  }
  uint8_t codec_id;
  if (!d.GetFixed8(&codec_id)) return Corrupt(kName, "missing ids codec");
  const CodecInfo* codec = FindCodec(codec_id);
  if (codec == nullptr || codec->decode_ints == nullptr) {
    return Corrupt(kName, "ids codec ", static_cast<int>(codec_id), " is not an integer codec");
  }
  std::string_view rest;
  d.GetBytes(d.remaining(), &rest);
  std::unique_ptr<int64_t[]> raw(new int64_t[n]);
  absl::Status s = codec->decode_ints(rest, n, raw.get());
  if (!s.ok()) return Corrupt(kName, "ids: ", ToStd(s.message()));
  ids->resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (static_cast<uint64_t>(raw[i]) >= count) {
      return Corrupt(kName, "id ", raw[i], " at row ", i, " outside ", count, " entries");
    }
    (*ids)[i] = static_cast<uint32_t>(raw[i]);
  }
  return absl::OkStatus();
}

}  // namespace timestore::codec::uuid
