#include "store/postgres/pool_handle.h"

#include <utility>

#include "store/postgres/pool.h"

namespace bysans::pg {

std::shared_ptr<Pool> NewPool(std::string url, size_t max_idle) {
  return std::make_shared<Pool>(std::move(url), max_idle);
}

}  // namespace bysans::pg
