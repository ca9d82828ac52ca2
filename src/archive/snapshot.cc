#include "archive/snapshot.h"

#include <filesystem>

#include "store/sqlite/snapshot.h"
#include "store/sqlite/sqlite_store.h"

namespace bysans::archive {

Result<ExportSummary> ExportFromDatabase(const std::string& db_path, const std::string& scratch_dir,
                                         const Clock& clock, Id org_id, const std::string& out_path,
                                         const ExportOptions& opts,
                                         const std::atomic<bool>& cancel) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::remove_all(scratch_dir, ec);
  fs::create_directories(scratch_dir, ec);
  if (ec) return Internal("cannot create " + scratch_dir + ": " + ec.message());
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } cleanup{scratch_dir};
  const std::string copy = (fs::path(scratch_dir) / "bysans.db").string();
  BYSANS_RETURN_IF_ERROR(sqlite::SnapshotDatabase(db_path, copy));
  SqliteOptions so;
  so.path = copy;
  so.clock = &clock;
  BYSANS_ASSIGN_OR_RETURN(std::unique_ptr<Store> snapshot, OpenSqliteStore(so));
  auto result = ExportOrganization(*snapshot, clock, org_id, out_path, opts, cancel);
  snapshot->Close();
  return result;
}

}  // namespace bysans::archive
