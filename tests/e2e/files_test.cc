// Files through the gateway end to end: uploads streamed into the
// emulator's Drive and downloaded back byte for byte, bad input refused
// before any byte goes on, and the gateway's memory bounded whatever the
// file's size (VmHWM of the real b24gate process).
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "tests/e2e/file_helpers.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/support/wait_for.h"

namespace b24gate::e2e::files_test {
namespace {

pb::UploadFileHeader Header(const std::string& name, int64_t folder = 1) {
  pb::UploadFileHeader h;
  h.set_folder_id(folder);
  h.set_name(name);
  return h;
}

int64_t FileId(const pb::UploadFileResponse& response) {
  int64_t id = 0;
  EXPECT_TRUE(absl::SimpleAtoi(J(response.file())["ID"].get<std::string>(), &id)) << J(response.file());
  return id;
}

// The emulator's folder 1, as the portal lists it.
json Folder(Stack& stack) { return stack.Rest("disk.folder.getchildren", {{"id", 1}}); }

TEST(Files, SeveralMegabytesRoundTripByteIdentical) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  const int64_t size = 5 * 1024 * 1024 + 123;
  pb::UploadFileHeader header = Header("scan.pdf");
  header.set_size(size);
  Uploaded up = Upload(*stack, header, size, 64 * 1024);
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  json file = J(up.response.file());
  EXPECT_EQ(file["NAME"], "scan.pdf");
  EXPECT_EQ(file["SIZE"], std::to_string(size));
  EXPECT_FALSE(file.contains("DOWNLOAD_URL")) << "the portal's credentials left the gateway";
  EXPECT_EQ(up.response.size(), size);
  EXPECT_EQ(up.response.sha256(), up.sha256);

  Downloaded down = Download(*stack, FileId(up.response));
  ASSERT_TRUE(down.status.ok()) << down.status.error_message();
  EXPECT_EQ(down.header.name(), "scan.pdf");
  EXPECT_EQ(down.header.size(), size);
  EXPECT_FALSE(J(down.header.file()).contains("DOWNLOAD_URL"));
  EXPECT_EQ(down.bytes, size);
  EXPECT_EQ(down.sha256, up.sha256);
  EXPECT_GT(down.chunks, 1);
}

TEST(Files, UndeclaredSizesAndEmptyFilesRoundTrip) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  for (int64_t size : {int64_t{0}, int64_t{1}, int64_t{1024 * 1024 + 1}}) {
    SCOPED_TRACE(size);
    Uploaded up = Upload(*stack, Header("f" + std::to_string(size) + ".bin"), size, 100000,
                         static_cast<uint64_t>(size) + 7);
    ASSERT_TRUE(up.status.ok()) << up.status.error_message();
    EXPECT_EQ(J(up.response.file())["SIZE"], std::to_string(size));
    Downloaded down = Download(*stack, FileId(up.response));
    ASSERT_TRUE(down.status.ok()) << down.status.error_message();
    EXPECT_EQ(down.bytes, size);
    EXPECT_EQ(down.sha256, up.sha256);
  }
}

// Empty chunks carry nothing and hold nothing up, even when the gateway's
// buffer is full as they arrive.
TEST(Files, EmptyChunksAreSkipped) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  std::unique_ptr<OpenedUpload> up = OpenUpload(*stack, Header("gaps.bin"));
  ASSERT_TRUE(up->open);
  ByteSource source(11);
  Sha256 sha;
  for (int i = 0; i < 40; ++i) {
    std::string chunk = i % 2 == 0 ? source.Next(512 * 1024) : std::string();
    sha.Update(chunk);
    ASSERT_TRUE(up->Send(std::move(chunk)));
  }
  grpc::Status status = up->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(up->response.size(), 20 * 512 * 1024);
  EXPECT_EQ(up->response.sha256(), sha.Hex());
}

