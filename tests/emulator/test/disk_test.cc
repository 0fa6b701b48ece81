// The Drive over real sockets: disk.* methods, the two-step upload (an
// uploadUrl, then a multipart POST) and the authorised DOWNLOAD_URL.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <atomic>
#include <string>
#include <thread>
#include <utility>

#include <httplib.h>

#include "absl/strings/escaping.h"
#include "absl/synchronization/notification.h"
#include "tests/emulator/clock.h"
#include "tests/emulator/disk.h"
#include "tests/emulator/portal.h"
#include "tests/emulator/server.h"
#include "tests/emulator/test/fake_methods.h"
#include "tests/emulator/test/portal_harness.h"
#include "tests/support/wait_for.h"

namespace b24emu::disk_test {
namespace {

using nlohmann::json;

class DiskTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  explicit DiskTest(ServerOptions options = ServerOptions(), PortalConfig config = TestConfig())
      : portal_(std::move(config), &methods_, RealClock()), server_(options, &portal_) {
    port_ = server_.Start().value_or(0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_read_timeout(10, 0);
  }

  json Call(const std::string& method, const json& params) {
    auto res = client_->Post("/rest/1/secret/" + method, params.dump(), "application/json");
    return res ? json::parse(res->body) : json();
  }

  // POSTs `bytes` as the multipart field `field` to an uploadUrl.
  httplib::Result PostFile(const std::string& url, const std::string& field,
                           const std::string& bytes, const std::string& filename = "x.bin") {
    httplib::MultipartFormDataItems items = {{field, bytes, filename, "application/octet-stream"}};
    return client_->Post(PathOf(url), items);
  }

  // "http://host:port/path?q" -> "/path?q": every URL the Drive hands out
  // is on this server.
  std::string PathOf(const std::string& url) {
    const std::string base = "http://127.0.0.1:" + std::to_string(port_);
    EXPECT_EQ(url.substr(0, base.size()), base) << url;
    return url.substr(base.size());
  }

  json UploadTwoStep(const std::string& name, const std::string& bytes, int64_t folder = 1,
                     bool unique = false) {
    json first = Call("disk.folder.uploadfile",
                      {{"id", folder}, {"data", {{"NAME", name}}}, {"generateUniqueName", unique}});
    EXPECT_EQ(first["result"]["field"], "file") << first;
    auto res = PostFile(first["result"]["uploadUrl"].get<std::string>(), "file", bytes);
    EXPECT_TRUE(res);
    return res ? json::parse(res->body) : json();
  }

  FakeMethods methods_;
  Portal portal_;
  EmulatorServer server_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

std::string Bytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7919 + i / 251) & 0xff);
  return s;
}

TEST_F(DiskTest, StoragesHaveRootFolders) {
  json list = Call("disk.storage.getlist", json::object());
  ASSERT_EQ(list["result"].size(), 2u) << list;
  EXPECT_EQ(list["total"], 2);
  EXPECT_EQ(list["result"][0]["ROOT_OBJECT_ID"], "1");
  EXPECT_EQ(list["result"][1]["ENTITY_TYPE"], "common");
}

TEST_F(DiskTest, TwoStepUploadThenDownloadIsByteIdentical) {
  const std::string bytes = Bytes(3 * 1024 * 1024 + 17);
  json file = UploadTwoStep("scan.pdf", bytes);
  ASSERT_TRUE(file.contains("result")) << file;
  EXPECT_EQ(file["result"]["NAME"], "scan.pdf");
  EXPECT_EQ(file["result"]["SIZE"], std::to_string(bytes.size()));
  EXPECT_EQ(file["result"]["PARENT_ID"], "1");

  const std::string url = file["result"]["DOWNLOAD_URL"];
  auto res = client_->Get(PathOf(url));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(res->body == bytes) << "downloaded " << res->body.size() << " bytes";

  // disk.file.get names the same file and URL.
  json got = Call("disk.file.get", {{"id", file["result"]["ID"]}});
  EXPECT_EQ(got["result"]["DOWNLOAD_URL"], url);
  // A range of it (resuming a download).
  auto part = client_->Get(PathOf(url), {{"Range", "bytes=1000-1999"}});
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, bytes.substr(1000, 1000));
}

TEST_F(DiskTest, StorageUploadLandsInItsRootFolder) {
  json first = Call("disk.storage.uploadfile", {{"id", 2}, {"data", {{"NAME", "a.txt"}}}});
  auto res = PostFile(first["result"]["uploadUrl"].get<std::string>(), "file", "hello");
  ASSERT_TRUE(res);
  json file = json::parse(res->body);
  EXPECT_EQ(file["result"]["STORAGE_ID"], "2") << file;
  EXPECT_EQ(file["result"]["PARENT_ID"], "2");
  json children = Call("disk.storage.getchildren", {{"id", 2}});
  ASSERT_EQ(children["result"].size(), 1u) << children;
  EXPECT_EQ(children["result"][0]["NAME"], "a.txt");
}

