// The record codecs: every codec round-trips empty, small, and large inputs; the output bound
// holds against inputs that inflate past it; corrupt and truncated inputs fail cleanly; snappy
// reads both the raw block librdkafka writes and the xerial framing of the Java client; and the
// compressed batches that kcat and confluent-kafka really sent (shared/kafka-protocol/captures)
// decompress to exactly their records_count well-formed records.
#include "net/kafka/compression.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "net/kafka/generated/headers.h"
#include "net/kafka/generated/produce.h"
#include "net/kafka/record_batch.h"

namespace ringlog::net::kafka {
namespace {

namespace fs = std::filesystem;

constexpr Compression codecs[] = {Compression::gzip, Compression::snappy, Compression::lz4,
                                  Compression::zstd};

std::vector<std::byte> bytes_of(std::string_view text) {
    const auto* data = reinterpret_cast<const std::byte*>(text.data());
    return {data, data + text.size()};
}

// Compressible but not trivially so: words from a small vocabulary, from a fixed seed.
std::vector<std::byte> sample(size_t size) {
    static constexpr std::string_view words[] = {"alpha ", "beta ",  "gamma ", "delta ",
                                                 "key-",   "value-", "42 ",    "\x01\x02\x03"};
    std::string text;
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    while (text.size() < size) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        text += words[state % std::size(words)];
        if (state % 5 == 0) {
            text += static_cast<char>(state >> 40);
        }
    }
    text.resize(size);
    return bytes_of(text);
}

TEST(Compression, EveryCodecRoundTrips) {
    for (const Compression codec : codecs) {
        for (const size_t size :
             {size_t{0}, size_t{1}, size_t{100}, size_t{70'000}, size_t{3 * 1024 * 1024}}) {
            SCOPED_TRACE(testing::Message() << "codec " << int(codec) << " size " << size);
            const std::vector<std::byte> input = sample(size);
            auto compressed = compress(codec, input);
            ASSERT_TRUE(compressed.ok()) << compressed.status();
            if (size > 1000) {
                EXPECT_LT(compressed->size(), input.size());
            }
            auto restored = decompress(codec, *compressed, 8 * 1024 * 1024);
            ASSERT_TRUE(restored.ok()) << restored.status();
            EXPECT_EQ(*restored, input);
        }
    }
}

TEST(Compression, NoneIsACopy) {
    const std::vector<std::byte> input = sample(1000);
    EXPECT_EQ(*compress(Compression::none, input), input);
    EXPECT_EQ(*decompress(Compression::none, input, 1000), input);
    EXPECT_EQ(decompress(Compression::none, input, 999).status().code(),
              absl::StatusCode::kResourceExhausted);
}

TEST(Compression, OutputBoundHoldsAgainstInputsThatInflateFurther) {
    const std::vector<std::byte> zeros(4 * 1024 * 1024, std::byte{0});
    for (const Compression codec : codecs) {
        SCOPED_TRACE(int(codec));
        auto compressed = compress(codec, zeros);
        ASSERT_TRUE(compressed.ok());
        EXPECT_EQ(decompress(codec, *compressed, 1024 * 1024).status().code(),
                  absl::StatusCode::kResourceExhausted);
        // Exactly at the bound is fine.
        EXPECT_TRUE(decompress(codec, *compressed, zeros.size()).ok());
    }
}

TEST(Compression, TruncatedAndCorruptInputsFailCleanly) {
    const std::vector<std::byte> input = sample(50'000);
    for (const Compression codec : codecs) {
        SCOPED_TRACE(int(codec));
        const std::vector<std::byte> compressed = *compress(codec, input);
        for (size_t length = 0; length < compressed.size(); length += 1 + length / 3) {
            auto result = decompress(codec, std::span(compressed).first(length), 8 * 1024 * 1024);
            EXPECT_FALSE(result.ok() && *result == input) << "prefix of " << length;
        }
        uint64_t state = 12345;
        for (int round = 0; round < 200; ++round) {
            std::vector<std::byte> corrupt = compressed;
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            corrupt[(state >> 33) % corrupt.size()] ^=
                static_cast<std::byte>(1 + (state >> 8) % 255);
            // Some flips land in bytes that do not matter; what must never happen is a crash,
            // an unbounded output, or (with the checksummed codecs) silently wrong data.
            auto result = decompress(codec, corrupt, 8 * 1024 * 1024);
            if (result.ok() && (codec == Compression::gzip)) {
                EXPECT_EQ(*result, input);
            }
        }
    }
}

TEST(Compression, SnappyReadsTheXerialFramingOfTheJavaClient) {
    const std::vector<std::byte> first = sample(40'000);
    const std::vector<std::byte> second = bytes_of("and a second chunk");
    std::vector<std::byte> framed = {std::byte{0x82}, std::byte{'S'}, std::byte{'N'},
                                     std::byte{'A'},  std::byte{'P'}, std::byte{'P'},
                                     std::byte{'Y'},  std::byte{0}};
    for (const int32_t version : {1, 1}) {
        std::byte field[4];
        big_endian::store(field, version);
        framed.insert(framed.end(), field, field + 4);
    }
    for (const auto* chunk : {&first, &second}) {
        const std::vector<std::byte> block = *compress(Compression::snappy, *chunk);
        std::byte length[4];
        big_endian::store(length, static_cast<int32_t>(block.size()));
        framed.insert(framed.end(), length, length + 4);
        framed.insert(framed.end(), block.begin(), block.end());
    }
    auto restored = decompress(Compression::snappy, framed, 1024 * 1024);
    ASSERT_TRUE(restored.ok()) << restored.status();
    std::vector<std::byte> expected = first;
    expected.insert(expected.end(), second.begin(), second.end());
    EXPECT_EQ(*restored, expected);
    framed.pop_back();
    EXPECT_FALSE(decompress(Compression::snappy, framed, 1024 * 1024).ok());
}

// $RINGLOG_KAFKA_CAPTURES, or shared/ beside the repository, as in codec_capture_test.cc.
fs::path captures_dir() {
    if (const char* dir = std::getenv("RINGLOG_KAFKA_CAPTURES")) {
        return dir;
    }
    const fs::path repo =
        fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
    return repo.parent_path() / "shared" / "kafka-protocol" / "captures";
}

std::vector<std::byte> read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return bytes_of(text);
}

// The batches of every partition of a captured Produce request.
std::vector<std::vector<std::byte>> produced_batches(const std::vector<std::byte>& frame) {
    Reader reader(frame);
    RequestHeader header;
    int16_t header_version = 0;
    EXPECT_TRUE(decode_request_header(reader, header, header_version).ok());
    ProduceRequest request;
    EXPECT_TRUE(request.decode(reader, header.request_api_version).ok());
    std::vector<std::vector<std::byte>> batches;
    for (const auto& topic : request.topic_data) {
        for (const auto& partition : topic.partition_data) {
            ByteView bytes = partition.records.bytes();
            while (!bytes.empty()) {
                auto batch = RecordBatchView::parse(bytes);
                EXPECT_TRUE(batch.ok()) << batch.status();
                if (!batch.ok()) {
                    return batches;
                }
                batches.emplace_back(batch->bytes().begin(), batch->bytes().end());
                bytes = bytes.subspan(batch->size_bytes());
            }
        }
    }
    return batches;
}

TEST(Compression, DecodesTheBatchesRealClientsCompressed) {
    // kcat -z <codec> (scenarios produce-<codec>) and confluent-kafka
    // (produce-acks-all-<codec>): see captures/README.md and index.json.
    const std::pair<const char*, Compression> files[] = {
        {"librdkafka-kcat/0014-Produce-v7.req", Compression::gzip},
        {"librdkafka-kcat/0021-Produce-v7.req", Compression::snappy},
        {"librdkafka-kcat/0027-Produce-v7.req", Compression::lz4},
        {"librdkafka-kcat/0033-Produce-v7.req", Compression::zstd},
        {"confluent-kafka/0011-Produce-v7.req", Compression::gzip},
        {"confluent-kafka/0018-Produce-v7.req", Compression::snappy},
        {"confluent-kafka/0022-Produce-v7.req", Compression::lz4},
        {"confluent-kafka/0026-Produce-v7.req", Compression::zstd},
        {"kafka-python/0008-Produce-v7.req", Compression::gzip},
        {"kafkajs/0006-Produce-v7.req", Compression::gzip},
    };
    const fs::path dir = captures_dir();
    if (!fs::is_directory(dir)) {
        GTEST_SKIP() << "no captures at " << dir;
    }
    for (const auto& [file, codec] : files) {
        SCOPED_TRACE(file);
        const auto batches = produced_batches(read_file(dir / file));
        ASSERT_FALSE(batches.empty());
        for (const auto& bytes : batches) {
            const RecordBatchView batch = *RecordBatchView::parse(bytes);
            ASSERT_TRUE(batch.validate_crc().ok());
            ASSERT_EQ(batch.compression(), codec);
            auto records = decompress(codec, batch.records_bytes(), 1024 * 1024);
            ASSERT_TRUE(records.ok()) << records.status();
            RecordIterator iterator(*records, batch.records_count());
            Record record;
            int count = 0;
            while (iterator.next(record)) {
                EXPECT_EQ(record.offset_delta, count);
                EXPECT_TRUE(record.value.has_value());
                ++count;
            }
            ASSERT_TRUE(iterator.status().ok()) << iterator.status();
            EXPECT_EQ(count, batch.records_count());

            // And our compression of the same records reads back the same.
            auto again = compress(codec, *records);
            ASSERT_TRUE(again.ok());
            EXPECT_EQ(*decompress(codec, *again, 1024 * 1024), *records);
        }
    }
}

}  // namespace
}  // namespace ringlog::net::kafka