TEST(Files, DownloadResumesFromAnOffset) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  Uploaded up = Upload(*stack, Header("r.bin"), 300000, 50000, 9);
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  ByteSource source(9);
  const std::string whole = source.Next(300000);
  Downloaded tail = Download(*stack, FileId(up.response), 250000);
  ASSERT_TRUE(tail.status.ok()) << tail.status.error_message();
  EXPECT_EQ(tail.bytes, 50000);
  EXPECT_EQ(tail.first_bytes, whole.substr(250000, 64));
}

// The gateway hashes what it streams: a download's last message carries the
// count and SHA-256 of exactly the bytes in its chunks (the whole file, or a
// resumed download's part from its offset on), and nothing comes after it.
// A refused download carries none.
TEST(Files, DownloadEndsWithTheSha256OfTheBytesStreamed) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  constexpr int64_t kSize = 600000;
  Uploaded up = Upload(*stack, Header("sum.bin"), kSize, 65536, 21);
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  Downloaded whole = Download(*stack, FileId(up.response));
  ASSERT_TRUE(whole.status.ok()) << whole.status.error_message();
  ASSERT_TRUE(whole.summary.has_value()) << "the download carried no summary";
  EXPECT_EQ(whole.summary->size(), kSize);
  EXPECT_EQ(whole.summary->sha256(), up.sha256);
  EXPECT_EQ(whole.after_summary, 0);

  constexpr int64_t kOffset = 599000;
  Downloaded tail = Download(*stack, FileId(up.response), kOffset);
  ASSERT_TRUE(tail.status.ok()) << tail.status.error_message();
  ASSERT_TRUE(tail.summary.has_value());
  ByteSource source(21);
  source.Next(kOffset);
  Sha256 part;
  part.Update(source.Next(kSize - kOffset));
  const std::string expected = part.Hex();
  EXPECT_EQ(tail.summary->size(), kSize - kOffset);
  EXPECT_EQ(tail.summary->sha256(), expected) << "not the hash of the part streamed";
  EXPECT_EQ(tail.sha256, expected);

  Uploaded empty = Upload(*stack, Header("empty.bin"), 0, 1);
  ASSERT_TRUE(empty.status.ok()) << empty.status.error_message();
  Downloaded nothing = Download(*stack, FileId(empty.response));
  ASSERT_TRUE(nothing.status.ok()) << nothing.status.error_message();
  ASSERT_TRUE(nothing.summary.has_value());
  EXPECT_EQ(nothing.summary->size(), 0);
  EXPECT_EQ(nothing.summary->sha256(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  Downloaded missing = Download(*stack, FileId(up.response) + 1000);
  EXPECT_EQ(missing.status.error_code(), grpc::StatusCode::NOT_FOUND) << missing.status.error_message();
  EXPECT_FALSE(missing.summary.has_value());
}

// A Drive file attached to a task (tasks.task.files.attach, through Call) is
// downloaded by the attachment's id (disk.attachedObject.get), byte for
// byte, with the attachment's object in the header and no link
// authorization in it.
TEST(Files, DownloadByAttachedObjectId) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  Uploaded up = Upload(*stack, Header("attached.pdf"), 700000, 65536, 5);
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  CallOut task = Call1(*stack, "tasks.task.add", {{"fields", {{"TITLE", "Sign the scan"}}}});
  ASSERT_TRUE(task.status.ok()) << task.status.error_message();
  const json task_id = task.result()["task"]["id"];
  CallOut attach =
      Call1(*stack, "tasks.task.files.attach", {{"taskId", task_id}, {"fileId", FileId(up.response)}});
  ASSERT_TRUE(attach.status.ok()) << attach.status.error_message();
  const int64_t attached = attach.result()["attachmentId"].get<int64_t>();
  pb::DownloadFileRequest request;
  request.set_attached_object_id(attached);
  Downloaded down = DownloadWith(*stack, request);
  ASSERT_TRUE(down.status.ok()) << down.status.error_message();
  EXPECT_EQ(down.header.name(), "attached.pdf");
  EXPECT_EQ(down.header.size(), 700000);
  json object = J(down.header.file());
  EXPECT_EQ(object["ID"], std::to_string(attached)) << object;
  EXPECT_EQ(object["ENTITY_ID"], task_id.is_string() ? task_id.get<std::string>() : task_id.dump())
      << object;
  EXPECT_FALSE(object.contains("DOWNLOAD_URL"));
  EXPECT_EQ(down.sha256, up.sha256);
  ASSERT_TRUE(down.summary.has_value()) << "the attachment came without the gateway's hash";
  EXPECT_EQ(down.summary->sha256(), up.sha256);
  const json last = stack->EmulatorCommands().back();
  EXPECT_EQ(last["method"], "disk.attachedobject.get") << last;

  request.set_offset(699990);
  Downloaded tail = DownloadWith(*stack, request);
  ASSERT_TRUE(tail.status.ok()) << tail.status.error_message();
  EXPECT_EQ(tail.bytes, 10);

  request.set_attached_object_id(attached + 100);
  request.set_offset(0);
  Downloaded unknown = DownloadWith(*stack, request);
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::NOT_FOUND) << unknown.status.error_message();
  request.set_file_id(FileId(up.response));  // and an attachment too: which one?
  Downloaded both = DownloadWith(*stack, request);
  EXPECT_EQ(both.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(both.status.error_message().find("attached_object_id"), std::string::npos);
}

