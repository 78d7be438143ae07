#include "wal/log_reader.h"

#include "absl/status/status.h"
#include "common/checksum.h"
#include "common/coding.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace timestore::wal {
namespace {

bool AllZero(std::string_view s) {
  for (char c : s)
    if (c != 0) return false;
  return true;
}

// True when an intact record (type set, checksum good) starts anywhere after
// `pos`. A torn append only ever loses the end of the file, so damage followed
// by an intact record is corruption, whatever the damaged header claims.
// Whether an intact record starts anywhere after `pos`. Only candidates with a
// known record type and a sequence number just after `last_seq` are
// checksummed, so a long garbage tail costs a linear scan, not one checksum
// per byte offset.
bool IntactRecordAfter(std::string_view data, uint64_t pos, uint64_t last_seq) {
  for (uint64_t q = pos + 1; q + kRecordHeaderSize <= data.size(); ++q) {
    const char* h = data.data() + q;
    uint32_t len = DecodeFixed32(h + 8);
    uint8_t type = static_cast<uint8_t>(h[12]);
    uint64_t seq = DecodeFixed64(h + 13);
    if (type == 0 || type > static_cast<uint8_t>(RecordType::kMultiRowBatch)) continue;
    if (seq <= last_seq || (last_seq > 0 && seq - last_seq > (uint64_t{1} << 32))) continue;
    if (len > data.size() - q - kRecordHeaderSize) continue;
    if (Checksum64(h + 8, kRecordHeaderSize - 8 + len) == DecodeFixed64(h)) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<LogFile> ParseLog(std::string path, std::string contents, uint32_t magic,
                                 TailPolicy policy) {
  LogFile out;
  out.path = std::move(path);
  out.contents = std::move(contents);
  std::string_view data = out.contents;
  if (data.size() < kFileHeaderSize) {
    // A file cut short while its header was written holds no records.
    if (policy != TailPolicy::kStrict) {
      out.dropped_bytes = data.size();
      out.drop_reason = "file header incomplete";
      return out;
    }
    return absl::DataLossError(
        StrCat(out.path, ": file is ", data.size(), " bytes, shorter than the log file header"));
  }
  uint32_t got_magic = DecodeFixed32(data.data());
  uint32_t version = DecodeFixed32(data.data() + 4);
  if (got_magic != magic) {
    return absl::DataLossError(
        StrCat(out.path, ": bad magic at offset 0 (not a Timestore log of this kind)"));
  }
  if (version != kLogFormatVersion) {
    return absl::FailedPreconditionError(StrCat(out.path, ": log format version ", version,
                                                " is not supported (expected ", kLogFormatVersion,
                                                ")"));
  }

  uint64_t pos = kFileHeaderSize;
  uint64_t last_seq = 0;
  while (pos < data.size()) {
    std::string_view rest = data.substr(pos);
    std::string problem;
    bool torn = false;
    if (rest.size() < kRecordHeaderSize) {
      problem = "incomplete record header";
      torn = true;
    } else {
      uint64_t sum = DecodeFixed64(rest.data());
      uint32_t len = DecodeFixed32(rest.data() + 8);
      auto type = static_cast<RecordType>(static_cast<uint8_t>(rest[12]));
      uint64_t seq = DecodeFixed64(rest.data() + 13);
      // Damaged bytes are a torn write when no intact record follows them
      // (checked below). Judging by the damaged length alone would let a flipped
      // length that points past the end hide every acknowledged record after it.
      torn = true;
      if (AllZero(rest.substr(0, kRecordHeaderSize))) {
        problem = "zero-filled bytes where a record header was expected";
      } else if (len > kMaxPayloadBytes) {
        problem = StrCat("record length ", len, " exceeds the maximum");
      } else if (kRecordHeaderSize + uint64_t{len} > rest.size()) {
        problem = StrCat("record of ", len, " bytes extends past the end of the file");
      } else if (Checksum64(rest.data() + 8, kRecordHeaderSize - 8 + len) != sum) {
        problem = "checksum mismatch";
      } else if (type == RecordType::kInvalid) {
        problem = "record type 0";
        torn = false;  // intact bytes with wrong contents were written that way
      } else if (seq <= last_seq && !out.records.empty()) {
        problem = StrCat("sequence number ", seq, " does not follow ", last_seq);
        torn = false;
      } else {
        out.records.push_back(LogRecord{type, seq, pos, rest.substr(kRecordHeaderSize, len)});
        last_seq = seq;
        pos += kRecordHeaderSize + len;
        continue;
      }
    }
    // A damaged record at `pos`.
    if (torn && policy == TailPolicy::kTornTailOnly) torn = !IntactRecordAfter(data, pos, last_seq);
    if (policy == TailPolicy::kTruncate || (policy == TailPolicy::kTornTailOnly && torn)) {
      out.dropped_bytes = data.size() - pos;
      out.drop_reason = StrCat(problem, " at offset ", pos);
      break;
    }
    return absl::DataLossError(StrCat(out.path, ": corrupt record at offset ", pos, ": ", problem,
                                      " (", data.size() - pos,
                                      " bytes from there on cannot be read)"));
  }
  out.valid_bytes = data.size() - out.dropped_bytes;
  return out;
}

absl::StatusOr<LogFile> ReadLog(Env* env, const std::string& path, uint32_t magic,
                                TailPolicy policy) {
  ASSIGN_OR_RETURN(std::string contents, env->ReadFile(path));
  return ParseLog(path, std::move(contents), magic, policy);
}

}  // namespace timestore::wal
