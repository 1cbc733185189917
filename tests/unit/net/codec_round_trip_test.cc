// Round trip of every generated message, header and data struct at every supported version:
// fill_example (generated in net/kafka/generated/examples.h) sets every field the version has
// to a non-default value, including tagged fields, nulls and nested arrays; encoding,
// decoding and encoding again must give the same bytes and equal values. Prefixes of each
// encoding must fail to decode, cleanly.
#include <cstdint>
#include <vector>

#include <absl/strings/str_format.h>
#include <gtest/gtest.h>

#include "net/kafka/generated/dispatch.h"
#include "net/kafka/generated/examples.h"

namespace ringlog::net::kafka {
namespace {

constexpr uint32_t seed_count = 6;

// Prefix lengths to try: every one near both ends, a sample in between, so that the test
// stays linear in the message size.
std::vector<size_t> prefix_lengths(size_t size) {
    std::vector<size_t> lengths;
    for (size_t length = 0; length < size; ++length) {
        if (length < 64 || size - length < 64 || length % 13 == 0) {
            lengths.push_back(length);
        }
    }
    return lengths;
}

template <typename T>
void check_round_trip(const char* name, int& checked) {
    for (int16_t version = T::min_version; version <= T::max_version; ++version) {
        uint32_t default_seeds = 0;
        size_t default_bytes = 0;
        for (uint32_t seed = 0; seed < seed_count; ++seed) {
            SCOPED_TRACE(absl::StrFormat("%s v%d seed %d", name, version, seed));
            T example;
            examples::fill_example(example, version, seed);
            Writer first;
            example.encode(first, version);
            const std::vector<std::byte> bytes = first.flatten();
            if (example == T{}) {
                ++default_seeds;
                default_bytes = bytes.size();
            }

            Reader reader(bytes);
            T decoded;
            const absl::Status status = decoded.decode(reader, version);
            ASSERT_TRUE(status.ok()) << status;
            EXPECT_EQ(reader.remaining(), 0u);
            EXPECT_TRUE(decoded == example);

            Writer second;
            decoded.encode(second, version);
            EXPECT_EQ(second.flatten(), bytes);

            if (seed == 0) {
                for (size_t length : prefix_lengths(bytes.size())) {
                    Reader prefix(ByteView(bytes).first(length));
                    T partial;
                    EXPECT_EQ(partial.decode(prefix, version).code(),
                              absl::StatusCode::kInvalidArgument)
                        << "prefix of " << length << " bytes";
                }
            }
            ++checked;
        }
        // Some seed must give non-default values, unless the version has no fields at all
        // (ApiVersionsRequest v0-2 and ListGroupsRequest v0: empty; ListGroupsRequest v3: an
        // empty tagged-field section).
        if (default_seeds == seed_count) {
            EXPECT_LE(default_bytes, 1u) << name << " v" << version;
        }
    }
}

TEST(CodecRoundTrip, EveryMessageEveryVersion) {
    int checked = 0;
    int types = 0;
    examples::for_each_message([&]<typename T>(std::type_identity<T>, const char* name) {
        ++types;
        check_round_trip<T>(name, checked);
    });
    // 21 APIs x (request + response), 2 headers, 2 consumer-protocol structs.
    EXPECT_EQ(types, 46);
    // Every version of every type, each with every seed.
    EXPECT_EQ(checked % seed_count, 0);
    EXPECT_GT(checked, 250 * static_cast<int>(seed_count));
}

TEST(CodecRoundTrip, ExamplesUseExternalSegmentsForRecords) {
    ProduceRequest request;
    examples::fill_example(request, 7, 1);
    Writer writer;
    request.encode(writer, 7);
    size_t record_segments = 0;
    for (const auto& topic : request.topic_data) {
        for (const auto& partition : topic.partition_data) {
            record_segments += partition.records.segments().size();
        }
    }
    ASSERT_GT(record_segments, 0u);
    EXPECT_EQ(writer.external_count(), record_segments);
}

TEST(CodecRoundTrip, DispatchDecodesEverySupportedApi) {
    for (const ApiVersionRange& range : supported_api_versions) {
        const auto api_key = static_cast<int16_t>(range.api_key);
        for (int16_t version = range.min_version; version <= range.max_version; ++version) {
            SCOPED_TRACE(absl::StrFormat("api %d v%d", api_key, version));
            // An empty body: every supported request with a field fails; none crashes.
            Reader empty(ByteView{});
            AnyRequest request;
            const absl::Status status = decode_request_body(api_key, version, empty, request);
            EXPECT_NE(status.code(), absl::StatusCode::kUnimplemented);
            EXPECT_NE(request.index(), 0u);
        }
        Reader empty(ByteView{});
        AnyRequest request;
        EXPECT_EQ(decode_request_body(api_key, range.max_version + 1, empty, request).code(),
                  absl::StatusCode::kUnimplemented);
    }
}

}  // namespace
}  // namespace ringlog::net::kafka
