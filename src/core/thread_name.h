// Names the calling thread (Linux: 15 characters at most), so `top -H`, `perf` and
// /proc/<pid>/task/*/comm tell bysans' threads apart.
#pragma once

namespace bysans {

void NameThisThread(const char* name);

}  // namespace bysans
