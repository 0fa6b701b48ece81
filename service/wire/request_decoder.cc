#include "service/wire/request_decoder.h"

#include <atomic>
#include <climits>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/support/slice.h>

#include "absl/strings/str_cat.h"
#include "engine/common/field_text.h"

namespace b24gate {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::io::CodedInputStream;
using google::protobuf::internal::WireFormatLite;

// The unknown field that carries a refusal from DecodeRequest to the
// service: the highest field number, which no request message uses.
constexpr int kRefusalField = 536870911;

std::atomic<int> g_max_depth{WireLimits().max_depth};
std::atomic<size_t> g_max_request_bytes{WireLimits().max_request_bytes};

bool IsJsonContainer(const Descriptor* type) {
  return type->full_name() == "google.protobuf.Struct" ||
         type->full_name() == "google.protobuf.ListValue";
}

// One message being walked: its type, where it ends, and the path segment
// it adds ("params", "commands[2]", ".TITLE", "[3]" or "").
struct Frame {
  const Descriptor* type;
  CodedInputStream::Limit limit;
  std::string segment;
  bool json_container;
  // Occurrences so far of each repeated field, for "[i]".
  std::vector<std::pair<int, int>> counts;

  int NextIndex(int field) {
    for (auto& [number, count] : counts) {
      if (number == field) return count++;
    }
    counts.push_back({field, 1});
    return 0;
  }
};

// Walks the wire bytes of a request without recursion (see the header).
class Scanner {
 public:
  Scanner(const std::string& bytes, const Descriptor* type, int max_depth)
      : in_(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size())),
        max_depth_(max_depth),
        max_frames_(3 * max_depth + 16) {
    stack_.push_back({type, 0, "", false, {}});
  }

  // OK, or INVALID_ARGUMENT naming the field. Malformed bytes end the walk
  // with OK: the parse that follows reports them.
  absl::Status Run() {
    for (;;) {
      if (stack_.size() > 1 && in_.BytesUntilLimit() == 0) {
        in_.PopLimit(stack_.back().limit);
        if (stack_.back().json_container) --json_depth_;
        stack_.pop_back();
        continue;
      }
      const uint32_t tag = in_.ReadTag();
      if (tag == 0) return absl::OkStatus();  // the end, or bytes the parse refuses
      const FieldDescriptor* field =
          stack_.back().type->FindFieldByNumber(WireFormatLite::GetTagFieldNumber(tag));
      const bool delimited =
          WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
      if (field != nullptr && delimited && field->type() == FieldDescriptor::TYPE_MESSAGE) {
        absl::Status s = Enter(field);
        if (!s.ok() || stopped_) return s;
      } else if (field != nullptr && delimited && field->type() == FieldDescriptor::TYPE_STRING) {
        absl::Status s = CheckString(field);
        if (!s.ok() || stopped_) return s;
      } else if (field != nullptr && field->type() == FieldDescriptor::TYPE_ENUM &&
                 WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_VARINT) {
        absl::Status s = CheckEnum(field);
        if (!s.ok() || stopped_) return s;
      } else if (!WireFormatLite::SkipField(&in_, tag)) {
        return absl::OkStatus();
      }
    }
  }

 private:
  absl::Status Enter(const FieldDescriptor* field) {
    uint32_t length = 0;
    if (!in_.ReadVarint32(&length)) return Stop();
    Frame& parent = stack_.back();
    const Descriptor* type = field->message_type();
    Frame frame{type, 0, "", IsJsonContainer(type), {}};
    const std::string& parent_name = parent.type->full_name();
    if (parent_name == "google.protobuf.ListValue") {
      frame.segment = absl::StrCat("[", parent.NextIndex(field->number()), "]");
    } else if (parent_name == "google.protobuf.Struct" || parent_name == "google.protobuf.Value" ||
               field->is_map() || parent.type->options().map_entry()) {
      // Transparent; a map entry takes its key's name when the key is read.
    } else {
      frame.segment = absl::StrCat(stack_.size() > 1 ? "." : "", field->name());
      if (field->is_repeated()) absl::StrAppend(&frame.segment, "[", parent.NextIndex(field->number()), "]");
    }
    if (frame.json_container) ++json_depth_;
    frame.limit = in_.PushLimit(static_cast<int>(length));
    stack_.push_back(std::move(frame));
    if (json_depth_ > max_depth_ || static_cast<int>(stack_.size()) > max_frames_) {
      return absl::InvalidArgumentError(absl::StrCat(
          FieldName(), ": nested deeper than the limit of ", max_depth_,
          " levels (limits.max_depth), at ", Path(), "; flatten the parameters"));
    }
    return absl::OkStatus();
  }

  absl::Status CheckString(const FieldDescriptor* field) {
    uint32_t length = 0;
    std::string text;
    if (!in_.ReadVarint32(&length) || !in_.ReadString(&text, static_cast<int>(length))) return Stop();
    Frame& frame = stack_.back();
    const bool map_key = frame.type->options().map_entry() && field->number() == 1;
    if (map_key) frame.segment = absl::StrCat(".", PathKey(text));
    const size_t bad = FindInvalidUtf8(text);
    if (bad == std::string::npos) return absl::OkStatus();
    if (map_key) {
      frame.segment.clear();
      return absl::InvalidArgumentError(absl::StrCat(Path(), ": the key \"", PathKey(text),
                                                     "\" is not valid UTF-8 (byte ", bad, ")"));
    }
    std::string path = Path();
    // Strings of the request itself (method, portal, ...) are named by field.
    if (frame.type->full_name() != "google.protobuf.Value") {
      absl::StrAppend(&path, path.empty() ? "" : ".", field->name());
    }
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not valid UTF-8 (byte ", bad, "); text must be UTF-8"));
  }

