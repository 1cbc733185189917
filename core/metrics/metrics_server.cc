#include "core/metrics/metrics_server.h"

#include "core/broker.h"
#include "core/metrics/collect.h"

namespace ringlog::core {
namespace {

io::Task<metrics::ShardScrape> collect_on(Broker& broker, ShardId shard) {
    auto collect = [&broker, shard] {
        return metrics::scrape_shard(broker.local_of(shard), broker.groups_or_null(shard));
    };
    co_return co_await broker.shards().submit_to(shard, std::move(collect));
}

}  // namespace

absl::Status MetricsServer::start(io::Reactor& reactor, uint16_t port) {
    auto http = net::http::HttpServer::start(
        reactor, broker_.config().listen_host, port,
        [this](std::string target) { return answer(std::move(target)); });
    if (!http.ok()) {
        return http.status();
    }
    http_ = *std::move(http);
    return absl::OkStatus();
}

io::Task<void> MetricsServer::stop() {
    if (http_ != nullptr) {
        co_await http_->stop();
        http_.reset();
    }
}

io::Task<net::http::HttpResponse> MetricsServer::answer(std::string target) {
    net::http::HttpResponse response;
    if (target != "/metrics" && target.rfind("/metrics?", 0) != 0) {
        response.status = 404;
        response.body = "try /metrics\n";
        co_return response;
    }
    std::vector<metrics::ShardScrape> shards;
    for (int i = 0; i < broker_.shard_count(); ++i) {
        shards.push_back(co_await collect_on(broker_, ShardId(static_cast<uint32_t>(i))));
    }
    metrics::SampleSet all;
    for (metrics::ShardScrape& shard : shards) {
        all.append(std::move(shard.samples));
    }
    all.append(metrics::consumer_lag(shards));
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = all.text();
    co_return response;
}

}  // namespace ringlog::core
