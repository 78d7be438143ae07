#include "segment/codec/dictionary.h"

#include <memory>

#include "segment/codec/codec.h"
#include "segment/codec/codec_internal.h"

namespace timestore::codec::dictionary {

void BuildDictionary(std::span<const std::string_view> values,
                     std::vector<std::string_view>* entries, std::vector<int64_t>* ids,
                     size_t distinct_hint) {
  const size_t n = values.size();
  entries->clear();
  ids->assign(n, 0);
  absl::flat_hash_map<std::string_view, uint32_t, StringViewHash, StringViewEq> index;
  index.reserve(distinct_hint);
  uint32_t last_id = 0;
  for (size_t i = 0; i < n; ++i) {
    std::string_view s = values[i];
    if (i > 0 && s == (*entries)[last_id]) {  // runs of one value skip the hash
      (*ids)[i] = last_id;
      continue;
    }
    auto [it, inserted] = index.try_emplace(s, static_cast<uint32_t>(entries->size()));
    if (inserted) entries->push_back(s);
    last_id = it->second;
    (*ids)[i] = last_id;
  }
}

absl::Status PutDictionaryIds(std::span<const int64_t> ids, std::string* out) {
  const size_t id_pos = out->size();
  PutFixed8(out, 0);
  absl::StatusOr<CodecId> codec = EncodeIntsBest(ids, /*is_timestamp=*/false, out);
  if (!codec.ok()) return codec.status();
  (*out)[id_pos] = static_cast<char>(*codec);
  return absl::OkStatus();
}

absl::Status DecodeDictionaryIds(std::string_view name, Decoder* d, size_t n, uint64_t count,
                                 std::vector<uint32_t>* ids) {
  uint8_t codec_id;
  if (!d->GetFixed8(&codec_id)) return Corrupt(name, "missing ids codec");
  const CodecInfo* codec = FindCodec(codec_id);
  if (codec == nullptr || codec->decode_ints == nullptr) {
    return Corrupt(name, "ids codec ", static_cast<int>(codec_id), " is not an integer codec");
  }
  std::string_view rest;
  d->GetBytes(d->remaining(), &rest);
  std::unique_ptr<int64_t[]> raw(new int64_t[n]);
  absl::Status s = codec->decode_ints(rest, n, raw.get());
  if (!s.ok()) return Corrupt(name, "ids: ", ToStd(s.message()));
  ids->resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (static_cast<uint64_t>(raw[i]) >= count) {
      return Corrupt(name, "id ", raw[i], " at row ", i, " outside ", count, " entries");
    }
    (*ids)[i] = static_cast<uint32_t>(raw[i]);
  }
  return absl::OkStatus();
}

absl::Status EncodeStrings(std::span<const std::string_view> values, std::string* out) {
  const size_t n = values.size();
  if (n > UINT32_MAX) return CannotEncode(kName, "block of ", n, " rows");
  std::vector<std::string_view> entries;
  std::vector<int64_t> ids;
  BuildDictionary(values, &entries, &ids);
  PutVarint64(out, entries.size());
  for (std::string_view s : entries) PutLengthPrefixed(out, s);
  return PutDictionaryIds(ids, out);
}

absl::Status DecodeStrings(std::string_view in, size_t n, std::vector<std::string>* dict,
                           std::vector<uint32_t>* ids) {
  dict->clear();
  ids->clear();
  Decoder d(in);
  uint64_t count;
  if (!d.GetVarint64(&count)) return Corrupt(kName, "missing entry count");
  if (count > n || (count == 0 && n > 0)) {
    return Corrupt(kName, count, " entries for ", n, " rows");
  }
  // Every entry takes at least one byte, so the payload bounds the reservation too.
  dict->reserve(std::min<uint64_t>(count, d.remaining()));
  StringMap<uint32_t> seen;
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view s;
    if (!d.GetLengthPrefixed(&s)) return Corrupt(kName, "entry ", i, " of ", count, " truncated");
    if (!seen.try_emplace(s, static_cast<uint32_t>(i)).second) {
      return Corrupt(kName, "entry ", i, " repeats an earlier one");
    }
    dict->emplace_back(s);
  }
  return DecodeDictionaryIds(kName, &d, n, count, ids);
}

}  // namespace timestore::codec::dictionary
