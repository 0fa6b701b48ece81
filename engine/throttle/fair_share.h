// Each API client's share of one portal's budget: the order in which queued
// commands of different clients are taken (start-time fair queueing on
// commands, weighted).
//
// Every command gets a place in a virtual time when it is queued. A client's
// commands follow each other at intervals of cost / weight, starting no
// earlier than the virtual time of the command last taken (so a client that
// was idle gets no credit for it: it joins the others, it does not overtake
// them). Taking commands in order of their place gives clients that are all
// busy shares of the commands sent in proportion to their weights, gives a
// client alone all of them (work-conserving: an idle client's share goes to
// the others), and keeps each client's commands in arrival order. A
// pre-formed batch costs its number of commands.
//
// Client ids that are not configured (anonymous callers, or fair share with
// no clients) share one class, "anonymous", of weight 1. With the policy
// switched off every command queues in arrival order, whoever sent it.
//
// Thread-safety: not thread-safe; the portal calls it under its lock.
#ifndef B24GATE_ENGINE_THROTTLE_FAIR_SHARE_H_
#define B24GATE_ENGINE_THROTTLE_FAIR_SHARE_H_

#include <map>
#include <string>
#include <vector>

namespace b24gate {

struct FairSharePolicy {
  // Off: one queue in arrival order (commands are still counted per client).
  bool enabled = true;
  // Configured client name -> weight (> 0).
  std::map<std::string, double> weights;
};

// The class of every client id that is not configured.
inline constexpr char kAnonymousClient[] = "anonymous";

class FairShare {
 public:
  // A command's place in the fair order: it is due to start at `start` and
  // its client's next command at `finish`. Lower `finish` goes first.
  struct Place {
    double start = 0;
    double finish = 0;
  };

  explicit FairShare(FairSharePolicy policy);

  // The name `client_id` is queued and counted under: itself when configured,
  // otherwise "anonymous". A small fixed set, fit for metric labels.
  const std::string& ClassOf(const std::string& client_id) const;
  // Every class name (configured clients and "anonymous").
  std::vector<std::string> Classes() const;

  // A command of `cost` (> 0) from `client` (a ClassOf name) was queued.
  Place Arrive(const std::string& client, double cost);
  // A command at `place` was taken to be sent.
  void Taken(const Place& place);

 private:
  double WeightOf(const std::string& client) const;

  const FairSharePolicy policy_;
  const std::string anonymous_ = kAnonymousClient;
  // The start of the latest command taken.
  double virtual_time_ = 0;
  // Per client: where its next command may start.
  std::map<std::string, double> next_start_;
};

}  // namespace b24gate

#endif  // B24GATE_ENGINE_THROTTLE_FAIR_SHARE_H_
