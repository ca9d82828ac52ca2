// The statements of PostgresMqttStore by area, as functions over the pool (folder-private):
// integrations (pg_mqtt_integrations.cc) and downlinks (pg_downlinks.cc). pg_mqtt_store.cc
// holds the rest and the process-local state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/secret_box.h"
#include "store/mqtt_store.h"

namespace bysans::pg {

class Pool;

// A sealed secret of an integration.
enum class IntegrationSecret { kPassword, kClientKey };

// Integrations: the caller bumps the integrations generation after a successful change.
Result<MqttIntegration> CreateIntegration(Pool& pool, const SecretBox& box, MqttIntegration i,
                                          const std::optional<std::string>& password);
Result<MqttIntegration> GetIntegration(Pool& pool, Id id);
Result<std::vector<MqttIntegration>> ListIntegrations(Pool& pool, const std::string& kind,
                                                      Id org_id, Id app_id);
Status UpdateIntegration(Pool& pool, const SecretBox& box, const MqttIntegration& i,
                         const std::optional<std::string>& password);
Status DeleteIntegration(Pool& pool, Id id);
// "" removes the secret. kNotFound for an unknown integration.
Status SetIntegrationSecret(Pool& pool, const SecretBox& box, Id id, IntegrationSecret which,
                            const std::string& plain);
// The opened secret ("" when none); kInternal when it cannot be opened.
Result<std::string> IntegrationSecretOf(Pool& pool, const SecretBox& box, Id id,
                                        IntegrationSecret which);

// Downlinks.
Result<Downlink> AppendDownlink(Pool& pool, Downlink d);
Status SetDownlinkStatus(Pool& pool, Id id, const std::string& status, const std::string& error);
Result<std::vector<Downlink>> ListDownlinks(Pool& pool, Id device_id, int64_t limit);
Result<TakenDownlink> TakeQueuedDownlink(Pool& pool, Id device_id, const std::string& topic);
Result<std::vector<Id>> DevicesWithQueuedDownlinks(Pool& pool, const std::string& topic,
                                                   size_t limit);

}  // namespace bysans::pg
