// A small fork–join thread pool: run(n, body) calls body(0) on the calling thread and body(1..n-1) on pool
// threads, and returns when all have finished. Work is handed out by the caller (see parallelFor), so which
// thread runs an item never changes what the item computes.
#ifndef NBM_KERNELS_POOL_H
#define NBM_KERNELS_POOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace nbm {

class Pool {
 public:
  Pool() = default;
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  /** body(tid) for tid in [0, n); tid 0 runs on the calling thread. */
  void run(int n, const std::function<void(int)>& body) {
    if (n <= 1) {
      body(0);
      return;
    }
    while (static_cast<int>(threads_.size()) < n - 1) {
      const int id = static_cast<int>(threads_.size()) + 1;
      threads_.emplace_back([this, id] { loop(id); });
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      body_ = &body;
      participants_ = n;
      remaining_ = n - 1;
      ++generation_;
    }
    wake_.notify_all();
    body(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return remaining_ == 0; });
    body_ = nullptr;
  }

 private:
  void loop(int id) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int)>* body;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        if (id >= participants_) continue;
        body = body_;
      }
      (*body)(id);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--remaining_ == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* body_ = nullptr;
  uint64_t generation_ = 0;
  int participants_ = 0;
  int remaining_ = 0;
  bool stop_ = false;
};

/** fn(item, tid) for every item in [0, n), on up to `threads` threads, items handed out in order. */
inline void parallelFor(Pool& pool, int threads, int n, const std::function<void(int, int)>& fn) {
  if (n <= 0) return;
  const int t = threads < n ? threads : n;
  std::atomic<int> next{0};
  pool.run(t, [&](int tid) {
    for (;;) {
      const int i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) break;
      fn(i, tid);
    }
  });
}

}  // namespace nbm

#endif
