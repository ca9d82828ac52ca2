// A pg::Pool for code outside this folder that must not see libpqxx (tests, and later the
// PostgresStore aggregate): the pool is opaque here, its stores take it by reference.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace bysans::pg {

class Pool;

// A pool of connections to `url` (postgresql://…), keeping at most `max_idle` idle. Connects
// lazily: an unreachable server shows as kUnavailable from the first call that needs it.
std::shared_ptr<Pool> NewPool(std::string url, size_t max_idle);

}  // namespace bysans::pg
