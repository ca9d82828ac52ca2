// Which entry point a JS decoder runs: the explicit contract, or (auto) what the code says.
// Pure C++ (no engine headers), so the rules are unit-tested without SpiderMonkey.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "decode/decoder.h"

namespace bysans::decode::js {

// One candidate entry point (decodeUplink, decode, Decode, Decoder) as the engine found it
// after the decoder's top level ran.
struct EntryCandidate {
  Contract contract = Contract::kUnknown;
  bool present = false;  // a function of that name is visible at the decoder's top level
  int arity = -1;        // its declared parameters; -1 when not a plain function
  std::string source;    // its source text; empty when unknown
};

struct EntryChoice {
  Contract contract = Contract::kUnknown;
  // Non-empty when auto found several candidates: names them and says why one was picked.
  std::string warning;
};

// The number of parameters each contract passes: decodeUplink(input) 1, decode(payload,
// metadata) 2, Decode(fPort, bytes, variables) 3, Decoder(bytes, port) 2.
int ContractArity(Contract c);

// True when `source` calls the function `name` (name(...), name.call(...), name.apply(...)),
// outside comments and string literals and not as a member (x.name(...)).
bool SourceCalls(std::string_view source, std::string_view name);

// `requested` given: that candidate (an error naming the function when it is missing).
// kUnknown (auto): among the present candidates, those that nothing calls (a candidate called
// by another candidate, or anywhere in `code` outside its own body, is a helper), then those
// whose arity fits their contract, then the name order decodeUplink, decode, Decode, Decoder.
// An error when no candidate is present.
Result<EntryChoice> ChooseEntry(Contract requested, const std::vector<EntryCandidate>& candidates,
                                std::string_view code = {});

}  // namespace bysans::decode::js
