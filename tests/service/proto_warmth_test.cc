// WarmMessageTypes builds the served services' descriptors before any call needs them. Alone in its test process
// (each test file is a ctest test of its own), so nothing has built them
// before. Without the warming the files stay unloaded (checked with
// WarmMessageTypes doing nothing).
#include "service/proto_warmth.h"

#include <string>

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

namespace b24gate::proto_warmth_test {
namespace {

TEST(ProtoWarmth, BuildsTheServedFilesDescriptorsAheadOfUse) {
  const google::protobuf::DescriptorPool* pool = google::protobuf::DescriptorPool::generated_pool();
  const std::string files[] = {"bitrix24/gateway/v1/gateway.proto", "bitrix24/gateway/v1/admin.proto",
                               "bitrix24/gateway/v1/events.proto", "bitrix24/gateway/v1/files.proto"};
  for (const std::string& file : files) ASSERT_FALSE(pool->InternalIsFileLoaded(file)) << file;
  WarmMessageTypes(ServedServiceNames());
  for (const std::string& file : files) EXPECT_TRUE(pool->InternalIsFileLoaded(file)) << file;
}

TEST(ProtoWarmth, EveryServedServiceIsInTheGeneratedPool) {
  for (const std::string& name : ServedServiceNames()) {
    EXPECT_NE(google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name), nullptr)
        << name;
  }
}

}  // namespace
}  // namespace b24gate::proto_warmth_test
