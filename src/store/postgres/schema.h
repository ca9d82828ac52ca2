// The schema of each area of the PostgreSQL store, one migration each (migrations.cc lists them
// in order). Databases with these migrations exist: a change is a new migration at the end of the
// list, never an edit of an applied one.
#pragma once

namespace bysans::pg {

const char* MetaSchema();   // 3: organisations, applications, device models, devices, users,
                            //    memberships, invitations, API keys, sessions, audit, locations
const char* RulesSchema();  // 4: decoders, re-decode jobs, rules, alarms, silences, outbox,
                            //    deliveries
const char* MqttSchema();   // 5: MQTT credentials and integrations, LoRaWAN gateways and routes,
                            //    downlinks, gateway health
const char* DashboardsSchema();         // 6: pg_dashboard_store.cc
const char* ContactsSchema();           // 7: contacts, SMS gateways (pg_contact_store.cc)
const char* OpenDataSchema();           // 8: open datasets (pg_open_data_store.cc)
const char* CoapCredentialsSchema();    // 9: pg_coap_credential_store.cc
const char* Lwm2mSchema();              // 10: registrations, operations, observations
const char* TargetsSchema();            // 11: data targets, share log, dead letters, deliveries
const char* DeviceErasuresSchema();     // 12: deleted devices' data to erase (device_eraser.h)
const char* SubjectErasuresSchema();    // 13: "erase a data subject" jobs
const char* LeasesSchema();             // 14: which node does what (pg_lease_store.cc)
const char* RuleFeedSchema();           // 15: readings for the rule partitions (pg_rule_feed.cc)
const char* JobNodeSchema();            // 16: the process running a job (pg_decoder_store.cc)
const char* RuleWaitsSchema();          // 17: for-duration waits in progress (pg_rule_waits.cc)
const char* PackedRuleFeedMigration();  // 20: a rule_feed row per partition and commit
const char* GatewaySeenLocallyMigration();      // 21: gateways seen through bysans' own broker
const char* Lwm2mOpenByDeviceMigration();       // 22: a device's open LwM2M operations, indexed
const char* Lwm2mFinishedMigration();           // 24: finished LwM2M operations by age, indexed
const char* RuleFeedByOrganisationMigration();  // 27: rule_feed rows per organisation, read in turn

}  // namespace bysans::pg
