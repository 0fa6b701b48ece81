#include "tests/support/percentile.h"

#include <algorithm>
#include <cmath>

namespace b24gate::testing {

double Percentile(std::vector<double> samples, double q) {
  if (samples.empty()) return 0;
  size_t rank = static_cast<size_t>(std::lround(q * static_cast<double>(samples.size() - 1)));
  rank = std::min(rank, samples.size() - 1);
  std::nth_element(samples.begin(), samples.begin() + rank, samples.end());
  return samples[rank];
}

}  // namespace b24gate::testing