TEST_F(DiskTest, ByteUrlsNeedTheirAuthorization) {
  json file = UploadTwoStep("a.bin", "abc");
  std::string url = PathOf(file["result"]["DOWNLOAD_URL"]);
  const size_t auth = url.find("auth=") + 5;
  const std::string forged = url.substr(0, auth) + "nope" + url.substr(url.find('&', auth));
  auto res = client_->Get(forged);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body)["error"], "invalid_token");
  const std::string no_auth = url.substr(0, auth - 5) + url.substr(url.find('&', auth) + 1);
  res = client_->Get(no_auth);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(json::parse(res->body)["error"], "NO_AUTH_FOUND");
}

TEST_F(DiskTest, AnUploadUrlFilesOneUpload) {
  json first = Call("disk.folder.uploadfile", {{"id", 1}, {"data", {{"NAME", "once.bin"}}}});
  const std::string url = first["result"]["uploadUrl"];
  // A POST without the announced field files nothing and leaves the URL usable.
  auto wrong = PostFile(url, "other", "abc");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400);
  auto ok = PostFile(url, "file", "abc");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  auto again = PostFile(url, "file", "abc");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 400);
  json children = Call("disk.folder.getchildren", {{"id", 1}});
  EXPECT_EQ(children["total"], 1) << children;
}

TEST_F(DiskTest, NameClashRefusedOrMadeUnique) {
  ASSERT_TRUE(UploadTwoStep("r.txt", "1").contains("result"));
  json clash = UploadTwoStep("r.txt", "2");
  EXPECT_EQ(clash["error"], "DISK_OBJ_22000") << clash;
  json unique = UploadTwoStep("r.txt", "3", 1, /*unique=*/true);
  EXPECT_EQ(unique["result"]["NAME"], "r (1).txt") << unique;
}

// A server that takes request bodies of up to 64 KiB (--max-request-size;
// the docs give a cloud portal's web server 2 GB).
class LimitedDiskTest : public DiskTest {
 protected:
  static constexpr int64_t kLimit = 64 << 10;
  static ServerOptions Limited() {
    ServerOptions options;
    options.max_request_size = kLimit;
    return options;
  }
  LimitedDiskTest() : DiskTest(Limited()) {}

  // The multipart form of one file in the field "file", sent chunked (no
  // Content-Length: the server only finds out as it reads).
  httplib::Result PostChunked(const std::string& url, const std::string& bytes) {
    const std::string form = "--b24\r\nContent-Disposition: form-data; name=\"file\"; "
                             "filename=\"x.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n" +
                             bytes + "\r\n--b24--\r\n";
    return client_->Post(
        PathOf(url),
        [form](size_t offset, httplib::DataSink& sink) {
          if (offset < form.size()) {
            sink.write(form.data() + offset, std::min<size_t>(4096, form.size() - offset));
          } else {
            sink.done();
          }
          return true;
        },
        "multipart/form-data; boundary=b24");
  }
};

TEST_F(LimitedDiskTest, AnUploadOverTheRequestLimitIs413AndStoresNothing) {
  json first = Call("disk.folder.uploadfile", {{"id", 1}, {"data", {{"NAME", "big.bin"}}}});
  const std::string url = first["result"]["uploadUrl"];
  auto declared = PostFile(url, "file", Bytes(kLimit + 1));
  ASSERT_TRUE(declared);
  EXPECT_EQ(declared->status, 413);
  EXPECT_NE(declared->body.find("413 Request Entity Too Large"), std::string::npos) << declared->body;
  auto chunked = PostChunked(url, Bytes(kLimit + 1));
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->status, 413);
  EXPECT_EQ(Call("disk.folder.getchildren", {{"id", 1}})["total"], 0);
  // Refused by the web server, the upload never reached the portal: its
  // URL still files one that fits, either way it is sent.
  auto fits = PostChunked(url, Bytes(kLimit - 1024));
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->status, 200) << fits->body;
  json file = json::parse(fits->body);
  EXPECT_EQ(file["result"]["SIZE"], std::to_string(kLimit - 1024)) << file;
}

