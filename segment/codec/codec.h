// Column codecs of the segment format: the byte formats of one encoded column block and
// the uniform API the segment writer, reader, `timestore inspect` and tests use.
//
// A column block is `n` values of one value domain, encoded by one codec. The block's
// codec id and row count `n` are stored outside the payload (in the segment footer),
// so a payload carries neither; every decoder is called with the `n` the footer states.
// Each codec's payload grammar is documented in its own header:
//
//   id  name               domains                   header
//   0   plain              ints doubles bools strings codec/plain.h
//   1   delta_of_delta     ints                      codec/delta_of_delta.h
//   2   gorilla_xor        doubles                   codec/gorilla_xor.h
//   3   decimal            doubles                   codec/decimal.h
//   4   int_delta_bitpack  ints                      codec/int_delta_bitpack.h
//   5   run_length         ints bools                codec/run_length.h
//   6   dictionary         strings                   codec/dictionary.h
//   7   bitmap             bools (and validity)      codec/bitmap.h
//   8   constant           ints doubles bools        codec/constant.h
//   9   int_delta_huffman  ints                      codec/int_delta_huffman.h
//   10  uuid               text (uuid)               codec/uuid.h
//   11  zstd_dictionary    strings (and text)        codec/zstd_dictionary.h
//   12  array              text (arrays)             codec/array.h
//
// Value domains: ints are int64 (timestamps in ns, integers, and the scaled integers
// inside `decimal` and the ids inside `dictionary`); doubles round-trip bit for bit (NaN
// payloads, -0.0, denormals, ±Inf); bools are bytes 0/1; strings are arbitrary bytes;
// validity is one byte per row (1 = value present, 0 = null), always a `bitmap`.
// Text is the canonical text of a json, uuid or array value (segment/typed_text.h),
// decoded like strings into a dictionary and ids; null rows hold the empty string.
// Every strings codec also holds text; the text codecs (domain `text`) know the
// column type and hold only the types they were made for.
//
// Decoders treat the payload as hostile: they never read outside it, never allocate
// from a length field beyond what `n` and the payload size allow, never crash, and
// report malformed input as absl::DataLossError naming the codec and what is wrong.
// Encoders return InvalidArgumentError when a codec cannot represent the values
// (e.g. `constant` on varying values, `decimal` on NaN) or does not serve the domain.
//
// All functions are thread-safe (no shared state). Encoders append to `*out`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "segment/column.h"

