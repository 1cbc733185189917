#include "core/group/offsets_records.h"

#include <vector>

#include <absl/strings/str_cat.h>

#include "io/base/absl_compat.h"
#include "io/base/status_macros.h"
#include "net/kafka/protocol/reader.h"
#include "net/kafka/protocol/writer.h"

namespace ringlog::core::group {
namespace {

using net::kafka::ByteView;
using net::kafka::Reader;
using net::kafka::Writer;

constexpr int16_t offset_key_version = 1;
constexpr int16_t group_key_version = 2;
constexpr int16_t offset_value_version = 3;
constexpr int16_t group_value_version = 3;

std::string to_string(const Writer& writer) {
    const std::vector<std::byte> bytes = writer.flatten();
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

ByteView as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

std::string to_string(ByteView bytes) {
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

absl::Status finish(const Reader& reader, std::string_view what) {
    if (!reader.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(base::to_absl(what), ": ", reader.status().message()));
    }
    if (reader.remaining() != 0) {
        return absl::InvalidArgumentError(absl::StrCat(base::to_absl(what), ": trailing bytes"));
    }
    return absl::OkStatus();
}

}  // namespace

std::string encode_offset_key(std::string_view group, std::string_view topic, int32_t partition) {
    Writer writer(64);
    writer.write_int16(offset_key_version);
    writer.write_string(group, false);
    writer.write_string(topic, false);
    writer.write_int32(partition);
    return to_string(writer);
}

std::string encode_offset_value(const CommittedOffset& offset) {
    Writer writer(64);
    writer.write_int16(offset_value_version);
    writer.write_int64(offset.offset);
    writer.write_int32(offset.leader_epoch);
    writer.write_string(offset.metadata, false);
    writer.write_int64(offset.commit_timestamp_ms);
    return to_string(writer);
}

std::string encode_group_key(std::string_view group) {
    Writer writer(32);
    writer.write_int16(group_key_version);
    writer.write_string(group, false);
    return to_string(writer);
}

std::string encode_group_value(const GroupSnapshot& snapshot) {
    Writer writer(256);
    writer.write_int16(group_value_version);
    writer.write_string(snapshot.protocol_type, false);
    writer.write_int32(snapshot.generation_id);
    writer.write_nullable_string(snapshot.protocol_name, false);
    writer.write_nullable_string(snapshot.leader_id, false);
    writer.write_int64(snapshot.state_timestamp_ms);
    writer.write_array_count(snapshot.members.size(), false);
    for (const GroupSnapshot::StoredMember& member : snapshot.members) {
        writer.write_string(member.member_id, false);
        writer.write_nullable_string(member.group_instance_id, false);
        writer.write_string(member.client_id, false);
        writer.write_string(member.client_host, false);
        writer.write_int32(member.rebalance_timeout_ms);
        writer.write_int32(member.session_timeout_ms);
        writer.write_bytes(as_bytes(member.subscription), false);
        writer.write_bytes(as_bytes(member.assignment), false);
    }
    return to_string(writer);
}

absl::StatusOr<RecordKey> decode_key(std::span<const std::byte> bytes) {
    Reader reader(bytes);
    const int16_t version = reader.read_int16();
    if (reader.ok() && (version == 0 || version == 1)) {
        OffsetKey key;
        key.group = std::string(reader.read_string(false));
        key.topic = std::string(reader.read_string(false));
        key.partition = reader.read_int32();
        RL_RETURN_IF_ERROR(finish(reader, "offset commit key"));
        return key;
    }
    if (reader.ok() && version == 2) {
        GroupKey key;
        key.group = std::string(reader.read_string(false));
        RL_RETURN_IF_ERROR(finish(reader, "group metadata key"));
        return key;
    }
    return absl::InvalidArgumentError(absl::StrCat("unknown record key version ", version));
}

absl::StatusOr<CommittedOffset> decode_offset_value(std::span<const std::byte> bytes) {
    Reader reader(bytes);
    const int16_t version = reader.read_int16();
    if (version != offset_value_version) {
        return absl::InvalidArgumentError(absl::StrCat("offset commit value version ", version));
    }
    CommittedOffset offset;
    offset.offset = reader.read_int64();
    offset.leader_epoch = reader.read_int32();
    offset.metadata = std::string(reader.read_string(false));
    offset.commit_timestamp_ms = reader.read_int64();
    RL_RETURN_IF_ERROR(finish(reader, "offset commit value"));
    return offset;
}

absl::StatusOr<GroupSnapshot> decode_group_value(std::span<const std::byte> bytes) {
    Reader reader(bytes);
    const int16_t version = reader.read_int16();
    if (version != group_value_version) {
        return absl::InvalidArgumentError(absl::StrCat("group metadata value version ", version));
    }
    GroupSnapshot snapshot;
    snapshot.protocol_type = std::string(reader.read_string(false));
    snapshot.generation_id = reader.read_int32();
    if (auto name = reader.read_nullable_string(false)) {
        snapshot.protocol_name = std::string(*name);
    }
    if (auto leader = reader.read_nullable_string(false)) {
        snapshot.leader_id = std::string(*leader);
    }
    snapshot.state_timestamp_ms = reader.read_int64();
    // The smallest member: four empty strings (2 bytes each), two int32s, two empty bytes.
    const int32_t count = reader.read_array_count(false, 4 * 2 + 2 * 4 + 2 * 4);
    for (int32_t i = 0; reader.ok() && i < count; ++i) {
        GroupSnapshot::StoredMember member;
        member.member_id = std::string(reader.read_string(false));
        if (auto instance = reader.read_nullable_string(false)) {
            member.group_instance_id = std::string(*instance);
        }
        member.client_id = std::string(reader.read_string(false));
        member.client_host = std::string(reader.read_string(false));
        member.rebalance_timeout_ms = reader.read_int32();
        member.session_timeout_ms = reader.read_int32();
        member.subscription = to_string(reader.read_bytes(false));
        member.assignment = to_string(reader.read_bytes(false));
        snapshot.members.push_back(std::move(member));
    }
    RL_RETURN_IF_ERROR(finish(reader, "group metadata value"));
    return snapshot;
}

int32_t partition_for_group(std::string_view group_id, int32_t partition_count) {
    uint32_t hash = 0x811c9dc5u;
    for (const char c : group_id) {
        hash = (hash ^ static_cast<uint8_t>(c)) * 0x01000193u;
    }
    return static_cast<int32_t>(hash % static_cast<uint32_t>(partition_count));
}

}  // namespace ringlog::core::group