// The gateway as an OAuth application: the upload URL and DOWNLOAD_URL the
// portal hands out carry the access token instead of a webhook's, and both
// transfers work with it (the emulator checks it like a REST call's).
TEST(Files, AnOAuthPortalsFilesGoUpAndComeBack) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--oauth", "app.test:app-secret", "--oauth-refresh-token", "files-refresh"};
  GatewaySpec gateway;
  gateway.customize = [](json* portal, const std::string& address) {
    portal->erase("webhook");
    (*portal)["oauth"] = {{"client_id", "app.test"},
                          {"client_secret", "app-secret"},
                          {"refresh_token", "files-refresh"},
                          {"oauth_url", "http://" + address + "/oauth/token/"},
                          {"portal_url", "http://" + address + "/rest/"}};
  };
  auto stack = Up(emulator, gateway);
  ASSERT_TRUE(stack);
  Uploaded up = Upload(*stack, Header("oauth.bin"), 300000, 65536, 31);
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  Downloaded down = Download(*stack, FileId(up.response));
  ASSERT_TRUE(down.status.ok()) << down.status.error_message();
  EXPECT_EQ(down.bytes, 300000);
  ASSERT_TRUE(down.summary.has_value());
  EXPECT_EQ(down.summary->sha256(), up.sha256);
  EXPECT_GE(stack->EmulatorStats()["token_refreshes"], 1) << "not an OAuth portal";
}

TEST(Files, BadInputIsRefusedBeforeAnyByteGoesOn) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  pb::UploadFileHeader no_name = Header("");
  Uploaded r = Upload(*stack, no_name, 1000, 100);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(r.status.error_message().find("header.name"), std::string::npos) << r.status.error_message();

  pb::UploadFileHeader no_target;
  no_target.set_name("a.txt");
  r = Upload(*stack, no_target, 1000, 100);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(r.status.error_message().find("header.target"), std::string::npos);

  r = Upload(*stack, Header("a/b.txt"), 10, 10);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // None of these reached the portal.
  for (const json& command : stack->EmulatorCommands()) {
    EXPECT_EQ(command["method"].get<std::string>().rfind("disk.", 0), std::string::npos) << command;
  }

  r = Upload(*stack, Header("a.txt", /*folder=*/999), 1000, 100);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::NOT_FOUND) << r.status.error_message();
  EXPECT_EQ(ReasonOf(r.status), "ERROR_NOT_FOUND");

  Downloaded d = Download(*stack, 12345);
  EXPECT_EQ(d.status.error_code(), grpc::StatusCode::NOT_FOUND) << d.status.error_message();
  d = Download(*stack, 0);
  EXPECT_EQ(d.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Folder(*stack)["total"], 0) << Folder(*stack);
}

