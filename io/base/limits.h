// Every bound in one place, with the relations between them checked at compile time.
// Values are defaults and maxima; runtime configuration may lower them, never raise them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ringlog::limits {

// O_DIRECT needs offsets, lengths and buffer addresses aligned to the logical block size.
// 4096 covers every NVMe and virtio device we target (512e and 4Kn).
inline constexpr size_t dma_alignment = 4096;

// One chunk of a log's in-memory tail. Appends are copied into these chunks, which are
// written to disk as they are and then serve recent reads without another copy.
inline constexpr size_t tail_chunk_bytes = 1024 * 1024;

// The largest record batch a log accepts (Kafka's message.max.bytes default is ~1 MiB;
// we allow a little more so that 1 MiB of payload plus headers fits).
inline constexpr size_t batch_bytes_max = 8 * 1024 * 1024;

// The largest write one flush issues per SQE; a flush of more is split.
inline constexpr size_t flush_write_bytes_max = 4 * 1024 * 1024;
// SyncMethod::adaptive: the largest flush made durable by one RWF_DSYNC write. Below it a flush
// is latency-bound (an e2e load at half rate writes ~30 KiB per partition per flush); above it
// overlapping the next write with this sync gains more than saving the second operation.
inline constexpr size_t adaptive_dsync_bytes_max = 128 * 1024;

// io_uring submission queue depth per reactor.
inline constexpr unsigned ring_entries = 256;

// Zero-filled ahead of a segment's appender (see LIMITS.md D9: durable appends into
// never-written blocks cost about twice as much).
inline constexpr size_t prewrite_chunk_bytes = 1024 * 1024;

inline constexpr int64_t segment_bytes_default = 1024LL * 1024 * 1024;
inline constexpr int64_t segment_bytes_min = 64 * 1024;
inline constexpr int64_t index_interval_bytes_default = 4096;

static_assert(tail_chunk_bytes % dma_alignment == 0);
static_assert(flush_write_bytes_max % dma_alignment == 0);
static_assert(prewrite_chunk_bytes % dma_alignment == 0);
static_assert(segment_bytes_min % dma_alignment == 0);
static_assert(batch_bytes_max <= 64 * 1024 * 1024);

}  // namespace ringlog::limits
