#include "core/thread_name.h"

#include <pthread.h>

#include <cstring>
#include <string>

namespace bysans {

void NameThisThread(const char* name) {
  // The kernel refuses names of 16 bytes or more (with the terminating NUL).
  std::string shortened(name, strnlen(name, 15));
  pthread_setname_np(pthread_self(), shortened.c_str());
}

}  // namespace bysans
