#include "io/allocator_tuning.h"

#include <malloc.h>

namespace ringlog::io {

void keep_freed_memory_for_reuse() {
    // 32 MiB is the largest mmap threshold glibc accepts on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX):
    // every read window and request buffer stays below it. Setting either value also turns off
    // glibc's dynamic adjustment of both.
    (void)mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    (void)mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
}

}  // namespace ringlog::io
