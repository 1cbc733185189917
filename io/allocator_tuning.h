// Keeps the C allocator from handing large buffers back to the kernel between uses.
//
// Reads from a segment file land in a fresh multi-MiB buffer per partition per fetch (views of
// the previous one may still be in flight), and the load generator builds and parses requests
// of that size. With glibc's defaults such a buffer is mmap'ed and unmapped, or the heap top is
// trimmed, every time: each use then pays page faults, zeroing, cgroup charging and, on unmap,
// TLB shootdowns on every core (a quarter of the broker's CPU while consumers replay from the
// disk, bench/README.md). Like Seastar, which keeps all its memory, the process keeps what it
// has used; its size is bounded by how many reads are in flight.
#pragma once

namespace ringlog::io {

// Call once at process start, before the threads start.
void keep_freed_memory_for_reuse();

}  // namespace ringlog::io
