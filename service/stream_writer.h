// The write half shared by the server-streaming RPCs (GetAll, GetById,
// CallMany): one reactor base that queues messages, keeps gRPC's single
// outstanding write, tells the engine producer when the consumer has taken a
// unit of its output, and finishes once the producer is done and every
// queued message is written.
//
// Flow control: the producer (a ListReader or an OrderedFanout: anything
// with Run, Ack and Cancel) hands over results in units it counts as
// unacknowledged; a unit may span several messages, and the writer calls
// Ack() when the unit's last message has been written. A consumer that reads
// slowly therefore holds the producer back, and nothing more is fetched from
// the portal than it can absorb.
//
// When the client goes away (a failed write or a cancelled RPC) the queue is
// dropped and the producer cancelled; the RPC finishes once the producer has
// reported done, so no producer callback can outlive the reactor.
//
// Thread-safety: thread-safe. Lock order: producers may call Send/ProducerDone
// holding their own lock (an OrderedFanout does), so the writer never calls a
// producer holding its own.
#ifndef B24GATE_SERVICE_STREAM_WRITER_H_
#define B24GATE_SERVICE_STREAM_WRITER_H_

#include <deque>
#include <memory>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "service/owned_message.h"
#include "service/status_mapping.h"

namespace b24gate {

template <typename Message, typename Producer>
class StreamWriter : public grpc::ServerWriteReactor<Message> {
 public:
  void OnWriteDone(bool ok) override {
    std::shared_ptr<Producer> producer;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) {
        // The client is gone: nothing more is written.
        broken_ = true;
        pending_.clear();
      }
      if (!ok || current_acks_) producer = producer_;
      WriteNext();
    }
    if (!producer) return;
    if (ok) {
      producer->Ack();
    } else {
      producer->Cancel();
    }
  }

  void OnCancel() override {
    std::shared_ptr<Producer> producer;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      producer = producer_;
    }
    if (producer) producer->Cancel();
  }

  void OnDone() override {
    // Waits for a Send/ProducerDone still returning from the lock.
    { absl::MutexLock lock(&mu_); }
    delete this;
  }

 protected:
  // Stores the producer, then runs it, so its first result finds it stored.
  // Call at most once, holding no lock. A producer started after the RPC
  // was cancelled (its start waited for something) is cancelled at once.
  void Start(std::shared_ptr<Producer> producer) {
    bool cancelled;
    {
      absl::MutexLock lock(&mu_);
      producer_ = producer;
      cancelled = cancelled_;
    }
    producer->Run();
    if (cancelled) producer->Cancel();
  }

  // Fails the RPC before any producer was started (invalid input).
  void Refuse(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    finished_ = true;
    this->Finish(ToGrpcStatus(status));
  }

  // Queues one message; `ends_unit`: writing it acknowledges one unit of
  // the producer's output.
  void Send(Message message, bool ends_unit) {
    Send(OwnedMessage<Message>(std::move(message)), ends_unit);
  }

  // The same for a message built where the caller chose (on an arena).
  void Send(OwnedMessage<Message> message, bool ends_unit) {
    absl::MutexLock lock(&mu_);
    if (broken_) return;
    pending_.push_back({std::move(message), ends_unit});
    WriteNext();
  }

  // The producer has delivered everything (or stopped with an error): the
  // RPC finishes with `status` once the queue is written.
  void ProducerDone(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    producer_done_ = true;
    final_status_ = status;
    WriteNext();
  }

 private:
  struct Outgoing {
    OwnedMessage<Message> message;
    bool ends_unit;
  };

  void WriteNext() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return;
    if (!pending_.empty() && !broken_) {
      current_ = std::move(pending_.front().message);
      current_acks_ = pending_.front().ends_unit;
      pending_.pop_front();
      writing_ = true;
      this->StartWrite(current_.get());
      return;
    }
    if (producer_done_) {
      finished_ = true;
      this->Finish(ToGrpcStatus(final_status_));
    }
  }

  absl::Mutex mu_;
  std::shared_ptr<Producer> producer_ ABSL_GUARDED_BY(mu_);
  std::deque<Outgoing> pending_ ABSL_GUARDED_BY(mu_);
  // Written by gRPC until OnWriteDone; replaced by the next one.
  OwnedMessage<Message> current_ ABSL_GUARDED_BY(mu_);
  bool current_acks_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool producer_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace b24gate

#endif  // B24GATE_SERVICE_STREAM_WRITER_H_
