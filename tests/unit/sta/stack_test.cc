// The deepest input the limits allow parses and evaluates on a small thread
// stack (2 MiB, a quarter of the default; the release build needs ~0.2 MiB,
// the debug ASan build under 1 MiB): the depth checks bound the recursion.
#include <gtest/gtest.h>
#include <pthread.h>

#include <string>

#include "sta/query/query.h"
#include "unit/sta/fake_entity.h"

namespace bysans::sta {
namespace {

struct Job {
  std::string query;
  bool parsed = false, matched = false;
};

void* Run(void* arg) {
  auto* job = static_cast<Job*>(arg);
  auto options = ParseQueryOptions(job->query);
  job->parsed = options.ok();
  if (options.ok() && options->filter) {
    testing::FakeEntity e;
    e.props["name"] = Value("x");
    auto m = Matches(*options->filter, e, 0);
    job->matched = m.ok() && *m;
  }
  return nullptr;
}

Job OnSmallStack(std::string query) {
  Job job{std::move(query)};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 2 << 20);
  pthread_t thread;
  EXPECT_EQ(pthread_create(&thread, &attr, Run, &job), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  return job;
}

TEST(StaStack, DeepestFilterAndExpandFitASmallStack) {
  std::string filter = std::string(62, '(') + "not (name ne 'x')" + std::string(62, ')');
  Job f = OnSmallStack("$filter=" + filter);
  EXPECT_TRUE(f.parsed);
  EXPECT_TRUE(f.matched);
  std::string expand = "$expand=";
  for (int i = 0; i < 63; ++i) expand += "Datastreams($filter=" + filter + ";$expand=";
  expand += "Thing" + std::string(63, ')');
  EXPECT_TRUE(OnSmallStack(expand).parsed);
  EXPECT_FALSE(
      OnSmallStack("$filter=" + std::string(1000, '(') + "true" + std::string(1000, ')')).parsed);
}

}  // namespace
}  // namespace bysans::sta
