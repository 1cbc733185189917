// ringlog datagram-check: produce and consume through the datagram transport (kernel UDP or
// DPDK) with the project's own client, and check that every message comes back; with --ping,
// measure round trips of small requests (ApiVersions) over udp, dpdk or tcp instead.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <set>
#include <string>
#include <vector>

#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>

#include "core/shard.h"
#include "io/base/absl_compat.h"
#include "io/reactor.h"
#include "io/task_group.h"
#include "net/dpdk/dpdk_port.h"
#include "net/kafka/generated/api_versions.h"
#include "net/kafka/generated/create_topics.h"
#include "net/kafka/generated/fetch.h"
#include "net/kafka/generated/produce.h"
#include "net/kafka/record_batch.h"
#include "net/kafka/record_batch_builder.h"
#include "tools/ringlog/commands.h"
#include "tools/ringlog/datagram_client.h"

namespace ringlog::tools {
namespace {

namespace kafka = net::kafka;
using Clock = std::chrono::steady_clock;

struct CheckOptions {
    DatagramClientOptions client;
    std::string topic = "datagram-check";
    int partitions = 4;
    int messages = 10'000;
    int batch = 100;     // records per produce request
    int inflight = 8;    // requests in flight
    int ping = 0;        // >0: round-trip mode, this many sequential calls
    int ping_calls = 0;  // throughput calls in ping mode (default 10 x ping)
};

int usage_error(const std::string& message) {
    std::fprintf(stderr, "ringlog datagram-check: %s\n", message.c_str());
    std::fprintf(stderr,
                 "usage: ringlog datagram-check --bootstrap HOST:PORT [--transport udp|dpdk|tcp]\n"
                 "  [--dpdk 'EAL ARGS'] [--dpdk-port N] [--local-ip A.B.C.D] [--local-port N]\n"
                 "  [--topic T] [--partitions N] [--messages N] [--batch N] [--inflight N]\n"
                 "  [--ping N [--ping-calls N]] [--spin true|false]\n");
    return 2;
}

bool parse_int(std::string_view text, int& out) {
    return absl::SimpleAtoi(base::to_absl(text), &out) && out >= 0;
}

// The response frame's header (v0: correlation id, or v1 with tagged fields) then body.
template <typename Body>
absl::Status decode_response(const std::vector<std::byte>& frame, int16_t version, Body& body) {
    kafka::Reader reader(frame);
    kafka::ResponseHeader header;
    const int16_t header_version =
        kafka::response_header_version(static_cast<int16_t>(Body::api_key), version);
    if (absl::Status status = header.decode(reader, header_version); !status.ok()) {
        return status;
    }
    return body.decode(reader, version);
}

std::string value_of(int index) {
    return absl::StrCat("m-", index);
}

// --- check mode ---------------------------------------------------------------------------

struct CheckState {
    CheckState(DatagramClient& datagram_client, const CheckOptions& check_options)
        : client(datagram_client), options(check_options) {}

