#include "segment/codec/codec.h"

#include <zstd.h>

#include <algorithm>
#include <array>
#include <memory>

#include "common/status_macros.h"
#include "segment/codec/array.h"
#include "segment/codec/bitmap.h"
#include "segment/codec/codec_internal.h"
#include "segment/codec/constant.h"
#include "segment/codec/decimal.h"
#include "segment/codec/delta_of_delta.h"
#include "segment/codec/dictionary.h"
#include "segment/codec/gorilla_xor.h"
#include "segment/codec/int_delta_bitpack.h"
#include "segment/codec/int_delta_huffman.h"
#include "segment/codec/plain.h"
#include "segment/codec/run_length.h"
#include "segment/codec/uuid.h"
#include "segment/codec/zstd_dictionary.h"

namespace timestore {
namespace {

namespace c = codec;

// Indexed by id. A retired codec keeps its row (decoders are kept forever).
constexpr std::array<CodecInfo, 13> kCodecs = {{
    {CodecId::kPlain, c::plain::kName, kDomainInts | kDomainDoubles | kDomainBools | kDomainStrings,
     c::plain::EncodeInts, c::plain::DecodeInts, c::plain::EncodeDoubles, c::plain::DecodeDoubles,
     c::plain::EncodeBools, c::plain::DecodeBools, c::plain::EncodeStrings,
     c::plain::DecodeStrings},
    {CodecId::kDeltaOfDelta, c::delta_of_delta::kName, kDomainInts, c::delta_of_delta::EncodeInts,
     c::delta_of_delta::DecodeInts, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr},
    {CodecId::kGorillaXor, c::gorilla_xor::kName, kDomainDoubles, nullptr, nullptr,
     c::gorilla_xor::EncodeDoubles, c::gorilla_xor::DecodeDoubles, nullptr, nullptr, nullptr,
     nullptr},
    {CodecId::kDecimal, c::decimal::kName, kDomainDoubles, nullptr, nullptr,
     c::decimal::EncodeDoubles, c::decimal::DecodeDoubles, nullptr, nullptr, nullptr, nullptr},
    {CodecId::kIntDeltaBitpack, c::int_delta_bitpack::kName, kDomainInts,
     c::int_delta_bitpack::EncodeInts, c::int_delta_bitpack::DecodeInts, nullptr, nullptr, nullptr,
     nullptr, nullptr, nullptr},
    {CodecId::kRunLength, c::run_length::kName, kDomainInts | kDomainBools,
     c::run_length::EncodeInts, c::run_length::DecodeInts, nullptr, nullptr,
     c::run_length::EncodeBools, c::run_length::DecodeBools, nullptr, nullptr},
    {CodecId::kDictionary, c::dictionary::kName, kDomainStrings, nullptr, nullptr, nullptr, nullptr,
     nullptr, nullptr, c::dictionary::EncodeStrings, c::dictionary::DecodeStrings},
    {CodecId::kBitmap, c::bitmap::kName, kDomainBools, nullptr, nullptr, nullptr, nullptr,
     c::bitmap::EncodeBools, c::bitmap::DecodeBools, nullptr, nullptr},
    {CodecId::kConstant, c::constant::kName, kDomainInts | kDomainDoubles | kDomainBools,
     c::constant::EncodeInts, c::constant::DecodeInts, c::constant::EncodeDoubles,
     c::constant::DecodeDoubles, c::constant::EncodeBools, c::constant::DecodeBools, nullptr,
     nullptr},
    {CodecId::kIntDeltaHuffman, c::int_delta_huffman::kName, kDomainInts,
     c::int_delta_huffman::EncodeInts, c::int_delta_huffman::DecodeInts, nullptr, nullptr, nullptr,
     nullptr, nullptr, nullptr},
    {CodecId::kUuid, c::uuid::kName, kDomainText, nullptr, nullptr, nullptr, nullptr, nullptr,
     nullptr, nullptr, nullptr, c::uuid::EncodeText, c::uuid::DecodeText},
    {CodecId::kZstdDictionary, c::zstd_dictionary::kName, kDomainStrings, nullptr, nullptr, nullptr,
     nullptr, nullptr, nullptr, c::zstd_dictionary::EncodeStrings,
     c::zstd_dictionary::DecodeStrings},
    {CodecId::kArray, c::array::kName, kDomainText, nullptr, nullptr, nullptr, nullptr, nullptr,
     nullptr, nullptr, nullptr, c::array::EncodeText, c::array::DecodeText},
}};

constexpr bool IdsMatchIndex() {
  for (size_t i = 0; i < kCodecs.size(); ++i) {
    if (static_cast<size_t>(kCodecs[i].id) != i) return false;
  }
  return true;
}
static_assert(IdsMatchIndex(), "kCodecs must be indexed by CodecId");

std::string_view DomainName(uint8_t domain) {
  switch (domain) {
    case kDomainInts:
      return "ints";
    case kDomainDoubles:
      return "doubles";
    case kDomainBools:
      return "bools";
    case kDomainText:
      return "text";
    default:
      return "strings";
  }
}

// The codec for encoding in `domain`: InvalidArgument when it does not serve it.
absl::StatusOr<const CodecInfo*> ForEncode(CodecId id, uint8_t domain) {
  const CodecInfo* info = FindCodec(id);
  if (info == nullptr || (info->domains & domain) == 0) {
    return absl::InvalidArgumentError(
        ToAbsl(StrCat("codec ", CodecName(id), " does not encode ", DomainName(domain))));
  }
  return info;
}

// The codec for decoding in `domain`: DataLoss when it does not serve it (the id came
// from disk, so a mismatch means corruption).
absl::StatusOr<const CodecInfo*> ForDecode(CodecId id, uint8_t domain) {
  const CodecInfo* info = FindCodec(id);
  if (info == nullptr || (info->domains & domain) == 0) {
    return absl::DataLossError(
        ToAbsl(StrCat("codec ", CodecName(id), " cannot hold ", DomainName(domain))));
  }
  return info;
}

// A lower bound on the payload of `id` for n values of `domain`, from the format alone
// (bit-stream codecs spend at least a bit per value). Candidates whose bound already
// reaches the best size so far are not encoded at all.
size_t MinPayloadBytes(CodecId id, uint8_t domain, size_t n) {
  switch (id) {
    case CodecId::kPlain:
      return domain == kDomainStrings || domain == kDomainBools ? n : 8 * n;
    case CodecId::kDeltaOfDelta:
    case CodecId::kIntDeltaHuffman:
      return n > 2 ? (n - 2) / 8 : 0;
    case CodecId::kGorillaXor:
      return n > 0 ? 8 + (n - 1) / 8 : 0;
    case CodecId::kBitmap:
      return n / 8;
    default:
      return 0;
  }
}

// Encodes with each candidate into a scratch buffer and keeps the smallest; the first
// listed wins ties, so candidates are listed fastest-decoding first.
template <typename T, typename Fn, typename Bound>
absl::StatusOr<CodecId> EncodeSmallest(std::span<const T> values, uint8_t domain,
                                       std::initializer_list<CodecId> candidates, Fn encoder_of,
                                       std::string* out, Bound extra_bound) {
  std::string best, scratch;
  CodecId best_id = CodecId::kPlain;
  bool have = false;
  for (CodecId id : candidates) {
    if (have && (MinPayloadBytes(id, domain, values.size()) >= best.size() ||
                 extra_bound(id) >= best.size())) {
      continue;
    }
    scratch.clear();
    if (!encoder_of(*FindCodec(id))(values, &scratch).ok()) continue;  // does not apply
    if (!have || scratch.size() < best.size()) {
      best.swap(scratch);
      best_id = id;
      have = true;
    }
  }
  if (!have) return absl::InternalError("no codec could encode the block");
  out->append(best);
  return best_id;
}
template <typename T, typename Fn>
absl::StatusOr<CodecId> EncodeSmallest(std::span<const T> values, uint8_t domain,
                                       std::initializer_list<CodecId> candidates, Fn encoder_of,
                                       std::string* out) {
  return EncodeSmallest(values, domain, candidates, encoder_of, out,
                        [](CodecId) { return size_t{0}; });
}

}  // namespace

std::span<const CodecInfo> AllCodecs() { return kCodecs; }

const CodecInfo* FindCodec(uint8_t raw_id) {
  return raw_id < kCodecs.size() ? &kCodecs[raw_id] : nullptr;
}

std::optional<CodecId> ParseCodecName(std::string_view name) {
  for (const CodecInfo& info : kCodecs) {
    if (info.name == name) return info.id;
  }
  return std::nullopt;
}

std::string CodecName(CodecId id) {
  const CodecInfo* info = FindCodec(id);
  if (info == nullptr) return StrCat("unknown(", static_cast<int>(id), ")");
  return std::string(info->name);
}

// A nested payload is always ints; anything else is described, not followed (so a
// corrupt chain of decimal-in-decimal ids cannot recurse).
std::string DescribeNested(uint8_t raw_id, std::string_view payload) {
  const CodecInfo* info = FindCodec(raw_id);
  if (info == nullptr || info->decode_ints == nullptr) {
    return StrCat("invalid(", static_cast<int>(raw_id), ")");
  }
  return DescribePayload(info->id, payload);
}

std::string DescribePayload(CodecId id, std::string_view payload) {
  std::string name = CodecName(id);
  Decoder d(payload);
  switch (id) {
    case CodecId::kIntDeltaBitpack:
    case CodecId::kIntDeltaHuffman: {
      uint8_t order;
      if (!d.GetFixed8(&order)) return name;
      return StrCat(name, "(order=", static_cast<int>(order), ")");
    }
    case CodecId::kDecimal: {
      uint8_t scale, inner;
      if (!d.GetFixed8(&scale) || !d.GetFixed8(&inner)) return name;
      return StrCat(name, "(scale=", static_cast<int>(scale), ",",
                    DescribeNested(inner, payload.substr(2)), ")");
    }
    case CodecId::kArray: {
      uint8_t element, counts, elements;
      std::string_view counts_payload, rest;
      if (!d.GetFixed8(&element) || !d.GetFixed8(&counts) ||
          !d.GetLengthPrefixed(&counts_payload) || !d.GetFixed8(&elements)) {
        return name;
      }
      d.GetBytes(d.remaining(), &rest);
      // Elements are never text, so this does not recurse into another array.
      const CodecInfo* info = FindCodec(elements);
      std::string inner = info == nullptr || info->decode_text != nullptr
                              ? StrCat("invalid(", static_cast<int>(elements), ")")
                              : DescribePayload(info->id, rest);
      return StrCat(name, "(", ColumnTypeName(static_cast<ColumnType>(element)),
                    ",counts=", DescribeNested(counts, counts_payload), ",elements=", inner, ")");
    }
    case CodecId::kUuid: {
      uint64_t count;
      if (!d.GetVarint64(&count)) return name;
      return StrCat(name, "(entries=", count, ")");
    }
    case CodecId::kZstdDictionary: {
      uint64_t raw;
      if (!d.GetVarint64(&raw)) return name;
      return StrCat(name, "(level=", codec::zstd_dictionary::kLevel, ",raw=", raw, ")");
    }
    case CodecId::kDictionary: {
      uint64_t count;
      if (!d.GetVarint64(&count)) return name;
      for (uint64_t i = 0; i < count; ++i) {
        std::string_view entry;
        if (!d.GetLengthPrefixed(&entry)) return name;
      }
      uint8_t ids;
      if (!d.GetFixed8(&ids)) return name;
      std::string_view rest;
      d.GetBytes(d.remaining(), &rest);
      return StrCat(name, "(entries=", count, ",", DescribeNested(ids, rest), ")");
    }
    default:
      return name;
  }
}

absl::Status EncodeInts(CodecId codec, std::span<const int64_t> values, std::string* out) {
  ASSIGN_OR_RETURN(const CodecInfo* info, ForEncode(codec, kDomainInts));
  return info->encode_ints(values, out);
}
absl::Status DecodeInts(CodecId codec, std::string_view in, size_t n, int64_t* out) {
  ASSIGN_OR_RETURN(const CodecInfo* info, ForDecode(codec, kDomainInts));
  return info->decode_ints(in, n, out);
}
absl::Status EncodeDoubles(CodecId codec, std::span<const double> values, std::string* out) {
  ASSIGN_OR_RETURN(const CodecInfo* info, ForEncode(codec, kDomainDoubles));
  return info->encode_doubles(values, out);
}
absl::Status DecodeDoubles(CodecId codec, std::string_view in, size_t n, double* out) {
  ASSIGN_OR_RETURN(const CodecInfo* info, ForDecode(codec, kDomainDoubles));
  return info->decode_doubles(in, n, out);
}
absl::Status EncodeBools(CodecId codec, std::span<const uint8_t> values, std::string* out) {
  ASSIGN_OR_RETURN(const CodecInfo* info, ForEncode(codec, kDomainBools));
  return info->encode_bools(values, out);
}
absl::Status DecodeBools(CodecId codec, std::string_view in, size_t n, uint8_t* out) {
  ASSIGN_OR_RETURN(const CodecInfo* info, ForDecode(codec, kDomainBools));
  return info->decode_bools(in, n, out);
}
absl::Status EncodeStrings(CodecId codec, std::span<const std::string_view> values,
                           std::string* out) {
  ASSIGN_OR_RETURN(const CodecInfo* info, ForEncode(codec, kDomainStrings));
  return info->encode_strings(values, out);
}
absl::Status DecodeStrings(CodecId codec, std::string_view in, size_t n,
                           std::vector<std::string>* dict, std::vector<uint32_t>* ids) {
  ASSIGN_OR_RETURN(const CodecInfo* info, ForDecode(codec, kDomainStrings));
  return info->decode_strings(in, n, dict, ids);
}

absl::Status EncodeText(CodecId codec, ColumnType type, std::span<const std::string_view> values,
                        std::string* out) {
  const CodecInfo* info = FindCodec(codec);
  if (info != nullptr && info->encode_text != nullptr) return info->encode_text(type, values, out);
  return EncodeStrings(codec, values, out);
}

absl::Status DecodeText(CodecId codec, ColumnType type, std::string_view in, size_t n,
                        std::vector<std::string>* dict, std::vector<uint32_t>* ids) {
  const CodecInfo* info = FindCodec(codec);
  if (info != nullptr && info->decode_text != nullptr) {
    return info->decode_text(type, in, n, dict, ids);
  }
  return DecodeStrings(codec, in, n, dict, ids);
}

absl::Status EncodeValidity(std::span<const uint8_t> valid, std::string* out) {
  return codec::bitmap::EncodeBools(valid, out);
}
absl::Status DecodeValidity(std::string_view in, size_t n, uint8_t* out) {
  return codec::bitmap::DecodeBools(in, n, out);
}

absl::StatusOr<CodecId> EncodeIntsBest(std::span<const int64_t> values, bool is_timestamp,
                                       std::string* out) {
  if (values.empty()) return CodecId::kPlain;
  auto encoder = [](const CodecInfo& info) { return info.encode_ints; };
  // All equal: constant (one varint) beats every codec but plain, which wins for a single
  // value of over 8 varint bytes.
  if (codec::constant::AllEqual(values)) {
    return EncodeSmallest(values, kDomainInts, {CodecId::kConstant, CodecId::kPlain}, encoder, out);
  }
  // run_length spends at least two bytes a run; counted only when it gets that far.
  size_t runs = 0;
  auto run_bound = [&](CodecId id) {
    if (id != CodecId::kRunLength) return size_t{0};
    if (runs == 0) runs = codec::run_length::CountRuns(values);
    return 2 * runs;
  };
  if (is_timestamp) {
    return EncodeSmallest(values, kDomainInts,
                          {CodecId::kIntDeltaBitpack, CodecId::kRunLength,
                           CodecId::kIntDeltaHuffman, CodecId::kDeltaOfDelta, CodecId::kPlain},
                          encoder, out, run_bound);
  }
  return EncodeSmallest(
      values, kDomainInts,
      {CodecId::kIntDeltaBitpack, CodecId::kRunLength, CodecId::kIntDeltaHuffman, CodecId::kPlain},
      encoder, out, run_bound);
}

absl::StatusOr<CodecId> EncodeDoublesBest(std::span<const double> values, std::string* out) {
  if (values.empty()) return CodecId::kPlain;
  auto encoder = [](const CodecInfo& info) { return info.encode_doubles; };
  // A constant block: 8 bytes, or fewer as a decimal (58.0 takes 3).
  if (codec::constant::AllEqual(values)) {
    return EncodeSmallest(values, kDomainDoubles, {CodecId::kConstant, CodecId::kDecimal}, encoder,
                          out);
  }
  // decimal refuses quickly (at the first value needing more than 9 digits) when it
  // does not apply.
  return EncodeSmallest(values, kDomainDoubles,
                        {CodecId::kDecimal, CodecId::kGorillaXor, CodecId::kPlain}, encoder, out);
}

absl::StatusOr<CodecId> EncodeBoolsBest(std::span<const uint8_t> values, std::string* out) {
  if (!codec::AllZeroOrOne(values.data(), values.size())) {
    return absl::InvalidArgumentError("bool values must be 0 or 1");
  }
  if (values.empty()) return CodecId::kPlain;
  if (codec::constant::AllEqual(values)) {
    RETURN_IF_ERROR(codec::constant::EncodeBools(values, out));
    return CodecId::kConstant;
  }
  auto encoder = [](const CodecInfo& info) { return info.encode_bools; };
  return EncodeSmallest(values, kDomainBools, {CodecId::kBitmap, CodecId::kRunLength}, encoder,
                        out);
}

absl::StatusOr<CodecId> EncodeStringsBest(std::span<const std::string_view> values,
                                          std::string* out) {
  if (values.empty()) return CodecId::kPlain;
  auto encoder = [](const CodecInfo& info) { return info.encode_strings; };
  return EncodeSmallest(values, kDomainStrings, {CodecId::kDictionary, CodecId::kPlain}, encoder,
                        out);
}

namespace {

// What the segment writer's block compression (zstd level 3, or none under 64
// bytes) makes of `block`: `*z` gets the frame (empty when not compressed) and
// the size returned is the smaller of it and the block. Byte for byte what
// ZSTD_compress at level 3 writes, so the writer can store `*z` as it is.
size_t CompressLikeTheBlock(std::string_view block, std::string* z) {
  z->clear();
  if (block.size() < 64) return block.size();
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(),
                                                                       ZSTD_freeCCtx);
  z->resize(ZSTD_compressBound(block.size()));
  const size_t n = ZSTD_compressCCtx(cctx.get(), z->data(), z->size(), block.data(), block.size(),
                                     /*compressionLevel=*/3);
  if (ZSTD_isError(n)) {
    z->clear();
    return block.size();
  }
  z->resize(n);
  // Only the frame is kept, not compressBound of the block.
  if (z->capacity() > 2 * n + 4096) z->shrink_to_fit();
  return std::min(n, block.size());
}

}  // namespace

