#pragma once
// SpscQueue: a bounded, lock-free, single-producer single-consumer ring.
// Used for commands from the control thread down to a media worker and for
// events back up. push() and pop() never allocate or block.
// Thread: push() from exactly one thread, pop() from exactly one other.
#include <array>
#include <atomic>
#include <cstddef>
#include <optional>
#include <utility>

namespace sipline::base {

template <class T, std::size_t Capacity>
class SpscQueue {
  static_assert((Capacity & (Capacity - 1)) == 0, "Capacity must be a power of two");

 public:
  // Realtime: returns false when full.
  bool push(T value) {
    const auto head = head_.load(std::memory_order_relaxed);
    const auto tail = tail_.load(std::memory_order_acquire);
    if (head - tail == Capacity) return false;
    slots_[head & (Capacity - 1)] = std::move(value);
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Realtime: returns nullopt when empty.
  std::optional<T> pop() {
    const auto tail = tail_.load(std::memory_order_relaxed);
    const auto head = head_.load(std::memory_order_acquire);
    if (head == tail) return std::nullopt;
    std::optional<T> out(std::move(slots_[tail & (Capacity - 1)]));
    tail_.store(tail + 1, std::memory_order_release);
    return out;
  }

  bool empty() const {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

 private:
  std::array<T, Capacity> slots_{};
  alignas(64) std::atomic<std::size_t> head_{0};
  alignas(64) std::atomic<std::size_t> tail_{0};
};

}  // namespace sipline::base
