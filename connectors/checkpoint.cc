#include "connectors/checkpoint.h"

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

StartPlan PlanStart(
    const std::optional<StreamCheckpoint>& checkpoint, const std::string& path,
    const std::optional<FileIdentity>& path_id,
    const std::function<std::optional<std::pair<std::string, FileIdentity>>(uint64_t inode)>&
        find_inode,
    bool start_at_oldest) {
  StartPlan plan;
  if (!checkpoint) {
    if (!path_id) return plan;  // wait for the file; it starts at 0 when it appears
    plan.file = path;
    plan.offset = start_at_oldest ? 0 : path_id->size;
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
  if (auto old = find_inode(checkpoint->inode)) {
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
