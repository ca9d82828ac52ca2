// SubjectErasureStore on PostgreSQL (store/subject_erasure_store.h); its table is migration 12
// (SubjectErasuresSchema, schema.h). Erases from the tables of migrations 4 (alarms), 5
// (downlinks), 7 (contacts) and 11 (share log, dead letters).
#pragma once

#include <memory>

#include "core/clock.h"
#include "store/subject_erasure_store.h"

namespace bysans::pg {

class Pool;
std::unique_ptr<SubjectErasureStore> NewPostgresSubjectErasureStore(Pool& pool, const Clock& clock);

}  // namespace bysans::pg
