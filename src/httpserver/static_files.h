// Serves the built web UI from a directory: content types, cache headers,
// SPA fallback to index.html, precompressed .gz variants and a strict CSP on
// HTML. Meant as the Router fallback; paths under /api/ answer a JSON 404.
#pragma once

#include <string>

#include "http/message.h"

namespace bysans {

// Files under `root_dir` (resolved once, at creation). Never serves anything
// outside it: ".." segments, dot-files and symlinks leaving the root are refused.
http::Handler MakeStaticHandler(std::string root_dir);

// The Content-Type for a file name by its extension ("application/octet-stream"
// when unknown).
std::string StaticContentType(const std::string& file_name);

}  // namespace bysans
