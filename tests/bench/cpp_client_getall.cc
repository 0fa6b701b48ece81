// Times one GetAll of every lead (`select ID,TITLE`) through the C++ client
// (clients/cpp), items as nlohmann::json, or through the bare generated stub,
// items left as google.protobuf.Value; after a bare read, also the client's
// conversion of those same items (best of 3): what the client adds to the
// read, measured apart from the machine's noise. Run by
// tests/bench/clients_bench.sh, which resets the servers between reads; not
// one of scripts/bench.sh's argument-less benchmarks.
//
// usage: cpp_client_getall TARGET bare|client
// Prints "ITEMS SECONDS [CONVERSION_SECONDS]"; the connection is made before
// the clock starts.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "clients/cpp/b24gate/client.h"

namespace {

using SteadyClock = std::chrono::steady_clock;
namespace pb = bitrix24::gateway::v1;

std::vector<pb::GetAllResponse> Bare(const std::shared_ptr<grpc::Channel>& channel, grpc::Status* status) {
  auto stub = pb::GatewayService::NewStub(channel);
  pb::GetAllRequest request;
  request.set_method("crm.lead.list");
  request.set_params_json(R"({"select":["ID","TITLE"]})");
  grpc::ClientContext context;
  auto reader = stub->GetAll(&context, request);
  std::vector<pb::GetAllResponse> messages(1);
  while (reader->Read(&messages.back())) messages.emplace_back();
  messages.pop_back();
  *status = reader->Finish();
  return messages;
}

// The client's conversion of every item, best of 3.
double Conversion(const std::vector<pb::GetAllResponse>& messages) {
  double best = 0;
  for (int i = 0; i < 3; ++i) {
    const auto start = SteadyClock::now();
    for (const auto& message : messages) {
      for (const auto& item : message.items()) b24gate::client::internal::ToJson(item);
    }
    const double took = std::chrono::duration<double>(SteadyClock::now() - start).count();
    if (i == 0 || took < best) best = took;
  }
  return best;
}

int64_t Client(const std::shared_ptr<grpc::Channel>& channel, grpc::Status* status) {
  b24gate::client::Gateway gateway(channel);
  int64_t items = 0;
  auto summary = gateway.GetAll("crm.lead.list", {{"select", {"ID", "TITLE"}}},
                                [&](const b24gate::client::Json&) { return ++items > 0; });
  if (!summary.ok()) *status = grpc::Status(summary.error().grpc_code, summary.error().code);
  return items;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc == 3 ? argv[2] : "";
  if (mode != "bare" && mode != "client") {
    std::fprintf(stderr, "usage: cpp_client_getall TARGET bare|client\n");
    return 2;
  }
  auto channel = b24gate::client::MakeChannel(argv[1]);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    std::fprintf(stderr, "cannot connect to %s\n", argv[1]);
    return 1;
  }
  grpc::Status status;
  const auto start = SteadyClock::now();
  int64_t items = 0;
  std::vector<pb::GetAllResponse> messages;
  if (mode == "bare") {
    messages = Bare(channel, &status);
    for (const auto& m : messages) items += m.items_size();
  } else {
    items = Client(channel, &status);
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  if (!status.ok()) {
    std::fprintf(stderr, "GetAll: %s\n", status.error_message().c_str());
    return 1;
  }
  std::printf("%lld %.3f", static_cast<long long>(items), seconds);
  if (mode == "bare") std::printf(" %.3f", Conversion(messages));
  std::printf("\n");
  return 0;
}
