// The bounds a consumer group lives within, and the internal topic that stores groups. Kafka's
// broker configs of the same meaning are named beside each; these are fixed here, not flags.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringlog::core::group {

// The compacted topic that holds committed offsets and group metadata. Its partition count is
// written once into its topic file (offsets.topic.num.partitions) and read back from there, so
// it never changes with --shards: a group's coordinator partition must stay where it is.
inline constexpr std::string_view offsets_topic = "__consumer_offsets";
inline constexpr int32_t offsets_topic_partitions = 16;

// group.min.session.timeout.ms is 6000 in Kafka; 1 s is allowed here so that tests (and
// clients that want fast failure detection) can use short sessions.
inline constexpr int32_t session_timeout_ms_min = 1000;
// group.max.session.timeout.ms.
inline constexpr int32_t session_timeout_ms_max = 1'800'000;

// group.max.size (unbounded in Kafka); a bound on what one client can make the broker hold.
inline constexpr size_t group_members_max = 1000;
// Members handed an id by MEMBER_ID_REQUIRED that have not come back yet; each expires after
// its session timeout, so a JoinGroup storm costs at most this much memory.
inline constexpr size_t pending_members_max = 1000;

// offset.metadata.max.bytes.
inline constexpr size_t offset_metadata_bytes_max = 4096;

// How often each shard's coordinator checks sessions and rebalance deadlines. Deadlines are
// late by at most this much; nothing waits on the tick when all members are present.
inline constexpr int64_t tick_interval_ms = 100;

}  // namespace ringlog::core::group