// --max-file-size: a larger declared size is refused before anything is
// sent, an undeclared stream that passes the limit is stopped before the
// form is whole (nothing stored), and a file of exactly the limit lands.
TEST(Files, MaximumFileSizeRefusesLargerFiles) {
  GatewaySpec gateway;
  gateway.extra_args = {"--max-file-size", "100000"};
  auto stack = Up({}, gateway);
  ASSERT_TRUE(stack);
  pb::UploadFileHeader declared = Header("declared.bin");
  declared.set_size(100001);
  Uploaded r = Upload(*stack, declared, 100001, 10000);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << r.status.error_message();
  EXPECT_NE(r.status.error_message().find("header.size"), std::string::npos) << r.status.error_message();
  for (const json& command : stack->EmulatorCommands()) {
    EXPECT_EQ(command["method"].get<std::string>().rfind("disk.", 0), std::string::npos) << command;
  }

  r = Upload(*stack, Header("streamed.bin"), 300000, 10000);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << r.status.error_message();
  EXPECT_NE(r.status.error_message().find("nothing was stored"), std::string::npos)
      << r.status.error_message();
  EXPECT_EQ(Folder(*stack)["total"], 0) << Folder(*stack);

  Uploaded fits = Upload(*stack, Header("fits.bin"), 100000, 10000);
  ASSERT_TRUE(fits.status.ok()) << fits.status.error_message();
  EXPECT_EQ(fits.response.sha256(), fits.sha256);
  EXPECT_EQ(Folder(*stack)["total"], 1) << Folder(*stack);
}

// The web server in front of a portal caps a request's size (the docs: 2 GB
// on a cloud portal; the emulator's --max-request-size, here 1 MiB) and
// answers a larger request 413 before the portal sees it. A Drive upload
// (size declared or not) and a record field's (its base64 a third larger
// than the file) over it are RESOURCE_EXHAUSTED naming the limit, store
// nothing and are sent once each; a file that fits lands.
TEST(Files, APortalsRequestSizeLimitIsReportedAndNeverRetried) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--max-request-size", "1048576"};
  auto stack = Up(emulator);
  ASSERT_TRUE(stack);
  auto expect_refused = [](const Uploaded& up) {
    const std::string message = up.status.error_message();
    EXPECT_EQ(up.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << message;
    EXPECT_NE(message.find("HTTP 413"), std::string::npos) << message;
    EXPECT_NE(message.find("2 GB on a cloud Bitrix24"), std::string::npos) << message;
    EXPECT_NE(message.find("nothing was stored"), std::string::npos) << message;
  };
  for (bool declared : {true, false}) {
    SCOPED_TRACE(declared ? "declared" : "undeclared");
    pb::UploadFileHeader header = Header(declared ? "declared.bin" : "streamed.bin");
    if (declared) header.set_size(2 << 20);
    expect_refused(Upload(*stack, header, 2 << 20, 65536));
  }
  EXPECT_EQ(Folder(*stack)["total"], 0) << Folder(*stack);

  const json deal = stack->Rest("crm.deal.add", {{"fields", {{"TITLE", "too large"}}}})["result"];
  ASSERT_TRUE(deal.is_number_integer()) << deal;
  pb::UploadFileHeader field;
  *field.mutable_record_field() = DealFileField(deal.get<int64_t>());
  field.set_name("scan.pdf");
  expect_refused(Upload(*stack, field, 900 << 10, 65536));  // 1.2 MB of base64
  EXPECT_EQ(stack->EmulatorStats()["too_large"], 3) << "an upload was sent again";

  Uploaded fits = Upload(*stack, Header("fits.bin"), 512 << 10, 65536);
  ASSERT_TRUE(fits.status.ok()) << fits.status.error_message();
  EXPECT_EQ(Folder(*stack)["total"], 1);
}