    DatagramClient& client;
    const CheckOptions& options;
    int produced = 0;
    int failures = 0;
    int32_t correlation = 1;
    std::set<std::string> seen;
    int fetched = 0;
    int duplicates = 0;
};

io::Task<void> produce_batch(CheckState& state, int partition, int first, int count) {
    kafka::BatchSpec spec;
    for (int index = first; index < first + count; ++index) {
        spec.records.push_back(kafka::RecordSpec{.key = std::nullopt,
                                                 .value = value_of(index),
                                                 .timestamp = 1'700'000'000'000,
                                                 .headers = {},
                                                 .offset_delta = std::nullopt});
    }
    const std::vector<std::byte> batch = kafka::build_record_batch(spec);
    kafka::ProduceRequest request;
    request.acks = 1;
    request.timeout_ms = 10'000;
    kafka::ProduceRequest::PartitionProduceData data;
    data.index = partition;
    data.records = kafka::Records(kafka::ByteView(batch));
    request.topic_data.push_back(kafka::ProduceRequest::TopicProduceData{
        .name = state.options.topic, .partition_data = {data}});
    const std::vector<std::byte> frame = request_frame(request, 7, state.correlation++);
    const int shard = static_cast<int>(
        core::shard_for(state.options.topic, partition, state.client.shard_count()).value());
    absl::StatusOr<std::vector<std::byte>> response =
        co_await state.client.session(shard).call(frame);
    kafka::ProduceResponse decoded;
    absl::Status status =
        response.ok() ? decode_response(*response, 7, decoded) : response.status();
    if (status.ok()
        && (decoded.responses.size() != 1 || decoded.responses[0].partition_responses.size() != 1
            || decoded.responses[0].partition_responses[0].error_code != 0)) {
        status = absl::InternalError("produce answered with an error");
    }
    if (!status.ok()) {
        ++state.failures;
        std::fprintf(stderr, "produce: %s\n", std::string(status.message()).c_str());
        co_return;
    }
    state.produced += count;
}

io::Task<absl::Status> fetch_partition(CheckState& state, int partition) {
    int64_t offset = 0;
    const int shard = static_cast<int>(
        core::shard_for(state.options.topic, partition, state.client.shard_count()).value());
    for (;;) {
        kafka::FetchRequest request;
        request.max_wait_ms = 0;
        request.min_bytes = 1;
        request.max_bytes = 1 << 20;
        request.topics.push_back(
            kafka::FetchRequest::FetchTopic{.topic = state.options.topic,
                                            .partitions = {kafka::FetchRequest::FetchPartition{
                                                .partition = partition,
                                                .current_leader_epoch = -1,
                                                .fetch_offset = offset,
                                                .last_fetched_epoch = -1,
                                                .log_start_offset = -1,
                                                .partition_max_bytes = 256 * 1024}}});
        const std::vector<std::byte> frame = request_frame(request, 11, state.correlation++);
        absl::StatusOr<std::vector<std::byte>> response =
            co_await state.client.session(shard).call(frame);
        if (!response.ok()) {
            co_return response.status();
        }
        kafka::FetchResponse decoded;
        if (absl::Status status = decode_response(*response, 11, decoded); !status.ok()) {
            co_return status;
        }
        if (decoded.responses.size() != 1 || decoded.responses[0].partitions.size() != 1) {
            co_return absl::InternalError("a fetch response without our partition");
        }
        const kafka::FetchResponse::PartitionData& data = decoded.responses[0].partitions[0];
        if (data.error_code != 0) {
            co_return absl::InternalError(absl::StrCat("fetch error ", data.error_code));
        }
        std::vector<std::byte> bytes;
        for (const kafka::ByteView segment : data.records.segments()) {
            bytes.insert(bytes.end(), segment.begin(), segment.end());
        }
        std::span<const std::byte> rest(bytes);
        bool any = false;
        while (!rest.empty()) {
            absl::StatusOr<kafka::RecordBatchView> batch = kafka::RecordBatchView::parse(rest);
            if (!batch.ok()) {
                break;  // a partial batch at the end of a size-limited fetch
            }
            absl::Status walked = kafka::for_each_record(*batch, [&](const kafka::Record& record) {
                const std::string value =
                    record.value.has_value() ? std::string(
                        reinterpret_cast<const char*>(record.value->data()), record.value->size())
                                             : std::string();
                if (!state.seen.insert(value).second) {
                    ++state.duplicates;
                }
                ++state.fetched;
            });
            if (!walked.ok()) {
                co_return walked;
            }
            offset = batch->base_offset() + batch->last_offset_delta() + 1;
            rest = rest.subspan(batch->size_bytes());
            any = true;
        }
        if (!any) {
            if (offset >= data.high_watermark) {
                co_return absl::OkStatus();
            }
            co_return absl::InternalError("a fetch below the high watermark returned nothing");
        }
    }
}

io::Task<int> run_check(DatagramClient& client, const CheckOptions& options) {
    CheckState state(client, options);
    kafka::CreateTopicsRequest create;
    create.topics.push_back(
        kafka::CreateTopicsRequest::CreatableTopic{.name = options.topic,
                                                   .num_partitions = options.partitions,
                                                   .replication_factor = 1,
                                                   .assignments = {},
                                                   .configs = {}});
    const std::vector<std::byte> create_frame = request_frame(create, 4, state.correlation++);
    absl::StatusOr<std::vector<std::byte>> created = co_await client.session(0).call(create_frame);
    if (!created.ok()) {
        std::fprintf(stderr, "create topic: %s\n", std::string(created.status().message()).c_str());
        co_return 1;
    }
    const auto start = Clock::now();
    io::TaskGroup producers;
    for (int first = 0; first < options.messages; first += options.batch) {
        while (producers.active() >= static_cast<size_t>(options.inflight)) {
            co_await io::Reactor::current().yield();
        }
        const int count = std::min(options.batch, options.messages - first);
        producers.spawn(
            produce_batch(state, (first / options.batch) % options.partitions, first, count));
    }
    co_await producers.wait_idle();
    const double produce_s = std::chrono::duration<double>(Clock::now() - start).count();
    for (int partition = 0; partition < options.partitions; ++partition) {
        if (absl::Status status = co_await fetch_partition(state, partition); !status.ok()) {
            std::fprintf(stderr, "fetch partition %d: %s\n", partition,
                         std::string(status.message()).c_str());
            co_return 1;
        }
    }
    bool all_back = state.failures == 0 && state.duplicates == 0
                    && state.seen.size() == static_cast<size_t>(options.messages);
    for (int index = 0; all_back && index < options.messages; ++index) {
        all_back = state.seen.count(value_of(index)) == 1;
    }
    std::printf(
        "datagram-check: %s over %d shard(s): produced %d in %.3f s, fetched %d "
        "(%d duplicates), retransmits %llu: %s\n",
        options.client.transport.c_str(), client.shard_count(), state.produced, produce_s,
        state.fetched, state.duplicates,
        static_cast<unsigned long long>(client.stats().retransmits),
        all_back ? "every message came back" : "MESSAGES MISSING");
    co_return all_back ? 0 : 1;
}

// --- ping mode ------------------------------------------------------------------------------

void report(const char* transport, std::vector<double>& rtts_us, int calls, double seconds,
            int inflight) {
    std::sort(rtts_us.begin(), rtts_us.end());
    const auto at = [&](double q) {
        return rtts_us[static_cast<size_t>(q * (rtts_us.size() - 1))];
    };
    std::printf(
        "ping %s: rtt p50 %.1f us, p99 %.1f us (%zu sequential); %d calls with %d in flight: "
        "%.0f calls/s\n",
        transport, at(0.5), at(0.99), rtts_us.size(), calls, inflight, calls / seconds);
}

constexpr int warmup_calls = 5'000;

std::vector<std::byte> ping_frame() {
    kafka::ApiVersionsRequest request;
    return request_frame(request, 2, 7);
}

io::Task<void> ping_loop(net::dpdk::ClientSession& session, const std::vector<std::byte>& frame,
                         int calls, int& failures) {
    for (int call = 0; call < calls; ++call) {
        absl::StatusOr<std::vector<std::byte>> response = co_await session.call(frame);
        if (!response.ok() || response->empty()) {
            ++failures;
        }
    }
}

io::Task<int> run_ping(DatagramClient& client, const CheckOptions& options) {
    const std::vector<std::byte> frame = ping_frame();
    net::dpdk::ClientSession& session = client.session(0);
    std::vector<double> rtts_us;
    int failures = 0;
    // Warm up first (caches, the peer's poll loop, a memif link just up): not measured.
    co_await ping_loop(session, frame, warmup_calls, failures);
    for (int call = 0; call < options.ping; ++call) {
        const auto start = Clock::now();
        absl::StatusOr<std::vector<std::byte>> response = co_await session.call(frame);
        rtts_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        if (!response.ok() || response->empty()) {
            ++failures;
        }
    }
    const int calls = options.ping_calls > 0 ? options.ping_calls : options.ping * 10;
    const int loops = std::max(1, options.inflight);
    const auto start = Clock::now();
    io::TaskGroup group;
    for (int loop = 0; loop < loops; ++loop) {
        group.spawn(ping_loop(session, frame, calls / loops, failures));
    }
    co_await group.wait_idle();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    report(options.client.transport.c_str(), rtts_us, calls / loops * loops, seconds, loops);
    if (failures > 0) {
        std::fprintf(stderr, "ping: %d calls failed\n", failures);
    }
    co_return failures == 0 ? 0 : 1;
}

// The same over TCP, for comparison: blocking sends and receives, `inflight` requests
// pipelined on one connection.
int run_tcp_ping(const CheckOptions& options) {
    const std::vector<std::byte> body = ping_frame();
    std::vector<std::byte> frame(4 + body.size());
    const uint32_t length = htonl(static_cast<uint32_t>(body.size()));
    std::memcpy(frame.data(), &length, 4);
    std::memcpy(frame.data() + 4, body.data(), body.size());
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(options.client.bootstrap_port);
    (void)inet_pton(AF_INET, options.client.bootstrap_host.c_str(), &address.sin_addr);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        std::fprintf(stderr, "tcp: cannot connect\n");
        return 1;
    }
    const int one = 1;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    const auto exchange = [&](int count) {
        std::vector<std::byte> out;
        for (int index = 0; index < count; ++index) {
            out.insert(out.end(), frame.begin(), frame.end());
        }
        if (::send(fd, out.data(), out.size(), 0) != static_cast<ssize_t>(out.size())) {
            return false;
        }
        for (int index = 0; index < count; ++index) {
            std::array<std::byte, 4> prefix;
            if (::recv(fd, prefix.data(), 4, MSG_WAITALL) != 4) {
                return false;
            }
            uint32_t size = 0;
            std::memcpy(&size, prefix.data(), 4);
            std::vector<std::byte> response(ntohl(size));
            if (::recv(fd, response.data(), response.size(), MSG_WAITALL)
                != static_cast<ssize_t>(response.size())) {
                return false;
            }
        }
        return true;
    };
    for (int call = 0; call < warmup_calls; ++call) {
        if (!exchange(1)) {
            ::close(fd);
            return 1;
        }
    }
    std::vector<double> rtts_us;
    for (int call = 0; call < options.ping; ++call) {
        const auto start = Clock::now();
        if (!exchange(1)) {
            std::fprintf(stderr, "tcp: the exchange failed\n");
            ::close(fd);
            return 1;
        }
        rtts_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
    const int calls = options.ping_calls > 0 ? options.ping_calls : options.ping * 10;
    const int inflight = std::max(1, options.inflight);
    const auto start = Clock::now();
    for (int done = 0; done + inflight <= calls; done += inflight) {
        if (!exchange(inflight)) {
            ::close(fd);
            return 1;
        }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    ::close(fd);
    report("tcp", rtts_us, calls / inflight * inflight, seconds, inflight);
    return 0;
}

}  // namespace

int datagram_command(std::span<const std::string_view> args) {
    if (args.size() == 1 && args[0] == "--dpdk-available") {
        std::printf("dpdk: %s\n", net::dpdk::dpdk_available() ? "yes" : "no");
        return 0;
    }
    CheckOptions options;
    for (size_t index = 0; index < args.size(); ++index) {
        const std::string_view flag = args[index];
        if (index + 1 == args.size()) {
            return usage_error(absl::StrCat(base::to_absl(flag), " needs a value"));
        }
        const std::string_view value = args[++index];
        bool ok = true;
        if (flag == "--bootstrap") {
            const size_t colon = value.rfind(':');
            int port = 0;
            ok = colon != std::string_view::npos && parse_int(value.substr(colon + 1), port)
                 && port <= 65535;
            options.client.bootstrap_host = std::string(value.substr(0, colon));
            options.client.bootstrap_port = static_cast<uint16_t>(port);
        } else if (flag == "--transport") {
            options.client.transport = std::string(value);
        } else if (flag == "--dpdk") {
            options.client.dpdk_eal_args = std::string(value);
        } else if (flag == "--dpdk-port") {
            int port = 0;
            ok = parse_int(value, port);
            options.client.dpdk_port = static_cast<uint16_t>(port);
        } else if (flag == "--local-ip") {
            options.client.local_ip = std::string(value);
        } else if (flag == "--local-port") {
            int port = 0;
            ok = parse_int(value, port) && port <= 65535;
            options.client.local_port = static_cast<uint16_t>(port);
        } else if (flag == "--spin") {
            ok = value == "true" || value == "false";
            options.client.spin = value == "true";
        } else if (flag == "--topic") {
            options.topic = std::string(value);
        } else if (flag == "--partitions") {
            ok = parse_int(value, options.partitions) && options.partitions > 0;
        } else if (flag == "--messages") {
            ok = parse_int(value, options.messages);
        } else if (flag == "--batch") {
            ok = parse_int(value, options.batch) && options.batch > 0;
        } else if (flag == "--inflight") {
            ok = parse_int(value, options.inflight) && options.inflight > 0;
        } else if (flag == "--ping") {
            ok = parse_int(value, options.ping) && options.ping > 0;
        } else if (flag == "--ping-calls") {
            ok = parse_int(value, options.ping_calls);
        } else {
            return usage_error(absl::StrCat("unknown flag ", base::to_absl(flag)));
        }
        if (!ok) {
            return usage_error(
                absl::StrCat(base::to_absl(flag), ": bad value '", base::to_absl(value), "'"));
        }
    }
    if (options.client.transport == "tcp") {
        return options.ping > 0 ? run_tcp_ping(options)
                                : usage_error("--transport tcp is for --ping only");
    }
    absl::StatusOr<std::unique_ptr<io::Reactor>> reactor = io::Reactor::create();
    if (!reactor.ok()) {
        std::fprintf(stderr, "ringlog: %s\n", std::string(reactor.status().message()).c_str());
        return 1;
    }
    absl::StatusOr<std::unique_ptr<DatagramClient>> client =
        DatagramClient::connect(**reactor, options.client);
    if (!client.ok()) {
        std::fprintf(stderr, "ringlog datagram-check: %s\n",
                     std::string(client.status().message()).c_str());
        return 1;
    }
    const int result = options.ping > 0 ? (*reactor)->block_on(run_ping(**client, options))
                                        : (*reactor)->block_on(run_check(**client, options));
    client->reset();
    return result;
}

}  // namespace ringlog::tools
