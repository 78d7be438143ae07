#include "segment/codec/array.h"

#include <memory>

#include "segment/array_text.h"
#include "segment/codec/codec.h"
#include "segment/codec/codec_internal.h"

namespace timestore::codec::array {
namespace {

absl::StatusOr<CodecId> EncodeElements(const ArrayElements& e, std::string* out) {
  switch (e.element) {
    case ColumnType::kDouble:
      return EncodeDoublesBest(e.doubles, out);
    case ColumnType::kBoolean:
      return EncodeBoolsBest(e.bools, out);
    case ColumnType::kString: {
      std::vector<std::string_view> views(e.strings.begin(), e.strings.end());
      return EncodeStringsBest(views, out);
    }
    default:
      return EncodeIntsBest(e.ints, /*is_timestamp=*/false, out);
  }
}

absl::Status DecodeElements(CodecId codec, std::string_view in, size_t m, ArrayElements* e) {
  switch (e->element) {
    case ColumnType::kDouble:
      e->doubles.resize(m);
      return DecodeDoubles(codec, in, m, e->doubles.data());
    case ColumnType::kBoolean:
      e->bools.resize(m);
      return DecodeBools(codec, in, m, e->bools.data());
    case ColumnType::kString: {
      std::vector<std::string> dict;
      std::vector<uint32_t> ids;
      absl::Status s = DecodeStrings(codec, in, m, &dict, &ids);
      if (!s.ok()) return s;
      if (ids.size() != m) return absl::DataLossError("wrong string element count");
      e->strings.reserve(m);
      for (uint32_t id : ids) {
        if (id >= dict.size()) return absl::DataLossError("string element id out of range");
        e->strings.push_back(dict[id]);
      }
      return absl::OkStatus();
    }
    default:
      e->ints.resize(m);
      return DecodeInts(codec, in, m, e->ints.data());
  }
}

}  // namespace

absl::Status EncodeText(ColumnType type, std::span<const std::string_view> values,
                        std::string* out) {
  if (!IsArrayType(type)) return CannotEncode(kName, "holds only array columns");
  ArrayElements e;
  e.element = ArrayElementType(type);
  std::vector<int64_t> counts(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].empty()) {
      counts[i] = -1;
      continue;
    }
    std::optional<size_t> c = ParseArrayText(values[i], &e);
    if (!c) return CannotEncode(kName, "value ", i, " is not canonical ", ColumnTypeName(type));
    if (e.size() > kMaxElements)
      return CannotEncode(kName, "more than ", kMaxElements, " elements");
    counts[i] = static_cast<int64_t>(*c);
  }
  PutFixed8(out, static_cast<uint8_t>(e.element));
  std::string part;
  absl::StatusOr<CodecId> counts_codec = EncodeIntsBest(counts, /*is_timestamp=*/false, &part);
  if (!counts_codec.ok()) return counts_codec.status();
  PutFixed8(out, static_cast<uint8_t>(*counts_codec));
  PutLengthPrefixed(out, part);
  part.clear();
  absl::StatusOr<CodecId> elements_codec = EncodeElements(e, &part);
  if (!elements_codec.ok()) return elements_codec.status();
  PutFixed8(out, static_cast<uint8_t>(*elements_codec));
  out->append(part);
  return absl::OkStatus();
}

absl::Status DecodeText(ColumnType type, std::string_view in, size_t n,
                        std::vector<std::string>* dict, std::vector<uint32_t>* ids) {
  dict->clear();
  ids->clear();
  if (!IsArrayType(type)) return Corrupt(kName, "holds only array columns");
  Decoder d(in);
  uint8_t element, counts_codec, elements_codec;
  std::string_view counts_payload;
  if (!d.GetFixed8(&element) || !d.GetFixed8(&counts_codec) ||
      !d.GetLengthPrefixed(&counts_payload) || !d.GetFixed8(&elements_codec)) {
    return Corrupt(kName, "truncated header");
  }
  if (element != static_cast<uint8_t>(ArrayElementType(type))) {
    return Corrupt(kName, "element type ", static_cast<int>(element), " in a ",
                   ColumnTypeName(type), " column");
  }
  const CodecInfo* cc = FindCodec(counts_codec);
  if (cc == nullptr || cc->decode_ints == nullptr) {
    return Corrupt(kName, "counts codec ", static_cast<int>(counts_codec), " is not an ints codec");
  }
  std::unique_ptr<int64_t[]> counts(new int64_t[n]);
  absl::Status s = cc->decode_ints(counts_payload, n, counts.get());
  if (!s.ok()) return Corrupt(kName, "counts: ", ToStd(s.message()));
  uint64_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    if (counts[i] < -1 || counts[i] > static_cast<int64_t>(kMaxElements)) {
      return Corrupt(kName, "row ", i, " has ", counts[i], " elements");
    }
    if (counts[i] > 0) m += static_cast<uint64_t>(counts[i]);
    if (m > kMaxElements) return Corrupt(kName, "more than ", kMaxElements, " elements");
  }
  std::string_view rest;
  d.GetBytes(d.remaining(), &rest);
  ArrayElements e;
  e.element = static_cast<ColumnType>(element);
  s = DecodeElements(static_cast<CodecId>(elements_codec), rest, m, &e);
  if (!s.ok()) return Corrupt(kName, "elements: ", ToStd(s.message()));
  StringMap<uint32_t> index;
  ids->resize(n);
  std::string text;
  size_t next = 0;
  for (size_t i = 0; i < n; ++i) {
    text.clear();
    if (counts[i] >= 0) {
      AppendArrayText(e, next, static_cast<size_t>(counts[i]), &text);
      next += static_cast<size_t>(counts[i]);
    }
    auto [it, inserted] = index.try_emplace(text, static_cast<uint32_t>(dict->size()));
    if (inserted) dict->push_back(text);
    (*ids)[i] = it->second;
  }
  return absl::OkStatus();
}

}  // namespace timestore::codec::array
