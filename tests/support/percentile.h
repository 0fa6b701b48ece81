// Percentiles of measured samples, for tests and benchmarks that print
// latency figures.
//
// Thread-safety: a pure function.
#ifndef B24GATE_TESTS_SUPPORT_PERCENTILE_H_
#define B24GATE_TESTS_SUPPORT_PERCENTILE_H_

#include <vector>

namespace b24gate::testing {

// The nearest-rank q-quantile of `samples` (q in [0, 1]): the sample at rank
// round(q * (n - 1)) in ascending order, so q = 0 is the minimum, 0.5 the
// median and 1 the maximum. 0 when there are no samples.
double Percentile(std::vector<double> samples, double q);

}  // namespace b24gate::testing

#endif  // B24GATE_TESTS_SUPPORT_PERCENTILE_H_
