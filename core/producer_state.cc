#include "core/producer_state.h"

#include <limits>

#include "io/base/assert.h"

namespace ringlog::core {
namespace {

constexpr int64_t sequence_space = int64_t{std::numeric_limits<int32_t>::max()} + 1;  // 2^31

// How far `to` lies after `from` going forward through the wrapping sequence space:
// forward_distance(INT32_MAX, 0) == 1, forward_distance(5, 3) == 2^31 - 2.
int64_t forward_distance(int32_t from, int32_t to) {
    const int64_t difference = int64_t{to} - int64_t{from};
    return ((difference % sequence_space) + sequence_space) % sequence_space;
}

}  // namespace

int32_t next_sequence(int32_t sequence, int32_t increment) {
    RL_DASSERT(sequence >= 0 && increment >= 0);
    const int32_t room = std::numeric_limits<int32_t>::max() - sequence;
    return increment > room ? increment - room - 1 : sequence + increment;
}

ProducerBatch ProducerBatch::of(const net::kafka::RecordBatchView& batch) {
    ProducerBatch result;
    result.producer_id = batch.producer_id();
    result.producer_epoch = batch.producer_epoch();
    result.first_sequence = batch.base_sequence();
    result.last_sequence = batch.base_sequence() >= 0
                               ? next_sequence(batch.base_sequence(), batch.last_offset_delta())
                               : batch.base_sequence();
    return result;
}

void ProducerEntry::push(const StoredBatch& batch) {
    if (count == producer_batches_kept) {
        for (size_t i = 1; i < producer_batches_kept; ++i) {
            batches[i - 1] = batches[i];
        }
        --count;
    }
    batches[count++] = batch;
}

SequenceCheck ProducerStateTable::check(const ProducerBatch& batch) const {
    RL_DASSERT(batch.idempotent());
    SequenceCheck result;
    if (batch.producer_epoch < 0 || batch.first_sequence < 0) {
        result.verdict = SequenceVerdict::out_of_order;  // an idempotent batch without a sequence
        return result;
    }
    const auto it = producers_.find(batch.producer_id);
    if (it == producers_.end()) {
        return result;  // unknown producer: accepted as it comes (KIP-360)
    }
    const ProducerEntry& entry = it->second;
    if (batch.producer_epoch < entry.epoch) {
        result.verdict = SequenceVerdict::invalid_epoch;
        return result;
    }
    if (batch.producer_epoch > entry.epoch) {
        // A bumped epoch starts its sequence again (KIP-360).
        if (batch.first_sequence != 0) {
            result.verdict = SequenceVerdict::out_of_order;
        }
        return result;
    }
    for (size_t i = 0; i < entry.count; ++i) {
        const StoredBatch& stored = entry.batches[i];
        if (stored.first_sequence == batch.first_sequence
            && stored.last_sequence == batch.last_sequence) {
            result.verdict = SequenceVerdict::duplicate;
            result.base_offset = stored.base_offset;
            result.last_offset = stored.last_offset;
            return result;
        }
    }
    if (entry.count == 0) {
        return result;  // a rollback took every remembered batch back
    }
    const int32_t expected = next_sequence(entry.newest().last_sequence, 1);
    if (batch.first_sequence == expected) {
        return result;
    }
    // Entirely before the oldest remembered batch, by less than half the sequence space: a
    // retry of something stored long ago. Anything else is a gap or an overlap.
    const int64_t behind = forward_distance(batch.last_sequence, entry.batches[0].first_sequence);
    result.verdict = behind > 0 && behind < sequence_space / 2
                         ? SequenceVerdict::duplicate_untracked
                         : SequenceVerdict::out_of_order;
    return result;
}

SequenceVerdict ProducerStateTable::check_follows(const ProducerBatch& previous,
                                                  const ProducerBatch& batch) {
    RL_DASSERT(previous.producer_id == batch.producer_id);
    if (batch.producer_epoch < previous.producer_epoch) {
        return SequenceVerdict::invalid_epoch;
    }
    if (batch.producer_epoch > previous.producer_epoch) {
        return batch.first_sequence == 0 ? SequenceVerdict::accept : SequenceVerdict::out_of_order;
    }
    if (batch.first_sequence < 0
        || batch.first_sequence != next_sequence(previous.last_sequence, 1)) {
        return SequenceVerdict::out_of_order;
    }
    return SequenceVerdict::accept;
}

void ProducerStateTable::record(const ProducerBatch& batch, Offset base_offset,
                                Offset last_offset) {
    RL_DASSERT(batch.idempotent());
    auto [it, inserted] = producers_.try_emplace(batch.producer_id);
    ProducerEntry& entry = it->second;
    if (inserted || batch.producer_epoch > entry.epoch) {
        entry.epoch = batch.producer_epoch;
        entry.count = 0;
    } else if (batch.producer_epoch < entry.epoch) {
        return;
    }
    entry.push({batch.first_sequence, batch.last_sequence, base_offset, last_offset});
}

void ProducerStateTable::forget_from(Offset end) {
    for (auto& [id, entry] : producers_) {
        while (entry.count > 0 && entry.newest().last_offset >= end) {
            --entry.count;
        }
    }
}

void ProducerStateTable::forget_before(Offset log_start) {
    absl::erase_if(producers_, [log_start](const auto& item) {
        const ProducerEntry& entry = item.second;
        return entry.count > 0 && entry.newest().last_offset < log_start;
    });
}

const ProducerEntry* ProducerStateTable::find(int64_t producer_id) const {
    const auto it = producers_.find(producer_id);
    return it == producers_.end() ? nullptr : &it->second;
}

}  // namespace ringlog::core