// A full Drive (the emulator's --disk-quota) refuses the POST that would
// pass it with the docs' ERROR_COULD_NOT_SAVE_FILE: the caller gets the
// portal's code and description, nothing is stored, nothing sent again.
TEST(Files, AFullDriveIsThePortalsErrorAndStoresNothing) {
  EmulatorSpec emulator;
  emulator.extra_args = {"--disk-quota", "1000000"};
  auto stack = Up(emulator);
  ASSERT_TRUE(stack);
  Uploaded first = Upload(*stack, Header("first.bin"), 600000, 65536);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  Uploaded full = Upload(*stack, Header("second.bin"), 600000, 65536);
  EXPECT_EQ(full.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << full.status.error_message();
  EXPECT_EQ(ReasonOf(full.status), "ERROR_COULD_NOT_SAVE_FILE");
  EXPECT_EQ(full.status.error_message(), "Could not save file");
  EXPECT_EQ(Folder(*stack)["total"], 1) << Folder(*stack);
  int first_steps = 0;
  for (const json& c : stack->EmulatorCommands()) first_steps += c["method"] == "disk.folder.uploadfile";
  EXPECT_EQ(first_steps, 2);
}

TEST(Files, WrongDeclaredSizeStoresNothing) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  for (int64_t declared : {int64_t{1000}, int64_t{10}}) {
    pb::UploadFileHeader header = Header("short.bin");
    header.set_size(declared);
    Uploaded r = Upload(*stack, header, 500, 100);
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << r.status.error_message();
    EXPECT_NE(r.status.error_message().find("nothing was stored"), std::string::npos)
        << r.status.error_message();
  }
  EXPECT_EQ(Folder(*stack)["total"], 0) << Folder(*stack);
}

TEST(Files, ClientCancelledMidUploadStoresNothing) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  std::unique_ptr<OpenedUpload> cut = OpenUpload(*stack, Header("cut.bin"));
  ASSERT_TRUE(cut->open);
  ByteSource source(3);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(cut->Send(source.Next(64 * 1024)));
  cut->ctx->TryCancel();
  EXPECT_EQ(cut->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The gateway keeps serving, and the cut file never appears.
  Uploaded after = Upload(*stack, Header("whole.bin"), 1000, 100);
  ASSERT_TRUE(after.status.ok()) << after.status.error_message();
  json folder = Folder(*stack);
  ASSERT_EQ(folder["total"], 1) << folder;
  EXPECT_EQ(folder["result"][0]["NAME"], "whole.bin");
}

// The portal drops the connection halfway through the POST's body: it never
// had a whole form, so nothing was stored (NOT_EXECUTED), and the gateway
// does not send the file again (the fault hits the first POST only: a
// second one would have stored it). Large enough that the half left cannot
// all sit in the sockets' buffers when the cut comes.
TEST(Files, PortalResetMidUploadStoresNothingAndIsNotResent) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  constexpr int64_t kSize = 32 << 20;
  stack->SetFaults("cut=@1,method=upload");
  pb::UploadFileHeader header = Header("cut.bin");
  header.set_size(kSize);
  Uploaded r = Upload(*stack, header, kSize, 1 << 20);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  EXPECT_EQ(ReasonOf(r.status), "NOT_EXECUTED") << r.status.error_message();
  EXPECT_NE(r.status.error_message().find("nothing was stored"), std::string::npos)
      << r.status.error_message();
  EXPECT_EQ(Folder(*stack)["total"], 0) << Folder(*stack);
  // The gateway keeps serving.
  Uploaded after = Upload(*stack, Header("whole.bin"), 1000, 100);
  ASSERT_TRUE(after.status.ok()) << after.status.error_message();
  EXPECT_EQ(Folder(*stack)["total"], 1) << Folder(*stack);
}

