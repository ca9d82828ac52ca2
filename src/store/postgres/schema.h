// The schema of each area of the PostgreSQL store, one migration each (migrations.cc lists them
// in order). Until PostgreSQL is selectable in the server (config.cc refuses it), no database
// outside the tests has migrations 3 and later, so they may still change in place; from then on
// changes go into new migrations at the end of the list.
#pragma once

namespace bysans::pg {

const char* MetaSchema();   // 3: organisations, applications, device models, devices, users,
                            //    memberships, invitations, API keys, sessions, audit, locations
const char* RulesSchema();  // 4: decoders, rules, alarms, silences, outbox, deliveries
const char* MqttSchema();   // 5: MQTT credentials and integrations, LoRaWAN gateways and routes,
                            //    downlinks, jobs, gateway health
const char* DashboardsSchema();       // 6: pg_dashboard_store.cc
const char* ContactsSchema();         // 7: contacts, SMS gateways (pg_contact_store.cc)
const char* OpenDataSchema();         // 8: open datasets (pg_open_data_store.cc)
const char* CoapCredentialsSchema();  // 9: pg_coap_credential_store.cc
const char* Lwm2mSchema();            // 10: registrations, operations, observations
const char* TargetsSchema();          // 11: data targets, share log, dead letters, deliveries

}  // namespace bysans::pg
