// BatchBuilder: its batches parse as v2 batches with a valid CRC, carry the stamps and keys
// asked for, and reuse their buffer; for_each_record_value reads the values back and refuses
// truncated records.
#include "tools/ringlog/bench/batch_builder.h"

#include <vector>

#include <gtest/gtest.h>

#include "net/kafka/record_batch.h"

namespace ringlog::tools::bench {
namespace {

TEST(BatchBuilder, BuildsValidBatchesWithStamps) {
    for (int32_t keys : {0, 10}) {
        BatchBuilder builder(100, keys, 42);
        std::vector<std::byte> buffer;
        const std::vector<int64_t> intended = {5, 6, 7, 1000000};
        const size_t size = builder.build(buffer, intended, 100, 1700000000000);
        auto batch = net::kafka::RecordBatchView::parse(std::span(buffer.data(), size));
        ASSERT_TRUE(batch.ok()) << batch.status();
        EXPECT_TRUE(batch->validate_crc().ok());
        EXPECT_EQ(batch->records_count(), 4);
        EXPECT_EQ(batch->last_offset_delta(), 3);
        EXPECT_EQ(batch->base_timestamp(), 1700000000000);
        std::vector<PayloadStamp> stamps;
        ASSERT_TRUE(for_each_record_value(batch->records_bytes(), batch->records_count(),
                                          [&](std::span<const std::byte> value) {
                                              EXPECT_EQ(value.size(), 100u);
                                              PayloadStamp stamp{};
                                              ASSERT_TRUE(read_payload_stamp(value, stamp));
                                              stamps.push_back(stamp);
                                          }));
        ASSERT_EQ(stamps.size(), 4u);
        for (size_t i = 0; i < 4; ++i) {
            EXPECT_EQ(stamps[i].intended_ns, intended[i]);
            EXPECT_EQ(stamps[i].sequence, 100 + i);
        }
        // Truncated records are refused, not read past.
        EXPECT_FALSE(for_each_record_value(batch->records_bytes().first(50), 4,
                                           [](std::span<const std::byte>) {}));
    }
}

TEST(BatchBuilder, ReusesItsBuffer) {
    BatchBuilder builder(1024, 0, 1);
    std::vector<std::byte> buffer;
    std::vector<int64_t> intended(64, 1);
    builder.build(buffer, intended, 0, 0);
    const std::byte* data = buffer.data();
    const size_t capacity = buffer.capacity();
    for (int i = 0; i < 10; ++i) {
        const size_t size = builder.build(buffer, intended, 0, 0);
        EXPECT_LE(size, builder.bytes_max(64));
    }
    EXPECT_EQ(buffer.data(), data);
    EXPECT_EQ(buffer.capacity(), capacity);
}

}  // namespace
}  // namespace ringlog::tools::bench