// The portal took the whole file, then failed its answer: the caller learns
// the file may exist (OUTCOME_UNKNOWN), and the gateway never sends it again.
TEST(Files, AnswerLostAfterTheBytesIsOutcomeUnknownNeverResent) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  int uploads = 0;
  for (const char* fault : {"500=@1,method=upload", "reset=@1,method=upload"}) {
    SCOPED_TRACE(fault);
    stack->SetFaults(fault);
    pb::UploadFileHeader header = Header(std::string("f") + std::to_string(uploads) + ".bin");
    header.set_size(200000);
    Uploaded r = Upload(*stack, header, 200000, 65536);
    ++uploads;
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
    EXPECT_EQ(ReasonOf(r.status), "OUTCOME_UNKNOWN") << r.status.error_message();
    EXPECT_NE(r.status.error_message().find("may have been stored"), std::string::npos);
  }
  // Each was stored exactly once by the one POST that carried it.
  EXPECT_EQ(Folder(*stack)["total"], uploads) << Folder(*stack);
}

// A file link in a portal's answer carries the portal's authorization
// (`auth=`): whoever holds it acts as the webhook. Answers handed to callers
// through Call, CallBatch and GetAll keep the links without it; the file is
// downloaded through DownloadFile, which still works.
TEST(Files, PlainCallsNeverHandOutTheLinksAuthorization) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  Uploaded up = Upload(*stack, Header("leak.bin"), 1000, 1000);
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  const int64_t id = FileId(up.response);
  // What the portal itself answers, and the secret in it.
  const std::string portal_url =
      stack->Rest("disk.file.get", {{"id", id}})["result"]["DOWNLOAD_URL"].get<std::string>();
  const size_t at = portal_url.find("auth=");
  ASSERT_NE(at, std::string::npos) << portal_url;
  const std::string secret = portal_url.substr(at + 5, portal_url.find('&', at) - at - 5);
  ASSERT_GE(secret.size(), 8u);
  // A failure names the RPC, never the answer (it would print the secret).
  auto expect_clean = [&](const json& answer, const char* where) {
    EXPECT_EQ(answer.dump().find(secret), std::string::npos) << where;
    EXPECT_EQ(answer.dump().find("auth="), std::string::npos) << where;
  };

  CallOut call = Call1(*stack, "disk.file.get", {{"id", id}});
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  expect_clean(call.result(), "Call");
  const std::string token = portal_url.substr(portal_url.find("token="));
  EXPECT_TRUE(call.result()["DOWNLOAD_URL"] == portal_url.substr(0, portal_url.find('?') + 1) + token)
      << "the link still names the file";
  CallOut upload_url = Call1(*stack, "disk.folder.uploadfile", {{"id", 1}, {"data", {{"NAME", "x"}}}});
  ASSERT_TRUE(upload_url.status.ok()) << upload_url.status.error_message();
  EXPECT_NE(upload_url.result()["uploadUrl"].get<std::string>().find("token="), std::string::npos);
  expect_clean(upload_url.result(), "Call uploadUrl");
  BatchOut batch = CallBatch(*stack, {{"f", "disk.file.get", {{"id", id}}}});
  ASSERT_TRUE(batch.status.ok()) << batch.status.error_message();
  expect_clean(J(batch.by_key()["f"].result()), "CallBatch");
  GetAllOut list = GetAll(*stack, "disk.folder.getchildren", {{"id", 1}});
  ASSERT_TRUE(list.status.ok()) << list.status.error_message();
  ASSERT_EQ(list.items.size(), 1u);
  expect_clean(list.items[0], "GetAll");

  Downloaded down = Download(*stack, id);
  ASSERT_TRUE(down.status.ok()) << down.status.error_message();
  EXPECT_EQ(down.sha256, up.sha256);
}

