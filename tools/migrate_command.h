// `timestore migrate`: schema migrations (docs/migrate.md) on a storage root
// no server holds (--storage-root) or through a running server's admin route
// POST /admin/datasets/{id}/migrations (--server URL --token T). Both print
// the same JSON report on stdout and a one-line summary on stderr.
#pragma once

#include "CLI/CLI.hpp"

namespace timestore::tools {

// Registers the subcommand; when it runs, `*exit_code` is set (0: done).
void AddMigrateCommand(CLI::App* app, int* exit_code);

}  // namespace timestore::tools
