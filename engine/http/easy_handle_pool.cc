#include "engine/http/easy_handle_pool.h"

namespace b24gate {

EasyHandlePool::~EasyHandlePool() {
  for (CURL* easy : idle_) curl_easy_cleanup(easy);
}

CURL* EasyHandlePool::Take() {
  if (!idle_.empty()) {
    CURL* easy = idle_.back();
    idle_.pop_back();
    return easy;
  }
  return curl_easy_init();
}

void EasyHandlePool::Give(CURL* easy) {
  if (easy == nullptr) return;
  if (idle_.size() >= max_idle_) {
    curl_easy_cleanup(easy);
    return;
  }
  // Reset when given back, not when taken: an idle handle holds nothing of
  // the request it served.
  curl_easy_reset(easy);
  idle_.push_back(easy);
}

}  // namespace b24gate