TEST(Files, BytesMovedAreCounted) {
  GatewaySpec gateway;
  gateway.extra_args = {"--metrics-listen", "127.0.0.1:0"};
  auto stack = Up({}, gateway);
  ASSERT_TRUE(stack);
  Uploaded up = Upload(*stack, Header("m.bin"), 100000, 30000);
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  Downloaded down = Download(*stack, FileId(up.response));
  ASSERT_TRUE(down.status.ok()) << down.status.error_message();
  Uploaded bad = Upload(*stack, Header("m.bin", 999), 10, 10);
  ASSERT_EQ(bad.status.error_code(), grpc::StatusCode::NOT_FOUND);
  const std::string metrics = ScrapeMetrics(stack->gateway());
  for (const char* line : {"b24gate_file_bytes_total{direction=\"up\",portal=\"main\"} 100000",
                           "b24gate_file_bytes_total{direction=\"down\",portal=\"main\"} 100000",
                           "b24gate_file_transfers_total{code=\"OK\",direction=\"up\"} 1",
                           "b24gate_file_transfers_total{code=\"OK\",direction=\"down\"} 1",
                           "b24gate_file_transfers_total{code=\"NOT_FOUND\",direction=\"up\"} 1"}) {
    EXPECT_NE(metrics.find(line), std::string::npos) << line;
  }
}

// A transfer counts as in progress from its RPC's start to its end, in
// each direction, whatever the end (here an upload's client goes away).
TEST(Files, TransfersInProgressAreCounted) {
  GatewaySpec gateway;
  gateway.extra_args = {"--metrics-listen", "127.0.0.1:0"};
  auto stack = Up({}, gateway);
  ASSERT_TRUE(stack);
  auto in_progress = [&](const char* direction, int n) {
    const std::string line = std::string("b24gate_file_transfers_in_progress{direction=\"") +
                             direction + "\"} " + std::to_string(n) + "\n";
    return testing::WaitFor([&] { return ScrapeMetrics(stack->gateway()).find(line) != std::string::npos; });
  };
  std::unique_ptr<OpenedUpload> slow = OpenUpload(*stack, Header("slow.bin"));
  ASSERT_TRUE(slow->open);
  EXPECT_TRUE(in_progress("up", 1));
  EXPECT_TRUE(in_progress("down", 0));
  slow->ctx->TryCancel();
  slow->Finish();
  EXPECT_TRUE(in_progress("up", 0));
  Uploaded up = Upload(*stack, Header("m.bin"), 1000, 100);
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  ASSERT_TRUE(Download(*stack, FileId(up.response)).status.ok());
  EXPECT_TRUE(in_progress("up", 0));
  EXPECT_TRUE(in_progress("down", 0));
}

// A client that cancels a download mid-file stops the gateway's transfer from
// the portal at once: the transfer ends (it counts as in progress until then)
// well before the 60 s a stalled transfer is given, and the next download of
// the same file arrives whole.
TEST(Files, ACancelledDownloadStopsItsTransfer) {
  GatewaySpec gateway;
  gateway.extra_args = {"--metrics-listen", "127.0.0.1:0"};
  auto stack = Up({}, gateway);
  ASSERT_TRUE(stack);
  constexpr int64_t kSize = int64_t{64} << 20;  // far more than the buffers on the way hold
  Uploaded up = Upload(*stack, Header("long.bin"), kSize, 1 << 20, 8);
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  auto stub = pb::FilesService::NewStub(stack->channel());
  auto ctx = Ctx(600);
  pb::DownloadFileRequest request;
  request.set_file_id(FileId(up.response));
  auto reader = stub->DownloadFile(ctx.get(), request);
  pb::DownloadFileResponse message;
  ASSERT_TRUE(reader->Read(&message) && message.has_header());
  ASSERT_TRUE(reader->Read(&message) && !message.chunk().empty());
  ctx->TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(testing::WaitFor([&] {
    return ScrapeMetrics(stack->gateway())
               .find("b24gate_file_transfers_total{code=\"CANCELLED\",direction=\"down\"} 1") !=
           std::string::npos;
  })) << "the cancelled download's transfer went on";
  EXPECT_NE(ScrapeMetrics(stack->gateway())
                .find("b24gate_file_failures_total{direction=\"down\",reason=\"CANCELLED\"} 1"),
            std::string::npos);
  Downloaded whole = Download(*stack, FileId(up.response));
  ASSERT_TRUE(whole.status.ok()) << whole.status.error_message();
  EXPECT_EQ(whole.sha256, up.sha256);
}

