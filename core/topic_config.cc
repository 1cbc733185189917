#include "core/topic_config.h"

#include <algorithm>

#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>

#include "io/base/absl_compat.h"
#include "io/base/limits.h"
#include "io/base/status_macros.h"

namespace ringlog::core {
namespace {

absl::StatusOr<int64_t> parse_long(std::string_view name, std::string_view value, int64_t min) {
    int64_t parsed = 0;
    if (!absl::SimpleAtoi(base::to_absl(value), &parsed) || parsed < min) {
        return absl::InvalidArgumentError(absl::StrCat("invalid value '", base::to_absl(value),
                                                       "' for ", base::to_absl(name),
                                                       ": expected an integer >= ", min));
    }
    return parsed;
}

const char* cleanup_policy_name(CleanupPolicy policy) {
    switch (policy) {
        case CleanupPolicy::delete_segments:
            return "delete";
        case CleanupPolicy::compact:
            return "compact";
        case CleanupPolicy::compact_and_delete:
            return "compact,delete";
    }
    return "delete";
}

}  // namespace

absl::StatusOr<TopicConfig> TopicConfig::parse(
    const std::vector<std::pair<std::string, std::string>>& overrides) {
    TopicConfig config;
    for (const auto& [name, value] : overrides) {
        if (name == "retention.ms") {
            RL_ASSIGN_OR_RETURN(config.retention_ms_, parse_long(name, value, -1));
        } else if (name == "retention.bytes") {
            RL_ASSIGN_OR_RETURN(config.retention_bytes_, parse_long(name, value, -1));
        } else if (name == "segment.bytes") {
            RL_ASSIGN_OR_RETURN(config.segment_bytes_, parse_long(name, value, 14));
        } else if (name == "segment.ms") {
            RL_ASSIGN_OR_RETURN(config.segment_ms_, parse_long(name, value, 1));
        } else if (name == "max.message.bytes") {
            absl::StatusOr<int64_t> bytes = parse_long(name, value, 0);
            if (!bytes.ok() || *bytes > INT32_MAX) {
                return absl::InvalidArgumentError(
                    absl::StrCat("invalid value '", value, "' for max.message.bytes"));
            }
            config.max_message_bytes_ = static_cast<int32_t>(*bytes);
        } else if (name == "delete.retention.ms") {
            RL_ASSIGN_OR_RETURN(config.delete_retention_ms_, parse_long(name, value, 0));
        } else if (name == "min.cleanable.dirty.ratio") {
            double ratio = 0;
            if (!absl::SimpleAtod(base::to_absl(value), &ratio) || !(ratio >= 0 && ratio <= 1)) {
                return absl::InvalidArgumentError(absl::StrCat(
                    "invalid value '", value, "' for min.cleanable.dirty.ratio: expected 0 to 1"));
            }
            config.min_cleanable_dirty_ratio_ = ratio;
        } else if (name == "cleanup.policy") {
            if (value == "delete") {
                config.cleanup_policy_ = CleanupPolicy::delete_segments;
            } else if (value == "compact") {
                config.cleanup_policy_ = CleanupPolicy::compact;
            } else if (value == "compact,delete" || value == "delete,compact") {
                config.cleanup_policy_ = CleanupPolicy::compact_and_delete;
            } else {
                return absl::InvalidArgumentError(absl::StrCat(
                    "invalid value '", value, "' for cleanup.policy: expected delete or compact"));
            }
        } else if (name == "message.timestamp.type") {
            if (value == "CreateTime") {
                config.timestamp_policy_ = TimestampPolicy::create_time;
            } else if (value == "LogAppendTime") {
                config.timestamp_policy_ = TimestampPolicy::log_append_time;
            } else {
                return absl::InvalidArgumentError(
                    absl::StrCat("invalid value '", value,
                                 "' for message.timestamp.type: expected CreateTime or "
                                 "LogAppendTime"));
            }
        }
        config.overrides_[name] = value;
    }
    return config;
}

LogConfig TopicConfig::log_config(const TopicDefaults& defaults) const {
    LogConfig log = defaults.log;
    log.retention_ms = retention_ms_.value_or(log.retention_ms);
    log.retention_bytes = retention_bytes_.value_or(log.retention_bytes);
    if (segment_bytes_.has_value()) {
        // Kafka takes any segment.bytes from 14 up; the log needs whole DMA blocks and at least
        // segment_bytes_min, so a smaller or ragged value is rounded up rather than refused.
        const int64_t aligned = (*segment_bytes_ + static_cast<int64_t>(limits::dma_alignment) - 1)
                                / static_cast<int64_t>(limits::dma_alignment)
                                * static_cast<int64_t>(limits::dma_alignment);
        log.segment_bytes = std::max(aligned, limits::segment_bytes_min);
    }
    log.segment_ms = segment_ms_.value_or(log.segment_ms);
    log.delete_retention_ms = delete_retention_ms_.value_or(log.delete_retention_ms);
    log.min_cleanable_dirty_ratio =
        min_cleanable_dirty_ratio_.value_or(log.min_cleanable_dirty_ratio);
    log.compact = cleanup_policy_ != CleanupPolicy::delete_segments;
    log.retention_deletes = cleanup_policy_ != CleanupPolicy::compact;
    return log;
}

int32_t TopicConfig::max_message_bytes(const TopicDefaults& defaults) const {
    return max_message_bytes_.value_or(defaults.max_message_bytes);
}

std::vector<TopicConfig::Entry> TopicConfig::describe(const TopicDefaults& defaults) const {
    const LogConfig log = log_config(defaults);
    std::vector<Entry> entries = {
        {"cleanup.policy", cleanup_policy_name(cleanup_policy_), false},
        {"delete.retention.ms", absl::StrCat(log.delete_retention_ms), false},
        {"max.message.bytes", absl::StrCat(max_message_bytes(defaults)), false},
        {"min.cleanable.dirty.ratio", absl::StrCat(log.min_cleanable_dirty_ratio), false},
        {"message.timestamp.type",
         timestamp_policy_ == TimestampPolicy::log_append_time ? "LogAppendTime" : "CreateTime",
         false},
        {"retention.bytes", absl::StrCat(log.retention_bytes), false},
        {"retention.ms", absl::StrCat(log.retention_ms), false},
        {"segment.bytes", absl::StrCat(log.segment_bytes), false},
        {"segment.ms", absl::StrCat(log.segment_ms), false},
    };
    for (Entry& entry : entries) {
        entry.is_override = overrides_.contains(entry.name);
    }
    // Overrides the broker keeps without acting on them are listed as given.
    for (const auto& [name, value] : overrides_) {
        bool known = false;
        for (const Entry& entry : entries) {
            known = known || entry.name == name;
        }
        if (!known) {
            entries.push_back({name, value, true});
        }
    }
    return entries;
}

absl::Status check_topic_name(std::string_view name) {
    if (name.empty() || name.size() > 249) {
        return absl::InvalidArgumentError("a topic name has 1 to 249 characters");
    }
    if (name == "." || name == "..") {
        return absl::InvalidArgumentError("'.' and '..' are not topic names");
    }
    for (const char c : name) {
        const bool legal = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                           || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!legal) {
            return absl::InvalidArgumentError(absl::StrCat(
                "topic name '", base::to_absl(name), "' has a character outside [a-zA-Z0-9._-]"));
        }
    }
    return absl::OkStatus();
}

}  // namespace ringlog::core
