#include "segment/codec/zstd_dictionary.h"

#include <zstd.h>

#include <memory>

#include "segment/codec/codec_internal.h"
#include "segment/codec/dictionary.h"

namespace timestore::codec::zstd_dictionary {

absl::Status EncodeStrings(std::span<const std::string_view> values, std::string* out) {
  std::string raw;
  if (absl::Status s = dictionary::EncodeStrings(values, &raw); !s.ok()) return s;
  return CompressDictionary(raw, out);
}

absl::Status CompressDictionary(std::string_view raw, std::string* out) {
  if (raw.size() > kMaxRawLength) {
    return CannotEncode(kName, raw.size(), " bytes of dictionary, more than ", kMaxRawLength);
  }
  // Compressed in place after raw_length; `*out` is cut back if the frame is refused.
  const size_t start = out->size();
  PutVarint64(out, raw.size());
  const size_t frame_pos = out->size();
  out->resize(frame_pos + ZSTD_compressBound(raw.size()));
  // One context per thread: a new one per block would clear level 9's tables each time.
  thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(),
                                                                       ZSTD_freeCCtx);
  const size_t len = ZSTD_compressCCtx(cctx.get(), out->data() + frame_pos, out->size() - frame_pos,
                                       raw.data(), raw.size(), kLevel);
  if (ZSTD_isError(len)) {
    out->resize(start);
    return CannotEncode(kName, ZSTD_getErrorName(len));
  }
  if (raw.size() > MaxRawLength(len)) {
    out->resize(start);
    return CannotEncode(kName, raw.size(), " bytes compress beyond the ratio a decoder accepts");
  }
  out->resize(frame_pos + len);
  return absl::OkStatus();
}

absl::Status DecodeStrings(std::string_view in, size_t n, std::vector<std::string>* dict,
                           std::vector<uint32_t>* ids) {
  dict->clear();
  ids->clear();
  Decoder d(in);
  uint64_t raw_length;
  if (!d.GetVarint64(&raw_length)) return Corrupt(kName, "missing raw length");
  std::string_view frame;
  d.GetBytes(d.remaining(), &frame);
  // Checked before anything is allocated: the limit, the ratio, then that the
  // payload is exactly one frame (a skippable frame after it would inflate
  // the ratio's allowance) whose header states raw_length.
  if (raw_length > kMaxRawLength) {
    return Corrupt(kName, "raw length ", raw_length, " over the limit of ", kMaxRawLength);
  }
  if (raw_length > MaxRawLength(frame.size())) {
    return Corrupt(kName, "raw length ", raw_length, " for a frame of ", frame.size(), " bytes");
  }
  const size_t frame_size = ZSTD_findFrameCompressedSize(frame.data(), frame.size());
  if (ZSTD_isError(frame_size) || frame_size != frame.size()) {
    return Corrupt(kName, "the ", frame.size(),
                   " bytes after the raw length are not one zstd frame");
  }
  const unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (content != raw_length)
    return Corrupt(kName, "the frame does not hold ", raw_length, " bytes");
  std::string raw(raw_length, '\0');
  const size_t got = ZSTD_decompress(raw.data(), raw.size(), frame.data(), frame.size());
  if (ZSTD_isError(got) || got != raw_length) {
    return Corrupt(kName, "the frame does not decompress to ", raw_length, " bytes");
  }
  absl::Status s = dictionary::DecodeStrings(raw, n, dict, ids);
  if (!s.ok()) return Corrupt(kName, ToStd(s.message()));
  return absl::OkStatus();
}

}  // namespace timestore::codec::zstd_dictionary
