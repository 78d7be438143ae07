// `timestore export`: a dataset's rows as Parquet files (transfer/export.h),
// on a storage root no server holds or through a running server's admin API
// (POST /admin/datasets/{id}/export, then the job polled until it ends).
#pragma once

#include "CLI/CLI.hpp"

namespace timestore::tools {

void AddExportCommand(CLI::App* app, int* exit_code);

}  // namespace timestore::tools
