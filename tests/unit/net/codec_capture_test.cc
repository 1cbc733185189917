// Decodes the recorded traffic of four real Kafka clients (shared/kafka-protocol/captures:
// request and response frames without their size prefix) with the generated codec. Every
// request of a supported API and version must decode completely and re-encode to the same
// bytes; responses likewise, except the mock broker's one malformed answer. Every prefix and
// many corrupted copies of each frame must fail or succeed cleanly, never crash.
// Skipped when the captures are not beside the repository (see captures_dir()).
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <absl/strings/str_format.h>
#include <gtest/gtest.h>

#include "net/kafka/generated/consumer_protocol.h"
#include "net/kafka/generated/dispatch.h"
#include "net/kafka/generated/headers.h"

namespace ringlog::net::kafka {
namespace {

namespace fs = std::filesystem;

// $RINGLOG_KAFKA_CAPTURES, or shared/ beside the repository (this file is
// <repo>/tests/unit/net/codec_capture_test.cc), as CI clones it.
fs::path captures_dir() {
    if (const char* dir = std::getenv("RINGLOG_KAFKA_CAPTURES")) {
        return dir;
    }
    const fs::path repo =
        fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
    return repo.parent_path() / "shared" / "kafka-protocol" / "captures";
}

struct Capture {
    std::string name;  // client/NNNN-Api-vN.req
    std::vector<std::byte> bytes;
    std::vector<std::byte> response;  // empty when no response came back
};

std::vector<std::byte> read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto* data = reinterpret_cast<const std::byte*>(text.data());
    return {data, data + text.size()};
}

std::vector<Capture> load_captures() {
    std::vector<Capture> captures;
    const fs::path dir = captures_dir();
    if (!fs::is_directory(dir)) {
        return captures;
    }
    std::vector<fs::path> paths;
    for (const auto& client : fs::directory_iterator(dir)) {
        if (!client.is_directory()) {
            continue;
        }
        for (const auto& file : fs::directory_iterator(client.path())) {
            if (file.path().extension() == ".req") {
                paths.push_back(file.path());
            }
        }
    }
    std::sort(paths.begin(), paths.end());
    for (const fs::path& path : paths) {
        Capture capture;
        capture.name = (path.parent_path().filename() / path.filename()).string();
        capture.bytes = read_file(path);
        fs::path response = path;
        response.replace_extension(".resp");
        if (fs::exists(response)) {
            capture.response = read_file(response);
        }
        captures.push_back(std::move(capture));
    }
    return captures;
}

const std::vector<Capture>& captures() {
    static const std::vector<Capture> loaded = load_captures();
    return loaded;
}

#define REQUIRE_CAPTURES()                                                                      \
    if (captures().empty()) {                                                                   \
        GTEST_SKIP() << "no captures at " << captures_dir()                                     \
                     << " (clone shared/ beside the repository or set RINGLOG_KAFKA_CAPTURES)"; \
    }

// A decoded request frame; its views point into the capture's bytes.
struct DecodedRequest {
    RequestHeader header;
    int16_t header_version = -1;
    AnyRequest body;
};

// Header and body, requiring every byte to be consumed. kUnimplemented for unsupported APIs.
absl::Status decode_request_frame(ByteView frame, DecodedRequest& request) {
    Reader reader(frame);
    if (absl::Status status = decode_request_header(reader, request.header, request.header_version);
        !status.ok()) {
        return status;
    }
    if (absl::Status status =
            decode_request_body(request.header.request_api_key, request.header.request_api_version,
                                reader, request.body);
        !status.ok()) {
        return status;
    }
    if (reader.remaining() != 0) {
        return absl::InvalidArgumentError(absl::StrFormat("%d bytes left", reader.remaining()));
    }
    return absl::OkStatus();
}

TEST(CodecCaptures, EverySupportedRequestDecodesAndReencodesExactly) {
    REQUIRE_CAPTURES();
    int decoded = 0;
    int unsupported = 0;
    for (const Capture& capture : captures()) {
        SCOPED_TRACE(capture.name);
        DecodedRequest request;
        const absl::Status status = decode_request_frame(capture.bytes, request);
        if (status.code() == absl::StatusCode::kUnimplemented) {
            // AddPartitionsToTxn, EndTxn: outside the broker's planned APIs.
            EXPECT_FALSE(is_supported_api_version(request.header.request_api_key,
                                                  request.header.request_api_version));
            ++unsupported;
            continue;
        }
        ASSERT_TRUE(status.ok()) << status;
        ++decoded;

        Writer writer;
        request.header.encode(writer, request.header_version);
        encode_request_body(request.body, request.header.request_api_version, writer);
        EXPECT_EQ(writer.flatten(), capture.bytes);
    }
    EXPECT_GE(decoded, 220);
    EXPECT_LE(unsupported, 10);
}

TEST(CodecCaptures, EverySupportedResponseDecodesAndReencodesExactly) {
    REQUIRE_CAPTURES();
    int decoded = 0;
    for (const Capture& capture : captures()) {
        if (capture.response.empty()) {
            continue;
        }
        SCOPED_TRACE(capture.name);
        Reader request_reader(capture.bytes);
        const int16_t api_key = request_reader.read_int16();
        const int16_t api_version = request_reader.read_int16();
        if (!is_supported_api_version(api_key, api_version)) {
            continue;
        }
        Reader reader(capture.response);
        ResponseHeader header;
        const int16_t header_version = response_header_version(api_key, api_version);
        ASSERT_TRUE(header.decode(reader, header_version).ok());
        const size_t body_start = reader.position();
        AnyResponse body;
        const absl::Status status = decode_response_body(api_key, api_version, reader, body);
        if (api_key == static_cast<int16_t>(ApiKey::api_versions) && api_version == 3) {
            // librdkafka's mock answers ApiVersions v3 with a malformed error body
            // (captures/README.md, "Surprises"): a one-byte count in front of a v0 entry.
            Reader error(ByteView(capture.response).subspan(body_start));
            EXPECT_EQ(error.read_int16(), static_cast<int16_t>(ErrorCode::unsupported_version));
            continue;
        }
        if (capture.name == "kafka-python/0038-OffsetFetch-v3.req") {
            // The mock echoes the request's null "all topics" into the response's Topics,
            // which is not nullable; Kafka's own client rejects it the same way.
            EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
            continue;
        }
        ASSERT_TRUE(status.ok()) << status;
        EXPECT_EQ(reader.remaining(), 0u);
        ++decoded;

        Writer writer;
        header.encode(writer, header_version);
        encode_response_body(body, api_version, writer);
        EXPECT_EQ(writer.flatten(), capture.response);
    }
    EXPECT_GE(decoded, 200);
}

const Capture* find_capture(std::string_view name) {
    for (const Capture& capture : captures()) {
        if (capture.name == name) {
            return &capture;
        }
    }
    return nullptr;
}

TEST(CodecCaptures, LibrdkafkaApiVersionsV3IsFlexible) {
    REQUIRE_CAPTURES();
    const Capture* capture = find_capture("librdkafka-kcat/0001-ApiVersions-v3.req");
    ASSERT_NE(capture, nullptr);
    DecodedRequest request;
    ASSERT_TRUE(decode_request_frame(capture->bytes, request).ok());
    EXPECT_EQ(request.header_version, 2);
    EXPECT_EQ(request.header.client_id, std::optional<std::string_view>("rdkafka"));
    EXPECT_EQ(request.header.correlation_id, 1);
    const auto& body = std::get<ApiVersionsRequest>(request.body);
    EXPECT_EQ(body.client_software_name, "librdkafka");
    EXPECT_EQ(body.client_software_version, "2.0.2");
}

TEST(CodecCaptures, KcatProduceCarriesOneRecordBatch) {
    REQUIRE_CAPTURES();
    const Capture* capture = find_capture("librdkafka-kcat/0008-Produce-v7.req");
    ASSERT_NE(capture, nullptr);
    DecodedRequest request;
    ASSERT_TRUE(decode_request_frame(capture->bytes, request).ok());
    const auto& produce = std::get<ProduceRequest>(request.body);
    EXPECT_EQ(produce.transactional_id, std::nullopt);
    EXPECT_EQ(produce.acks, -1);
    EXPECT_EQ(produce.timeout_ms, 30000);
    ASSERT_EQ(produce.topic_data.size(), 1u);
    EXPECT_EQ(produce.topic_data[0].name, "t1");
    ASSERT_EQ(produce.topic_data[0].partition_data.size(), 1u);
    const Records& records = produce.topic_data[0].partition_data[0].records;
    ASSERT_FALSE(records.is_null());
    EXPECT_EQ(records.size_bytes(), 89u);
    // The records are a view into the frame, and hold one v2 batch (magic byte at offset 16).
    const ByteView batch = records.bytes();
    EXPECT_GE(batch.data(), capture->bytes.data());
    EXPECT_LE(batch.data() + batch.size(), capture->bytes.data() + capture->bytes.size());
    EXPECT_EQ(batch[16], std::byte{2});
}

TEST(CodecCaptures, ClientIdsOfEveryClient) {
    REQUIRE_CAPTURES();
    const std::pair<const char*, const char*> expected[] = {
        {"confluent-kafka/0001-ApiVersions-v3.req", "rdkafka"},
        {"kafka-python/0001-ApiVersions-v0.req", "kafka-python-producer-1"},
        {"kafka-python/0009-ApiVersions-v0.req", "kafka-python-2.0.2"},
    };
    for (const auto& [name, client_id] : expected) {
        SCOPED_TRACE(name);
        const Capture* capture = find_capture(name);
        ASSERT_NE(capture, nullptr);
        DecodedRequest request;
        ASSERT_TRUE(decode_request_frame(capture->bytes, request).ok());
        EXPECT_EQ(request.header.client_id, std::optional<std::string_view>(client_id));
    }
    int kafkajs = 0;
    for (const Capture& capture : captures()) {
        if (capture.name.starts_with("kafkajs/")) {
            DecodedRequest request;
            (void)decode_request_frame(capture.bytes, request);
            EXPECT_TRUE(request.header.client_id.has_value());
            ++kafkajs;
        }
    }
    EXPECT_GT(kafkajs, 0);
}

TEST(CodecCaptures, JoinGroupMetadataIsAConsumerSubscription) {
    REQUIRE_CAPTURES();
    const Capture* capture = find_capture("librdkafka-kcat/0059-JoinGroup-v5.req");
    ASSERT_NE(capture, nullptr);
    DecodedRequest request;
    ASSERT_TRUE(decode_request_frame(capture->bytes, request).ok());
    const auto& join = std::get<JoinGroupRequest>(request.body);
    EXPECT_EQ(join.group_id, "kcat-group");
    EXPECT_EQ(join.protocol_type, "consumer");
    ASSERT_FALSE(join.protocols.empty());
    for (const auto& protocol : join.protocols) {
        SCOPED_TRACE(protocol.name);
        // The embedded bytes start with their own int16 version; newer versions only add
        // fields at the end, so a newer one is read as the newest known (as Kafka does).
        Reader reader(protocol.metadata);
        const int16_t version =
            std::min<int16_t>(reader.read_int16(), ConsumerProtocolSubscription::max_version);
        ConsumerProtocolSubscription subscription;
        ASSERT_TRUE(subscription.decode(reader, version).ok());
        ASSERT_EQ(subscription.topics.size(), 1u);
        EXPECT_EQ(subscription.topics[0], "t1");
    }
}

TEST(CodecCaptures, EveryTruncationFailsCleanly) {
    REQUIRE_CAPTURES();
    for (const Capture& capture : captures()) {
        SCOPED_TRACE(capture.name);
        DecodedRequest whole;
        const bool supported = decode_request_frame(capture.bytes, whole).ok();
        for (size_t length = 0; length < capture.bytes.size(); ++length) {
            DecodedRequest request;
            const absl::Status status =
                decode_request_frame(ByteView(capture.bytes).first(length), request);
            if (supported) {
                EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
                    << "prefix of " << length << " bytes";
            } else {
                EXPECT_FALSE(status.ok());
            }
        }
    }
}

TEST(CodecCaptures, CorruptedFramesNeverCrash) {
    REQUIRE_CAPTURES();
    // Deterministic corruption: a few bytes of each frame overwritten, many times over.
    uint64_t state = 0x2545f4914f6cdd1dULL;
    const auto next = [&state] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    int decoded = 0;
    for (const Capture& capture : captures()) {
        for (int round = 0; round < 200; ++round) {
            std::vector<std::byte> bytes = capture.bytes;
            const int flips = 1 + static_cast<int>(next() % 4);
            for (int flip = 0; flip < flips; ++flip) {
                const uint64_t random = next();
                // Length and count fields are where the danger is: favour 0x00, 0x7f, 0xff.
                const std::byte values[] = {std::byte{0x00}, std::byte{0x7f}, std::byte{0xff},
                                            static_cast<std::byte>(random >> 32)};
                bytes[random % bytes.size()] = values[(random >> 20) % 4];
            }
            DecodedRequest request;
            if (decode_request_frame(bytes, request).ok()) {
                ++decoded;
                Writer writer;
                encode_request_body(request.body, request.header.request_api_version, writer);
            }
        }
    }
    EXPECT_GT(decoded, 0);
}

}  // namespace
}  // namespace ringlog::net::kafka
