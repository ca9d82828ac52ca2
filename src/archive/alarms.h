// The alarms of an organisation in its archive: `alarms.jsonl.gz`, one alarm a line, with the
// whole alarm as the rules engine keeps it (state, severity, message, values at raise, who
// acknowledged or cleared it and when, comments, history). Issue 18's round trip: the API answers
// the same alarms after export → import. Archives written before it have no such member; the
// importer then imports none.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "store/rule_store.h"

namespace bysans::archive {

inline constexpr const char* kAlarms = "alarms.jsonl.gz";

// {"id":…,"rule":…,"device":…,"state":"active","raisedAt":"…","alarm":{…}} and a newline.
void AppendAlarmLine(std::string& out, const AlarmRecord& a);

// One line back (ids as in the archive); an error names the field.
Status ParseAlarmLine(std::string_view line, AlarmRecord& a);

// The alarm as it is stored under new ids: `doc` with orgId, ruleId and deviceId replaced.
Result<AlarmRecord> RemapAlarm(const AlarmRecord& a, Id org_id, Id rule_id, Id device_id);

}  // namespace bysans::archive
