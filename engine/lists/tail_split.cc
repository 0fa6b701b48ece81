#include "engine/lists/tail_split.h"

#include <algorithm>
#include <cmath>

#include "engine/lists/keyset_pages.h"

namespace b24gate {

int TailPages(std::vector<double> busy_seconds, double pages_left, double page_seconds,
              int connections) {
  std::sort(busy_seconds.begin(), busy_seconds.end());
  const int n = static_cast<int>(busy_seconds.size());
  const double work = std::max(0.0, pages_left) * page_seconds;
  // Level T (seconds from now) at which the work poured over the free
  // connections (level 0) and the busy ones ending before T is used up.
  double poured = work;
  int under = std::max(1, connections - n);
  double level = poured / under;
  for (int i = 0; i < n && busy_seconds[static_cast<size_t>(i)] < level; ++i) {
    poured += busy_seconds[static_cast<size_t>(i)];
    level = poured / ++under;
  }
  double pages = std::ceil(level / page_seconds - 1e-9);
  return static_cast<int>(std::clamp(pages, 1.0, static_cast<double>(kMaxPages)));
}

}  // namespace b24gate
