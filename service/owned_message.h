// A message a stream has queued for writing, owned either on the heap or on
// an arena of its own.
//
// A GetAll page holds up to a few thousand items, each a Struct of Values
// (map nodes, strings): built on the heap that is several mallocs per field
// and as many frees once it is written. On its own arena they are carved from
// a few blocks, and freed with them.
//
// Thread-safety: none; owned by one queue at a time.
#ifndef B24GATE_SERVICE_OWNED_MESSAGE_H_
#define B24GATE_SERVICE_OWNED_MESSAGE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include <google/protobuf/arena.h>

namespace b24gate {

template <typename Message>
class OwnedMessage {
 public:
  // Holds nothing: get() is null.
  OwnedMessage() = default;
  // On the heap.
  explicit OwnedMessage(Message message)
      : heap_(std::make_unique<Message>(std::move(message))), message_(heap_.get()) {}
  // An empty message on an arena whose blocks grow from `start_block_bytes`
  // to `max_block_bytes`.
  static OwnedMessage OnArena(size_t start_block_bytes, size_t max_block_bytes) {
    google::protobuf::ArenaOptions options;
    options.start_block_size = start_block_bytes;
    options.max_block_size = max_block_bytes;
    OwnedMessage out;
    out.arena_ = std::make_unique<google::protobuf::Arena>(options);
    out.message_ = google::protobuf::Arena::CreateMessage<Message>(out.arena_.get());
    return out;
  }

  // The memory its arena holds (what the message takes there); 0 on the
  // heap.
  int64_t arena_bytes() const {
    return arena_ ? static_cast<int64_t>(arena_->SpaceAllocated()) : 0;
  }

  Message* get() const { return message_; }
  Message& operator*() const { return *message_; }
  Message* operator->() const { return message_; }

 private:
  // Declared first, so destroyed last: the message may live on it.
  std::unique_ptr<google::protobuf::Arena> arena_;
  std::unique_ptr<Message> heap_;
  Message* message_ = nullptr;
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_OWNED_MESSAGE_H_
