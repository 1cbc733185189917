// KafkaClient: see kafka_client.h.
#include "tools/ringlog/bench/kafka_client.h"

namespace ringlog::tools::bench {

io::Task<absl::StatusOr<std::unique_ptr<KafkaClient>>> KafkaClient::connect(io::Reactor& reactor,
                                                                            std::string host,
                                                                            uint16_t port) {
    absl::StatusOr<std::unique_ptr<net::tcp::ClientConnection>> connection =
        co_await net::tcp::ClientConnection::connect(reactor, std::move(host), port);
    if (!connection.ok()) {
        co_return connection.status();
    }
    co_return std::unique_ptr<KafkaClient>(new KafkaClient(*std::move(connection)));
}

}  // namespace ringlog::tools::bench
