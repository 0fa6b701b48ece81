#include "engine/throttle/fair_share.h"

#include <algorithm>
#include <utility>

namespace b24gate {

FairShare::FairShare(FairSharePolicy policy) : policy_(std::move(policy)) {}

const std::string& FairShare::ClassOf(const std::string& client_id) const {
  auto it = policy_.weights.find(client_id);
  return it == policy_.weights.end() ? anonymous_ : it->first;
}

std::vector<std::string> FairShare::Classes() const {
  std::vector<std::string> names;
  for (const auto& [name, weight] : policy_.weights) names.push_back(name);
  if (policy_.weights.count(anonymous_) == 0) names.push_back(anonymous_);
  return names;
}

double FairShare::WeightOf(const std::string& client) const {
  auto it = policy_.weights.find(client);
  return it == policy_.weights.end() || it->second <= 0 ? 1.0 : it->second;
}

FairShare::Place FairShare::Arrive(const std::string& client, double cost) {
  // Switched off, everyone is one client: places follow arrival order.
  const std::string& key = policy_.enabled ? client : anonymous_;
  double weight = policy_.enabled ? WeightOf(client) : 1.0;
  double& next = next_start_[key];
  Place place;
  place.start = std::max(virtual_time_, next);
  place.finish = place.start + cost / weight;
  next = place.finish;
  return place;
}

void FairShare::Taken(const Place& place) { virtual_time_ = std::max(virtual_time_, place.start); }

}  // namespace b24gate
