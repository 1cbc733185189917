// The datagram protocol (net/dpdk: ServerEndpoint, ClientSession) over an in-memory network:
// small and fragmented requests and responses, more calls than the window, and a fault shim
// on both sides that drops, duplicates and reorders datagrams at random. Under faults every
// call still gets its own response and the handler runs every request exactly once. Seeds
// print on failure; RINGLOG_SEED=<n> replays one.
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "io/reactor.h"
#include "io/task_group.h"
#include "net/dpdk/client_endpoint.h"
#include "net/dpdk/fault_packet_io.h"
#include "net/dpdk/memory_packet_io.h"
#include "net/dpdk/server_endpoint.h"

namespace ringlog::net::dpdk {
namespace {

constexpr Endpoint server_address{.ipv4 = 0x7f000001, .port = 9000};
constexpr Endpoint client_address{.ipv4 = 0x7f000002, .port = 40000};

// A request is [id: 8 bytes][response size: 4 bytes][filler]; the response (after the 4-byte
// size prefix a Kafka frame carries) is the id and then response-size bytes of a pattern.
std::vector<std::byte> make_request(uint64_t id, uint32_t request_bytes, uint32_t response_bytes) {
    std::vector<std::byte> request(std::max<uint32_t>(request_bytes, 12));
    std::memcpy(request.data(), &id, 8);
    std::memcpy(request.data() + 8, &response_bytes, 4);
    for (size_t index = 12; index < request.size(); ++index) {
        request[index] = static_cast<std::byte>(index * 7 + id);
    }
    return request;
}

std::byte pattern(uint64_t id, size_t index) {
    return static_cast<std::byte>(index * 13 + id * 3);
}

class EchoHandler final : public tcp::FrameHandler {
public:
    io::Task<std::optional<tcp::Response>> handle(std::span<const std::byte> frame) override {
        uint64_t id = 0;
        uint32_t response_bytes = 0;
        std::memcpy(&id, frame.data(), 8);
        std::memcpy(&response_bytes, frame.data() + 8, 4);
        for (size_t index = 12; index < frame.size(); ++index) {
            EXPECT_EQ(frame[index], static_cast<std::byte>(index * 7 + id)) << "request " << id;
        }
        ++executions[id];
        if (id % 3 == 0) {
            co_await io::Reactor::current().yield();  // some answers come later than others
        }
        std::vector<std::byte> response(4 + 8 + response_bytes);
        std::memcpy(response.data() + 4, &id, 8);
        for (size_t index = 0; index < response_bytes; ++index) {
            response[12 + index] = pattern(id, index);
        }
        co_return tcp::Response::copy_of(response);
    }

    std::map<uint64_t, int> executions;
};

bool response_matches(uint64_t id, uint32_t response_bytes, const std::vector<std::byte>& got) {
    if (got.size() != 8 + response_bytes) {
        return false;
    }
    uint64_t got_id = 0;
    std::memcpy(&got_id, got.data(), 8);
    if (got_id != id) {
        return false;
    }
    for (size_t index = 0; index < response_bytes; ++index) {
        if (got[8 + index] != pattern(id, index)) {
            return false;
        }
    }
    return true;
}

struct Outcome {
    int matched = 0;
    int failed = 0;
};

io::Task<void> one_call(ClientSession& session, uint64_t id, uint32_t request_bytes,
                        uint32_t response_bytes, Outcome& outcome) {
    const std::vector<std::byte> request = make_request(id, request_bytes, response_bytes);
    absl::StatusOr<std::vector<std::byte>> response = co_await session.call(request);
    if (!response.ok()) {
        ++outcome.failed;
        ADD_FAILURE() << "call " << id << ": " << response.status();
    } else if (response_matches(id, response_bytes, *response)) {
        ++outcome.matched;
    } else {
        ADD_FAILURE() << "call " << id << ": wrong response of " << response->size() << " bytes";
    }
}

struct Shape {
    uint32_t request_bytes;
    uint32_t response_bytes;
};

// Runs `shapes.size()` calls, at most `concurrency` at a time.
io::Task<void> run_calls(ClientSession& session, const std::vector<Shape>& shapes,
                         size_t concurrency, Outcome& outcome) {
    io::TaskGroup group;
    for (size_t index = 0; index < shapes.size(); ++index) {
        while (group.active() >= concurrency) {
            co_await io::Reactor::current().yield();
        }
        group.spawn(one_call(session, index + 1, shapes[index].request_bytes,
                             shapes[index].response_bytes, outcome));
    }
    co_await group.wait_idle();
}

struct Harness {
    explicit Harness(std::optional<FaultOptions> faults = std::nullopt,
                     ClientOptions client_options = {}, ServerOptions server_options = {})
        : reactor(*io::Reactor::create()),
          server_io(network, server_address),
          client_io(network, client_address) {
        PacketIo* server_side = &server_io;
        PacketIo* client_side = &client_io;
        if (faults.has_value()) {
            server_faults.emplace(server_io, *faults);
            FaultOptions other = *faults;
            other.seed = faults->seed * 7919 + 1;
            client_faults.emplace(client_io, other);
            server_side = &*server_faults;
            client_side = &*client_faults;
        }
        server.emplace(*reactor, *server_side, handler, server_options);
        server->start();
        client.emplace(*reactor, *client_side, client_options);
        const absl::StatusOr<SessionGrant> grant =
            server->open_session(static_cast<uint32_t>(client_side->datagram_bytes_max()));
        RL_ASSERT(grant.ok());
        session = &client->add_session(server_address, *grant);
    }

