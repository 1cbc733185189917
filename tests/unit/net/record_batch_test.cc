// RecordBatchView and the builder: header fields round trip, the CRC covers what Kafka says it
// covers, malformed and torn headers are told apart (kInvalidArgument vs kOutOfRange), the record
// walk returns what was built and rejects malformed records without reading out of bounds, and
// the broker's in-place edits keep the CRC valid. Finally, the batches inside real Produce
// requests captured from four clients parse and pass their CRC.
#include "net/kafka/record_batch.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/base/assert.h"
#include "net/kafka/crc32c.h"
#include "net/kafka/record_batch_builder.h"
#include "net/kafka/varint.h"

namespace ringlog::net::kafka {
namespace {

std::string text_of(std::span<const std::byte> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

RecordSpec record_of(std::optional<std::string> key, std::optional<std::string> value,
                     int64_t timestamp) {
    RecordSpec record;
    record.key = std::move(key);
    record.value = std::move(value);
    record.timestamp = timestamp;
    return record;
}

BatchSpec three_record_spec() {
    BatchSpec spec;
    spec.base_offset = 1000;
    spec.partition_leader_epoch = 7;
    spec.base_timestamp = 1'700'000'000'000;
    spec.producer_id = 42;
    spec.producer_epoch = 3;
    spec.base_sequence = 17;
    spec.records.push_back(record_of("k0", "v0", 1'700'000'000'000));
    spec.records.push_back(record_of(std::nullopt, "value one", 1'700'000'000'005));
    spec.records.back().headers = {{"h1", "x"}, {"h2", std::nullopt}};
    spec.records.push_back(record_of("k2", std::nullopt, 1'699'999'999'990));
    return spec;
}

TEST(RecordBatch, BuiltHeaderParsesBack) {
    const std::vector<std::byte> bytes = build_record_batch(three_record_spec());
    auto batch = RecordBatchView::parse(bytes);
    ASSERT_TRUE(batch.ok()) << batch.status();
    EXPECT_EQ(batch->base_offset(), 1000);
    EXPECT_EQ(batch->size_bytes(), bytes.size());
    EXPECT_EQ(static_cast<size_t>(batch->batch_length()), bytes.size() - 12);
    EXPECT_EQ(batch->partition_leader_epoch(), 7);
    EXPECT_EQ(batch->magic(), 2);
    EXPECT_EQ(batch->attributes(), 0);
    EXPECT_EQ(batch->compression(), Compression::none);
    EXPECT_EQ(batch->timestamp_type(), TimestampType::create_time);
    EXPECT_FALSE(batch->is_transactional());
    EXPECT_FALSE(batch->is_control());
    EXPECT_EQ(batch->last_offset_delta(), 2);
    EXPECT_EQ(batch->last_offset(), 1002);
    EXPECT_EQ(batch->base_timestamp(), 1'700'000'000'000);
    EXPECT_EQ(batch->max_timestamp(), 1'700'000'000'005);
    EXPECT_EQ(batch->producer_id(), 42);
    EXPECT_EQ(batch->producer_epoch(), 3);
    EXPECT_EQ(batch->base_sequence(), 17);
    EXPECT_EQ(batch->records_count(), 3);
    EXPECT_TRUE(batch->complete());
    EXPECT_TRUE(batch->validate_crc().ok());
    EXPECT_EQ(batch->crc(), crc32c(std::span<const std::byte>(bytes).subspan(21)));
}

TEST(RecordBatch, AttributeFlagsParse) {
    BatchSpec spec = three_record_spec();
    spec.transactional = true;
    spec.control = true;
    spec.timestamp_type = TimestampType::log_append_time;
    const std::vector<std::byte> bytes = build_record_batch(spec);
    auto batch = RecordBatchView::parse(bytes);
    ASSERT_TRUE(batch.ok()) << batch.status();
    EXPECT_TRUE(batch->is_transactional());
    EXPECT_TRUE(batch->is_control());
    EXPECT_EQ(batch->timestamp_type(), TimestampType::log_append_time);
    EXPECT_EQ(batch->attributes(), 0x38);
}

TEST(RecordBatch, ParseStopsAtTheBatchEnd) {
    std::vector<std::byte> bytes = build_record_batch(three_record_spec());
    const size_t size = bytes.size();
    const std::vector<std::byte> second = build_record_batch(three_record_spec());
    bytes.insert(bytes.end(), second.begin(), second.end());
    auto batch = RecordBatchView::parse(bytes);
    ASSERT_TRUE(batch.ok());
    EXPECT_EQ(batch->bytes().size(), size);
    EXPECT_TRUE(batch->validate_crc().ok());
}

TEST(RecordBatch, AnEmptyBatchIsOnlyAHeader) {
    BatchSpec spec;
    spec.last_offset_delta = 4;  // as compaction leaves it
    const std::vector<std::byte> bytes = build_record_batch(spec);
    ASSERT_EQ(bytes.size(), batch_header_bytes);
    auto batch = RecordBatchView::parse(bytes);
    ASSERT_TRUE(batch.ok()) << batch.status();
    EXPECT_EQ(batch->records_count(), 0);
    EXPECT_EQ(batch->last_offset_delta(), 4);
    EXPECT_EQ(batch->base_timestamp(), -1);
    EXPECT_EQ(batch->max_timestamp(), -1);
    EXPECT_TRUE(batch->validate_crc().ok());
    int count = 0;
    EXPECT_TRUE(for_each_record(*batch, [&](const Record&) { ++count; }).ok());
    EXPECT_EQ(count, 0);
}

TEST(RecordBatch, FlippingAnyCoveredByteBreaksTheCrc) {
    std::vector<std::byte> bytes = build_record_batch(three_record_spec());
    for (size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] ^= std::byte{0x01};
        auto batch = RecordBatchView::parse(bytes);
        if (i >= 21) {
            // Some flips make the header malformed; every other one must fail the CRC.
            if (batch.ok()) {
                EXPECT_EQ(batch->validate_crc().code(), absl::StatusCode::kDataLoss) << i;
            }
        } else if (i < 8 || (i >= 12 && i < 16)) {
            // baseOffset and partitionLeaderEpoch are outside the CRC.
            ASSERT_TRUE(batch.ok()) << i;
            EXPECT_TRUE(batch->validate_crc().ok()) << i;
        }
        bytes[i] ^= std::byte{0x01};
    }
    // A flipped CRC field itself is a mismatch too.
    bytes[17] ^= std::byte{0x80};
    auto batch = RecordBatchView::parse(bytes);
    ASSERT_TRUE(batch.ok());
    const absl::Status status = batch->validate_crc();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(status.message().find("CRC mismatch: stored"), std::string_view::npos) << status;
}

TEST(RecordBatch, MalformedHeadersAreInvalidAndShortOnesOutOfRange) {
    const std::vector<std::byte> good = build_record_batch(three_record_spec());
    const auto code_of = [](std::span<const std::byte> bytes) {
        return RecordBatchView::parse(bytes).status().code();
    };

    // Torn: the bytes end before the header or the batch does.
    EXPECT_EQ(code_of(std::span(good).first(0)), absl::StatusCode::kOutOfRange);
    EXPECT_EQ(code_of(std::span(good).first(60)), absl::StatusCode::kOutOfRange);
    EXPECT_EQ(code_of(std::span(good).first(good.size() - 1)), absl::StatusCode::kOutOfRange);

    auto with = [&](size_t field, auto value) {
        std::vector<std::byte> bytes = good;
        big_endian::store(bytes.data() + field, value);
        return bytes;
    };
    auto bad_magic = good;
    bad_magic[16] = std::byte{1};
    EXPECT_EQ(code_of(bad_magic), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(RecordBatchView::parse(bad_magic).status().message(), "unsupported magic 1");
    EXPECT_EQ(code_of(with(batch_field::batch_length, int32_t{48})),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(code_of(with(batch_field::batch_length, int32_t{-1})),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(code_of(with(batch_field::batch_length, int32_t{0x7fffffff})),
              absl::StatusCode::kOutOfRange);
    EXPECT_EQ(code_of(with(batch_field::records_count, int32_t{-1})),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(code_of(with(batch_field::last_offset_delta, int32_t{-1})),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(code_of(with(batch_field::attributes, uint16_t{0x0080})),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(code_of(with(batch_field::attributes, uint16_t{0x0005})),
              absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(RecordBatchView::parse(with(batch_field::attributes, uint16_t{0x0044})).ok());
}

TEST(RecordBatch, ParseHeaderNeedsOnlyTheHeader) {
    const std::vector<std::byte> bytes = build_record_batch(three_record_spec());
    auto header = RecordBatchView::parse_header(std::span(bytes).first(batch_header_bytes));
    ASSERT_TRUE(header.ok()) << header.status();
    EXPECT_FALSE(header->complete());
    EXPECT_EQ(header->size_bytes(), bytes.size());
    EXPECT_EQ(header->last_offset(), 1002);
    EXPECT_EQ(header->validate_crc().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(for_each_record(*header, [](const Record&) {}).code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(RecordBatchView::parse_header(std::span(bytes).first(60)).status().code(),
              absl::StatusCode::kOutOfRange);

    auto whole = RecordBatchView::parse_header(bytes);
    ASSERT_TRUE(whole.ok());
    EXPECT_TRUE(whole->complete());
}

TEST(RecordBatch, RecordsComeBackAsBuilt) {
    const BatchSpec spec = three_record_spec();
    const std::vector<std::byte> bytes = build_record_batch(spec);
    auto batch = RecordBatchView::parse(bytes);
    ASSERT_TRUE(batch.ok());
    std::vector<Record> records;
    ASSERT_TRUE(
        for_each_record(*batch, [&](const Record& record) { records.push_back(record); }).ok());
    ASSERT_EQ(records.size(), 3u);
    for (size_t i = 0; i < records.size(); ++i) {
        SCOPED_TRACE(i);
        const Record& record = records[i];
        EXPECT_EQ(record.offset_delta, static_cast<int32_t>(i));
        EXPECT_EQ(batch->base_timestamp() + record.timestamp_delta, spec.records[i].timestamp);
        ASSERT_EQ(record.key.has_value(), spec.records[i].key.has_value());
        if (record.key) {
            EXPECT_EQ(text_of(*record.key), *spec.records[i].key);
        }
        ASSERT_EQ(record.value.has_value(), spec.records[i].value.has_value());
        if (record.value) {
            EXPECT_EQ(text_of(*record.value), *spec.records[i].value);
        }
        EXPECT_EQ(record.headers_count, static_cast<int32_t>(spec.records[i].headers.size()));
    }
    EXPECT_EQ(records[2].timestamp_delta, -10);

    std::vector<std::pair<std::string, std::optional<std::string>>> headers;
    ASSERT_TRUE(for_each_header(records[1], [&](const RecordHeader& header) {
                    headers.emplace_back(
                        text_of(header.key),
                        header.value ? std::optional(text_of(*header.value)) : std::nullopt);
                }).ok());
    EXPECT_EQ(headers, (std::vector<std::pair<std::string, std::optional<std::string>>>{
                           {"h1", "x"}, {"h2", std::nullopt}}));
}

TEST(RecordBatch, IteratorStopsAtTheEnd) {
    const std::vector<std::byte> bytes = build_record_batch(three_record_spec());
    auto batch = RecordBatchView::parse(bytes);
    ASSERT_TRUE(batch.ok());
    RecordIterator records(*batch);
    Record record;
    int count = 0;
    while (records.next(record)) {
        ++count;
    }
    EXPECT_TRUE(records.status().ok()) << records.status();
    EXPECT_EQ(count, 3);
    EXPECT_FALSE(records.next(record));
}

TEST(RecordBatch, CompressedRecordsAreNotWalked) {
    std::vector<std::byte> bytes = build_record_batch(three_record_spec());
    bytes[batch_field::attributes + 1] = std::byte{static_cast<uint8_t>(Compression::zstd)};
    auto batch = RecordBatchView::parse(bytes);
    ASSERT_TRUE(batch.ok());
    EXPECT_EQ(batch->compression(), Compression::zstd);
    EXPECT_EQ(for_each_record(*batch, [](const Record&) {}).code(),
              absl::StatusCode::kUnimplemented);
}

// A batch whose records region is `records`, claiming `count` records.
std::vector<std::byte> batch_with_records(const std::vector<std::byte>& records, int32_t count) {
    BatchSpec spec;
    std::vector<std::byte> bytes = build_record_batch(spec);
    bytes.insert(bytes.end(), records.begin(), records.end());
    big_endian::store(bytes.data() + batch_field::batch_length,
                      static_cast<int32_t>(bytes.size() - 12));
    big_endian::store(bytes.data() + batch_field::records_count, count);
    update_crc(bytes);
    return bytes;
}

std::vector<std::byte> varints(std::initializer_list<int64_t> values) {
    std::vector<std::byte> out;
    for (int64_t value : values) {
        std::byte encoded[10];
        out.insert(out.end(), encoded, encoded + write_zigzag(value, encoded));
    }
    return out;
}

absl::StatusCode walk(const std::vector<std::byte>& bytes) {
    auto batch = RecordBatchView::parse(bytes);
    RL_ASSERT(batch.ok());
    return for_each_record(*batch, [](const Record&) {}).code();
}

TEST(RecordBatch, MalformedRecordsAreInvalid) {
    // A well-formed record: length 6, attributes, ts 0, offset 0, key -1, value -1, 0 headers.
    const std::vector<std::byte> body = {std::byte{0}, std::byte{0}, std::byte{0},
                                         std::byte{1}, std::byte{1}, std::byte{0}};
    std::vector<std::byte> good = varints({6});
    good.insert(good.end(), body.begin(), body.end());
    EXPECT_EQ(walk(batch_with_records(good, 1)), absl::StatusCode::kOk);

    const auto invalid = absl::StatusCode::kInvalidArgument;
    EXPECT_EQ(walk(batch_with_records(good, 2)), invalid);  // fewer records than claimed
    EXPECT_EQ(walk(batch_with_records(good, 0)), invalid);  // bytes after the last record
    auto record = [&](int64_t length, std::vector<std::byte> rest) {
        std::vector<std::byte> out = varints({length});
        out.insert(out.end(), rest.begin(), rest.end());
        return batch_with_records(out, 1);
    };
    EXPECT_EQ(walk(record(-1, {})), invalid);
    EXPECT_EQ(walk(record(100, body)), invalid);  // length past the end
    EXPECT_EQ(walk(record(0, {})), invalid);
    // Key length past the record's end, and below -1.
    std::vector<std::byte> long_key = {std::byte{0}, std::byte{0}, std::byte{0}};
    for (std::byte b : varints({50, -1, 0})) {
        long_key.push_back(b);
    }
    EXPECT_EQ(walk(record(static_cast<int64_t>(long_key.size()), long_key)), invalid);
    std::vector<std::byte> negative_key = {std::byte{0}, std::byte{0}, std::byte{0}};
    for (std::byte b : varints({-2, -1, 0})) {
        negative_key.push_back(b);
    }
    EXPECT_EQ(walk(record(static_cast<int64_t>(negative_key.size()), negative_key)), invalid);
    // Bytes left inside the record after its headers.
    std::vector<std::byte> trailing = body;
    trailing.push_back(std::byte{0});
    EXPECT_EQ(walk(record(static_cast<int64_t>(trailing.size()), trailing)), invalid);
    // A header count the bytes cannot hold, and a null header key.
    std::vector<std::byte> many_headers = {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{1},
                                           std::byte{1}};
    for (std::byte b : varints({1000})) {
        many_headers.push_back(b);
    }
    EXPECT_EQ(walk(record(static_cast<int64_t>(many_headers.size()), many_headers)), invalid);
    std::vector<std::byte> null_header_key = {std::byte{0}, std::byte{0}, std::byte{0},
                                              std::byte{1}, std::byte{1}};
    for (std::byte b : varints({1, -1, -1})) {
        null_header_key.push_back(b);
    }
    EXPECT_EQ(walk(record(static_cast<int64_t>(null_header_key.size()), null_header_key)), invalid);
    // A varint that never ends.
    std::vector<std::byte> endless(12, std::byte{0xff});
    EXPECT_EQ(walk(batch_with_records(endless, 1)), invalid);
}

// Random bytes in place of the records must never crash the walk (run under the sanitizers).
TEST(RecordBatch, RandomRecordBytesNeverCrash) {
    std::mt19937_64 random(5);
    const std::vector<std::byte> valid = build_record_batch(three_record_spec());
    for (int round = 0; round < 2000; ++round) {
        std::vector<std::byte> records(valid.begin() + batch_header_bytes, valid.end());
        // Corrupt a few bytes, or the whole region.
        if (round % 2 == 0) {
            for (int i = 0; i < 3; ++i) {
                records[random() % records.size()] = static_cast<std::byte>(random());
            }
        } else {
            records.resize(random() % 64);
            for (auto& byte : records) {
                byte = static_cast<std::byte>(random());
            }
        }
        const auto bytes = batch_with_records(records, static_cast<int32_t>(random() % 5));
        auto batch = RecordBatchView::parse(bytes);
        ASSERT_TRUE(batch.ok());
        size_t total = 0;
        const absl::Status status = for_each_record(*batch, [&](const Record& record) {
            total += record.key ? record.key->size() : 0;
            total += record.value ? record.value->size() : 0;
            (void)for_each_header(record,
                                  [&](const RecordHeader& header) { total += header.key.size(); });
        });
        EXPECT_LE(total, bytes.size());
        EXPECT_TRUE(status.ok() || status.code() == absl::StatusCode::kInvalidArgument) << status;
    }
}

TEST(RecordBatch, BrokerEditsKeepTheCrcValid) {
    std::vector<std::byte> bytes = build_record_batch(three_record_spec());
    set_base_offset(bytes, 123'456'789'012);
    set_partition_leader_epoch(bytes, 99);
    auto batch = RecordBatchView::parse(bytes);
    ASSERT_TRUE(batch.ok());
    EXPECT_EQ(batch->base_offset(), 123'456'789'012);
    EXPECT_EQ(batch->partition_leader_epoch(), 99);
    EXPECT_TRUE(batch->validate_crc().ok());

    const uint32_t crc_before = batch->crc();
    set_max_timestamp_and_log_append_time(bytes, 1'800'000'000'000);
    batch = RecordBatchView::parse(bytes);
    ASSERT_TRUE(batch.ok());
    EXPECT_EQ(batch->timestamp_type(), TimestampType::log_append_time);
    EXPECT_EQ(batch->max_timestamp(), 1'800'000'000'000);
    EXPECT_EQ(batch->base_timestamp(), 1'700'000'000'000);
    EXPECT_NE(batch->crc(), crc_before);
    EXPECT_TRUE(batch->validate_crc().ok());
}

TEST(Varint, ZigZagRoundTripsAndRejectsOverlongEncodings) {
    for (int64_t value :
         {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{63}, int64_t{-64}, int64_t{64},
          int64_t{INT32_MAX}, int64_t{INT32_MIN}, INT64_MAX, INT64_MIN}) {
        std::byte encoded[10];
        const size_t size = write_zigzag(value, encoded);
        EXPECT_EQ(size, zigzag_size(value));
        size_t position = 0;
        int64_t decoded = 0;
        ASSERT_TRUE(read_varlong(std::span(encoded, size), position, decoded)) << value;
        EXPECT_EQ(decoded, value);
        EXPECT_EQ(position, size);
        if (value >= INT32_MIN && value <= INT32_MAX) {
            position = 0;
            int32_t narrow = 0;
            ASSERT_TRUE(read_varint(std::span(encoded, size), position, narrow)) << value;
            EXPECT_EQ(narrow, value);
        }
    }
    // 1 is encoded as 0x02; an int64 does not fit an int32 varint; truncated input fails.
    size_t position = 0;
    int32_t narrow = 0;
    const std::byte six[] = {std::byte{0x80}, std::byte{0x80}, std::byte{0x80},
                             std::byte{0x80}, std::byte{0x80}, std::byte{0x01}};
    EXPECT_FALSE(read_varint(six, position, narrow));
    const std::byte too_wide[] = {std::byte{0xff}, std::byte{0xff}, std::byte{0xff},
                                  std::byte{0xff}, std::byte{0x1f}};
    EXPECT_FALSE(read_varint(too_wide, position, narrow));
    const std::byte truncated[] = {std::byte{0x80}};
    EXPECT_FALSE(read_varint(truncated, position, narrow));
    EXPECT_EQ(position, 0u);
}

// The batches in real Produce v7 requests (non-flexible: int16 strings, int32 arrays and
// bytes) from kcat, confluent-kafka, kafka-python and kafkajs. Compressed ones are checked up
// to the CRC; uncompressed ones are also walked record by record.
class Cursor {
public:
    explicit Cursor(std::span<const std::byte> bytes) : bytes_(bytes) {}

    template <typename Int>
    Int read() {
        RL_ASSERT(position_ + sizeof(Int) <= bytes_.size());
        const Int value = big_endian::load<Int>(bytes_.data() + position_);
        position_ += sizeof(Int);
        return value;
    }

    std::span<const std::byte> take(size_t size) {
        RL_ASSERT(position_ + size <= bytes_.size());
        const auto out = bytes_.subspan(position_, size);
        position_ += size;
        return out;
    }

    void skip_string() {
        const auto length = read<int16_t>();
        if (length > 0) {
            take(static_cast<size_t>(length));
        }
    }

private:
    std::span<const std::byte> bytes_;
    size_t position_ = 0;
};

TEST(RecordBatch, BatchesFromRealProduceRequestsParse) {
    const std::filesystem::path captures = "/work/shared/kafka-protocol/captures";
    if (!std::filesystem::exists(captures)) {
        GTEST_SKIP() << "no captures at " << captures;
    }
    int batches = 0;
    int walked = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(captures)) {
        const std::string name = entry.path().filename().string();
        if (name.find("-Produce-v7.req") == std::string::npos) {
            continue;
        }
        SCOPED_TRACE(entry.path().string());
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string frame((std::istreambuf_iterator<char>(in)), {});
        Cursor cursor(std::as_bytes(std::span(frame.data(), frame.size())));
        ASSERT_EQ(cursor.read<int16_t>(), 0);  // api_key Produce
        ASSERT_EQ(cursor.read<int16_t>(), 7);
        cursor.read<int32_t>();  // correlation_id
        cursor.skip_string();    // client_id
        cursor.skip_string();    // transactional_id
        cursor.read<int16_t>();  // acks
        cursor.read<int32_t>();  // timeout_ms
        for (int32_t topics = cursor.read<int32_t>(); topics > 0; --topics) {
            cursor.skip_string();
            for (int32_t partitions = cursor.read<int32_t>(); partitions > 0; --partitions) {
                cursor.read<int32_t>();  // partition index
                const auto size = cursor.read<int32_t>();
                ASSERT_GE(size, 0);
                std::span<const std::byte> records = cursor.take(static_cast<size_t>(size));
                while (!records.empty()) {
                    auto batch = RecordBatchView::parse(records);
                    ASSERT_TRUE(batch.ok()) << batch.status();
                    EXPECT_TRUE(batch->validate_crc().ok()) << batch->validate_crc();
                    ++batches;
                    if (batch->compression() == Compression::none) {
                        int32_t count = 0;
                        EXPECT_TRUE(for_each_record(*batch, [&](const Record&) { ++count; }).ok());
                        EXPECT_EQ(count, batch->records_count());
                        ++walked;
                    }
                    records = records.subspan(batch->size_bytes());
                }
            }
        }
    }
    EXPECT_GT(batches, 0);
    EXPECT_GT(walked, 0);
    std::printf("checked %d captured batches, walked the records of %d\n", batches, walked);
}

}  // namespace
}  // namespace ringlog::net::kafka
