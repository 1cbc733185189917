// RequestPath: see request_path.h.
#include "tools/ringlog/bench/request_path.h"

#include <cstdio>
#include <deque>
#include <optional>

#include "core/shard.h"
#include "io/event.h"
#include "io/task_group.h"
#include "net/tcp/client_connection.h"

namespace ringlog::tools::bench {
namespace {

class TcpPath final : public RequestPath {
public:
    explicit TcpPath(std::unique_ptr<net::tcp::ClientConnection> connection)
        : connection_(std::move(connection)) {}

    io::Task<absl::Status> send(std::span<const Segment> segments, bool) override {
        return connection_->send(segments);
    }

    io::Task<absl::StatusOr<std::span<const std::byte>>> next_frame() override {
        return connection_->next_frame();
    }

    void close() override { connection_->close(); }

    io::Task<void> drain() override { co_return; }

private:
    std::unique_ptr<net::tcp::ClientConnection> connection_;
};

// One request on the datagram path: its frame (without the size prefix, owned here because the
// session reads it until the call completes) and, once answered, its result.
struct Call {
    std::vector<std::byte> frame;
    std::optional<absl::StatusOr<std::vector<std::byte>>> result;
};

class DatagramPath final : public RequestPath {
public:
    explicit DatagramPath(net::dpdk::ClientSession& session) : session_(&session) {}

    io::Task<absl::Status> send(std::span<const Segment> segments, bool expects_response) override {
        if (closed_) {
            co_return absl::UnavailableError("request path closed");
        }
        // Queued first so that answers are handed out in request order; a request without a
        // response still waits for its (empty) acknowledgement, off the queue.
        std::deque<Call>& queue = expects_response ? pending_ : unanswered_;
        Call& call = queue.emplace_back();
        for (const Segment& segment : segments) {
            call.frame.insert(call.frame.end(), segment.begin(), segment.end());
        }
        call.frame.erase(call.frame.begin(), call.frame.begin() + 4);  // the size prefix
        calls_.spawn(run_call(*session_, call, answered_));
        // Unanswered calls complete in order of issue often enough; drop the finished ones.
        while (!unanswered_.empty() && unanswered_.front().result.has_value()) {
            unanswered_.pop_front();
        }
        co_return absl::OkStatus();
    }

    io::Task<absl::StatusOr<std::span<const std::byte>>> next_frame() override {
        if (have_current_) {
            pending_.pop_front();
            have_current_ = false;
        }
        while (!closed_ && (pending_.empty() || !pending_.front().result.has_value())) {
            co_await answered_.wait();
        }
        if (closed_) {
            co_return absl::UnavailableError("request path closed");
        }
        absl::StatusOr<std::vector<std::byte>>& result = *pending_.front().result;
        if (!result.ok()) {
            co_return result.status();
        }
        current_ = *result;
        have_current_ = true;
        co_return std::span<const std::byte>(current_);
    }

    void close() override {
        closed_ = true;
        answered_.notify_all();
    }

    io::Task<void> drain() override { co_await calls_.wait_idle(); }

private:
    static io::Task<void> run_call(net::dpdk::ClientSession& session, Call& call,
                                   io::Notify& answered) {
        call.result = co_await session.call(call.frame);
        answered.notify_all();
    }

    net::dpdk::ClientSession* session_;  // of the worker's DatagramClient (RequestPaths)
    std::deque<Call> pending_;           // answers expected, in request order
    std::deque<Call> unanswered_;        // acks=0 produces
    std::span<const std::byte> current_;
    bool have_current_ = false;
    bool closed_ = false;
    io::Notify answered_;
    io::TaskGroup calls_;
};

}  // namespace

RequestPaths::RequestPaths(io::Reactor& reactor, const BenchOptions& options, int worker)
    : reactor_(reactor), options_(options), worker_(worker) {}

RequestPaths::~RequestPaths() {
    if (datagram_ != nullptr) {
        // For whoever measures: retransmissions are what a lossy or overloaded path costs.
        const net::dpdk::ClientStats stats = datagram_->stats();
        std::fprintf(stderr,
                     "bench: worker %d over %s: %llu calls, %llu failed, %llu retransmissions, "
                     "%llu packets sent, %llu stray answers\n",
                     worker_, options_.transport.c_str(),
                     static_cast<unsigned long long>(stats.calls),
                     static_cast<unsigned long long>(stats.calls_failed),
                     static_cast<unsigned long long>(stats.retransmits),
                     static_cast<unsigned long long>(stats.packets_sent),
                     static_cast<unsigned long long>(stats.stray_packets));
    }
}

io::Task<absl::StatusOr<std::unique_ptr<RequestPath>>> RequestPaths::connect(
    const BrokerAddress& leader, int32_t partition) {
    if (options_.transport == "tcp") {
        absl::StatusOr<std::unique_ptr<net::tcp::ClientConnection>> connection =
            co_await net::tcp::ClientConnection::connect(reactor_, leader.host, leader.port);
        if (!connection.ok()) {
            co_return connection.status();
        }
        co_return std::unique_ptr<RequestPath>(new TcpPath(*std::move(connection)));
    }
    if (datagram_ == nullptr) {
        DatagramClientOptions client_options;
        client_options.bootstrap_host = options_.bootstrap_host;
        client_options.bootstrap_port = options_.bootstrap_port;
        client_options.transport = options_.transport;
        client_options.dpdk_eal_args = options_.dpdk_eal_args;
        client_options.local_ip = options_.local_ip;
        client_options.client_index = worker_;
        absl::StatusOr<std::unique_ptr<DatagramClient>> client =
            DatagramClient::connect(reactor_, client_options);
        if (!client.ok()) {
            co_return client.status();
        }
        datagram_ = *std::move(client);
    }
    const int shard = static_cast<int>(
        core::shard_for(options_.topic, partition, datagram_->shard_count()).value());
    absl::StatusOr<net::dpdk::ClientSession*> session = datagram_->open_session(shard);
    if (!session.ok()) {
        co_return session.status();
    }
    co_return std::unique_ptr<RequestPath>(new DatagramPath(**session));
}

}  // namespace ringlog::tools::bench
