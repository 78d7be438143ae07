#include "connectors/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/checksum.h"
#include "common/env.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "simdjson.h"

namespace timestore::connectors {

std::string EncodeCheckpoint(const StreamCheckpoint& c) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("version").Uint(1);
  w.Key("path").String(c.path);
  w.Key("inode").Uint(c.inode);
  w.Key("offset").Uint(c.offset);
  w.Key("generation").Uint(c.generation);
  if (c.device != 0) w.Key("device").Uint(c.device);
  if (c.fingerprint_bytes != 0) {
    w.Key("fingerprint").Uint(c.fingerprint);
    w.Key("fingerprintBytes").Uint(c.fingerprint_bytes);
  }
  if (c.in_long_line) w.Key("insideLongLine").Bool(true);
  w.EndObject();
  out.push_back('\n');
  return out;
}

absl::StatusOr<StreamCheckpoint> DecodeCheckpoint(std::string_view text, std::string_view file) {
  auto bad = [&](std::string_view why) {
    return absl::DataLossError(StrCat("checkpoint ", file, ": ", why));
  };
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(text.data(), text.size()).get(obj) != simdjson::SUCCESS) {
    return bad("not a JSON object");
  }
  uint64_t version = 0;
  if (obj["version"].get(version) != simdjson::SUCCESS || version != 1) {
    return bad("version is missing or not 1");
  }
  StreamCheckpoint c;
  std::string_view path;
  if (obj["path"].get(path) != simdjson::SUCCESS) return bad("\"path\" is missing");
  c.path = std::string(path);
  if (obj["inode"].get(c.inode) != simdjson::SUCCESS) return bad("\"inode\" is missing");
  if (obj["offset"].get(c.offset) != simdjson::SUCCESS) return bad("\"offset\" is missing");
  if (obj["generation"].get(c.generation) != simdjson::SUCCESS) c.generation = 0;
  // Written since inode reuse is told apart; older checkpoints lack them.
  if (obj["device"].get(c.device) != simdjson::SUCCESS) c.device = 0;
  if (obj["fingerprintBytes"].get(c.fingerprint_bytes) != simdjson::SUCCESS ||
      obj["fingerprint"].get(c.fingerprint) != simdjson::SUCCESS ||
      c.fingerprint_bytes > c.offset || c.fingerprint_bytes > kFingerprintBytes) {
    c.fingerprint = c.fingerprint_bytes = 0;
  }
  if (obj["insideLongLine"].get(c.in_long_line) != simdjson::SUCCESS) c.in_long_line = false;
  return c;
}

absl::StatusOr<std::optional<StreamCheckpoint>> LoadCheckpoint(const std::string& file) {
  Env* env = Env::Default();
  if (!env->FileExists(file)) return std::optional<StreamCheckpoint>();
  auto text = env->ReadFile(file);
  if (!text.ok()) return text.status();
  auto c = DecodeCheckpoint(*text, file);
  if (!c.ok()) return c.status();
  return std::optional<StreamCheckpoint>(*c);
}

absl::Status SaveCheckpoint(const std::string& file, const StreamCheckpoint& c) {
  Env* env = Env::Default();
  size_t slash = file.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    if (auto s = env->CreateDirs(file.substr(0, slash)); !s.ok()) return s;
  }
  return WriteFileAtomically(env, file, EncodeCheckpoint(c));
}

std::optional<uint64_t> FingerprintOf(const std::string& file, uint64_t n) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string buf(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, buf.data() + got, n - got, got);
    if (r <= 0) break;
    got += r;
  }
  ::close(fd);
  if (got < n) return std::nullopt;
  return Checksum64(buf);
}

StartPlan PlanStart(
    const std::optional<StreamCheckpoint>& checkpoint, const std::string& path,
    const std::optional<FileIdentity>& path_id,
    const std::function<std::optional<std::pair<std::string, FileIdentity>>(uint64_t inode)>&
        find_inode,
    bool start_at_oldest, const FingerprintFn& fingerprint) {
  StartPlan plan;
  // Whether `file` (with that identity) is the checkpoint's file: its inode,
  // and its device and first bytes when the checkpoint recorded them. A file
  // shorter than the fingerprint is a truncation, judged by the caller.
  auto same_file = [&](const std::string& file, const FileIdentity& id) {
    if (id.inode != checkpoint->inode) return false;
    if (checkpoint->device != 0 && id.device != 0 && id.device != checkpoint->device) return false;
    if (checkpoint->fingerprint_bytes == 0 || !fingerprint ||
        id.size < checkpoint->fingerprint_bytes) {
      return true;
    }
    auto fp = fingerprint(file, checkpoint->fingerprint_bytes);
    return !fp || *fp == checkpoint->fingerprint;
  };
  if (!checkpoint) {
    if (!path_id) return plan;  // wait for the file; it starts at 0 when it appears
    plan.file = path;
    plan.offset = start_at_oldest ? 0 : path_id->size;
    return plan;
  }
  if (path_id && path_id->inode == checkpoint->inode && !same_file(path, *path_id)) {
    // The inode is the checkpoint's, the file is not (deleted and created
    // anew, the inode reused): a new file, from its start.
    plan.file = path;
    plan.offset = 0;
    plan.note = StrCat(path, " has the checkpoint's inode ", checkpoint->inode,
                       " but other content (its first ", checkpoint->fingerprint_bytes,
                       " bytes differ): a new file reusing the inode, reading it from the start");
    return plan;
  }
  if (path_id && path_id->inode == checkpoint->inode) {
    plan.file = path;
    plan.offset = checkpoint->offset;
    if (path_id->size < checkpoint->offset) {
      plan.offset = 0;
      plan.note = StrCat(path, " is shorter (", path_id->size, " bytes) than the checkpoint (",
                         checkpoint->offset, "): truncated, reading it from the start");
    }
    return plan;
  }
  // The path is another file now: rotated while the server was down. Finish
  // the checkpointed file under its new name first, if it is still beside it.
  if (auto old = find_inode(checkpoint->inode); old && same_file(old->first, old->second)) {
    plan.file = old->first;
    plan.offset = std::min(checkpoint->offset, old->second.size);
    plan.rotated = true;
    return plan;
  }
  if (!path_id) return plan;
  plan.file = path;
  plan.offset = 0;
  plan.note = StrCat("the checkpointed file (inode ", checkpoint->inode, ", offset ",
                     checkpoint->offset, ") is no longer beside ", path,
                     "; lines written to it after the checkpoint were not read; reading ", path,
                     " from the start");
  return plan;
}

}  // namespace timestore::connectors
