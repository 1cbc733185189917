// SpscQueue: a bounded single-producer single-consumer ring, the only channel between shards
// (DESIGN.md, "The shard"). One thread pushes, one other thread pops; nothing else touches it.
// Lock-free, allocation-free after construction; elements are moved in and moved out, so
// move-only types (std::unique_ptr, io::BufferRef) travel as ownership, never as copies.
// It does not wake anybody: pair it with an io::Doorbell (io/doorbell.h).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <utility>

#include "io/base/assert.h"

namespace ringlog::io {

// Contract:
// - try_push() only from the producer thread; try_pop(), pop_batch() and empty() only from the
//   consumer thread. Which threads those are may change only with outside synchronisation.
// - A pushed element happens-before its pop (release/acquire on the indexes), so whatever it
//   points at is visible to the consumer without further fences.
// - io::BufferRef counts its references with a plain integer. A buffer sent to another shard
//   must not be touched (copied, sliced, released) by its home shard while it is away, and is
//   sent back home to drop its last reference there, so its pool stays single-threaded.
// - Elements still queued at destruction are destroyed with the queue.
template <typename T>
class SpscQueue {
public:
    // `capacity` must be a power of two, so an index wraps with a mask instead of a division.
    explicit SpscQueue(size_t capacity)
        : mask_(capacity - 1), slots_(std::make_unique<Slot[]>(capacity)) {
        RL_ASSERT(capacity > 0 && (capacity & (capacity - 1)) == 0,
                  "capacity %d is not a power of two", int(capacity));
    }

    ~SpscQueue() {
        const size_t tail = tail_.load(std::memory_order_acquire);
        for (size_t head = head_.load(std::memory_order_relaxed); head != tail; ++head) {
            slot(head)->~T();
        }
    }

    SpscQueue(const SpscQueue&) = delete;
    SpscQueue& operator=(const SpscQueue&) = delete;

    size_t capacity() const { return mask_ + 1; }

    // Producer: false (and `value` untouched) when the queue is full.
    [[nodiscard]] bool try_push(T&& value) {
        const size_t tail = tail_.load(std::memory_order_relaxed);
        if (tail - head_cached_ == capacity()) {
            // Only re-read the consumer's index (a shared cache line) when the cached copy
            // says full; in steady state the producer touches only its own line.
            head_cached_ = head_.load(std::memory_order_acquire);
            if (tail - head_cached_ == capacity()) {
                return false;
            }
        }
        new (slot_bytes(tail)) T(std::move(value));
        tail_.store(tail + 1, std::memory_order_release);
        return true;
    }

    // Consumer: the oldest element, or nothing when empty.
    [[nodiscard]] std::optional<T> try_pop() {
        std::optional<T> value;
        pop_batch([&value](T&& element) { value.emplace(std::move(element)); }, 1);
        return value;
    }

    // Consumer: hands up to `count_max` elements, oldest first, to `consume(T&&)`, and frees
    // their slots with one store. Returns how many it took.
    template <typename Consume>
    size_t pop_batch(Consume&& consume, size_t count_max = static_cast<size_t>(-1)) {
        const size_t head = head_.load(std::memory_order_relaxed);
        if (head == tail_cached_) {
            tail_cached_ = tail_.load(std::memory_order_acquire);
        }
        size_t count = tail_cached_ - head;
        if (count > count_max) {
            count = count_max;
        }
        for (size_t index = head; index != head + count; ++index) {
            T* element = slot(index);
            consume(std::move(*element));
            element->~T();
        }
        if (count > 0) {
            head_.store(head + count, std::memory_order_release);
        }
        return count;
    }

    // Consumer: whether nothing is queued right now (the producer may push a moment later).
    bool empty() const {
        return head_.load(std::memory_order_relaxed) == tail_.load(std::memory_order_acquire);
    }

private:
    // 64 bytes on every x86-64 and most arm64 parts. Not std::hardware_destructive_
    // interference_size: g++ warns that its value may differ between compilers (ABI).
    static constexpr size_t cache_line_bytes = 64;

    struct Slot {
        alignas(T) std::byte bytes[sizeof(T)];
    };

    std::byte* slot_bytes(size_t index) { return slots_[index & mask_].bytes; }

    T* slot(size_t index) { return std::launder(reinterpret_cast<T*>(slot_bytes(index))); }

    // Indexes count up forever (a size_t does not wrap in practice) and are masked on use, so
    // tail - head is the number queued and full is tail - head == capacity.
    const size_t mask_;
    const std::unique_ptr<Slot[]> slots_;
    // Consumer's line: its index and its last look at the producer's.
    alignas(cache_line_bytes) std::atomic<size_t> head_{0};
    size_t tail_cached_ = 0;
    // Producer's line.
    alignas(cache_line_bytes) std::atomic<size_t> tail_{0};
    size_t head_cached_ = 0;
};

}  // namespace ringlog::io
