// `timestore backup`, `timestore backups` and `timestore restore`: the CLI
// of transfer/backup.h, on a storage root no server holds or through a
// running server's admin API.
#pragma once

#include "CLI/CLI.hpp"

namespace timestore::tools {

void AddBackupCommands(CLI::App* app, int* exit_code);

}  // namespace timestore::tools
