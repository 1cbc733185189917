// Tests of the codec's hand-written primitives (net/kafka/protocol/): the Reader's bounds and
// sticky errors, the Writer's encodings, external segments, gather() and the patched length
// prefixes, and the generated header-version rules and tables. Byte strings are written out
// by hand from the encodings in shared/kafka-protocol/README.md.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "net/kafka/generated/api_keys.h"
#include "net/kafka/generated/api_versions.h"
#include "net/kafka/generated/headers.h"
#include "net/kafka/generated/metadata.h"
#include "net/kafka/protocol/reader.h"
#include "net/kafka/protocol/writer.h"

namespace ringlog::net::kafka {
namespace {

std::vector<std::byte> bytes_of(std::initializer_list<int> values) {
    std::vector<std::byte> bytes;
    for (int value : values) {
        bytes.push_back(static_cast<std::byte>(value));
    }
    return bytes;
}

ByteView view_of(std::string_view text) {
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

TEST(CodecReader, ReadsBigEndianIntegers) {
    const auto bytes = bytes_of({0x01, 0x02, 0x03, 0x04, 0xff, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 1});
    Reader reader(bytes);
    EXPECT_EQ(reader.read_int16(), 0x0102);
    EXPECT_EQ(reader.read_int16(), 0x0304);
    EXPECT_EQ(reader.read_int16(), -2);
    EXPECT_EQ(reader.read_int64(), static_cast<int64_t>(0x8000000000000001ULL));
    EXPECT_TRUE(reader.ok());
    EXPECT_EQ(reader.remaining(), 0u);
}

TEST(CodecReader, UnsignedVarintEdgeCases) {
    Writer writer;
    const uint32_t values[] = {0, 1, 127, 128, 300, 16383, 16384, 0x0fffffff, 0xffffffff};
    for (uint32_t value : values) {
        writer.write_uvarint(value);
    }
    const std::vector<std::byte> bytes = writer.flatten();
    // 1 + 1 + 1 + 2 + 2 + 2 + 3 + 4 + 5 bytes.
    EXPECT_EQ(bytes.size(), 21u);
    Reader reader(bytes);
    for (uint32_t value : values) {
        EXPECT_EQ(reader.read_uvarint(), value);
    }
    EXPECT_TRUE(reader.ok());
}

TEST(CodecReader, RejectsAVarintLongerThanFiveBytes) {
    const auto bytes = bytes_of({0x80, 0x80, 0x80, 0x80, 0x80, 0x01});
    Reader reader(bytes);
    reader.read_uvarint();
    EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CodecReader, ErrorsAreStickyAndTheFirstOneWins) {
    const auto bytes = bytes_of({0x00, 0x01});
    Reader reader(bytes);
    EXPECT_EQ(reader.read_int32(), 0);
    EXPECT_FALSE(reader.ok());
    const std::string first(reader.status().message());
    EXPECT_NE(first.find("truncated"), std::string::npos) << first;
    // Later reads return zero values and keep the first error.
    EXPECT_EQ(reader.read_int8(), 0);
    EXPECT_EQ(reader.read_string(false), "");
    EXPECT_EQ(std::string(reader.status().message()), first);
}

TEST(CodecReader, ClassicAndCompactStrings) {
    // Classic "ab", classic null, compact "xyz", compact null.
    const auto bytes = bytes_of({0, 2, 'a', 'b', 0xff, 0xff, 4, 'x', 'y', 'z', 0});
    Reader reader(bytes);
    EXPECT_EQ(reader.read_string(false), "ab");
    EXPECT_EQ(reader.read_nullable_string(false), std::nullopt);
    EXPECT_EQ(reader.read_nullable_string(true), std::optional<std::string_view>("xyz"));
    EXPECT_EQ(reader.read_nullable_string(true), std::nullopt);
    EXPECT_TRUE(reader.ok());
}

TEST(CodecReader, StringsAreViewsIntoTheFrame) {
    const auto bytes = bytes_of({0, 2, 'a', 'b'});
    Reader reader(bytes);
    const std::string_view text = reader.read_string(false);
    EXPECT_EQ(reinterpret_cast<const std::byte*>(text.data()), bytes.data() + 2);
}

TEST(CodecReader, NullWhereNotNullableIsAnError) {
    const auto bytes = bytes_of({0xff, 0xff});
    Reader reader(bytes);
    reader.read_string(false);
    EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CodecReader, NegativeLengthBelowMinusOneIsAnError) {
    const auto bytes = bytes_of({0xff, 0xfe});
    Reader reader(bytes);
    reader.read_nullable_string(false);
    EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CodecReader, StringLongerThanTheFrameIsAnError) {
    const auto bytes = bytes_of({0, 10, 'a'});
    Reader reader(bytes);
    reader.read_string(false);
    EXPECT_FALSE(reader.ok());
}

TEST(CodecReader, HugeArrayCountFailsBeforeAllocating) {
    // 2^31 - 1 elements claimed, 10 bytes left.
    const auto bytes = bytes_of({0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    Reader reader(bytes);
    EXPECT_EQ(reader.read_array_count(false, 1), 0);
    EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);

    // The same through a generated decoder: ApiVersionsResponse v0 = error code + array.
    const auto frame = bytes_of({0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    Reader body(frame);
    ApiVersionsResponse response;
    const absl::Status status = response.decode(body, 0);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(status.message()).find("ApiVersionsResponse v0"), std::string::npos)
        << status;
    EXPECT_TRUE(response.api_keys.empty());
}

TEST(CodecReader, CompactArrayCountIsCheckedAgainstElementSize) {
    // Compact count 5 - 1 = 4 elements of at least 4 bytes each, but 12 bytes left.
    auto bytes = bytes_of({5});
    bytes.resize(13);
    Reader reader(bytes);
    EXPECT_EQ(reader.read_array_count(true, 4), 0);
    EXPECT_FALSE(reader.ok());
    Reader fits(bytes);
    EXPECT_EQ(fits.read_array_count(true, 3), 4);
    EXPECT_TRUE(fits.ok());
}

TEST(CodecReader, NullableArrayCount) {
    const auto bytes = bytes_of({0xff, 0xff, 0xff, 0xff, 0});
    Reader reader(bytes);
    EXPECT_EQ(reader.read_nullable_array_count(false, 1), -1);
    EXPECT_EQ(reader.read_nullable_array_count(true, 1), -1);
    EXPECT_TRUE(reader.ok());
}

TEST(CodecReader, SkipsUnknownTaggedFields) {
    // Two tagged fields: tag 5 with 3 bytes, tag 300 with 1 byte; then a marker byte.
    const auto bytes = bytes_of({2, 5, 3, 1, 2, 3, 0xac, 0x02, 1, 9, 0x42});
    Reader reader(bytes);
    reader.skip_tagged_fields();
    EXPECT_TRUE(reader.ok());
    EXPECT_EQ(reader.read_int8(), 0x42);
}

TEST(CodecReader, TaggedFieldSizeBeyondTheFrameIsAnError) {
    const auto bytes = bytes_of({1, 0, 50, 1});
    Reader reader(bytes);
    reader.skip_tagged_fields();
    EXPECT_FALSE(reader.ok());
}

TEST(CodecReader, UnknownTaggedFieldInAGeneratedDecoderIsSkipped) {
    // ApiVersionsRequest v3: two compact strings, then tagged fields with an unknown tag 7.
    const auto bytes = bytes_of({2, 'a', 2, '1', 1, 7, 2, 0xaa, 0xbb});
    Reader reader(bytes);
    ApiVersionsRequest request;
    ASSERT_TRUE(request.decode(reader, 3).ok());
    EXPECT_EQ(request.client_software_name, "a");
    EXPECT_EQ(request.client_software_version, "1");
    EXPECT_EQ(reader.remaining(), 0u);
}

TEST(CodecReader, KnownTaggedFieldWithTheWrongSizeIsAnError) {
    // ApiVersionsResponse v3: error 0, no keys, throttle 0, tag 1 (an int64) whose size says 2.
    const auto bytes = bytes_of({0, 0, 1, 0, 0, 0, 0, 1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0});
    Reader reader(bytes);
    ApiVersionsResponse response;
    EXPECT_FALSE(response.decode(reader, 3).ok());
}

TEST(CodecReader, UnsupportedVersionIsUnimplemented) {
    const auto bytes = bytes_of({});
    Reader reader(bytes);
    ApiVersionsRequest request;
    EXPECT_EQ(request.decode(reader, 4).code(), absl::StatusCode::kUnimplemented);
    EXPECT_EQ(request.decode(reader, -1).code(), absl::StatusCode::kUnimplemented);
}

TEST(CodecWriter, ClassicAndCompactEncodings) {
    Writer writer;
    writer.write_string("ab", false);
    writer.write_nullable_string(std::nullopt, false);
    writer.write_string("xyz", true);
    writer.write_nullable_string(std::nullopt, true);
    writer.write_nullable_bytes(std::nullopt, false);
    writer.write_array_count(2, true);
    writer.write_bool(true);
    EXPECT_EQ(writer.flatten(), bytes_of({0, 2, 'a', 'b', 0xff, 0xff, 4, 'x', 'y', 'z', 0, 0xff,
                                          0xff, 0xff, 0xff, 3, 1}));
}

TEST(CodecWriter, ExternalSegmentsAreGatheredInOrderWithoutCopying) {
    const std::string first_batch = "FIRST-BATCH";
    const std::string second_batch = "SECOND";
    Writer writer;
    const Writer::Mark frame = writer.reserve_int32_size();
    writer.write_int16(7);
    Records records(view_of(first_batch));
    records.append(view_of(second_batch));
    writer.write_records(records, false);
    writer.write_int8(1);

    EXPECT_EQ(writer.size_bytes(), 4u + 2 + 4 + 11 + 6 + 1);
    EXPECT_EQ(writer.owned_bytes().size(), 4u + 2 + 4 + 1);
    writer.patch_int32_size(frame);

    const std::vector<ByteView> segments = writer.gather();
    ASSERT_EQ(segments.size(), 4u);
    EXPECT_EQ(segments[0].size(), 10u);  // size, int16, records length
    EXPECT_EQ(segments[1].data(), view_of(first_batch).data());
    EXPECT_EQ(segments[2].data(), view_of(second_batch).data());
    EXPECT_EQ(segments[3].size(), 1u);

    const std::vector<std::byte> flat = writer.flatten();
    // The frame size counts the external bytes: 2 + 4 + 11 + 6 + 1 = 24.
    EXPECT_EQ(std::vector<std::byte>(flat.begin(), flat.begin() + 4), bytes_of({0, 0, 0, 24}));
    Reader reader(ByteView(flat).subspan(4));
    EXPECT_EQ(reader.read_int16(), 7);
    const Records decoded = reader.read_records(false);
    EXPECT_EQ(decoded, records);
    EXPECT_EQ(reader.read_int8(), 1);
}

TEST(CodecWriter, UvarintSizeIsInsertedBeforeTheValue) {
    Writer writer;
    writer.write_int8(0x11);
    const Writer::Mark mark = writer.begin_uvarint_size();
    // 200 bytes: the size takes two varint bytes, so the value moves by two.
    for (int index = 0; index < 200; ++index) {
        writer.write_int8(static_cast<int8_t>(index));
    }
    const std::string external = "EXT";
    writer.append_external(view_of(external));
    writer.end_uvarint_size(mark);
    writer.write_int8(0x22);

    const std::vector<std::byte> flat = writer.flatten();
    ASSERT_EQ(flat.size(), 1u + 2 + 200 + 3 + 1);
    Reader reader(flat);
    EXPECT_EQ(reader.read_int8(), 0x11);
    EXPECT_EQ(reader.read_uvarint(), 203u);
    for (int index = 0; index < 200; ++index) {
        EXPECT_EQ(reader.read_int8(), static_cast<int8_t>(index));
    }
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(reader.read_raw(3).data()), 3), "EXT");
    EXPECT_EQ(reader.read_int8(), 0x22);
}

TEST(CodecWriter, ClearKeepsNothingButCapacity) {
    Writer writer;
    writer.write_int64(1);
    const std::string external = "x";
    writer.append_external(view_of(external));
    writer.clear();
    EXPECT_EQ(writer.size_bytes(), 0u);
    EXPECT_EQ(writer.external_count(), 0u);
    EXPECT_TRUE(writer.gather().empty());
}

TEST(CodecApiVersions, VersionZeroResponseHasTheClassicLayout) {
    // What the broker answers to an ApiVersions version it does not support: a v0 body with
    // UNSUPPORTED_VERSION and its own ApiVersions range, readable by any client.
    ApiVersionsResponse response;
    response.error_code = static_cast<int16_t>(ErrorCode::unsupported_version);
    response.api_keys.push_back({.api_key = 18, .min_version = 0, .max_version = 3});
    Writer writer;
    response.encode(writer, 0);
    EXPECT_EQ(writer.flatten(), bytes_of({0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 3}));
}

TEST(CodecApiVersions, KnownTaggedFieldsAreWrittenInTagOrderWithTheirSizes) {
    ApiVersionsResponse response;
    response.api_keys.push_back({.api_key = 0, .min_version = 0, .max_version = 9});
    response.zk_migration_ready = true;
    response.finalized_features_epoch = 5;
    Writer writer;
    response.encode(writer, 3);
    const auto expected = bytes_of({
        0, 0,                          // error_code
        2, 0, 0, 0, 0, 0, 9, 0,        // api_keys: compact count 1 + 1, one entry, its tags
        0, 0, 0, 0,                    // throttle_time_ms
        2,                             // two tagged fields, in tag order
        1, 8, 0, 0, 0, 0, 0, 0, 0, 5,  // tag 1: finalized_features_epoch, 8 bytes
        3, 1, 1,                       // tag 3: zk_migration_ready, 1 byte
    });
    EXPECT_EQ(writer.flatten(), expected);

    Reader reader(expected);
    ApiVersionsResponse decoded;
    ASSERT_TRUE(decoded.decode(reader, 3).ok());
    EXPECT_EQ(decoded.finalized_features_epoch, 5);
    EXPECT_TRUE(decoded.zk_migration_ready);
    EXPECT_TRUE(decoded.supported_features.empty());
    EXPECT_TRUE(decoded == response);
}

TEST(CodecApiVersions, TaggedFieldsAtTheirDefaultAreLeftOut) {
    ApiVersionsResponse response;  // finalized_features_epoch = -1, its default
    Writer writer;
    response.encode(writer, 3);
    EXPECT_EQ(writer.flatten(), bytes_of({0, 0, 1, 0, 0, 0, 0, 0}));
}

TEST(CodecMetadata, NullTopicsMeansAllTopicsInEveryVersion) {
    // v1+ says "all topics" with a null array; v0 cannot, and uses an empty one.
    MetadataRequest request;
    Writer v0;
    request.encode(v0, 0);
    EXPECT_EQ(v0.flatten(), bytes_of({0, 0, 0, 0}));
    Writer v1;
    request.encode(v1, 1);
    EXPECT_EQ(v1.flatten(), bytes_of({0xff, 0xff, 0xff, 0xff}));
    Writer v9;
    request.encode(v9, 9);
    // Compact null array, allow_auto_topic_creation (default true), two bools, no tags.
    EXPECT_EQ(v9.flatten(), bytes_of({0, 1, 0, 0, 0}));
}

TEST(CodecHeaders, HeaderVersionRules) {
    const auto key = [](ApiKey api_key) { return static_cast<int16_t>(api_key); };
    EXPECT_EQ(request_header_version(key(ApiKey::api_versions), 3), 2);
    EXPECT_EQ(request_header_version(key(ApiKey::api_versions), 2), 1);
    EXPECT_EQ(request_header_version(key(ApiKey::produce), 9), 2);
    EXPECT_EQ(request_header_version(key(ApiKey::produce), 8), 1);
    EXPECT_EQ(request_header_version(key(ApiKey::controlled_shutdown), 0), 0);
    EXPECT_EQ(request_header_version(999, 0), 1);
    // ApiVersions responses always use header v0.
    EXPECT_EQ(response_header_version(key(ApiKey::api_versions), 3), 0);
    EXPECT_EQ(response_header_version(key(ApiKey::fetch), 12), 1);
    EXPECT_EQ(response_header_version(key(ApiKey::fetch), 11), 0);
    EXPECT_EQ(response_header_version(key(ApiKey::init_producer_id), 2), 1);
}

TEST(CodecHeaders, FlexibleRequestHeaderKeepsAClassicClientId) {
    // ApiVersions v3 from librdkafka: header v2, client id with an int16 length, no tags.
    const auto bytes =
        bytes_of({0, 18, 0, 3, 0, 0, 0, 1, 0, 7, 'r', 'd', 'k', 'a', 'f', 'k', 'a', 0});
    Reader reader(bytes);
    RequestHeader header;
    int16_t header_version = -1;
    ASSERT_TRUE(decode_request_header(reader, header, header_version).ok());
    EXPECT_EQ(header_version, 2);
    EXPECT_EQ(header.request_api_key, 18);
    EXPECT_EQ(header.request_api_version, 3);
    EXPECT_EQ(header.correlation_id, 1);
    EXPECT_EQ(header.client_id, std::optional<std::string_view>("rdkafka"));
    EXPECT_EQ(reader.remaining(), 0u);
}

TEST(CodecHeaders, HeaderOfAnUnknownApiDecodes) {
    const auto bytes = bytes_of({0x03, 0xe7, 0, 1, 0, 0, 0, 9, 0xff, 0xff});
    Reader reader(bytes);
    RequestHeader header;
    int16_t header_version = -1;
    ASSERT_TRUE(decode_request_header(reader, header, header_version).ok());
    EXPECT_EQ(header.request_api_key, 999);
    EXPECT_EQ(header.client_id, std::nullopt);
}

TEST(CodecHeaders, TruncatedHeaderIsAnError) {
    const auto bytes = bytes_of({0, 18, 0});
    Reader reader(bytes);
    RequestHeader header;
    int16_t header_version = -1;
    EXPECT_EQ(decode_request_header(reader, header, header_version).code(),
              absl::StatusCode::kInvalidArgument);
}

TEST(CodecTables, SupportedApisAreSortedAndConsistent) {
    int16_t previous = -1;
    for (const ApiVersionRange& range : supported_api_versions) {
        EXPECT_GT(static_cast<int16_t>(range.api_key), previous);
        previous = static_cast<int16_t>(range.api_key);
        EXPECT_LE(range.min_version, range.max_version);
        EXPECT_TRUE(is_supported_api_version(previous, range.min_version));
        EXPECT_FALSE(is_supported_api_version(previous, range.max_version + 1));
    }
    EXPECT_EQ(supported_api_versions.size(), 21u);
    EXPECT_EQ(find_supported_api(static_cast<int16_t>(ApiKey::fetch))->min_version, 4);
    EXPECT_EQ(find_supported_api(static_cast<int16_t>(ApiKey::end_txn)), nullptr);
    EXPECT_EQ(api_key_name(static_cast<int16_t>(ApiKey::init_producer_id)), "InitProducerId");
    EXPECT_EQ(api_key_name(-3), "Unknown");
}

TEST(CodecTables, ErrorCodesMatchKafka) {
    EXPECT_EQ(static_cast<int16_t>(ErrorCode::unknown_server_error), -1);
    EXPECT_EQ(static_cast<int16_t>(ErrorCode::offset_out_of_range), 1);
    EXPECT_EQ(static_cast<int16_t>(ErrorCode::not_leader_or_follower), 6);
    EXPECT_EQ(static_cast<int16_t>(ErrorCode::not_coordinator), 16);
    EXPECT_EQ(static_cast<int16_t>(ErrorCode::rebalance_in_progress), 27);
    EXPECT_EQ(static_cast<int16_t>(ErrorCode::unsupported_version), 35);
    EXPECT_EQ(static_cast<int16_t>(ErrorCode::invalid_request), 42);
    EXPECT_EQ(static_cast<int16_t>(ErrorCode::out_of_order_sequence_number), 45);
    EXPECT_EQ(static_cast<int16_t>(ErrorCode::member_id_required), 79);
    EXPECT_EQ(static_cast<int16_t>(ErrorCode::unknown_topic_id), 100);
    EXPECT_EQ(error_code_name(ErrorCode::unknown_topic_or_partition), "UNKNOWN_TOPIC_OR_PARTITION");
    EXPECT_EQ(error_code_name(static_cast<ErrorCode>(1000)), "UNKNOWN");
}

}  // namespace
}  // namespace ringlog::net::kafka
