#include "core/broker.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <latch>
#include <limits>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <absl/strings/str_cat.h>

#include "core/datagram_server.h"
#include "core/kafka_server.h"
#include "core/metrics/metrics_server.h"
#include "io/base/limits.h"
#include "io/base/status_macros.h"
#include "net/dpdk/dpdk_port.h"
#include "net/tcp/listener.h"

namespace ringlog::core {
namespace {

// Kafka's cluster ids are 22 characters of URL-safe base64 (16 random bytes).
std::string new_cluster_id() {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::mt19937_64 generator{std::random_device{}()};
    std::string id;
    for (int i = 0; i < 22; ++i) {
        id.push_back(alphabet[generator() % 64]);
    }
    return id;
}

// Read once at start, before any shard runs: a plain file in the data folder.
absl::StatusOr<std::string> load_cluster_id(const std::string& data_dir) {
    const std::string path = data_dir + "/cluster_id";
    {
        std::ifstream in(path);
        std::string id;
        if (in && std::getline(in, id) && !id.empty()) {
            return id;
        }
    }
    const std::string id = new_cluster_id();
    const std::string temporary = path + ".tmp";
    {
        std::ofstream out(temporary, std::ios::trunc);
        out << id << "\n";
        out.flush();
        if (!out) {
            return absl::PermissionDeniedError(absl::StrCat("cannot write ", temporary));
        }
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
    }
    return id;
}

}  // namespace

Broker::Broker(BrokerConfig config) : config_(std::move(config)) {
    defaults_.log = config_.log;
    defaults_.max_message_bytes = config_.max_message_bytes;
}

Broker::~Broker() {
    if (started_) {
        (void)stop();
    }
}

absl::Status Broker::run_everywhere(const std::function<io::Task<absl::Status>(Shard&)>& fn) {
    std::mutex mutex;
    absl::Status first;
    std::latch done(shards_->count());
    shards_->run_on_all([&](Shard& shard) -> io::Task<void> {
        return [](const std::function<io::Task<absl::Status>(Shard&)>& work, Shard& on,
                  std::mutex& lock, absl::Status& result, std::latch& finished) -> io::Task<void> {
            absl::Status status = co_await work(on);
            {
                std::lock_guard guard(lock);
                if (!status.ok() && result.ok()) {
                    result = status;
                }
            }
            finished.count_down();
        }(fn, shard, mutex, first, done);
    });
    done.wait();
    return first;
}

absl::Status Broker::start() {
    RL_ASSERT(!started_);
    std::error_code error;
    std::filesystem::create_directories(config_.data_dir, error);
    if (error) {
        return absl::PermissionDeniedError(
            absl::StrCat("create ", config_.data_dir, ": ", error.message()));
    }
    RL_ASSIGN_OR_RETURN(cluster_id_, load_cluster_id(config_.data_dir));
    int shard_count = config_.shards;
    if (shard_count <= 0) {
        shard_count = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    }
    if (!config_.dpdk_eal_args.empty()) {
        // Before the shards exist: EAL starts its own threads and owns the ports from here.
        RL_RETURN_IF_ERROR(net::dpdk::init_eal(config_.dpdk_eal_args));
        if (net::dpdk::dpdk_port_count() < static_cast<uint16_t>(shard_count)) {
            return absl::InvalidArgumentError(absl::StrCat(
                "--dpdk: ", shard_count, " shards need at least as many DPDK ports, EAL has ",
                net::dpdk::dpdk_port_count()));
        }
    }
    ShardSetOptions shard_options;
    shard_options.shard_count = shard_count;
    if (config_.busy_poll) {
        // Never back off into the kernel: a DPDK queue cannot end such a wait, so a request
        // after a quiet spell would wait for its end (up to poll_wait_max). Costs a core each.
        shard_options.reactor.poll_spin_turns = std::numeric_limits<unsigned>::max();
    }
    shard_options.reactor.idle_spin = std::chrono::microseconds(config_.idle_spin_us);
    shards_ = std::make_unique<ShardSet>(shard_options);
    RL_RETURN_IF_ERROR(shards_->start());
    started_ = true;
    locals_.resize(static_cast<size_t>(shard_count));
    tail_pools_.resize(static_cast<size_t>(shard_count));
    servers_.resize(static_cast<size_t>(shard_count));
    datagram_servers_.resize(static_cast<size_t>(shard_count));
    coordinators_.resize(static_cast<size_t>(shard_count));
    const uint64_t member_id_seed = std::random_device{}();

    // 1. Each shard's state, made on its own thread (its file system uses its reactor).
    absl::Status status = run_everywhere([this,
                                          member_id_seed](Shard& shard) -> io::Task<absl::Status> {
        // Allocated (and touched) on the shard's own thread, and registered with its ring,
        // so tail writes are WRITE_FIXED and the data path never faults a page in.
        const size_t chunks =
            std::max<size_t>(1, config_.tail_memory_bytes / limits::tail_chunk_bytes);
        auto pool = std::make_unique<io::BufferPool>(limits::tail_chunk_bytes, chunks);
        const absl::Status registered = shard.reactor().register_buffers(*pool);
        if (!registered.ok()) {
            std::fprintf(stderr, "ringlogd: shard %u: tail chunks not registered (%s)\n",
                         shard.id().value(), std::string(registered.message()).c_str());
        }
        tail_pools_[shard.id().value()] = std::move(pool);
        locals_[shard.id().value()] =
            std::make_unique<ShardLocal>(shard, config_.data_dir, defaults_,
                                         tail_pools_[shard.id().value()].get(), config_.group_sync);
        locals_[shard.id().value()]->start_retention(config_.retention_check_interval_ms);
        locals_[shard.id().value()]->start_cleaner(config_.cleaner_interval_ms,
                                                   config_.cleaner_io_bytes_per_sec);
        coordinators_[shard.id().value()] = std::make_unique<group::GroupCoordinator>(
            *this, *locals_[shard.id().value()],
            member_id_seed * 0x9e3779b97f4a7c15ULL + shard.id().value());
        if (shard.id() == controller_shard) {
            controller_ = std::make_unique<Controller>(*this);
            producer_ids_ =
                std::make_unique<ProducerIds>(locals_[shard.id().value()]->fs(), config_.data_dir);
        }
        return [](absl::Status ok) -> io::Task<absl::Status> { co_return ok; }(absl::OkStatus());
    });
    // 2. The topics, each partition opened (recovered) on its shard.
    if (status.ok()) {
        std::promise<absl::Status> loaded;
        shards_->run_on(controller_shard, [this, &loaded](Shard&) -> io::Task<void> {
            return [](Broker& broker, std::promise<absl::Status>& result) -> io::Task<void> {
                result.set_value(co_await broker.controller().load());
            }(*this, loaded);
        });
        status = loaded.get_future().get();
    }
    // 3. Each shard's consumer groups, replayed from its __consumer_offsets partitions.
    if (status.ok()) {
        status = run_everywhere([this](Shard& shard) -> io::Task<absl::Status> {
            return coordinators_[shard.id().value()]->load();
        });
    }
    // 4. The listeners.
    if (status.ok() && !config_.advertise_shards && config_.port != 0) {
        status = net::tcp::Listener::check_port_unused(config_.listen_host,
                                                       static_cast<uint16_t>(config_.port));
    }
    if (status.ok()) {
        status = run_everywhere([this](Shard& shard) -> io::Task<absl::Status> {
            servers_[shard.id().value()] = std::make_unique<KafkaServer>(*this, shard);
            return servers_[shard.id().value()]->start();
        });
    }
    // 5. /metrics, on the controller shard. A port someone else holds costs the endpoint, not
    //    the broker: it says so and serves Kafka anyway.
    if (status.ok() && config_.metrics_port >= 0) {
        std::promise<void> served;
        shards_->run_on(controller_shard, [this, &served](Shard& shard) -> io::Task<void> {
            metrics_ = std::make_unique<MetricsServer>(*this);
            const absl::Status started =
                metrics_->start(shard.reactor(), static_cast<uint16_t>(config_.metrics_port));
            if (started.ok()) {
                std::fprintf(stderr, "ringlogd: metrics on http://%s:%u/metrics\n",
                             config_.listen_host.c_str(), metrics_->port());
            } else {
                std::fprintf(stderr, "ringlogd: no /metrics: %s\n",
                             std::string(started.message()).c_str());
                metrics_.reset();
            }
            served.set_value();
            return [](absl::Status ok) -> io::Task<void> {
                (void)ok;
                co_return;
            }(absl::OkStatus());
        });
        served.get_future().wait();
    }
    // 6. The datagram transport, whose sessions are opened through the listeners.
    if (status.ok() && datagram_enabled(config_)) {
        status = run_everywhere([this](Shard& shard) -> io::Task<absl::Status> {
            datagram_servers_[shard.id().value()] = std::make_unique<DatagramServer>(*this, shard);
            return datagram_servers_[shard.id().value()]->start();
        });
    }
    if (!status.ok()) {
        (void)stop();
        return status;
    }
    size_t partitions = 0;
    for (const auto& local : locals_) {
        partitions += local->partition_count();  // the shards are idle: nothing changes now
    }
    std::fprintf(stderr, "ringlogd: %d shards, %zu partitions, data in %s, cluster %s\n",
                 shard_count, partitions, config_.data_dir.c_str(), cluster_id_.c_str());
    return absl::OkStatus();
}

absl::Status Broker::stop() {
    if (!started_) {
        return absl::OkStatus();
    }
    // Listeners, datagram endpoints and connections first, so no request starts while the logs
    // close. Requests waiting in a group (JoinGroup, SyncGroup) are answered first, so that none
    // holds up its connection, and a coordinator that is stopping answers at once.
    (void)run_everywhere([this](Shard& shard) -> io::Task<absl::Status> {
        return [](std::unique_ptr<KafkaServer>& server, std::unique_ptr<MetricsServer>* metrics,
                  std::unique_ptr<DatagramServer>& datagram,
                  group::GroupCoordinator* groups) -> io::Task<absl::Status> {
            if (groups != nullptr) {
                groups->begin_stop();
            }
            if (metrics != nullptr && *metrics != nullptr) {
                co_await (*metrics)->stop();
                metrics->reset();
            }
            if (datagram != nullptr) {
                co_await datagram->stop();
                datagram.reset();
            }
            if (server != nullptr) {
                co_await server->stop();
                server.reset();
            }
            co_return absl::OkStatus();
        }(servers_[shard.id().value()], shard.id() == controller_shard ? &metrics_ : nullptr,
                                                   datagram_servers_[shard.id().value()],
                                                   coordinators_[shard.id().value()].get());
    });
    // Then the groups' timers and writes, once no shard has a request that could reach them.
    (void)run_everywhere([this](Shard& shard) -> io::Task<absl::Status> {
        return [](std::unique_ptr<group::GroupCoordinator>& groups) -> io::Task<absl::Status> {
            if (groups != nullptr) {
                co_await groups->stop();
                groups.reset();
            }
            co_return absl::OkStatus();
        }(coordinators_[shard.id().value()]);
    });
    const absl::Status closed = run_everywhere([this](Shard& shard) -> io::Task<absl::Status> {
        return [](Broker& broker, Shard& on) -> io::Task<absl::Status> {
            std::unique_ptr<ShardLocal>& local = broker.locals_[on.id().value()];
            absl::Status status;
            if (local != nullptr) {
                status = co_await local->close_all();
                if (on.id() == controller_shard) {
                    broker.controller_.reset();
                    broker.producer_ids_.reset();
                }
                local.reset();
            }
            co_return status;
        }(*this, shard);
    });
    shards_->stop();
    tail_pools_.clear();  // every chunk is back: the shards released what they held
    started_ = false;
    return closed;
}

}  // namespace ringlog::core