namespace timestore {

// on disk (segment footer): never renumber; retired ids stay listed as comments.
enum class CodecId : uint8_t {
  kPlain = 0,
  kDeltaOfDelta = 1,
  kGorillaXor = 2,
  kDecimal = 3,
  kIntDeltaBitpack = 4,
  kRunLength = 5,
  kDictionary = 6,
  kBitmap = 7,
  kConstant = 8,
  kIntDeltaHuffman = 9,
  kUuid = 10,
  kZstdDictionary = 11,
  kArray = 12,
};

// Value domains, as bits of CodecInfo::domains.
enum CodecDomain : uint8_t {
  kDomainInts = 1,
  kDomainDoubles = 2,
  kDomainBools = 4,
  kDomainStrings = 8,
  kDomainText = 16,  // needs the column type: encode_text / decode_text
};

// ---- int64 (timestamps, integers) ----
absl::Status EncodeInts(CodecId codec, std::span<const int64_t> values, std::string* out);
// REQUIRES: `out` has room for `n` values.
absl::Status DecodeInts(CodecId codec, std::string_view in, size_t n, int64_t* out);

// ---- doubles ----
absl::Status EncodeDoubles(CodecId codec, std::span<const double> values, std::string* out);
absl::Status DecodeDoubles(CodecId codec, std::string_view in, size_t n, double* out);

// ---- booleans (bytes 0/1; anything else is InvalidArgument) ----
absl::Status EncodeBools(CodecId codec, std::span<const uint8_t> values, std::string* out);
absl::Status DecodeBools(CodecId codec, std::string_view in, size_t n, uint8_t* out);

// ---- strings ----
absl::Status EncodeStrings(CodecId codec, std::span<const std::string_view> values,
                           std::string* out);
// Decodes into a dictionary of distinct strings and one id per row (the in-memory
// ColumnVector representation): value i is (*dict)[(*ids)[i]]. Both are replaced.
absl::Status DecodeStrings(CodecId codec, std::string_view in, size_t n,
                           std::vector<std::string>* dict, std::vector<uint32_t>* ids);

// ---- text: json, uuid and array columns (IsStringLike, not kString) ----
// A strings codec (plain, dictionary, zstd_dictionary) or a text codec serving `type`.
absl::Status EncodeText(CodecId codec, ColumnType type, std::span<const std::string_view> values,
                        std::string* out);
absl::Status DecodeText(CodecId codec, ColumnType type, std::string_view in, size_t n,
                        std::vector<std::string>* dict, std::vector<uint32_t>* ids);

// ---- validity (bytes 0/1, 1 = present), always the bitmap codec ----
absl::Status EncodeValidity(std::span<const uint8_t> valid, std::string* out);
absl::Status DecodeValidity(std::string_view in, size_t n, uint8_t* out);

// ---- choice by measurement ----
// Each Encode*Best encodes `values` with every candidate codec of the domain, appends the
// smallest payload to `*out` and returns its id. This is what the segment writer calls
// per block. Cheap analysis first: an all-equal block only tries `constant` (and what can
// beat it), and a candidate whose lower bound from its format (e.g. a bit per value for
// bit-stream codecs, two bytes per run for run_length) already reaches the best size so
// far is not encoded. Ties go to the candidate tried first; candidates are tried
// fastest-decoding first. `is_timestamp` adds delta_of_delta to the int candidates.
// The Choose* forms only report the winner (kPlain for empty input or bools not 0/1).
absl::StatusOr<CodecId> EncodeIntsBest(std::span<const int64_t> values, bool is_timestamp,
                                       std::string* out);
absl::StatusOr<CodecId> EncodeDoublesBest(std::span<const double> values, std::string* out);
absl::StatusOr<CodecId> EncodeBoolsBest(std::span<const uint8_t> values, std::string* out);
absl::StatusOr<CodecId> EncodeStringsBest(std::span<const std::string_view> values,
                                          std::string* out);
// By type: uuid tries uuid, dictionary; arrays array, dictionary,
// zstd_dictionary; json dictionary, zstd_dictionary; plain when none applies. Unlike
// the others it compares the whole block after the block compression: what `*out`
// holds already (the writer's validity part) and the payload, through zstd level 3
// (none under 64 bytes), except zstd_dictionary, compressed already, which counts as
// it is. The dictionary payload is built once for both dictionary candidates. A text
// codec refuses values that are not canonical text of its type, so such a block
// still encodes. When `block_zstd` is given it receives the winner's measured frame,
// exactly what ZSTD_compress at level 3 writes for all of `*out`, so the block
// compression need not compress again; it is left empty when none was measured
// (zstd_dictionary or plain won, or the block is under 64 bytes).
absl::StatusOr<CodecId> EncodeTextBest(ColumnType type, std::span<const std::string_view> values,
                                       std::string* out, std::string* block_zstd = nullptr);
CodecId ChooseIntCodec(std::span<const int64_t> values, bool is_timestamp);
CodecId ChooseDoubleCodec(std::span<const double> values);
CodecId ChooseBoolCodec(std::span<const uint8_t> values);
CodecId ChooseStringCodec(std::span<const std::string_view> values);

// ---- registry ----
using EncodeIntsFn = absl::Status (*)(std::span<const int64_t>, std::string*);
using DecodeIntsFn = absl::Status (*)(std::string_view, size_t, int64_t*);
using EncodeDoublesFn = absl::Status (*)(std::span<const double>, std::string*);
using DecodeDoublesFn = absl::Status (*)(std::string_view, size_t, double*);
using EncodeBoolsFn = absl::Status (*)(std::span<const uint8_t>, std::string*);
using DecodeBoolsFn = absl::Status (*)(std::string_view, size_t, uint8_t*);
using EncodeStringsFn = absl::Status (*)(std::span<const std::string_view>, std::string*);
using DecodeStringsFn = absl::Status (*)(std::string_view, size_t, std::vector<std::string>*,
                                         std::vector<uint32_t>*);
using EncodeTextFn = absl::Status (*)(ColumnType, std::span<const std::string_view>, std::string*);
using DecodeTextFn = absl::Status (*)(ColumnType, std::string_view, size_t,
                                      std::vector<std::string>*, std::vector<uint32_t>*);

// One codec: its frozen id, its name (as `timestore inspect` prints it), the value
// domains it serves (CodecDomain bits) and its functions (null outside its domains).
struct CodecInfo {
  CodecId id;
  std::string_view name;
  uint8_t domains;
  EncodeIntsFn encode_ints;
  DecodeIntsFn decode_ints;
  EncodeDoublesFn encode_doubles;
  DecodeDoublesFn decode_doubles;
  EncodeBoolsFn encode_bools;
  DecodeBoolsFn decode_bools;
  EncodeStringsFn encode_strings;
  DecodeStringsFn decode_strings;
  EncodeTextFn encode_text = nullptr;
  DecodeTextFn decode_text = nullptr;
};

// Every codec, in id order.
std::span<const CodecInfo> AllCodecs();
// The codec with this on-disk id, or null for an unknown id (a corrupt footer).
const CodecInfo* FindCodec(uint8_t raw_id);
inline const CodecInfo* FindCodec(CodecId id) { return FindCodec(static_cast<uint8_t>(id)); }
std::optional<CodecId> ParseCodecName(std::string_view name);
// "delta_of_delta", …; "unknown(<id>)" for ids not in the registry.
std::string CodecName(CodecId id);
// The codec's name plus what its payload header says about nested choices, for
// `timestore inspect` and the benchmarks: "decimal(scale=1,int_delta_huffman(order=1))",
// "dictionary(entries=2,int_delta_bitpack(order=1))". Best effort on malformed input
// (never fails, never reads out of bounds).
std::string DescribePayload(CodecId id, std::string_view payload);

}  // namespace timestore
