#include "decode/js/entry_choice.h"

#include <cctype>

namespace bysans::decode::js {

namespace {

bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// Skips a comment or string literal starting at `i`; returns the index after it (i if none).
size_t SkipNonCode(std::string_view s, size_t i) {
  if (s[i] == '/' && i + 1 < s.size() && s[i + 1] == '/') {
    size_t e = s.find('\n', i);
    return e == std::string_view::npos ? s.size() : e;
  }
  if (s[i] == '/' && i + 1 < s.size() && s[i + 1] == '*') {
    size_t e = s.find("*/", i + 2);
    return e == std::string_view::npos ? s.size() : e + 2;
  }
  if (s[i] == '\'' || s[i] == '"' || s[i] == '`') {
    char q = s[i];
    size_t j = i + 1;
    while (j < s.size() && s[j] != q) j += s[j] == '\\' ? 2 : 1;
    return j < s.size() ? j + 1 : s.size();
  }
  return i;
}

std::string Names(const std::vector<const EntryCandidate*>& cs) {
  std::string out;
  for (const auto* c : cs)
    out += (out.empty() ? "" : ", ") + std::string(EntryPointName(c->contract));
  return out;
}

std::string Signature(Contract c) {
  switch (c) {
    case Contract::kOs2iot:
      return "decode(payload, metadata)";
    case Contract::kTtnDecodeUplink:
      return "decodeUplink(input)";
    case Contract::kTtnV2Decoder:
      return "Decoder(bytes, port)";
    case Contract::kChirpstackV3Decode:
      return "Decode(fPort, bytes, variables)";
    default:
      break;
  }
  return "?";
}

}  // namespace

int ContractArity(Contract c) {
  switch (c) {
    case Contract::kTtnDecodeUplink:
      return 1;
    case Contract::kOs2iot:
    case Contract::kTtnV2Decoder:
      return 2;
    case Contract::kChirpstackV3Decode:
      return 3;
    default:
      break;
  }
  return -1;
}

bool SourceCalls(std::string_view s, std::string_view name) {
  size_t i = 0;
  while (i < s.size()) {
    size_t skipped = SkipNonCode(s, i);
    if (skipped != i) {
      i = skipped;
      continue;
    }
    if (!IsIdentChar(s[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < s.size() && IsIdentChar(s[i])) ++i;
    if (s.substr(start, i - start) != name) continue;
    size_t b = start;
    while (b > 0 && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
    if (b > 0 && s[b - 1] == '.') continue;  // a member: x.name(...)
    if (b >= 8 && s.substr(b - 8, 8) == "function" && (b == 8 || !IsIdentChar(s[b - 9]))) {
      continue;  // its own declaration
    }
    size_t f = i;
    while (f < s.size() && std::isspace(static_cast<unsigned char>(s[f]))) ++f;
    if (f < s.size() && s[f] == '(') return true;
    if (s.substr(f, 5) == ".call" || s.substr(f, 6) == ".apply") return true;
  }
  return false;
}

// True when `code` calls `name` outside `own` (the function's own source, if found in it).
bool CalledElsewhere(std::string_view code, std::string_view own, std::string_view name) {
  size_t at = own.empty() ? std::string_view::npos : code.find(own);
  if (at == std::string_view::npos) return SourceCalls(code, name);
  return SourceCalls(code.substr(0, at), name) || SourceCalls(code.substr(at + own.size()), name);
}

Result<EntryChoice> ChooseEntry(Contract requested, const std::vector<EntryCandidate>& candidates,
                                std::string_view code) {
  if (requested != Contract::kUnknown) {
    for (const auto& c : candidates) {
      if (c.contract == requested) {
        if (c.present) return EntryChoice{requested, ""};
        break;
      }
    }
    if (EntryPointName(requested)[0] == '\0') {
      return InvalidArgument(std::string("contract ") + ContractApiName(requested) +
                             " is not a JavaScript decoder contract");
    }
    return InvalidArgument(std::string("decoder has no function ") + Signature(requested) +
                           " (its contract is " + ContractApiName(requested) + ")");
  }
  std::vector<const EntryCandidate*> present;
  for (const auto& c : candidates) {
    if (c.present) present.push_back(&c);
  }
  if (present.empty()) {
    return InvalidArgument(
        "decoder defines none of decodeUplink(input), decode(payload, metadata), "
        "Decode(fPort, bytes, variables) or Decoder(bytes, port)");
  }
  if (present.size() == 1) return EntryChoice{present[0]->contract, ""};
  std::string why;
  // 1. A candidate that another candidate calls is a helper of it.
  std::vector<const EntryCandidate*> roots;
  std::vector<std::string> callers;
  for (const auto* c : present) {
    std::string called_by;
    for (const auto* o : present) {
      if (o != c && SourceCalls(o->source, EntryPointName(c->contract))) {
        called_by = EntryPointName(o->contract);
        break;
      }
    }
    const char* name = EntryPointName(c->contract);
    if (called_by.empty() && !code.empty() && CalledElsewhere(code, c->source, name)) {
      called_by = "other code of the decoder";
    }
    if (called_by.empty()) {
      roots.push_back(c);
    } else {
      callers.push_back(std::string(name) + " is called by " + called_by + " (a helper)");
    }
  }
  if (roots.empty()) roots = present;
  for (const auto& c : callers) why += (why.empty() ? "" : ", ") + c;
  // 2. Arity that fits the contract.
  if (roots.size() > 1) {
    std::vector<const EntryCandidate*> fitting;
    for (const auto* c : roots) {
      if (c->arity == ContractArity(c->contract)) fitting.push_back(c);
    }
    if (!fitting.empty() && fitting.size() < roots.size()) {
      why += std::string(why.empty() ? "" : "; ") + "only " + Names(fitting) +
             " take the number of parameters of their contract";
      roots = fitting;
    }
  }
  // 3. Name order (candidates come in the order decodeUplink, decode, Decode, Decoder).
  if (roots.size() > 1) {
    why += std::string(why.empty() ? "" : "; ") + "nothing in the code tells " + Names(roots) +
           " apart, so the first in the order decodeUplink, decode, Decode, Decoder runs";
  }
  const EntryCandidate* chosen = roots.front();
  std::string warning = "several entry points are defined (" + Names(present) + "); ran " +
                        EntryPointName(chosen->contract) + ": " + why +
                        ". Set the decoder's contract to choose explicitly.";
  return EntryChoice{chosen->contract, std::move(warning)};
}

}  // namespace bysans::decode::js
