#include "segment/codec/array.h"

#include <memory>
#include <span>

#include "common/json_writer.h"
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

// String elements stay a dictionary and ids (*dict, *ids), from which
// DecodeText makes the rows' text once it has checked its size.
absl::Status DecodeElements(CodecId codec, std::string_view in, size_t m, ArrayElements* e,
                            std::vector<std::string>* dict, std::vector<uint32_t>* ids) {
  switch (e->element) {
    case ColumnType::kDouble:
      e->doubles.resize(m);
      return DecodeDoubles(codec, in, m, e->doubles.data());
    case ColumnType::kBoolean:
      e->bools.resize(m);
      return DecodeBools(codec, in, m, e->bools.data());
    case ColumnType::kString: {
      absl::Status s = DecodeStrings(codec, in, m, dict, ids);
      if (!s.ok()) return s;
      if (ids->size() != m) return absl::DataLossError("wrong string element count");
      for (uint32_t id : *ids) {
        if (id >= dict->size()) return absl::DataLossError("string element id out of range");
      }
      return absl::OkStatus();
    }
    default:
      e->ints.resize(m);
      return DecodeInts(codec, in, m, e->ints.data());
  }
}

// Turns each entry of `dict` into its text as an element (quoted, escaped:
// what AppendArrayText writes for it) and checks the bytes of all rows' text,
// repeats included, that elements `ids` make, before any row is built: a few
// bytes of payload (one long entry, many ids) would otherwise ask for
// terabytes.
absl::Status QuoteEntriesAndCheckRowsText(const int64_t* counts, size_t n,
                                          std::vector<std::string>* dict,
                                          std::span<const uint32_t> ids) {
  // Measured first: escaping may make an entry 6 times longer (a control
  // byte is \u00XX), so quoting before the checks could take gigabytes.
  std::vector<uint64_t> quoted(dict->size());
  uint64_t dict_bytes = 0;
  for (size_t k = 0; k < dict->size(); ++k) {
    quoted[k] = JsonStringLength((*dict)[k]);
    dict_bytes += quoted[k];
  }
  if (dict_bytes > kMaxTextBytes) {
    return Corrupt(kName, "string elements whose text is more than ", kMaxTextBytes, " bytes");
  }
  uint64_t total = 0;
  size_t next = 0;
  for (size_t i = 0; i < n; ++i) {
    if (counts[i] < 0) continue;  // a null row's text is empty
    const size_t c = static_cast<size_t>(counts[i]);
    total += 2 + (c > 0 ? c - 1 : 0);  // brackets and commas
    for (size_t j = 0; j < c; ++j) total += quoted[ids[next + j]];
    next += c;
    if (total > kMaxTextBytes) {
      return Corrupt(kName, "rows' text of more than ", kMaxTextBytes, " bytes at row ", i);
    }
  }
  ArrayElements one;
  one.element = ColumnType::kString;
  one.strings.resize(1);
  std::string scratch;
  for (std::string& entry : *dict) {
    one.strings[0].swap(entry);
    scratch.clear();
    AppendArrayText(one, 0, 1, &scratch);
    entry.assign(scratch, 1, scratch.size() - 2);  // less the brackets
  }
  return absl::OkStatus();
}

// Appends the text of a row of string elements `ids`, entries of `quoted`
// (each entry's element text).
void AppendQuotedRow(const std::vector<std::string>& quoted, std::span<const uint32_t> ids,
                     std::string* out) {
  out->push_back('[');
  for (size_t j = 0; j < ids.size(); ++j) {
    if (j > 0) out->push_back(',');
    out->append(quoted[ids[j]]);
  }
  out->push_back(']');
}

}  // namespace

absl::Status EncodeText(ColumnType type, std::span<const std::string_view> values,
                        std::string* out) {
  if (!IsArrayType(type)) return CannotEncode(kName, "holds only array columns");
  ArrayElements e;
  e.element = ArrayElementType(type);
  // Before any element is copied: a decoder would refuse the block.
  uint64_t text_bytes = 0;
  for (std::string_view v : values) text_bytes += v.size();
  if (text_bytes > kMaxTextBytes) {
    return CannotEncode(kName, text_bytes, " bytes of text, more than ", kMaxTextBytes);
  }
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
  std::vector<std::string> element_dict;
  std::vector<uint32_t> element_ids;
  s = DecodeElements(static_cast<CodecId>(elements_codec), rest, m, &e, &element_dict,
                     &element_ids);
  if (!s.ok()) return Corrupt(kName, "elements: ", ToStd(s.message()));
  // Other elements' text is at most 25 bytes each (kMaxElements of them).
  // String elements stay entries and ids: the rows' text is made from each
  // entry's element text, never from a copy per element.
  const bool strings = e.element == ColumnType::kString;
  if (strings) {
    s = QuoteEntriesAndCheckRowsText(counts.get(), n, &element_dict, element_ids);
    if (!s.ok()) return s;
  }
  StringMap<uint32_t> index;
  ids->resize(n);
  std::string text;
  size_t next = 0;
  for (size_t i = 0; i < n; ++i) {
    text.clear();
    if (counts[i] >= 0) {
      const size_t c = static_cast<size_t>(counts[i]);
      if (strings) {
        AppendQuotedRow(element_dict, std::span<const uint32_t>(element_ids).subspan(next, c),
                        &text);
      } else {
        AppendArrayText(e, next, c, &text);
      }
      next += c;
    }
    auto [it, inserted] = index.try_emplace(text, static_cast<uint32_t>(dict->size()));
    if (inserted) dict->push_back(text);
    (*ids)[i] = it->second;
  }
  return absl::OkStatus();
}

}  // namespace timestore::codec::array
