#include <cctype>
#include <cmath>

#include "common/env.h"
#include "common/json_writer.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "migrate/migrator_internal.h"

namespace timestore::migrate::internal {

// `<dataset>-<partition start>-<column>.jsonl`, the column percent-encoded
// (all but letters, digits, '_', '-' and '.'; a name of dots alone entirely):
// a column name may hold '/', '..' or anything else but a control character.
std::string ArchiveName(const std::string& slug, int64_t partition, const std::string& column) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const bool dots_only = column.find_first_not_of('.') == std::string::npos;
  std::string enc;
  for (unsigned char ch : column) {
    if (std::isalnum(ch) || ch == '_' || ch == '-' || (ch == '.' && !dots_only)) {
      enc.push_back(static_cast<char>(ch));
    } else {
      enc.push_back('%');
      enc.push_back(kHex[ch >> 4]);
      enc.push_back(kHex[ch & 15]);
    }
  }
  return StrCat(slug, "-", partition, "-", enc, ".jsonl");
}

// The directory of one migration's archive files: <archive dir>/<migration id>,
// so two migrations that drop a column of the same name never share a file.
std::string MigrationArchiveDir(const std::string& base, const std::string& id) {
  return JoinPath(base, id);
}

namespace {

// One cell as a JSON value (timestamps as RFC 3339 text).
void WriteCell(JsonWriter& w, const ColumnVector& c, size_t row) {
  if (c.IsNull(row)) {
    w.Null();
    return;
  }
  switch (c.type) {
    case ColumnType::kTimestamp:
      w.String(FormatRfc3339(c.ints[row]));
      break;
    case ColumnType::kInteger:
      w.Int(c.ints[row]);
      break;
    case ColumnType::kDouble:
      // JSON has no NaN or infinities: they are written as strings (a
      // JSON null is a null value, which is not archived).
      if (std::isnan(c.doubles[row])) {
        w.String("NaN");
      } else if (std::isinf(c.doubles[row])) {
        w.String(c.doubles[row] > 0 ? "Infinity" : "-Infinity");
      } else {
        w.Double(c.doubles[row]);
      }
      break;
    case ColumnType::kBoolean:
      w.Bool(c.bools[row] != 0);
      break;
    case ColumnType::kString:
    case ColumnType::kUuid:
      w.String(c.dict[c.ids[row]]);
      break;
    case ColumnType::kJson:
    case ColumnType::kDoubleArray:
    case ColumnType::kIntegerArray:
    case ColumnType::kStringArray:
    case ColumnType::kBooleanArray:
      // Canonical JSON text (segment/typed_text.h): the value itself, so a
      // json object is archived as an object and an array as an array.
      w.Raw(c.dict[c.ids[row]]);
      break;
  }
}

}  // namespace

// The archive lines of a block: one per non-null value of each dropped column.
absl::Status ArchiveBlock(const Plan& plan, std::span<const ColumnVector* const> inputs,
                          uint32_t rows, const ColumnVector* time, std::vector<std::string>* lines,
                          uint64_t* values) {
  for (size_t a = 0; a < plan.archives.size(); ++a) {
    ASSIGN_OR_RETURN(ColumnVector v, plan.archives[a].expr.Evaluate(inputs, rows, time));
    for (uint32_t r = 0; r < rows; ++r) {
      if (v.IsNull(r)) continue;
      std::string line;
      JsonWriter w(&line);
      w.BeginObject().Key("ts").String(FormatRfc3339(time->ints[r]));
      w.Key("series").BeginObject();
      for (const auto& [name, in] : plan.series) {
        w.Key(name);
        if (inputs[in] == nullptr) {
          w.Null();
        } else {
          WriteCell(w, *inputs[in], r);
        }
      }
      w.EndObject();
      w.Key("value");
      WriteCell(w, v, r);
      w.EndObject();
      line.push_back('\n');
      (*lines)[a] += line;
      ++*values;
    }
  }
  return absl::OkStatus();
}

// Where dropped values go: the caller's directory, else the one the
// migration began with (a resume), else <storage root>/migration-archive.
std::string ArchiveDir(Engine* engine, const MigrateOptions& options, const MigrationSpec& spec) {
  if (!options.archive_dir.empty()) return options.archive_dir;
  if (!spec.archive_dir.empty()) return spec.archive_dir;
  return JoinPath(engine->options().root, "migration-archive");
}

// Creates the migration's archive directory (<base>/<id>) durably: the
// directories and their entries in their parents are fsynced.
absl::Status CheckArchiveDir(const Plan& plan, const std::string& base, Env* env) {
  if (plan.archives.empty()) return absl::OkStatus();
  const std::string dir = MigrationArchiveDir(base, plan.id);
  RETURN_IF_ERROR(env->CreateDirs(dir));
  RETURN_IF_ERROR(env->SyncDir(dir));
  RETURN_IF_ERROR(env->SyncDir(base));
  return env->SyncDir(DirName(base));
}

// A new migration never replaces archive files: refused when its directory
// holds any of the dataset's (left by an earlier run of the same manifest
// that was rolled back after a crash; move them away first).
absl::Status CheckNoArchiveFiles(const Plan& plan, const Dataset& ds, const std::string& base,
                                 Env* env) {
  if (plan.archives.empty()) return absl::OkStatus();
  const std::string dir = MigrationArchiveDir(base, plan.id);
  if (!env->FileExists(dir)) return absl::OkStatus();
  ASSIGN_OR_RETURN(auto names, env->ListDir(dir));
  const std::string prefix = StrCat(ds.slug(), "-");
  for (const auto& n : names) {
    if (n.starts_with(prefix) && n.ends_with(".jsonl")) {
      return MakeError(absl::StatusCode::kAlreadyExists, "archive_exists",
                       StrCat("archive file ", JoinPath(dir, n),
                              " exists already; a migration never replaces archived values: "
                              "move the directory's files away, or give another archive "
                              "directory"));
    }
  }
  return absl::OkStatus();
}

}  // namespace timestore::migrate::internal
