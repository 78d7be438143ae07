#include "wal/log_writer.h"

#include "common/checksum.h"
#include "common/coding.h"
#include "common/status_macros.h"

namespace timestore::wal {

void AppendFramedRecord(std::string* dst, RecordType type, uint64_t seq, std::string_view payload) {
  size_t start = dst->size();
  dst->resize(start + kRecordHeaderSize);
  dst->append(payload.data(), payload.size());
  char* h = dst->data() + start;
  EncodeFixed32(h + 8, static_cast<uint32_t>(payload.size()));
  h[12] = static_cast<char>(type);
  EncodeFixed64(h + 13, seq);
  uint64_t sum = Checksum64(h + 8, kRecordHeaderSize - 8 + payload.size());
  EncodeFixed64(h, sum);
}

std::string EncodeFileHeader(uint32_t magic) {
  std::string h;
  PutFixed32(&h, magic);
  PutFixed32(&h, kLogFormatVersion);
  PutFixed64(&h, 0);
  return h;
}

absl::StatusOr<std::unique_ptr<LogWriter>> LogWriter::Create(Env* env, const std::string& path,
                                                             uint32_t magic) {
  ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path));
  RETURN_IF_ERROR(file->Append(EncodeFileHeader(magic)));
  return std::unique_ptr<LogWriter>(new LogWriter(std::move(file)));
}

absl::StatusOr<std::unique_ptr<LogWriter>> LogWriter::OpenForAppend(Env* env,
                                                                    const std::string& path) {
  ASSIGN_OR_RETURN(auto file, env->NewAppendableFile(path));
  return std::unique_ptr<LogWriter>(new LogWriter(std::move(file)));
}

absl::Status LogWriter::AddRecord(RecordType type, uint64_t seq, std::string_view payload) {
  scratch_.clear();
  AppendFramedRecord(&scratch_, type, seq, payload);
  return AppendFramed(scratch_);
}

}  // namespace timestore::wal
