// ProducerStateTable: what one partition knows about its idempotent producers (KIP-98): per
// producer id the current epoch and the sequence ranges and offsets of the last five batches it
// stored. The log consults it at the moment it stores a batch, so a retried batch is answered
// with its original offsets instead of being stored twice, and a gap in the sequence is refused.
// It is not a transaction table: there are no transactional ids, markers or open transactions.
//
// Semantics follow Kafka's ProducerStateManager (3.x) with two documented choices:
// - an unknown producer id is accepted with any sequence (KIP-360: its state may have gone with
//   retention, and refusing it would make the producer fatal), as Kafka 2.5+ does;
// - a batch of the current epoch entirely before the five remembered ones is answered
//   DUPLICATE_SEQUENCE_NUMBER, which librdkafka and the Java client take as "already stored"
//   (Kafka 3.x says OUT_OF_ORDER_SEQUENCE_NUMBER there, which is fatal for the producer).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include <absl/container/flat_hash_map.h>

#include "core/offset.h"
#include "net/kafka/record_batch.h"

namespace ringlog::core {

// Kafka's ProducerStateEntry.NumBatchesToRetain: clients keep at most five requests in flight
// per partition (max.in.flight.requests.per.connection <= 5 with idempotence), so a retry is
// always of one of the last five batches.
inline constexpr size_t producer_batches_kept = 5;

// Sequence numbers run from 0 to INT32_MAX and then start at 0 again
// (DefaultRecordBatch.incrementSequence): next_sequence(INT32_MAX - 1, 3) == 1.
int32_t next_sequence(int32_t sequence, int32_t increment);

// The idempotence fields of one batch header.
struct ProducerBatch {
    int64_t producer_id = -1;  // -1: not an idempotent batch, never checked
    int16_t producer_epoch = -1;
    int32_t first_sequence = -1;
    int32_t last_sequence = -1;

    static ProducerBatch of(const net::kafka::RecordBatchView& batch);

    bool idempotent() const { return producer_id >= 0; }
};

struct StoredBatch {
    int32_t first_sequence = 0;
    int32_t last_sequence = 0;
    Offset base_offset{0};
    Offset last_offset{0};
};

// One producer: its epoch and its last batches, oldest first. count == 0 after a rollback took
// every remembered batch back: the epoch still fences, the next sequence is taken as it comes.
struct ProducerEntry {
    int16_t epoch = 0;
    uint8_t count = 0;
    std::array<StoredBatch, producer_batches_kept> batches{};

    const StoredBatch& newest() const { return batches[count - 1]; }

    // Appends `batch`, dropping the oldest when five are held.
    void push(const StoredBatch& batch);
};

enum class SequenceVerdict {
    accept,               // store it
    duplicate,            // one of the last five batches again: answer its offsets, store nothing
    duplicate_untracked,  // older than the last five: stored long ago, offsets forgotten
    out_of_order,         // a gap, an overlap, or a new epoch not starting at sequence 0
    invalid_epoch,        // an epoch below the producer's current one (a fenced producer)
};

struct SequenceCheck {
    SequenceVerdict verdict = SequenceVerdict::accept;
    Offset base_offset{-1};  // for a duplicate: where the original is
    Offset last_offset{-1};
};

// Contract: owned by one Log, used on its shard only. Every method is synchronous: the log
// calls check() and record() with no suspension between them and the store, so batches of one
// producer are judged in the order they are stored.
class ProducerStateTable {
public:
    // What storing `batch` now would mean. `batch` must be idempotent.
    SequenceCheck check(const ProducerBatch& batch) const;

    // For the second and later batches of one append: `batch` must continue `previous` of the
    // same producer, which check() accepted but which is not recorded yet.
    static SequenceVerdict check_follows(const ProducerBatch& previous, const ProducerBatch& batch);

    // `batch` was stored at [base, last] (or is being replayed from the log on open). A higher
    // epoch replaces the producer's batches; a lower one (impossible after check()) is ignored.
    void record(const ProducerBatch& batch, Offset base_offset, Offset last_offset);

    // A failed flush took back every offset from `end` on: forget batches stored there.
    void forget_from(Offset end);

    // Retention deleted everything below `log_start`: producers with nothing left there go
    // (Kafka's ProducerStateManager.truncateHead), which keeps the table bounded.
    void forget_before(Offset log_start);

    const ProducerEntry* find(int64_t producer_id) const;

    size_t size() const { return producers_.size(); }

    void clear() { producers_.clear(); }

    void insert(int64_t producer_id, const ProducerEntry& entry) {
        producers_[producer_id] = entry;
    }

    const absl::flat_hash_map<int64_t, ProducerEntry>& entries() const { return producers_; }

private:
    absl::flat_hash_map<int64_t, ProducerEntry> producers_;
};

}  // namespace ringlog::core
