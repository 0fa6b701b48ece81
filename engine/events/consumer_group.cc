#include "engine/events/consumer_group.h"

#include <algorithm>
#include <limits>

namespace b24gate {

void ConsumerGroup::Add(int64_t seq, QueuedEvent event) {
  const std::string record = event.record_id;
  entries_[seq].event = std::move(event);
  if (record.empty()) {
    ready_.insert(seq);
    return;
  }
  std::deque<int64_t>& line = records_[record];
  line.push_back(seq);
  if (line.size() == 1) ready_.insert(seq);
}

void ConsumerGroup::CountDelivery(int64_t seq) {
  auto it = entries_.find(seq);
  if (it != entries_.end()) ++it->second.deliveries;
}

void ConsumerGroup::Join(MemberId member) { members_.emplace(member, Member{}); }

void ConsumerGroup::Leave(MemberId member) {
  auto it = members_.find(member);
  if (it == members_.end()) return;
  for (int64_t seq : std::set<int64_t>(it->second.held)) Release(entries_.at(seq), seq);
  members_.erase(it);
}

ConsumerGroup::Member* ConsumerGroup::Pick(MemberId* id) {
  Member* best = nullptr;
  for (auto& [candidate, m] : members_) {
    if (m.held.size() >= options_.window) continue;
    const size_t load = m.held.size() + m.lost.size();
    if (best == nullptr || load < best->held.size() + best->lost.size() ||
        (load == best->held.size() + best->lost.size() && m.served < best->served)) {
      best = &m;
      *id = candidate;
    }
  }
  return best;
}

std::vector<ConsumerGroup::Delivery> ConsumerGroup::Assign(absl::Time now) {
  std::vector<Delivery> out;
  while (!ready_.empty()) {
    MemberId id = 0;
    Member* member = Pick(&id);
    if (member == nullptr) break;
    const int64_t seq = *ready_.begin();
    ready_.erase(ready_.begin());
    Entry& entry = entries_.at(seq);
    entry.holder = id;
    entry.deadline = now + options_.visibility_timeout;
    deadlines_.emplace(entry.deadline, seq);
    member->held.insert(seq);
    member->served = ++assigned_;
    // Its own again: an acknowledgement is an ordinary one.
    member->lost.erase(std::remove(member->lost.begin(), member->lost.end(), seq), member->lost.end());
    Delivery d{id, seq, entry.event};
    d.event.attempt = ++entry.deliveries;
    out.push_back(std::move(d));
  }
  return out;
}

bool ConsumerGroup::Lost(const Member& member, int64_t seq) const {
  return std::find(member.lost.begin(), member.lost.end(), seq) != member.lost.end();
}

ConsumerGroup::AckResult ConsumerGroup::CheckAck(MemberId member, int64_t seq) const {
  auto m = members_.find(member);
  if (m == members_.end()) return AckResult::kUnknown;
  if (m->second.held.count(seq) > 0) return AckResult::kAcknowledged;
  if (!Lost(m->second, seq)) return AckResult::kUnknown;
  auto it = entries_.find(seq);
  return it != entries_.end() && it->second.holder == 0 ? AckResult::kAcknowledged : AckResult::kIgnored;
}

ConsumerGroup::AckResult ConsumerGroup::Ack(MemberId member, int64_t seq) {
  const AckResult result = CheckAck(member, seq);
  if (result == AckResult::kUnknown) return result;
  std::deque<int64_t>& lost = members_.at(member).lost;
  lost.erase(std::remove(lost.begin(), lost.end(), seq), lost.end());
  if (result == AckResult::kAcknowledged) Forget(seq);
  return result;
}

std::vector<std::pair<ConsumerGroup::MemberId, int64_t>> ConsumerGroup::Expire(absl::Time now) {
  std::vector<std::pair<MemberId, int64_t>> expired;
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const int64_t seq = deadlines_.begin()->second;
    Entry& entry = entries_.at(seq);
    expired.emplace_back(entry.holder, seq);
    Member& member = members_.at(entry.holder);
    Release(entry, seq);
    member.lost.push_back(seq);
    if (member.lost.size() > 4 * options_.window) member.lost.pop_front();
  }
  return expired;
}

absl::Time ConsumerGroup::NextDeadline() const {
  return deadlines_.empty() ? absl::InfiniteFuture() : deadlines_.begin()->first;
}

void ConsumerGroup::Release(Entry& entry, int64_t seq) {
  if (entry.holder == 0) return;
  members_.at(entry.holder).held.erase(seq);
  deadlines_.erase({entry.deadline, seq});
  entry.holder = 0;
  ready_.insert(seq);
}

void ConsumerGroup::Forget(int64_t seq) {
  auto it = entries_.find(seq);
  if (it == entries_.end()) return;
  Release(it->second, seq);
  ready_.erase(seq);
  const std::string& record = it->second.event.record_id;
  if (!record.empty()) {
    auto line = records_.find(record);
    std::deque<int64_t>& seqs = line->second;
    const bool head = seqs.front() == seq;
    seqs.erase(std::find(seqs.begin(), seqs.end(), seq));
    if (seqs.empty()) {
      records_.erase(line);
    } else if (head) {
      ready_.insert(seqs.front());
    }
  }
  entries_.erase(it);
}

int64_t ConsumerGroup::OldestSeq() const {
  return entries_.empty() ? std::numeric_limits<int64_t>::max() : entries_.begin()->first;
}

int64_t ConsumerGroup::DropThrough(int64_t seq) {
  int64_t dropped = 0;
  while (!entries_.empty() && entries_.begin()->first <= seq) {
    Forget(entries_.begin()->first);
    ++dropped;
  }
  return dropped;
}

}  // namespace b24gate
