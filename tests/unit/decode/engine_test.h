// A gtest fixture with a fresh JsEngine (default limits) for each test.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "decode/js/js_engine.h"

namespace bysans::decode::testing {

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = JsEngine::Create();
    ASSERT_TRUE(e.ok()) << e.status().message();
    engine_ = std::move(e).value();
  }

  std::unique_ptr<JsEngine> engine_;
};

}  // namespace bysans::decode::testing
