// The catalog: every topic the broker has, with its id, partition count and config. A Catalog
// is immutable; a change (create, delete, add partitions) makes a new one on the controller
// shard, which hands each shard its own reference. Shards read their reference without locks;
// the only shared state is the reference count, touched once per change, never per request.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/topic_config.h"
#include "net/kafka/protocol/types.h"

namespace ringlog::core {

struct TopicInfo {
    std::string name;
    net::kafka::Uuid id{};
    int32_t partitions = 0;
    TopicConfig config;
};

class Catalog;
using CatalogRef = std::shared_ptr<const Catalog>;

class Catalog {
public:
    using Topics = std::map<std::string, std::shared_ptr<const TopicInfo>, std::less<>>;

    Catalog() = default;

    explicit Catalog(Topics topics) : topics_(std::move(topics)) {}

    // nullptr when there is no such topic.
    const TopicInfo* find(std::string_view name) const;

    const TopicInfo* find_id(const net::kafka::Uuid& id) const;

    // By name, so Metadata lists topics in a stable order.
    const Topics& topics() const { return topics_; }

    // A copy with `topic` added or replaced.
    CatalogRef with(TopicInfo topic) const;

    // A copy without the topic named `name`.
    CatalogRef without(std::string_view name) const;

private:
    Topics topics_;
};

// A random version 4 UUID for a new topic (never all zeros, which means "no id").
net::kafka::Uuid random_topic_id();

}  // namespace ringlog::core
