// The producer table and its snapshot file, without a log: duplicates of each of the last five
// batches, gaps, overlaps, epochs, sequence wrap-around, rollback and retention, and a snapshot
// that round-trips and rejects every single-byte change.
#include "core/producer_state.h"

#include <limits>

#include <gtest/gtest.h>

#include "core/producer_snapshot.h"

namespace ringlog::core {
namespace {

constexpr int32_t sequence_max = std::numeric_limits<int32_t>::max();

ProducerBatch batch(int64_t id, int16_t epoch, int32_t first, int32_t records) {
    ProducerBatch result;
    result.producer_id = id;
    result.producer_epoch = epoch;
    result.first_sequence = first;
    result.last_sequence = first >= 0 ? next_sequence(first, records - 1) : first;  // as of()
    return result;
}

// Records `records`-record batches of producer 7, epoch 0, from sequence `first`, at offsets
// from `offset` on; returns the next offset.
int64_t record_run(ProducerStateTable& table, int count, int32_t first, int32_t records,
                   int64_t offset) {
    int32_t sequence = first;
    for (int i = 0; i < count; ++i) {
        table.record(batch(7, 0, sequence, records), Offset(offset), Offset(offset + records - 1));
        sequence = next_sequence(sequence, records);
        offset += records;
    }
    return offset;
}

TEST(NextSequence, WrapsAtInt32Max) {
    EXPECT_EQ(next_sequence(0, 1), 1);
    EXPECT_EQ(next_sequence(sequence_max - 1, 1), sequence_max);
    EXPECT_EQ(next_sequence(sequence_max, 1), 0);
    EXPECT_EQ(next_sequence(sequence_max - 1, 3), 1);
}

TEST(ProducerStateTable, UnknownProducerIsAcceptedWithAnySequence) {
    ProducerStateTable table;
    EXPECT_EQ(table.check(batch(7, 0, 0, 1)).verdict, SequenceVerdict::accept);
    EXPECT_EQ(table.check(batch(7, 3, 12345, 1)).verdict, SequenceVerdict::accept);
}

TEST(ProducerStateTable, EachOfTheLastFiveBatchesIsADuplicateWithItsOffsets) {
    ProducerStateTable table;
    record_run(table, 8, 0, 3, 100);  // sequences 0..23 at offsets 100..123
    for (int i = 3; i < 8; ++i) {
        const SequenceCheck check = table.check(batch(7, 0, i * 3, 3));
        EXPECT_EQ(check.verdict, SequenceVerdict::duplicate) << "batch " << i;
        EXPECT_EQ(check.base_offset, Offset(100 + i * 3));
        EXPECT_EQ(check.last_offset, Offset(102 + i * 3));
    }
    // Older than the five: stored, but the offsets are forgotten.
    EXPECT_EQ(table.check(batch(7, 0, 6, 3)).verdict, SequenceVerdict::duplicate_untracked);
    EXPECT_EQ(table.check(batch(7, 0, 0, 3)).verdict, SequenceVerdict::duplicate_untracked);
    EXPECT_EQ(table.check(batch(7, 0, 24, 2)).verdict, SequenceVerdict::accept);
}

TEST(ProducerStateTable, GapsAndOverlapsAreOutOfOrder) {
    ProducerStateTable table;
    record_run(table, 2, 0, 5, 0);  // sequences 0..9
    EXPECT_EQ(table.check(batch(7, 0, 11, 1)).verdict, SequenceVerdict::out_of_order);
    EXPECT_EQ(table.check(batch(7, 0, 1000, 1)).verdict, SequenceVerdict::out_of_order);
    EXPECT_EQ(table.check(batch(7, 0, 5, 3)).verdict, SequenceVerdict::out_of_order);  // overlap
    EXPECT_EQ(table.check(batch(7, 0, 9, 2)).verdict, SequenceVerdict::out_of_order);
    EXPECT_EQ(table.check(batch(7, 0, -1, 1)).verdict, SequenceVerdict::out_of_order);
    EXPECT_EQ(table.check(batch(7, 0, 10, 1)).verdict, SequenceVerdict::accept);
}

TEST(ProducerStateTable, EpochsFenceAndRestartTheSequence) {
    ProducerStateTable table;
    table.record(batch(7, 2, 0, 4), Offset(0), Offset(3));
    EXPECT_EQ(table.check(batch(7, 1, 4, 1)).verdict, SequenceVerdict::invalid_epoch);
    EXPECT_EQ(table.check(batch(7, 1, 0, 4)).verdict, SequenceVerdict::invalid_epoch);
    EXPECT_EQ(table.check(batch(7, 3, 4, 1)).verdict, SequenceVerdict::out_of_order);
    EXPECT_EQ(table.check(batch(7, 3, 0, 1)).verdict, SequenceVerdict::accept);
    table.record(batch(7, 3, 0, 1), Offset(4), Offset(4));
    // The old epoch's batches are gone: the same sequence range of epoch 2 is now fenced.
    EXPECT_EQ(table.check(batch(7, 2, 0, 4)).verdict, SequenceVerdict::invalid_epoch);
    EXPECT_EQ(table.find(7)->epoch, 3);
    EXPECT_EQ(table.find(7)->count, 1);
    // Other producers are independent.
    EXPECT_EQ(table.check(batch(8, 0, 0, 1)).verdict, SequenceVerdict::accept);
}

TEST(ProducerStateTable, SequencesWrapAtInt32Max) {
    ProducerStateTable table;
    // Two records ending exactly at INT32_MAX, then a batch crossing the wrap.
    table.record(batch(7, 0, sequence_max - 1, 2), Offset(0), Offset(1));
    EXPECT_EQ(table.check(batch(7, 0, 0, 3)).verdict, SequenceVerdict::accept);
    const ProducerBatch crossing = batch(7, 0, 0, 3);
    table.record(crossing, Offset(2), Offset(4));
    const ProducerBatch wrapped = batch(7, 0, sequence_max, 3);  // INT32_MAX, 0, 1
    EXPECT_EQ(wrapped.last_sequence, 1);
    EXPECT_EQ(table.check(batch(7, 0, 3, 1)).verdict, SequenceVerdict::accept);
    EXPECT_EQ(table.check(batch(7, 0, sequence_max - 1, 2)).verdict, SequenceVerdict::duplicate);
    EXPECT_EQ(table.check(crossing).verdict, SequenceVerdict::duplicate);
    // Just before the oldest remembered batch, across the wrap: an old duplicate.
    ProducerStateTable far;
    far.record(batch(7, 0, 1, 2), Offset(0), Offset(1));
    EXPECT_EQ(far.check(batch(7, 0, sequence_max - 2, 2)).verdict,
              SequenceVerdict::duplicate_untracked);
}

TEST(ProducerStateTable, LaterBatchesOfOneAppendContinueTheEarlierOnes) {
    EXPECT_EQ(ProducerStateTable::check_follows(batch(7, 0, 0, 3), batch(7, 0, 3, 1)),
              SequenceVerdict::accept);
    EXPECT_EQ(ProducerStateTable::check_follows(batch(7, 0, 0, 3), batch(7, 0, 4, 1)),
              SequenceVerdict::out_of_order);
    EXPECT_EQ(ProducerStateTable::check_follows(batch(7, 1, 0, 3), batch(7, 0, 3, 1)),
              SequenceVerdict::invalid_epoch);
    EXPECT_EQ(ProducerStateTable::check_follows(batch(7, 0, 0, 3), batch(7, 1, 0, 1)),
              SequenceVerdict::accept);
}

TEST(ProducerStateTable, RollbackForgetsTheBatchesItTookBack) {
    ProducerStateTable table;
    record_run(table, 4, 0, 2, 0);  // sequences 0..7 at offsets 0..7
    table.forget_from(Offset(4));
    EXPECT_EQ(table.find(7)->count, 2);
    EXPECT_EQ(table.check(batch(7, 0, 4, 2)).verdict, SequenceVerdict::accept);
    EXPECT_EQ(table.check(batch(7, 0, 2, 2)).verdict, SequenceVerdict::duplicate);
    table.forget_from(Offset(0));
    // Nothing remembered: the epoch still fences, any sequence of it is taken.
    EXPECT_EQ(table.find(7)->count, 0);
    EXPECT_EQ(table.check(batch(7, 0, 6, 1)).verdict, SequenceVerdict::accept);
    table.record(batch(7, 1, 0, 1), Offset(0), Offset(0));
    table.forget_from(Offset(0));
    EXPECT_EQ(table.check(batch(7, 0, 6, 1)).verdict, SequenceVerdict::invalid_epoch);
}

TEST(ProducerStateTable, RetentionDropsProducersWithNothingLeft) {
    ProducerStateTable table;
    table.record(batch(1, 0, 0, 1), Offset(0), Offset(0));
    table.record(batch(2, 0, 0, 1), Offset(1), Offset(1));
    table.record(batch(1, 0, 1, 1), Offset(2), Offset(2));
    table.forget_before(Offset(2));
    EXPECT_NE(table.find(1), nullptr);
    EXPECT_EQ(table.find(2), nullptr);
    EXPECT_EQ(table.size(), 1u);
}

ProducerStateTable sample_table() {
    ProducerStateTable table;
    int64_t offset = 0;
    for (int64_t id = 0; id < 4; ++id) {
        for (int i = 0; i < static_cast<int>(id) * 2; ++i) {  // 0, 2, 4 and 6 batches
            table.record(batch(id, static_cast<int16_t>(id), i * 2, 2), Offset(offset),
                         Offset(offset + 1));
            offset += 2;
        }
    }
    table.record(batch(1000, 0, 0, 1), Offset(offset), Offset(offset));
    table.forget_from(Offset(offset));  // an entry with no batches
    return table;
}

TEST(ProducerSnapshot, RoundTrips) {
    const ProducerStateTable table = sample_table();
    const auto bytes = serialize_producer_snapshot(table, Offset(4242));
    auto parsed = parse_producer_snapshot(bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->offset, Offset(4242));
    ASSERT_EQ(parsed->table.size(), table.size());
    for (const auto& [id, entry] : table.entries()) {
        const ProducerEntry* got = parsed->table.find(id);
        ASSERT_NE(got, nullptr) << id;
        EXPECT_EQ(got->epoch, entry.epoch);
        ASSERT_EQ(got->count, entry.count);
        for (size_t i = 0; i < entry.count; ++i) {
            EXPECT_EQ(got->batches[i].first_sequence, entry.batches[i].first_sequence);
            EXPECT_EQ(got->batches[i].last_sequence, entry.batches[i].last_sequence);
            EXPECT_EQ(got->batches[i].base_offset, entry.batches[i].base_offset);
            EXPECT_EQ(got->batches[i].last_offset, entry.batches[i].last_offset);
        }
    }
    EXPECT_TRUE(parse_producer_snapshot(serialize_producer_snapshot({}, Offset(0))).ok());
}

TEST(ProducerSnapshot, RejectsEveryChangedByteAndEveryTruncation) {
    const auto bytes = serialize_producer_snapshot(sample_table(), Offset(77));
    for (size_t i = 0; i < bytes.size(); ++i) {
        auto damaged = bytes;
        damaged[i] ^= std::byte{0x10};
        EXPECT_EQ(parse_producer_snapshot(damaged).status().code(), absl::StatusCode::kDataLoss)
            << "byte " << i;
        EXPECT_FALSE(parse_producer_snapshot(std::span(bytes).first(i)).ok()) << "length " << i;
    }
}

TEST(ProducerSnapshot, NamesSortByOffset) {
    EXPECT_EQ(producer_snapshot_name(Offset(42)), "00000000000000000042.producers");
    EXPECT_EQ(parse_producer_snapshot_name("00000000000000000042.producers"), Offset(42));
    EXPECT_EQ(parse_producer_snapshot_name("00000000000000000042.log"), std::nullopt);
    EXPECT_EQ(parse_producer_snapshot_name("0000000000000000004x.producers"), std::nullopt);
}

}  // namespace
}  // namespace ringlog::core
