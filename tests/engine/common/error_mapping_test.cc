// Bitrix24 errors become statuses with one mapping, whichever way the
// command was sent (alone, or inside a batch whose HTTP status is 200).
#include "engine/common/errors.h"

#include <gtest/gtest.h>

namespace b24gate::error_mapping_test {
namespace {

TEST(Errors, KnownCodesMapByTableWhateverTheHttpStatus) {
  for (int http : {0, 200, 400, 503}) {
    EXPECT_EQ(CodeForB24Error("ACCESS_DENIED", http), absl::StatusCode::kPermissionDenied) << http;
    EXPECT_EQ(CodeForB24Error("QUERY_LIMIT_EXCEEDED", http), absl::StatusCode::kResourceExhausted);
  }
}

TEST(Errors, AnErrorInsideABatchMapsAsTheSameErrorOfALoneCall) {
  // Alone, the portal answers an unknown code (or the old CRM "") with 400;
  // inside a batch the same entry arrives in a 200 answer.
  absl::Status alone = B24ErrorStatus("", "ID is not defined or invalid.", 400);
  absl::Status in_batch = B24ErrorStatus("", "ID is not defined or invalid.", 200);
  EXPECT_EQ(alone.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(in_batch.code(), alone.code());
  EXPECT_EQ(CodeForB24Error("SOME_NEW_CODE", 200), CodeForB24Error("SOME_NEW_CODE", 400));
  EXPECT_EQ(CodeForB24Error("SOME_NEW_CODE", 0), absl::StatusCode::kInvalidArgument);
}

TEST(Errors, OtherHttpStatusesStillChooseTheCode) {
  EXPECT_EQ(CodeForB24Error("X", 401), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(CodeForB24Error("X", 404), absl::StatusCode::kNotFound);
  EXPECT_EQ(CodeForB24Error("X", 429), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(CodeForB24Error("X", 502), absl::StatusCode::kUnavailable);
  EXPECT_EQ(B24ErrorStatus("", "Not found", 200).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace b24gate::error_mapping_test
