// The data files of src/ngsild/models, compiled in (generated embedded.cc, see CMakeLists.txt).
#pragma once

#include <string_view>
#include <vector>

namespace bysans::ngsild {

struct EmbeddedFile {
  std::string_view name;  // e.g. "WasteContainer.json"
  std::string_view text;
};

// Every model file (not units.json), in name order.
const std::vector<EmbeddedFile>& EmbeddedModelFiles();
std::string_view EmbeddedUnitsFile();

}  // namespace bysans::ngsild
