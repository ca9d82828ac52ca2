// LwM2M Send (Core §6.4.3, `POST /dp`) → readings: a SenML JSON (Content-Format 110) or SenML
// CBOR (112) pack whose names are resource paths (`/3303/0/5700`, or bn `/3303/0/` + n `5700`),
// renamed for the common IPSO/uCIFI objects so LwM2M devices and decoders give a quantity the
// same name (resources.cc has the table). Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans::lwm2m {

constexpr int kSenmlJson = 110;
constexpr int kSenmlCbor = 112;

struct ResourceName {
  std::string name;  // "temperature"
  std::string unit;  // "Cel"; may be empty
};

// The reading name of a known resource (object 3303 resource 5700 → temperature, Cel), or none.
std::optional<ResourceName> KnownResource(int object, int resource);

// The reading key of a SenML name: a known resource of instance 0 → its name ("temperature"),
// of instance N > 0 → "<name>.N"; anything else → the path without its leading slash
// ("3303/0/5601"), so nothing is lost. `unit` gets the known resource's unit (else unchanged).
std::string ReadingKey(std::string_view senml_name, std::string* unit);

// The readings of a Send payload. Errors: kUnsupportedMedia for another Content-Format;
// kInvalidArgument for malformed SenML or CBOR (with the position), as ingest/senml*.h say.
Result<std::vector<Reading>> ParseSend(int content_format, std::string_view payload, Id device_id,
                                       TimeMs now);

}  // namespace bysans::lwm2m