  // Protobuf keeps an enum value it does not know (proto3 enums are open),
  // and the service would read it as the default: `strategy: 99` would run
  // as if no strategy were given.
  absl::Status CheckEnum(const FieldDescriptor* field) {
    uint64_t value = 0;
    if (!in_.ReadVarint64(&value)) return Stop();
    const auto number = static_cast<int32_t>(value);  // as protobuf reads it
    if (field->enum_type()->FindValueByNumber(number) != nullptr) return absl::OkStatus();
    std::string path = Path();
    absl::StrAppend(&path, path.empty() ? "" : ".", field->name());
    std::string known;
    for (int i = 0; i < field->enum_type()->value_count(); ++i) {
      absl::StrAppend(&known, i == 0 ? "" : ", ", field->enum_type()->value(i)->name());
    }
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", number, " is not a ",
                                                   field->enum_type()->name(), " (known: ", known,
                                                   ")"));
  }

  absl::Status Stop() {
    stopped_ = true;
    return absl::OkStatus();
  }

  // The request field the current position is in: the path up to and
  // including the first JSON container ("params", "commands[2].params").
  std::string FieldName() const {
    std::string name;
    for (const Frame& f : stack_) {
      name += f.segment;
      if (f.json_container) break;
    }
    return name;
  }

  // The current path, its middle cut when it is long.
  std::string Path() const {
    constexpr size_t kHead = 10, kTail = 2;
    std::string path;
    std::vector<const std::string*> segments;
    for (const Frame& f : stack_) {
      if (!f.segment.empty()) segments.push_back(&f.segment);
    }
    for (size_t i = 0; i < segments.size(); ++i) {
      if (segments.size() > kHead + kTail + 1 && i == kHead) {
        absl::StrAppend(&path, "...(", segments.size() - kHead - kTail, " more)...");
        i = segments.size() - kTail;
      }
      path += *segments[i];
    }
    return path;
  }

  CodedInputStream in_;
  const int max_depth_;
  const int max_frames_;
  std::vector<Frame> stack_;
  int json_depth_ = 0;
  bool stopped_ = false;
};

void Refuse(google::protobuf::Message* message, const absl::Status& status) {
  message->Clear();
  message->GetReflection()->MutableUnknownFields(message)->AddLengthDelimited(
      kRefusalField, std::string(status.message()));
}

absl::Status TooLarge(size_t bytes, size_t limit) {
  return absl::InvalidArgumentError(
      absl::StrCat("request: ", bytes, " bytes, above the limit of ", limit,
                   " bytes (limits.max_request_bytes); split it, or use CallMany/GetAll"));
}

}  // namespace

void SetWireLimits(const WireLimits& limits) {
  g_max_depth.store(limits.max_depth);
  g_max_request_bytes.store(limits.max_request_bytes);
}

WireLimits GetWireLimits() {
  WireLimits limits;
  limits.max_depth = g_max_depth.load();
  limits.max_request_bytes = g_max_request_bytes.load();
  return limits;
}

absl::Status DecodeBytes(const std::string& bytes, const WireLimits& limits,
                         google::protobuf::Message* message) {
  message->Clear();
  if (bytes.size() > limits.max_request_bytes) return TooLarge(bytes.size(), limits.max_request_bytes);
  if (bytes.size() > static_cast<size_t>(INT_MAX)) return TooLarge(bytes.size(), INT_MAX);
  Scanner scanner(bytes, message->GetDescriptor(), limits.max_depth);
  if (absl::Status s = scanner.Run(); !s.ok()) return s;
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  // Each JSON level is at most three messages (Struct, map entry, Value).
  in.SetRecursionLimit(3 * limits.max_depth + 16);
  if (!message->MergePartialFromCodedStream(&in) || !in.ConsumedEntireMessage()) {
    message->Clear();
    return absl::InvalidArgumentError(absl::StrCat(
        "request: not a valid ", message->GetDescriptor()->full_name(), " message"));
  }
  // A caller cannot forge a refusal.
  message->GetReflection()->MutableUnknownFields(message)->DeleteByNumber(kRefusalField);
  return absl::OkStatus();
}

grpc::Status DecodeRequest(grpc::ByteBuffer* buffer, google::protobuf::Message* message) {
  if (buffer == nullptr) return grpc::Status(grpc::StatusCode::INTERNAL, "No payload");
  const WireLimits limits = GetWireLimits();
  absl::Status status;
  if (buffer->Length() > limits.max_request_bytes) {
    status = TooLarge(buffer->Length(), limits.max_request_bytes);
  } else {
    std::vector<grpc::Slice> slices;
    grpc::Status dumped = buffer->Dump(&slices);
    if (!dumped.ok()) return dumped;
    std::string bytes;
    bytes.reserve(buffer->Length());
    for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    status = DecodeBytes(bytes, limits, message);
  }
  buffer->Clear();
  if (!status.ok()) Refuse(message, status);
  return grpc::Status::OK;
}

absl::Status DecodeError(const google::protobuf::Message& message) {
  const google::protobuf::UnknownFieldSet& unknown =
      message.GetReflection()->GetUnknownFields(message);
  for (int i = 0; i < unknown.field_count(); ++i) {
    const google::protobuf::UnknownField& f = unknown.field(i);
    if (f.number() == kRefusalField && f.type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
      return absl::InvalidArgumentError(f.length_delimited());
    }
  }
  return absl::OkStatus();
}

}  // namespace b24gate
