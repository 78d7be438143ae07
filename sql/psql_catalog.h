// psql's describe commands answered from the live catalog.
//
// \d, \dt, \di, \dv, \ds, \dm (with + and patterns), \d NAME, \d+ NAME, \l and
// \dn send catalog queries with joins, scalar subqueries, regular expressions
// (OPERATOR(pg_catalog.~) ... COLLATE pg_catalog.default), casts to regtype
// and pg_catalog functions (pg_table_is_visible, pg_get_userbyid,
// format_type, ...), none of which a SELECT otherwise runs. This file
// recognises those queries and answers them with the columns (names, types,
// order) PostgreSQL 15 returns. tests/sql/psql15/ holds what psql 15 sends
// for each command and what PostgreSQL answers: that is the contract.
//
// A query is recognised only when all of it is understood: its FROM is one of
// the joins psql writes (pg_class c LEFT JOIN pg_namespace n ..., pg_attribute
// a, pg_database d, pg_namespace n), and every output column, WHERE conjunct
// and ORDER BY key is made of the columns, operators and functions evaluated
// here; or the whole statement is one of psql's queries over catalogs that
// are empty in Timestore (policies, extended statistics, publications,
// inheritance), which answer no rows. Anything else is not recognised and
// goes to the planner, which answers a join with 0A000: never a guess.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sql/plan.h"
#include "sql/sql_result.h"

namespace timestore::sql {

// A recognised query, compiled. Immutable: may be shared between threads.
struct PsqlCatalogQuery;

// The compiled query when `sql` (one statement) is one of psql's catalog
// queries, nullptr otherwise. Cheap for statements that do not name
// pg_catalog. Thread-safe.
std::shared_ptr<const PsqlCatalogQuery> RecognizePsqlCatalogQuery(std::string_view sql);

// The columns the query returns, without running it.
std::vector<SqlColumn> PsqlCatalogColumns(const PsqlCatalogQuery& query);

// Runs the query over the catalog as it is now (ctx.engine's datasets,
// ctx.user as the owner of everything, ctx.database).
absl::StatusOr<SqlResult> AnswerPsqlCatalogQuery(const PsqlCatalogQuery& query,
                                                 const PlanContext& ctx);

}  // namespace timestore::sql
