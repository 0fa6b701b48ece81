#include "engine/files/byte_pipe.h"

#include <gtest/gtest.h>

#include <string>

namespace b24gate::byte_pipe_test {
namespace {

std::string ReadAll(BytePipe& pipe, BytePipe::ReadResult* last) {
  std::string out;
  char buf[7];
  size_t n = 0;
  while ((*last = pipe.Read(buf, sizeof(buf), &n)) == BytePipe::ReadResult::kData) out.append(buf, n);
  return out;
}

TEST(BytePipe, RefusesWritesOnceFullAndWakesTheWriterWhenRoomAppears) {
  BytePipe pipe(10);
  int writer_wakes = 0;
  pipe.SetWriterWake([&] { ++writer_wakes; });
  EXPECT_EQ(pipe.Write("123456"), BytePipe::WriteResult::kTaken);
  EXPECT_EQ(pipe.Write("7890ab"), BytePipe::WriteResult::kTaken);  // held 6 < 10: taken whole
  EXPECT_EQ(pipe.Write("c"), BytePipe::WriteResult::kFull);        // held 12 >= 10
  EXPECT_EQ(writer_wakes, 0);
  char buf[4];
  size_t n = 0;
  ASSERT_EQ(pipe.Read(buf, 1, &n), BytePipe::ReadResult::kData);  // held 11: still full
  EXPECT_EQ(writer_wakes, 0);
  ASSERT_EQ(pipe.Read(buf, 4, &n), BytePipe::ReadResult::kData);  // held 7: room
  EXPECT_EQ(writer_wakes, 1);
  EXPECT_EQ(pipe.Write("c"), BytePipe::WriteResult::kTaken);
  BytePipe::ReadResult last;
  EXPECT_EQ(ReadAll(pipe, &last), "67890abc");
  EXPECT_EQ(last, BytePipe::ReadResult::kEmpty);
}

TEST(BytePipe, AStringHandedOverIsTakenWholeOrLeftAsItWas) {
  BytePipe pipe(4);
  std::string first = "12345";
  EXPECT_EQ(pipe.Write(&first), BytePipe::WriteResult::kTaken);
  EXPECT_EQ(first, "");  // moved in
  std::string second = "678";
  EXPECT_EQ(pipe.Write(&second), BytePipe::WriteResult::kFull);  // held 5 >= 4
  EXPECT_EQ(second, "678");
  char buf[3];
  size_t n = 0;
  ASSERT_EQ(pipe.Read(buf, 3, &n), BytePipe::ReadResult::kData);  // held 2: room
  EXPECT_EQ(std::string(buf, n), "123");
  EXPECT_EQ(pipe.Write(&second), BytePipe::WriteResult::kTaken);
  BytePipe::ReadResult last;
  EXPECT_EQ(ReadAll(pipe, &last), "45678");  // one read across both strings
  EXPECT_EQ(last, BytePipe::ReadResult::kEmpty);
}

TEST(BytePipe, WakesTheReaderOnDataAndOnCloseAfterItFoundNothing) {
  BytePipe pipe(100);
  int reader_wakes = 0;
  pipe.SetReaderWake([&] { ++reader_wakes; });
  EXPECT_EQ(pipe.Write("ab"), BytePipe::WriteResult::kTaken);
  EXPECT_EQ(reader_wakes, 0);  // nobody was waiting
  BytePipe::ReadResult last;
  EXPECT_EQ(ReadAll(pipe, &last), "ab");
  EXPECT_EQ(last, BytePipe::ReadResult::kEmpty);
  EXPECT_EQ(pipe.Write("c"), BytePipe::WriteResult::kTaken);
  EXPECT_EQ(reader_wakes, 1);
  EXPECT_EQ(ReadAll(pipe, &last), "c");
  pipe.Close();
  EXPECT_EQ(reader_wakes, 2);
  EXPECT_EQ(ReadAll(pipe, &last), "");
  EXPECT_EQ(last, BytePipe::ReadResult::kEnd);
}

TEST(BytePipe, DataWrittenBeforeCloseIsReadBeforeTheEnd) {
  BytePipe pipe(100);
  pipe.Write("xyz");
  pipe.Close();
  BytePipe::ReadResult last;
  EXPECT_EQ(ReadAll(pipe, &last), "xyz");
  EXPECT_EQ(last, BytePipe::ReadResult::kEnd);
}

TEST(BytePipe, AbortStopsBothSidesAndWakesThem) {
  BytePipe pipe(2);
  int wakes = 0;
  pipe.SetReaderWake([&] { ++wakes; });
  pipe.SetWriterWake([&] { ++wakes; });
  pipe.Write("abc");
  pipe.Abort();
  pipe.Abort();  // idempotent
  EXPECT_EQ(wakes, 2);
  EXPECT_TRUE(pipe.aborted());
  EXPECT_EQ(pipe.Write("d"), BytePipe::WriteResult::kAborted);
  char buf[4];
  size_t n = 0;
  EXPECT_EQ(pipe.Read(buf, 4, &n), BytePipe::ReadResult::kAborted);
  EXPECT_EQ(n, 0u);
}

}  // namespace
}  // namespace b24gate::byte_pipe_test