TEST_F(LimitedDiskTest, ARestCallOverTheRequestLimitIs413AndNeverRuns) {
  json big = {{"id", 1}, {"data", {{"NAME", "deals"}}}, {"note", std::string(kLimit, 'x')}};
  auto res = client_->Post("/rest/1/secret/disk.folder.addsubfolder", big.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(Call("disk.folder.getchildren", {{"id", 1}})["total"], 0);
  big.erase("note");
  EXPECT_EQ(Call("disk.folder.addsubfolder", big)["result"]["NAME"], "deals");
}

// A Drive of 10,000 bytes (--disk-quota): a file that would pass it is
// ERROR_COULD_NOT_SAVE_FILE and stored nowhere, in either form of upload;
// deleting a file makes room again.
class QuotaDiskTest : public DiskTest {
 protected:
  static PortalConfig WithQuota() {
    PortalConfig config = TestConfig();
    config.disk_quota = 10000;
    return config;
  }
  QuotaDiskTest() : DiskTest(ServerOptions(), WithQuota()) {}
};

TEST_F(QuotaDiskTest, AFileThatWouldPassTheQuotaCouldNotBeSaved) {
  json first = UploadTwoStep("a.bin", Bytes(6000));
  ASSERT_TRUE(first.contains("result")) << first;
  json full = UploadTwoStep("b.bin", Bytes(6000));
  EXPECT_EQ(full["error"], "ERROR_COULD_NOT_SAVE_FILE") << full;
  EXPECT_EQ(full["error_description"], "Could not save file");
  json inline_full = Call("disk.folder.uploadfile", {{"id", 1},
                                                     {"data", {{"NAME", "c.bin"}}},
                                                     {"fileContent", {"c.bin", std::string(8000, 'A')}}});
  EXPECT_EQ(inline_full["error"], "ERROR_COULD_NOT_SAVE_FILE") << inline_full;
  EXPECT_EQ(Call("disk.folder.getchildren", {{"id", 1}})["total"], 1);
  EXPECT_TRUE(UploadTwoStep("d.bin", Bytes(4000)).contains("result")) << "exactly the quota fits";
  ASSERT_EQ(Call("disk.file.delete", {{"id", first["result"]["ID"]}})["result"], true);
  EXPECT_TRUE(UploadTwoStep("b.bin", Bytes(6000)).contains("result")) << "the deleted file's room";
}

TEST_F(DiskTest, UnknownFolderIsNotFound) {
  json r = Call("disk.folder.uploadfile", {{"id", 999}, {"data", {{"NAME", "x"}}}});
  EXPECT_EQ(r["error"], "ERROR_NOT_FOUND") << r;
  r = Call("disk.file.get", {{"id", 1}});  // a folder, not a file
  EXPECT_EQ(r["error"], "ERROR_NOT_FOUND") << r;
}

TEST_F(DiskTest, OneStepBase64UploadAndDelete) {
  json r = Call("disk.folder.uploadfile",
                {{"id", 1}, {"data", {{"NAME", "b.txt"}}}, {"fileContent", {"b.txt", "aGVsbG8="}}});
  ASSERT_EQ(r["result"]["SIZE"], "5") << r;
  auto res = client_->Get(PathOf(r["result"]["DOWNLOAD_URL"]));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "hello");
  EXPECT_EQ(Call("disk.file.delete", {{"id", r["result"]["ID"]}})["result"], true);
  res = client_->Get(PathOf(r["result"]["DOWNLOAD_URL"]));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST_F(DiskTest, SubfoldersTakeUploads) {
  json folder = Call("disk.folder.addsubfolder", {{"id", 1}, {"data", {{"NAME", "deals"}}}});
  ASSERT_EQ(folder["result"]["TYPE"], "folder") << folder;
  const int64_t id = std::stoll(folder["result"]["ID"].get<std::string>());
  json file = UploadTwoStep("c.bin", "xyz", id);
  EXPECT_EQ(file["result"]["PARENT_ID"], std::to_string(id)) << file;
}

// tasks.task.files.attach makes an attached object; disk.attachedObject.get
// describes it and its DOWNLOAD_URL redirects to the file's bytes.
TEST_F(DiskTest, AFileAttachedToATaskIsReadByItsAttachedObject) {
  const std::string bytes = Bytes(5000);
  json file = UploadTwoStep("a.bin", bytes);
  const std::string file_id = file["result"]["ID"].get<std::string>();
  json attached = Call("tasks.task.files.attach", {{"taskId", 7}, {"fileId", file_id}});
  ASSERT_TRUE(attached["result"]["attachmentId"].is_number_integer()) << attached;
  const int64_t id = attached["result"]["attachmentId"].get<int64_t>();
  json object = Call("disk.attachedObject.get", {{"id", id}});
  EXPECT_EQ(object["result"]["OBJECT_ID"], file_id) << object;
  EXPECT_EQ(object["result"]["ENTITY_TYPE"], "tasks_task");
  EXPECT_EQ(object["result"]["ENTITY_ID"], "7");
  EXPECT_EQ(object["result"]["NAME"], "a.bin");
  EXPECT_EQ(object["result"]["SIZE"], "5000");
  // The attachment's own link, as a portal's: it redirects to the file's.
  const std::string link = object["result"]["DOWNLOAD_URL"];
  EXPECT_NE(link.find("/bitrix/tools/disk/uf.php?attachedId=" + std::to_string(id) + "&auth%5Bauth%5D="),
            std::string::npos)
      << link;
  auto res = client_->Get(PathOf(link));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 302) << res->body;
  res = client_->Get(PathOf(res->get_header_value("Location")));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, bytes);
  // Its authorization is checked like the file's own link's.
  const size_t auth = link.find("auth%5Bauth%5D=") + 15;
  auto forged = client_->Get(PathOf(link.substr(0, auth) + "nope" + link.substr(link.find('&', auth))));
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 401);

  EXPECT_EQ(Call("disk.attachedObject.get", {{"id", id + 1}})["error"], "ERROR_NOT_FOUND");
  EXPECT_EQ(Call("tasks.task.files.attach", {{"taskId", 500}, {"fileId", file_id}})["error"],
            "ERROR_CORE");
  EXPECT_EQ(Call("tasks.task.files.attach", {{"taskId", 7}, {"fileId", 9999}})["error"],
            "ERROR_CORE");
  EXPECT_EQ(Call("tasks.task.files.attach", {{"taskId", 7}})["error"], "100");
}


