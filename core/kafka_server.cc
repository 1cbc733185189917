#include "core/kafka_server.h"

#include <chrono>
#include <cstdio>
#include <string>

namespace ringlog::core {

KafkaServer::~KafkaServer() {
    RL_ASSERT(tasks_.active() == 0, "KafkaServer destroyed while serving");
}

io::Task<absl::Status> KafkaServer::start() {
    const BrokerConfig& config = broker_.config();
    const bool per_shard = config.advertise_shards;
    const int port = per_shard ? config.port + static_cast<int>(shard_.id().value()) : config.port;
    auto listener = net::tcp::Listener::bind(shard_.reactor(), config.listen_host,
                                             static_cast<uint16_t>(port), 1024,
                                             /*reuse_port=*/!per_shard);
    if (!listener.ok()) {
        co_return absl::Status(listener.status().code(),
                               absl::StrCat("listen on ", config.listen_host, ":", port, ": ",
                                            listener.status().message()));
    }
    listener_ = *std::move(listener);
    // 256 x 64 KiB: a produce frame of up to 64 KiB is decoded in place in the buffer the kernel
    // received it into; larger frames are assembled by one copy either way.
    auto ring = io::ProvidedBufferRing::create(
        shard_.reactor(), io::ProvidedBufferRingOptions{
                              .group_id = 0, .buffer_count = 256, .buffer_bytes = 64 * 1024});
    if (ring.ok()) {
        buffer_ring_ = *std::move(ring);
    } else {
        std::fprintf(stderr, "ringlogd: shard %u: no provided buffer ring (%s), plain receives\n",
                     shard_.id().value(), std::string(ring.status().message()).c_str());
    }
    std::fprintf(stderr, "ringlogd: shard %u listening on %s:%u\n", shard_.id().value(),
                 config.listen_host.c_str(), listener_->port());
    tasks_.spawn(accept_loop());
    co_return absl::OkStatus();
}

io::Task<void> KafkaServer::accept_loop() {
    while (!stopping_) {
        absl::StatusOr<int> accepted = co_await listener_->accept();
        if (!accepted.ok()) {
            if (accepted.status().code() == absl::StatusCode::kCancelled || stopping_) {
                break;
            }
            // EMFILE and the like: this connection is lost, the listener keeps going.
            std::fprintf(stderr, "ringlogd: accept: %s\n",
                         std::string(accepted.status().message()).c_str());
            continue;
        }
        tasks_.spawn(serve(*accepted));
    }
}

io::Task<void> KafkaServer::serve(int fd) {
    Client client(broker_);
    net::tcp::ConnectionOptions options;
    options.frame_bytes_max = broker_.config().request_bytes_max;
    options.buffer_ring = buffer_ring_.get();
    client.connection =
        std::make_unique<net::tcp::Connection>(shard_.reactor(), fd, client.session, options);
    client.session.attach(*client.connection);
    clients_.push_front(&client);
    const auto self = clients_.begin();
    metrics::ShardMetrics& counts = broker_.local().metrics();
    ++counts.connections_accepted;
    ++counts.connections_open;
    if (stopping_) {
        client.connection->close();
    }
    const absl::Status status = co_await client.connection->run();
    clients_.erase(self);
    --counts.connections_open;
    if (!status.ok() && status.code() != absl::StatusCode::kInvalidArgument) {
        // A peer gone mid-frame or a reset: worth a line, not an alarm. (A bad frame was
        // logged by the connection already.)
        std::fprintf(stderr, "ringlogd: connection ended: %s\n",
                     std::string(status.message()).c_str());
    }
}

// How long stop() lets connections drain (answer the requests they read, send the responses,
// see the client close) before it closes them. Long enough for a Fetch's max_wait_ms (500 ms by
// default) and an acks=all flush; BrokerConfig has no field for it (yet).
constexpr std::chrono::seconds drain_timeout{5};

io::Task<void> KafkaServer::stop() {
    stopping_ = true;
    if (listener_ != nullptr) {
        co_await listener_->close();
    }
    for (Client* client : clients_) {
        client->connection->drain();
    }
    // tasks_ goes idle once the accept loop and every serve() ended; a watcher turns that into a
    // notification, so the wait ends as soon as the last connection drained, or at the deadline.
    bool idle = false;
    io::Notify went_idle;
    io::TaskGroup watcher;
    const auto watch = [](io::TaskGroup& tasks, bool& done, io::Notify& notify) -> io::Task<void> {
        co_await tasks.wait_idle();
        done = true;
        notify.notify_all();
    };
    watcher.spawn(watch(tasks_, idle, went_idle));
    io::Reactor& reactor = shard_.reactor();
    const auto deadline = reactor.now() + drain_timeout;
    while (!idle && reactor.now() < deadline) {
        (void)co_await went_idle.wait_for(deadline - reactor.now());
    }
    if (!idle) {
        std::fprintf(stderr,
                     "ringlogd: shard %u: %zu connection(s) still draining after %lld s, "
                     "closing them\n",
                     shard_.id().value(), clients_.size(),
                     static_cast<long long>(drain_timeout.count()));
        for (Client* client : clients_) {
            client->connection->close();
        }
    }
    co_await watcher.wait_idle();
    listener_.reset();
    buffer_ring_.reset();
}

}  // namespace ringlog::core
