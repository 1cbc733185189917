// A topic's settings, by Kafka's own config names (retention.ms, segment.bytes, ...): parsed
// and checked from CreateTopics, kept in the topic's metadata file, listed by DescribeConfigs,
// and mapped onto the LogConfig of each of the topic's partitions. Names this broker does not
// act on (min.insync.replicas, say) are kept as given, so a client sees what it set.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "core/log_config.h"

namespace ringlog::core {

enum class CleanupPolicy { delete_segments, compact, compact_and_delete };

enum class TimestampPolicy { create_time, log_append_time };

// The broker-wide defaults a topic falls back to for every config it does not override.
struct TopicDefaults {
    LogConfig log;
    int32_t max_message_bytes = 1024 * 1024 + 12;  // Kafka's message.max.bytes default
};

class TopicConfig {
public:
    // Checks every given config; kInvalidArgument names the first bad one (INVALID_CONFIG).
    [[nodiscard]] static absl::StatusOr<TopicConfig> parse(
        const std::vector<std::pair<std::string, std::string>>& overrides);

    // The overrides as given (name, value), sorted by name.
    const std::map<std::string, std::string>& overrides() const { return overrides_; }

    // Applies the overrides to the broker defaults.
    LogConfig log_config(const TopicDefaults& defaults) const;

    int32_t max_message_bytes(const TopicDefaults& defaults) const;

    CleanupPolicy cleanup_policy() const { return cleanup_policy_; }

    TimestampPolicy timestamp_policy() const { return timestamp_policy_; }

    // Every config DescribeConfigs lists for a topic: the effective value and whether the
    // topic overrides it.
    struct Entry {
        std::string name;
        std::string value;
        bool is_override;
    };

    std::vector<Entry> describe(const TopicDefaults& defaults) const;

private:
    std::map<std::string, std::string> overrides_;
    std::optional<int64_t> retention_ms_;
    std::optional<int64_t> retention_bytes_;
    std::optional<int64_t> segment_bytes_;
    std::optional<int64_t> segment_ms_;
    std::optional<int32_t> max_message_bytes_;
    std::optional<int64_t> delete_retention_ms_;
    std::optional<double> min_cleanable_dirty_ratio_;
    CleanupPolicy cleanup_policy_ = CleanupPolicy::delete_segments;
    TimestampPolicy timestamp_policy_ = TimestampPolicy::create_time;
};

// Kafka's rule for topic names: 1 to 249 of [a-zA-Z0-9._-], and not "." or "..".
[[nodiscard]] absl::Status check_topic_name(std::string_view name);

}  // namespace ringlog::core
