#include "sql/pg_parser.h"

#include <pg_query.h>
#include <pthread.h>

#include <functional>

#include "common/strings.h"
#include "sql/sql_result.h"

namespace timestore::sql {
namespace {

// Statements this short cannot nest deeply enough to matter on a normal
// thread stack (8,000 levels at most; 20,000 were measured to parse).
constexpr size_t kSmallStatementBytes = 16 << 10;
// Enough for kMaxStatementBytes of the deepest nesting (one level per two
// bytes, a few hundred bytes of stack per level).
constexpr size_t kParseStackBytes = 512u << 20;

// Runs `fn` on a thread with a kParseStackBytes stack (or here, for short
// statements, or if such a thread cannot be made).
void RunWithStackFor(size_t input_bytes, const std::function<void()>& fn) {
  if (input_bytes <= kSmallStatementBytes) return fn();
  pthread_attr_t attr;
  pthread_t thread;
  bool started = false;
  if (pthread_attr_init(&attr) == 0) {
    if (pthread_attr_setstacksize(&attr, kParseStackBytes) == 0) {
      started = pthread_create(
                    &thread, &attr,
                    [](void* f) -> void* {
                      (*static_cast<const std::function<void()>*>(f))();
                      return nullptr;
                    },
                    const_cast<std::function<void()>*>(&fn)) == 0;
    }
    pthread_attr_destroy(&attr);
  }
  if (started) {
    pthread_join(thread, nullptr);
  } else {
    fn();
  }
}

absl::Status CheckLength(std::string_view sql) {
  if (sql.size() > kMaxStatementBytes) {
    return SqlError(sqlstate::kProgramLimitExceeded,
                    StrCat("the statement is ", sql.size(), " bytes; at most ", kMaxStatementBytes,
                           " are accepted"));
  }
  return absl::OkStatus();
}

absl::Status SyntaxError(const PgQueryError* e) {
  return WithPosition(SqlError(sqlstate::kSyntaxError, e->message), e->cursorpos);
}

}  // namespace

absl::StatusOr<std::string> ParseToJson(std::string_view sql) {
  if (absl::Status s = CheckLength(sql); !s.ok()) return s;
  const std::string text(sql);
  absl::StatusOr<std::string> out;
  RunWithStackFor(text.size(), [&] {
    PgQueryParseResult r = pg_query_parse(text.c_str());
    if (r.error != nullptr) {
      out = SyntaxError(r.error);
    } else {
      out = std::string(r.parse_tree != nullptr ? r.parse_tree : "");
    }
    pg_query_free_parse_result(r);
  });
  return out;
}

absl::StatusOr<std::vector<std::pair<int, int>>> SplitToRanges(std::string_view sql) {
  if (absl::Status s = CheckLength(sql); !s.ok()) return s;
  const std::string text(sql);
  absl::StatusOr<std::vector<std::pair<int, int>>> out;
  RunWithStackFor(text.size(), [&] {
    PgQuerySplitResult r = pg_query_split_with_parser(text.c_str());
    if (r.error != nullptr) {
      out = SyntaxError(r.error);
    } else {
      std::vector<std::pair<int, int>> ranges;
      for (int i = 0; i < r.n_stmts; ++i) {
        ranges.emplace_back(r.stmts[i]->stmt_location, r.stmts[i]->stmt_len);
      }
      out = std::move(ranges);
    }
    pg_query_free_split_result(r);
  });
  return out;
}

}  // namespace timestore::sql
