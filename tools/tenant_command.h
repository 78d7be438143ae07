// `timestore tenant set|list|show|delete`: tenants and their quotas
// (docs/api.md "Tenants and quotas") through a running server's admin API
// (/admin/tenants, with usage), or in <root>/tenants.json of a storage root
// no server holds (settings only: usage needs the server).
#pragma once

#include "CLI/CLI.hpp"

namespace timestore::tools {

void AddTenantCommand(CLI::App* app, int* exit_code);

}  // namespace timestore::tools
