// File throughput: one file uploaded and downloaded through the gateway
// (FilesService, streamed both ways) and the same straight to the emulator
// (its two-step upload and DOWNLOAD_URL over cpp-httplib, streamed too), with
// the gateway's peak resident memory. Real b24-emulator and b24gate
// processes on loopback; the bytes are generated on the fly on both paths.
// Prints figures only; never asserts timing.
//
//   files_bench [--mib N] [--chunk-kib N]
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "tests/e2e/file_helpers.h"

namespace b24gate::e2e {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// The emulator's address and the path of a URL it handed out.
std::string PathOf(const std::string& url) {
  const size_t slash = url.find('/', url.find("://") + 3);
  return url.substr(slash);
}

// Upload and download straight to the emulator: seconds for each.
std::pair<double, double> Direct(Stack& stack, int64_t size, size_t chunk) {
  json first = stack.Rest("disk.folder.uploadfile", {{"id", 1}, {"data", {{"NAME", "direct.bin"}}}});
  const std::string url = first["result"]["uploadUrl"];
  const std::string boundary = "benchboundary0123456789";
  const std::string head = "--" + boundary +
                           "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"direct.bin\""
                           "\r\nContent-Type: application/octet-stream\r\n\r\n";
  const std::string tail = "\r\n--" + boundary + "--\r\n";
  httplib::Client client("127.0.0.1", stack.emulator().port());
  client.set_read_timeout(600, 0);
  client.set_write_timeout(600, 0);
  ByteSource source(5);
  auto start = std::chrono::steady_clock::now();
  auto res = client.Post(
      PathOf(url), head.size() + static_cast<size_t>(size) + tail.size(),
      [&](size_t offset, size_t, httplib::DataSink& sink) {
        if (offset == 0) return sink.write(head.data(), head.size());
        const size_t body_at = offset - head.size();
        if (body_at >= static_cast<size_t>(size)) return sink.write(tail.data(), tail.size());
        const std::string bytes = source.Next(std::min(chunk, static_cast<size_t>(size) - body_at));
        return sink.write(bytes.data(), bytes.size());
      },
      "multipart/form-data; boundary=" + boundary);
  const double up = Seconds(start);
  if (!res || res->status != 200) {
    std::cerr << "direct upload failed\n";
    return {0, 0};
  }
  const std::string download = json::parse(res->body)["result"]["DOWNLOAD_URL"];
  int64_t got = 0;
  start = std::chrono::steady_clock::now();
  client.Get(PathOf(download), [&](const char*, size_t n) {
    got += static_cast<int64_t>(n);
    return true;
  });
  const double down = Seconds(start);
  if (got != size) std::cerr << "direct download got " << got << " bytes\n";
  return {up, down};
}

int Main(int argc, char** argv) {
  int64_t mib = 256;
  size_t chunk_kib = 1024;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--mib") mib = std::atoll(argv[i + 1]);
    else if (flag == "--chunk-kib") chunk_kib = static_cast<size_t>(std::atoll(argv[i + 1]));
    else return std::cerr << "usage: files_bench [--mib N] [--chunk-kib N]\n", 2;
  }
  EmulatorSpec emulator;
  emulator.seed = "user=1";
  emulator.extra_args = {"--no-limits", "--cost-zero"};
  absl::StatusOr<std::unique_ptr<Stack>> stack = Stack::Start(emulator);
  if (!stack.ok()) return std::cerr << stack.status() << "\n", 1;
  const int64_t size = mib << 20;
  const size_t chunk = chunk_kib << 10;

  auto [direct_up, direct_down] = Direct(**stack, size, chunk);
  pb::UploadFileHeader header;
  header.set_folder_id(1);
  header.set_name("gateway.bin");
  header.set_size(size);
  auto start = std::chrono::steady_clock::now();
  Uploaded up = Upload(**stack, header, size, chunk, 5, /*hash=*/false);
  const double gateway_up = Seconds(start);
  if (!up.status.ok()) return std::cerr << "upload: " << up.status.error_message() << "\n", 1;
  start = std::chrono::steady_clock::now();
  Downloaded down = Download(**stack, std::stoll(J(up.response.file())["ID"].get<std::string>()));
  const double gateway_down = Seconds(start);
  if (!down.status.ok() || down.bytes != size) return std::cerr << "download failed\n", 1;

  const double mb = static_cast<double>(size) / 1e6;
  std::printf("\n### Files: one %lld MiB file, %zu KiB chunks, loopback\n\n", static_cast<long long>(mib),
              chunk_kib);
  std::printf("| path | upload MB/s | download MB/s |\n|---|---|---|\n");
  std::printf("| straight to the emulator | %.0f | %.0f |\n", mb / direct_up, mb / direct_down);
  std::printf("| through the gateway | %.0f | %.0f |\n", mb / gateway_up, mb / gateway_down);
  std::printf("\ngateway peak RSS (VmHWM): %lld MiB\n",
              static_cast<long long>(PeakRss((*stack)->gateway().pid()) >> 20));
  return 0;
}

}  // namespace
}  // namespace b24gate::e2e

int main(int argc, char** argv) { return b24gate::e2e::Main(argc, argv); }
