#include "core/controller.h"

#include <absl/strings/str_cat.h>

#include "core/broker.h"
#include "core/group/group_limits.h"
#include "io/base/status_macros.h"
#include "io/task_group.h"

namespace ringlog::core {
namespace {

// A bound on one request's appetite, not a design limit: each partition costs a log with its
// preallocated segment and an in-memory tail.
constexpr int32_t partitions_max = 10'000;

io::Task<absl::Status> open_each(ShardLocal& local, const TopicInfo& topic,
                                 std::vector<int32_t> indexes) {
    for (const int32_t index : indexes) {
        RL_CO_RETURN_IF_ERROR(co_await local.open_partition(topic, index));
    }
    co_return absl::OkStatus();
}

io::Task<void> open_on_shard(Broker& broker, ShardId shard, const TopicInfo& topic,
                             std::vector<int32_t> indexes, absl::Status& result) {
    auto open = [&broker, shard, &topic, indexes = std::move(indexes)]() mutable {
        return open_each(broker.local_of(shard), topic, std::move(indexes));
    };
    absl::Status status = co_await broker.shards().submit_to(shard, std::move(open));
    if (!status.ok() && result.ok()) {
        result = status;
    }
}

io::Task<void> close_on_shard(Broker& broker, ShardId shard, std::string name,
                              absl::Status& result) {
    auto close = [&broker, shard, name = std::move(name)]() mutable {
        return broker.local_of(shard).close_topic(std::move(name), true);
    };
    absl::Status status = co_await broker.shards().submit_to(shard, std::move(close));
    if (!status.ok() && result.ok()) {
        result = status;
    }
}

io::Task<void> set_catalog_on(Broker& broker, ShardId shard, CatalogRef catalog) {
    auto set = [&broker, shard, catalog = std::move(catalog)]() mutable {
        broker.local_of(shard).set_catalog(std::move(catalog));
    };
    co_await broker.shards().submit_to(shard, std::move(set));
}

}  // namespace

Controller::Controller(Broker& broker)
    : broker_(broker),
      store_(broker.local().fs(), broker.config().data_dir),
      catalog_(std::make_shared<const Catalog>()) {}

io::Task<absl::Status> Controller::load() {
    co_await mutex_.lock();
    io::AsyncMutexUnlock unlock(mutex_);
    RL_CO_ASSIGN_OR_RETURN(std::vector<TopicInfo> topics, co_await store_.load());
    CatalogRef catalog = catalog_;
    for (TopicInfo& topic : topics) {
        // Adopted topics (partition folders without a file) get one now, keeping their id.
        RL_CO_RETURN_IF_ERROR(co_await store_.save(topic));
        RL_CO_RETURN_IF_ERROR(co_await open_partitions(topic, 0));
        catalog = catalog->with(std::move(topic));
    }
    if (catalog->find(group::offsets_topic) == nullptr) {
        // The groups' topic, made once; its partition count then comes from its file, so a
        // group's coordinator partition never moves (core/group/group_limits.h). Compacted and
        // never trimmed by retention (the latest record per key is the state); small segments,
        // so that each partition zero-fills only 1 MiB ahead and compaction finds sealed
        // segments early (Kafka's offsets.topic.segment.bytes is 100 MiB).
        RL_CO_ASSIGN_OR_RETURN(TopicConfig config, TopicConfig::parse({
                                                       {"cleanup.policy", "compact"},
                                                       {"retention.ms", "-1"},
                                                       {"retention.bytes", "-1"},
                                                       {"segment.bytes", "1048576"},
                                                   }));
        TopicInfo topic{.name = std::string(group::offsets_topic),
                        .id = random_topic_id(),
                        .partitions = group::offsets_topic_partitions,
                        .config = std::move(config)};
        RL_CO_RETURN_IF_ERROR(co_await store_.save(topic));
        RL_CO_RETURN_IF_ERROR(co_await open_partitions(topic, 0));
        catalog = catalog->with(std::move(topic));
    }
    co_await publish(std::move(catalog));
    co_return absl::OkStatus();
}

io::Task<absl::StatusOr<TopicInfo>> Controller::create_topic(CreateTopicRequest request) {
    RL_CO_RETURN_IF_ERROR(check_topic_name(request.name));
    if (request.partitions == -1) {
        request.partitions = broker_.config().default_partitions;
    }
    if (request.partitions < 1 || request.partitions > partitions_max) {
        co_return absl::InvalidArgumentError(
            absl::StrCat("the number of partitions must be between 1 and ", partitions_max,
                         ", not ", request.partitions));
    }
    if (request.replication_factor != -1 && request.replication_factor != 1) {
        co_return absl::InvalidArgumentError(
            absl::StrCat("replication factor ", request.replication_factor,
                         " is impossible: this broker keeps one copy of each partition"));
    }
    RL_CO_ASSIGN_OR_RETURN(TopicConfig config, TopicConfig::parse(request.configs));
    co_await mutex_.lock();
    io::AsyncMutexUnlock unlock(mutex_);
    if (catalog_->find(request.name) != nullptr) {
        co_return absl::AlreadyExistsError(absl::StrCat("topic ", request.name, " already exists"));
    }
    TopicInfo topic{.name = request.name,
                    .id = random_topic_id(),
                    .partitions = request.partitions,
                    .config = std::move(config)};
    if (request.validate_only) {
        co_return topic;
    }
    // The file first: a crash after it leaves a topic whose partitions the next start opens.
    RL_CO_RETURN_IF_ERROR(co_await store_.save(topic));
    RL_CO_RETURN_IF_ERROR(co_await open_partitions(topic, 0));
    co_await publish(catalog_->with(topic));
    std::fprintf(stderr, "ringlogd: created topic %s with %d partitions\n", topic.name.c_str(),
                 topic.partitions);
    co_return topic;
}

io::Task<absl::Status> Controller::delete_topic(std::string name) {
    if (name == group::offsets_topic) {
        co_return absl::InvalidArgumentError(
            "the internal topic name __consumer_offsets cannot be deleted: it holds the groups");
    }
    co_await mutex_.lock();
    io::AsyncMutexUnlock unlock(mutex_);
    if (catalog_->find(name) == nullptr) {
        co_return absl::NotFoundError(absl::StrCat("no topic ", name));
    }
    // Unpublished first, so no new request finds it; then each shard closes its partitions
    // (waiting for requests still using them) and removes their data; the file goes last.
    co_await publish(catalog_->without(name));
    absl::Status result;
    {
        io::TaskGroup closes;
        for (int i = 0; i < broker_.shard_count(); ++i) {
            closes.spawn(close_on_shard(broker_, ShardId(static_cast<uint32_t>(i)), name, result));
        }
        co_await closes.wait_idle();
    }
    RL_CO_RETURN_IF_ERROR(result);
    RL_CO_RETURN_IF_ERROR(co_await store_.remove(name));
    std::fprintf(stderr, "ringlogd: deleted topic %s\n", name.c_str());
    co_return absl::OkStatus();
}

io::Task<absl::Status> Controller::add_partitions(std::string name, int32_t count,
                                                  bool validate_only) {
    if (name == group::offsets_topic) {
        // More partitions would move groups to other coordinator partitions.
        co_return absl::InvalidArgumentError("the partitions of __consumer_offsets are fixed");
    }
    co_await mutex_.lock();
    io::AsyncMutexUnlock unlock(mutex_);
    const TopicInfo* existing = catalog_->find(name);
    if (existing == nullptr) {
        co_return absl::NotFoundError(absl::StrCat("no topic ", name));
    }
    if (count <= existing->partitions || count > partitions_max) {
        co_return absl::InvalidArgumentError(absl::StrCat(
            "topic ", name, " has ", existing->partitions,
            " partitions: the new partition count must be larger and at most ", partitions_max));
    }
    if (validate_only) {
        co_return absl::OkStatus();
    }
    TopicInfo topic = *existing;
    const int32_t first_new = topic.partitions;
    topic.partitions = count;
    RL_CO_RETURN_IF_ERROR(co_await store_.save(topic));
    RL_CO_RETURN_IF_ERROR(co_await open_partitions(topic, first_new));
    co_await publish(catalog_->with(std::move(topic)));
    co_return absl::OkStatus();
}

io::Task<absl::Status> Controller::open_partitions(const TopicInfo& topic, int32_t first) {
    const int shard_count = broker_.shard_count();
    std::vector<std::vector<int32_t>> by_shard(static_cast<size_t>(shard_count));
    for (int32_t index = first; index < topic.partitions; ++index) {
        by_shard[shard_for(topic.name, index, shard_count).value()].push_back(index);
    }
    absl::Status result;
    io::TaskGroup opens;
    for (int i = 0; i < shard_count; ++i) {
        if (!by_shard[static_cast<size_t>(i)].empty()) {
            opens.spawn(open_on_shard(broker_, ShardId(static_cast<uint32_t>(i)), topic,
                                      std::move(by_shard[static_cast<size_t>(i)]), result));
        }
    }
    co_await opens.wait_idle();
    co_return result;
}

io::Task<void> Controller::publish(CatalogRef catalog) {
    catalog_ = catalog;
    io::TaskGroup sets;
    for (int i = 0; i < broker_.shard_count(); ++i) {
        sets.spawn(set_catalog_on(broker_, ShardId(static_cast<uint32_t>(i)), catalog));
    }
    co_await sets.wait_idle();
}

}  // namespace ringlog::core