absl::StatusOr<CodecId> EncodeTextBest(ColumnType type, std::span<const std::string_view> values,
                                       std::string* out, std::string* block_zstd) {
  if (block_zstd != nullptr) block_zstd->clear();
  if (values.empty()) return CodecId::kPlain;
  // Random uuids do not compress; repeated ones are what the dictionaries are for.
  // Candidates, ties to the first: uuid, dictionary; array, dictionary,
  // zstd_dictionary; json dictionary, zstd_dictionary.
  const bool is_uuid = type == ColumnType::kUuid;
  const std::optional<CodecId> typed = is_uuid             ? std::optional(CodecId::kUuid)
                                       : IsArrayType(type) ? std::optional(CodecId::kArray)
                                                           : std::nullopt;
  // Each candidate is the whole block (what *out holds already, then the
  // payload), measured after the block compression; zstd_dictionary is
  // compressed already and measured as it is (the block compression gains
  // nothing on it).
  const size_t prefix = out->size();
  std::string best, best_z, z;
  size_t best_size = 0;
  CodecId best_id = CodecId::kPlain;
  bool have = false;
  auto offer = [&](CodecId id, std::string* block, std::string* frame, size_t size) {
    if (have && size >= best_size) return;
    best.swap(*block);
    best_z.swap(*frame);
    best_size = size;
    best_id = id;
    have = true;
  };
  if (typed) {
    std::string block(*out);
    if (EncodeText(*typed, type, values, &block).ok()) {  // not canonical text: refused
      const size_t size = CompressLikeTheBlock(block, &z);
      offer(*typed, &block, &z, size);
    }
  }
  // One dictionary payload for both dictionary candidates.
  std::string dict_block(*out);
  if (codec::dictionary::EncodeStrings(values, &dict_block).ok()) {
    std::string zstd_block(*out);
    const bool zstd_ok = !is_uuid && codec::zstd_dictionary::CompressDictionary(
                                         std::string_view(dict_block).substr(prefix), &zstd_block)
                                         .ok();
    const size_t size = CompressLikeTheBlock(dict_block, &z);
    offer(CodecId::kDictionary, &dict_block, &z, size);
    if (zstd_ok) {
      std::string none;
      const size_t zsize = zstd_block.size();
      offer(CodecId::kZstdDictionary, &zstd_block, &none, zsize);
    }
  }
  if (!have) {  // plain holds anything
    out->resize(prefix);
    RETURN_IF_ERROR(EncodeStrings(CodecId::kPlain, values, out));
    return CodecId::kPlain;
  }
  out->swap(best);
  if (block_zstd != nullptr) block_zstd->swap(best_z);
  return best_id;
}

CodecId ChooseIntCodec(std::span<const int64_t> values, bool is_timestamp) {
  std::string scratch;
  return EncodeIntsBest(values, is_timestamp, &scratch).value_or(CodecId::kPlain);
}
CodecId ChooseDoubleCodec(std::span<const double> values) {
  std::string scratch;
  return EncodeDoublesBest(values, &scratch).value_or(CodecId::kPlain);
}
CodecId ChooseBoolCodec(std::span<const uint8_t> values) {
  std::string scratch;
  return EncodeBoolsBest(values, &scratch).value_or(CodecId::kPlain);
}
CodecId ChooseStringCodec(std::span<const std::string_view> values) {
  std::string scratch;
  return EncodeStringsBest(values, &scratch).value_or(CodecId::kPlain);
}

}  // namespace timestore
