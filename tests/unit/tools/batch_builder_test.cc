// BatchBuilder: its batches parse as v2 batches with a valid CRC, carry the stamps and keys
// asked for, and reuse their buffer; with a codec the attributes name it and the records
// inflate (with the broker's codecs) to the same stamps and keys; --value-entropy values
// differ from record to record and compress about as their entropy says;
// for_each_record_value reads the values back and refuses truncated records.
#include "tools/ringlog/bench/batch_builder.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "net/kafka/compression.h"
#include "net/kafka/record_batch.h"
#include "tools/ringlog/bench/options.h"

namespace ringlog::tools::bench {
namespace {

using net::kafka::Compression;

constexpr Compression codecs[] = {Compression::none, Compression::gzip, Compression::snappy,
                                  Compression::lz4, Compression::zstd};

// The records of a batch, inflated when compressed.
std::vector<std::byte> records_of(const net::kafka::RecordBatchView& batch) {
    auto records = net::kafka::decompress(batch.compression(), batch.records_bytes(), 1 << 26);
    EXPECT_TRUE(records.ok()) << records.status();
    return records.ok() ? *records : std::vector<std::byte>();
}

TEST(BatchBuilder, BuildsValidBatchesWithStampsAndKeysForEveryCodec) {
    const std::vector<std::string_view> keys = {"key-0000000001", "k", "key-0000000003", ""};
    for (const Compression codec : codecs) {
        for (const bool keyed : {false, true}) {
            BatchBuilder builder(100, 14, value_entropy_fixed, codec, 42);
            std::vector<std::byte> buffer;
            const std::vector<int64_t> intended = {5, 6, 7, 1000000};
            const size_t size = builder.build(
                buffer, intended, keyed ? std::span(keys) : std::span<const std::string_view>(),
                100, 1700000000000);
            ASSERT_LE(size, builder.bytes_max(4));
            auto batch = net::kafka::RecordBatchView::parse(std::span(buffer.data(), size));
            ASSERT_TRUE(batch.ok()) << batch.status();
            EXPECT_TRUE(batch->validate_crc().ok());
            EXPECT_EQ(batch->compression(), codec);
            EXPECT_EQ(batch->records_count(), 4);
            EXPECT_EQ(batch->last_offset_delta(), 3);
            EXPECT_EQ(batch->base_timestamp(), 1700000000000);
            const std::vector<std::byte> records = records_of(*batch);
            std::vector<PayloadStamp> stamps;
            ASSERT_TRUE(for_each_record_value(records, batch->records_count(),
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
            // The keys, read by the project's record walker.
            net::kafka::RecordIterator it(records, 4);
            net::kafka::Record record;
            for (size_t i = 0; i < 4; ++i) {
                ASSERT_TRUE(it.next(record)) << it.status();
                if (keyed) {
                    ASSERT_TRUE(record.key.has_value());
                    EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(record.key->data()),
                                               record.key->size()),
                              keys[i]);
                } else {
                    EXPECT_FALSE(record.key.has_value());
                }
            }
            EXPECT_FALSE(it.next(record));
            EXPECT_TRUE(it.status().ok()) << it.status();
            // Truncated records are refused, not read past.
            EXPECT_FALSE(for_each_record_value(std::span(records).first(50), 4,
                                               [](std::span<const std::byte>) {}));
        }
    }
}

TEST(BatchBuilder, ReusesItsBuffer) {
    for (const Compression codec : codecs) {
        BatchBuilder builder(1024, 14, 4, codec, 1);
        std::vector<std::byte> buffer;
        std::vector<int64_t> intended(64, 1);
        builder.build(buffer, intended, {}, 0, 0);
        const std::byte* data = buffer.data();
        const size_t capacity = buffer.capacity();
        for (int i = 0; i < 10; ++i) {
            const size_t size = builder.build(buffer, intended, {}, 0, 0);
            EXPECT_LE(size, builder.bytes_max(64));
        }
        EXPECT_EQ(buffer.data(), data);
        EXPECT_EQ(buffer.capacity(), capacity);
    }
}

// The compressed size of a 64-message batch of 1 KiB values.
size_t zstd_batch_bytes(int entropy_bits) {
    BatchBuilder builder(1024, 14, entropy_bits, Compression::zstd, 9);
    std::vector<std::byte> buffer;
    const std::vector<int64_t> intended(64, 1);
    return builder.build(buffer, intended, {}, 0, 0);
}

TEST(BatchBuilder, ValueEntropySetsHowWellValuesCompress) {
    const size_t payload = 64 * 1024;
    // fixed: every value repeats the one filler, so all but the stamps compress away.
    EXPECT_LT(zstd_batch_bytes(value_entropy_fixed), payload / 10);
    // 8 bits a byte is incompressible; 4 bits about halves; 1 bit about an eighth.
    EXPECT_GT(zstd_batch_bytes(8), payload);
    EXPECT_GT(zstd_batch_bytes(4), payload * 4 / 10);
    EXPECT_LT(zstd_batch_bytes(4), payload * 6 / 10);
    EXPECT_LT(zstd_batch_bytes(1), payload * 2 / 10);

    // With a pool, neighbouring values differ (past their stamps).
    BatchBuilder builder(256, 14, 4, Compression::none, 3);
    std::vector<std::byte> buffer;
    const std::vector<int64_t> intended(2, 1);
    const size_t size = builder.build(buffer, intended, {}, 0, 0);
    auto batch = net::kafka::RecordBatchView::parse(std::span(buffer.data(), size));
    ASSERT_TRUE(batch.ok());
    std::vector<std::vector<std::byte>> values;
    ASSERT_TRUE(
        for_each_record_value(batch->records_bytes(), 2, [&](std::span<const std::byte> value) {
            values.emplace_back(value.begin() + 16, value.end());
        }));
    ASSERT_EQ(values.size(), 2u);
    EXPECT_NE(values[0], values[1]);
}

}  // namespace
}  // namespace ringlog::tools::bench
