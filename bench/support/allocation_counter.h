// Counts heap allocations in a benchmark binary (STYLE.md §9: each hot path reports its
// allocations per operation, so a new malloc shows up as a number). Include it in exactly one
// source file of the binary: it replaces the global operator new.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace ringlog::bench {

inline std::atomic<uint64_t> allocation_count{0};

inline uint64_t allocations() {
    return allocation_count.load(std::memory_order_relaxed);
}

}  // namespace ringlog::bench

[[gnu::noinline]] void* operator new(std::size_t size) {
    ringlog::bench::allocation_count.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) {
        return p;
    }
    throw std::bad_alloc();
}

// Out of line, so that g++ does not inline free() where it can see the pointer came from
// operator new (-Wmismatched-new-delete).
[[gnu::noinline]] void operator delete(void* p) noexcept {
    std::free(p);
}

[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
