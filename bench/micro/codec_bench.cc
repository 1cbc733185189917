// The Kafka codec on the data path: encoding and decoding Produce requests and Fetch
// responses the size of what the load generator sends (16 partitions x one 64 KiB batch, or
// one partition of 100 small batches), with bytes per second and allocations per operation.
// Records are external segments on encode and views on decode: the codec never touches their
// bytes, so bytes/s counts only what it writes or parses (headers, lengths, fields), and
// items/s is requests (or responses) per second.
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/support/allocation_counter.h"
#include "net/kafka/generated/fetch.h"
#include "net/kafka/generated/headers.h"
#include "net/kafka/generated/produce.h"
#include "net/kafka/record_batch_builder.h"

namespace ringlog::net::kafka {
namespace {

std::vector<std::byte> batch_bytes(size_t records, size_t value_bytes) {
    BatchSpec spec;
    spec.base_timestamp = 1'700'000'000'000;
    for (size_t i = 0; i < records; ++i) {
        RecordSpec record;
        record.value = std::string(value_bytes, 'v');
        record.timestamp = spec.base_timestamp;
        spec.records.push_back(std::move(record));
    }
    return build_record_batch(spec);
}

ProduceRequest produce_request(const std::vector<std::byte>& batch, int partitions) {
    ProduceRequest request;
    request.acks = -1;
    request.timeout_ms = 30000;
    request.topic_data.resize(1);
    request.topic_data[0].name = "bench-topic";
    request.topic_data[0].partition_data.resize(static_cast<size_t>(partitions));
    for (int p = 0; p < partitions; ++p) {
        request.topic_data[0].partition_data[static_cast<size_t>(p)].index = p;
        request.topic_data[0].partition_data[static_cast<size_t>(p)].records =
            Records(ByteView(batch));
    }
    return request;
}

FetchResponse fetch_response(const std::vector<std::byte>& batch, int partitions) {
    FetchResponse response;
    response.responses.resize(1);
    response.responses[0].topic = "bench-topic";
    response.responses[0].partitions.resize(static_cast<size_t>(partitions));
    for (int p = 0; p < partitions; ++p) {
        auto& partition = response.responses[0].partitions[static_cast<size_t>(p)];
        partition.partition_index = p;
        partition.high_watermark = 1000;
        partition.records = Records(ByteView(batch));
    }
    return response;
}

// Args: partitions, records per batch, value bytes, version.
void BM_Codec_ProduceEncode(benchmark::State& state) {
    const auto batch =
        batch_bytes(static_cast<size_t>(state.range(1)), static_cast<size_t>(state.range(2)));
    const ProduceRequest request = produce_request(batch, static_cast<int>(state.range(0)));
    const auto version = static_cast<int16_t>(state.range(3));
    Writer writer;
    std::vector<ByteView> segments;
    const uint64_t before = bench::allocations();
    for (auto _ : state) {
        writer.clear();
        const Writer::Mark size = writer.reserve_int32_size();
        RequestHeader header;
        header.request_api_key = 0;
        header.request_api_version = version;
        header.correlation_id = 1;
        header.client_id = "bench";
        header.encode(writer, request_header_version(0, version));
        request.encode(writer, version);
        writer.patch_int32_size(size);
        segments.clear();
        writer.gather(segments);
        benchmark::DoNotOptimize(segments.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * writer.owned_bytes().size()));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.counters["allocs_per_op"] =
        benchmark::Counter(static_cast<double>(bench::allocations() - before)
                           / static_cast<double>(state.iterations()));
}

void BM_Codec_ProduceDecode(benchmark::State& state) {
    const auto batch =
        batch_bytes(static_cast<size_t>(state.range(1)), static_cast<size_t>(state.range(2)));
    const auto version = static_cast<int16_t>(state.range(3));
    Writer writer;
    produce_request(batch, static_cast<int>(state.range(0))).encode(writer, version);
    const std::vector<std::byte> frame = writer.flatten();
    const size_t records_bytes = batch.size() * static_cast<size_t>(state.range(0));
    const uint64_t before = bench::allocations();
    for (auto _ : state) {
        Reader reader(frame);
        ProduceRequest request;
        benchmark::DoNotOptimize(request.decode(reader, version).ok());
        benchmark::DoNotOptimize(request.topic_data.data());
    }
    state.SetBytesProcessed(
        static_cast<int64_t>(state.iterations() * (frame.size() - records_bytes)));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.counters["allocs_per_op"] =
        benchmark::Counter(static_cast<double>(bench::allocations() - before)
                           / static_cast<double>(state.iterations()));
}

void BM_Codec_FetchResponseEncode(benchmark::State& state) {
    const auto batch =
        batch_bytes(static_cast<size_t>(state.range(1)), static_cast<size_t>(state.range(2)));
    const FetchResponse response = fetch_response(batch, static_cast<int>(state.range(0)));
    const auto version = static_cast<int16_t>(state.range(3));
    Writer writer;
    std::vector<ByteView> segments;
    const uint64_t before = bench::allocations();
    for (auto _ : state) {
        writer.clear();
        const Writer::Mark size = writer.reserve_int32_size();
        ResponseHeader{.correlation_id = 1}.encode(writer, response_header_version(1, version));
        response.encode(writer, version);
        writer.patch_int32_size(size);
        segments.clear();
        writer.gather(segments);
        benchmark::DoNotOptimize(segments.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * writer.owned_bytes().size()));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.counters["allocs_per_op"] =
        benchmark::Counter(static_cast<double>(bench::allocations() - before)
                           / static_cast<double>(state.iterations()));
}

void BM_Codec_FetchResponseDecode(benchmark::State& state) {
    const auto batch =
        batch_bytes(static_cast<size_t>(state.range(1)), static_cast<size_t>(state.range(2)));
    const auto version = static_cast<int16_t>(state.range(3));
    Writer writer;
    fetch_response(batch, static_cast<int>(state.range(0))).encode(writer, version);
    const std::vector<std::byte> frame = writer.flatten();
    const size_t records_bytes = batch.size() * static_cast<size_t>(state.range(0));
    const uint64_t before = bench::allocations();
    for (auto _ : state) {
        Reader reader(frame);
        FetchResponse response;
        benchmark::DoNotOptimize(response.decode(reader, version).ok());
        benchmark::DoNotOptimize(response.responses.data());
    }
    state.SetBytesProcessed(
        static_cast<int64_t>(state.iterations() * (frame.size() - records_bytes)));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.counters["allocs_per_op"] =
        benchmark::Counter(static_cast<double>(bench::allocations() - before)
                           / static_cast<double>(state.iterations()));
}

// 16 partitions x 64 records of 1 KiB (the bench's default batch), and 1 partition x 100 B.
#define RINGLOG_CODEC_ARGS(version) \
    Args({16, 64, 1024, version})->Args({1, 64, 1024, version})->Args({1, 1, 100, version})

BENCHMARK(BM_Codec_ProduceEncode)->RINGLOG_CODEC_ARGS(7)->RINGLOG_CODEC_ARGS(9);
BENCHMARK(BM_Codec_ProduceDecode)->RINGLOG_CODEC_ARGS(7)->RINGLOG_CODEC_ARGS(9);
BENCHMARK(BM_Codec_FetchResponseEncode)->RINGLOG_CODEC_ARGS(11)->RINGLOG_CODEC_ARGS(12);
BENCHMARK(BM_Codec_FetchResponseDecode)->RINGLOG_CODEC_ARGS(11)->RINGLOG_CODEC_ARGS(12);

}  // namespace
}  // namespace ringlog::net::kafka

BENCHMARK_MAIN();