    ~Harness() {
        client.reset();
        reactor->block_on(server->stop());
    }

    Outcome run(const std::vector<Shape>& shapes, size_t concurrency) {
        Outcome outcome;
        reactor->block_on(run_calls(*session, shapes, concurrency, outcome));
        return outcome;
    }

    std::unique_ptr<io::Reactor> reactor;
    MemoryNetwork network;
    MemoryPacketIo server_io;
    MemoryPacketIo client_io;
    std::optional<FaultPacketIo> server_faults;
    std::optional<FaultPacketIo> client_faults;
    EchoHandler handler;
    std::optional<ServerEndpoint> server;
    std::optional<ClientEndpoint> client;
    ClientSession* session = nullptr;
};

void expect_each_executed_once(const EchoHandler& handler, size_t count) {
    EXPECT_EQ(handler.executions.size(), count);
    for (const auto& [id, times] : handler.executions) {
        EXPECT_EQ(times, 1) << "request " << id;
    }
}

TEST(DatagramSession, SmallCallsRoundTripInPlace) {
    Harness harness;
    const Outcome outcome = harness.run(std::vector<Shape>(100, Shape{64, 100}), 8);
    EXPECT_EQ(outcome.matched, 100);
    expect_each_executed_once(harness.handler, 100);
    EXPECT_EQ(harness.server->stats().requests_in_place, 100u);
    // (No check that nothing was retransmitted: a 1 ms timer may fire on a slow machine even
    // here, and the cache answers it; exactly-once is what must hold.)
    EXPECT_EQ(harness.server_io.held(), 0u);  // every received buffer went back
}

TEST(DatagramSession, LargeRequestsAndResponsesAreFragmentedAndReassembled) {
    Harness harness;
    const std::vector<Shape> shapes = {{10'000, 10},   {10, 200'000},  {65'536, 65'536},
                                       {1'444, 1'444}, {1'445, 1'445}, {12, 0}};
    const Outcome outcome = harness.run(shapes, 3);
    EXPECT_EQ(outcome.matched, static_cast<int>(shapes.size()));
    expect_each_executed_once(harness.handler, shapes.size());
    EXPECT_GT(harness.server->stats().acks_sent, 0u);
    EXPECT_GT(harness.server->stats().pulls, 0u);
}

TEST(DatagramSession, MoreCallsThanTheWindowWaitTheirTurn) {
    ServerOptions server_options;
    server_options.window = 4;
    Harness harness(std::nullopt, ClientOptions{}, server_options);
    const Outcome outcome = harness.run(std::vector<Shape>(200, Shape{100, 3'000}), 64);
    EXPECT_EQ(outcome.matched, 200);
    expect_each_executed_once(harness.handler, 200);
}

uint64_t seed_from_env(uint64_t fallback) {
    const char* text = std::getenv("RINGLOG_SEED");
    return text != nullptr ? std::strtoull(text, nullptr, 10) : fallback;
}

void run_faulty(uint64_t seed) {
    SCOPED_TRACE(testing::Message() << "RINGLOG_SEED=" << seed);
    std::mt19937_64 random(seed);
    std::vector<Shape> shapes;
    for (int index = 0; index < 150; ++index) {
        const bool big = random() % 5 == 0;
        shapes.push_back(
            Shape{static_cast<uint32_t>(big ? 12 + random() % 20'000 : 12 + random() % 900),
                  static_cast<uint32_t>(big ? random() % 30'000 : random() % 1'000)});
    }
    ClientOptions client_options;
    client_options.retransmit_timeout = std::chrono::microseconds(200);
    client_options.retransmit_timeout_max = std::chrono::milliseconds(4);
    client_options.retransmits_max = 1'000;
    Harness harness(FaultOptions{.drop = 0.1, .duplicate = 0.1, .reorder = 0.1, .seed = seed},
                    client_options);
    const Outcome outcome = harness.run(shapes, 16);
    EXPECT_EQ(outcome.matched, static_cast<int>(shapes.size()));
    expect_each_executed_once(harness.handler, shapes.size());
    EXPECT_GT(harness.client->stats().retransmits, 0u);
    EXPECT_GT(harness.server_faults->faults().dropped + harness.client_faults->faults().dropped,
              0u);
    EXPECT_GT(harness.server->stats().duplicate_requests, 0u);
}

TEST(DatagramSession, DropsDuplicatesAndReordersStillExecuteEachRequestOnce) {
    if (std::getenv("RINGLOG_SEED") != nullptr) {
        run_faulty(seed_from_env(0));
        return;
    }
    for (const uint64_t seed : {1u, 2u, 3u, 42u}) {
        run_faulty(seed);
    }
    run_faulty(std::random_device{}());
}

TEST(DatagramSession, ACallWithoutAnswersFailsUnavailable) {
    ClientOptions client_options;
    client_options.retransmit_timeout = std::chrono::microseconds(50);
    client_options.retransmit_timeout_max = std::chrono::microseconds(200);
    client_options.retransmits_max = 5;
    Harness harness(FaultOptions{.drop = 1.0, .duplicate = 0, .reorder = 0, .seed = 1},
                    client_options);
    absl::StatusOr<std::vector<std::byte>> result = harness.reactor->block_on(
        [](ClientSession& session) -> io::Task<absl::StatusOr<std::vector<std::byte>>> {
            const std::vector<std::byte> request = make_request(1, 20, 20);
            co_return co_await session.call(request);
        }(*harness.session));
    EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(harness.client->stats().retransmits, 5u);
}

TEST(DatagramSession, PacketsForUnknownSessionsAreDropped) {
    Harness harness;
    std::array<std::byte, PacketHeader::wire_bytes + 4> packet{};
    PacketHeader header;
    header.session_id = 999;
    header.sequence = 1;
    header.message_bytes = 4;
    header.encode(packet.data());
    const Bytes whole(packet);
    const OutgoingPacket outgoing{
        .target = server_address, .header = whole, .payload = {}, .pin = nullptr};
    harness.client_io.transmit(std::span<const OutgoingPacket>(&outgoing, 1));
    const Outcome outcome = harness.run(std::vector<Shape>(1, Shape{20, 20}), 1);
    EXPECT_EQ(outcome.matched, 1);
    EXPECT_EQ(harness.server->stats().dropped_unknown, 1u);
}

TEST(DatagramSession, AFullTableClosesIdleSessionsToMakeRoom) {
    ServerOptions server_options;
    server_options.sessions_max = 1;  // the harness's own session fills it
    server_options.session_idle_timeout = std::chrono::hours(1);
    {
        Harness harness(std::nullopt, ClientOptions{}, server_options);
        EXPECT_EQ(harness.server->open_session(1472).status().code(),
                  absl::StatusCode::kResourceExhausted);
        EXPECT_EQ(harness.server->session_count(), 1u);
    }
    server_options.session_idle_timeout = std::chrono::nanoseconds(0);
    Harness harness(std::nullopt, ClientOptions{}, server_options);
    EXPECT_TRUE(harness.server->open_session(1472).ok());  // the idle one made room
    EXPECT_EQ(harness.server->stats().sessions_expired, 1u);
    EXPECT_EQ(harness.server->session_count(), 1u);
}

TEST(DatagramWire, HeaderRoundTripsAndRejectsContradictions) {
    PacketHeader header;
    header.type = PacketType::response;
    header.session_id = 0x01020304;
    header.sequence = 0x1122334455667788;
    header.message_bytes = 5000;
    header.fragment_index = 2;
    header.fragment_count = 4;
    header.fragment_offset = 2888;
    std::vector<std::byte> packet(PacketHeader::wire_bytes + 1000);
    header.encode(packet.data());
    const std::optional<PacketHeader> decoded = PacketHeader::decode(packet);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->session_id, header.session_id);
    EXPECT_EQ(decoded->sequence, header.sequence);
    EXPECT_EQ(decoded->fragment_offset, header.fragment_offset);
    header.fragment_offset = 4500;  // 4500 + 1000 > 5000
    header.encode(packet.data());
    EXPECT_FALSE(PacketHeader::decode(packet).has_value());
    header.fragment_offset = 0;
    header.fragment_index = 4;  // of 4
    header.encode(packet.data());
    EXPECT_FALSE(PacketHeader::decode(packet).has_value());
    EXPECT_FALSE(PacketHeader::decode(std::span(packet).first(10)).has_value());
}

}  // namespace
}  // namespace ringlog::net::dpdk
