// The records of __consumer_offsets, in Kafka's own layouts (kafka's
// group-coordinator/src/main/resources/common/message/OffsetCommitKey.json, OffsetCommitValue,
// GroupMetadataKey, GroupMetadataValue), so that Kafka's tools could read them. Every key and
// value starts with an int16 version; the key tells the record kind, and the latest record
// per key wins, a null value (tombstone) deleting it, which is what compaction keeps:
//
//   OffsetCommitKey v1     group string, topic string, partition int32
//   OffsetCommitValue v3   offset int64, leader epoch int32, metadata string, commit time int64
//   GroupMetadataKey v2    group string
//   GroupMetadataValue v3  protocol type string, generation int32, protocol string?, leader
//                          string?, state time int64, members [member id, instance id?, client
//                          id, client host, rebalance timeout int32, session timeout int32,
//                          subscription bytes, assignment bytes]
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include <absl/status/statusor.h>

#include "core/group/group.h"

namespace ringlog::core::group {

struct OffsetKey {
    std::string group;
    std::string topic;
    int32_t partition = 0;
};

struct GroupKey {
    std::string group;
};

using RecordKey = std::variant<OffsetKey, GroupKey>;

std::string encode_offset_key(std::string_view group, std::string_view topic, int32_t partition);
std::string encode_offset_value(const CommittedOffset& offset);
std::string encode_group_key(std::string_view group);
std::string encode_group_value(const GroupSnapshot& snapshot);

// kInvalidArgument for bytes that are not one of the layouts above (a version this broker does
// not know, or truncated): replay skips such a record rather than guess.
[[nodiscard]] absl::StatusOr<RecordKey> decode_key(std::span<const std::byte> bytes);
[[nodiscard]] absl::StatusOr<CommittedOffset> decode_offset_value(std::span<const std::byte> bytes);
[[nodiscard]] absl::StatusOr<GroupSnapshot> decode_group_value(std::span<const std::byte> bytes);

// The coordinator partition of a group: a stable hash of its id (FNV-1a 32 of the bytes) modulo
// the partition count. It decides where a group's records live, so it must never change.
int32_t partition_for_group(std::string_view group_id, int32_t partition_count);

}  // namespace ringlog::core::group
