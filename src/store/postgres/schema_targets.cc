// Migration 11 (schema.h). Not written yet: an empty step until its store exists on PostgreSQL.
#include "store/postgres/schema.h"

namespace bysans::pg {

const char* TargetsSchema() { return "SELECT 1"; }

}  // namespace bysans::pg
