// How many pages a batch of a parallel keyset read should carry near the end
// of the list, so that its connections end together.
//
// A batch's pages run one after another on the portal, so a batch of 50
// huge pages keeps its connection busy for seconds. When the connections,
// not the bucket, bind the read, the last batches decide when it ends: a
// full batch sent while the others are about to finish runs alone at the
// end. So the work left is shared out like water poured over the
// connections: each one's level is when its batch in flight ends, and the
// pages left raise the lowest levels first until all end at the same time.
// A batch starting now is given the pages of its connection's share.
//
// Thread-safety: pure function.
#ifndef B24GATE_ENGINE_LISTS_TAIL_SPLIT_H_
#define B24GATE_ENGINE_LISTS_TAIL_SPLIT_H_

#include <vector>

namespace b24gate {

// `busy_seconds`: how long each batch in flight still keeps its connection
// (this read's batches only); `pages_left`: the pages still to read besides
// what those batches bring; `page_seconds`: one page's time on the portal;
// `connections`: how many batches the read may have in flight, this one
// included. Returns the pages for a batch starting now, between 1 and
// kMaxPages (kMaxPages while the work left fills full batches anyway).
// REQUIRES: page_seconds > 0, connections > busy_seconds.size().
int TailPages(std::vector<double> busy_seconds, double pages_left, double page_seconds,
              int connections);

}  // namespace b24gate

#endif  // B24GATE_ENGINE_LISTS_TAIL_SPLIT_H_