// A store renames its bytes into place without the Disk's lock: while one
// stalls there (a slow disk), other requests are answered, and they see the
// stalled file's id, name and bytes taken, so nothing is given twice; the
// file is listed once its bytes are in place.
TEST(DiskStoreTest, AStalledStoreHoldsUpNoOtherRequestAndKeepsItsReservation) {
  absl::StatusOr<std::unique_ptr<Disk>> made = Disk::Create(RealClock(), /*quota=*/10);
  ASSERT_TRUE(made.ok()) << made.status();
  Disk& disk = **made;
  absl::Notification entered, release;
  std::atomic<int> stores{0};
  disk.SetStoreHook([&] {
    if (stores.fetch_add(1) > 0) return;  // only the first store stalls
    entered.Notify();
    release.WaitForNotification();
  });
  auto upload = [&disk](const std::string& name, const std::string& bytes, bool unique) {
    return disk.Invoke("disk.folder.uploadfile",
                       {{"id", 1},
                        {"fileContent", {name, absl::Base64Escape(bytes)}},
                        {"generateUniqueName", unique}},
                       DiskCaller{});
  };
  MethodResult stalled;
  std::thread first([&] { stalled = upload("a.txt", "123456", false); });
  entered.WaitForNotification();

  // Run on a thread so that a Disk holding its lock across the stall fails
  // the test instead of hanging it.
  std::atomic<bool> done{false};
  MethodResult listed, same_name, unique_name, over_quota;
  std::thread others([&] {
    listed = disk.Invoke("disk.folder.getchildren", {{"id", 1}}, DiskCaller{});
    same_name = upload("A.TXT", "1", false);
    unique_name = upload("a.txt", "1", true);
    over_quota = upload("b.txt", "12345", false);
    done = true;
  });
  const bool answered = b24gate::testing::WaitFor([&] { return done.load(); }, 20);
  release.Notify();
  first.join();
  others.join();
  ASSERT_TRUE(answered) << "requests waited for a store's rename";

  EXPECT_EQ(listed.result.size(), 0u) << "a file listed before its bytes were in place";
  EXPECT_EQ(same_name.error, "DISK_OBJ_22000") << "the stalled file's name was given again";
  ASSERT_FALSE(unique_name.is_error) << unique_name.error_description;
  EXPECT_EQ(unique_name.result["NAME"], "a (1).txt");
  EXPECT_EQ(over_quota.error, "ERROR_COULD_NOT_SAVE_FILE") << "the stalled file's bytes were not counted";
  ASSERT_FALSE(stalled.is_error) << stalled.error_description;
  EXPECT_EQ(stalled.result["NAME"], "a.txt");
  EXPECT_LT(std::stoll(stalled.result["ID"].get<std::string>()),
            std::stoll(unique_name.result["ID"].get<std::string>()))
      << "ids in the order the files were reserved";
  MethodResult after = disk.Invoke("disk.folder.getchildren", {{"id", 1}}, DiskCaller{});
  ASSERT_EQ(after.result.size(), 2u) << after.result;
  // The quota counts the stored files once: 6 + 1 bytes of 10 taken.
  EXPECT_EQ(upload("c.txt", "123", false).error, "");
  EXPECT_EQ(upload("d.txt", "1", false).error, "ERROR_COULD_NOT_SAVE_FILE");
}

}  // namespace
}  // namespace b24emu::disk_test