// Many uploads at once on one channel: every file lands whole, the first
// steps stay within the portal's request bucket, and the gateway's memory
// stays far below the bytes in flight (at most 16 transfers run; the others
// wait with their pipes full, their senders held back by flow control).
TEST(Files, ConcurrentUploadsAllLandWithinTheBucketAndBoundedMemory) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  constexpr int kUploads = 32;
  // 16 MiB each: what the gateway holds per stream does not grow with it
  // (flow-control window and pipe), so the bound below has room to spare.
  constexpr int64_t kSize = int64_t{16} << 20;
  const int64_t before = PeakRss(stack->gateway().pid());
  std::vector<Uploaded> results(kUploads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kUploads; ++i) {
    threads.emplace_back([&, i] {
      pb::UploadFileHeader header = Header("c" + std::to_string(i) + ".bin");
      header.set_size(kSize);
      results[i] = Upload(*stack, header, kSize, 256 << 10, static_cast<uint64_t>(100 + i));
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kUploads; ++i) {
    ASSERT_TRUE(results[i].status.ok()) << i << ": " << results[i].status.error_message();
    EXPECT_EQ(results[i].response.sha256(), results[i].sha256) << i;
    EXPECT_EQ(J(results[i].response.file())["SIZE"], std::to_string(kSize)) << i;
  }
  EXPECT_EQ(Folder(*stack)["total"], kUploads);
  EXPECT_LE(stack->EmulatorStats()["peak_bucket_level"].get<double>(), 50.0);
  const int64_t peak = PeakRss(stack->gateway().pid());
  std::printf("gateway VmHWM %lld MiB before, %lld MiB after %d concurrent %lld MiB uploads\n",
              static_cast<long long>(before >> 20), static_cast<long long>(peak >> 20), kUploads,
              static_cast<long long>(kSize >> 20));
  // What the uploads added, against half of the bytes they had in flight (the
  // baseline varies with the machine: 24 MiB here, more elsewhere).
  EXPECT_LT(peak - before, kUploads * kSize / 2)
      << "the gateway held a large part of the files in flight";
}

// A file far larger than the gateway's memory bound goes up and comes back
// whole, and the gateway's peak resident memory stays far below its size.
TEST(Files, LargeFileKeepsGatewayMemoryBounded) {
  auto stack = Up();
  ASSERT_TRUE(stack);
  const int64_t size = int64_t{256} << 20;
  const int64_t before = PeakRss(stack->gateway().pid());
  pb::UploadFileHeader header = Header("big.bin");
  header.set_size(size);
  Uploaded up = Upload(*stack, header, size, 1 << 20, 42);
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  EXPECT_EQ(up.response.sha256(), up.sha256);
  Downloaded down = Download(*stack, FileId(up.response));
  ASSERT_TRUE(down.status.ok()) << down.status.error_message();
  EXPECT_EQ(down.bytes, size);
  EXPECT_EQ(down.sha256, up.sha256);
  const int64_t peak = PeakRss(stack->gateway().pid());
  std::printf("gateway VmHWM: %lld MiB before, %lld MiB after moving 2 x %lld MiB\n",
              static_cast<long long>(before >> 20), static_cast<long long>(peak >> 20),
              static_cast<long long>(size >> 20));
  ASSERT_GT(peak, 0);
  EXPECT_LT(peak, int64_t{96} << 20) << "the gateway held a large part of the file";
}

}  // namespace
}  // namespace b24gate::e2e::files_test
