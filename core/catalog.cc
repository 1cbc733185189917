#include "core/catalog.h"

#include <random>

namespace ringlog::core {

const TopicInfo* Catalog::find(std::string_view name) const {
    const auto it = topics_.find(name);
    return it == topics_.end() ? nullptr : it->second.get();
}

const TopicInfo* Catalog::find_id(const net::kafka::Uuid& id) const {
    for (const auto& [name, topic] : topics_) {
        if (topic->id == id) {
            return topic.get();
        }
    }
    return nullptr;
}

CatalogRef Catalog::with(TopicInfo topic) const {
    Topics topics = topics_;
    std::string name = topic.name;
    topics[std::move(name)] = std::make_shared<const TopicInfo>(std::move(topic));
    return std::make_shared<const Catalog>(std::move(topics));
}

CatalogRef Catalog::without(std::string_view name) const {
    Topics topics = topics_;
    if (const auto it = topics.find(name); it != topics.end()) {
        topics.erase(it);
    }
    return std::make_shared<const Catalog>(std::move(topics));
}

net::kafka::Uuid random_topic_id() {
    static thread_local std::mt19937_64 generator{std::random_device{}()};
    net::kafka::Uuid id;
    for (size_t half = 0; half < 2; ++half) {
        uint64_t bits = generator();
        for (size_t i = 0; i < 8; ++i) {
            id[half * 8 + i] = static_cast<std::byte>(bits >> (56 - 8 * i));
        }
    }
    id[6] = static_cast<std::byte>((static_cast<uint8_t>(id[6]) & 0x0f) | 0x40);  // version 4
    id[8] = static_cast<std::byte>((static_cast<uint8_t>(id[8]) & 0x3f) | 0x80);  // variant
    return id;
}

}  // namespace ringlog::core
