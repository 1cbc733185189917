#include "core/group/coordinator.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <tuple>

#include <absl/strings/str_cat.h>

#include "core/broker.h"
#include "core/group/group_limits.h"
#include "core/group/offsets_records.h"
#include "core/shard_local.h"
#include "io/base/absl_compat.h"
#include "io/base/status_macros.h"
#include "net/kafka/generated/consumer_protocol.h"
#include "net/kafka/record_batch.h"

namespace ringlog::core::group {
namespace {

using GroupRecords = absl::flat_hash_map<std::string, std::optional<GroupSnapshot>>;

std::span<const std::byte> as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

// The topics a consumer-protocol member subscribes to (ConsumerProtocolSubscription), for
// OffsetDelete; an unreadable subscription counts as subscribed to everything.
bool subscribes_to(const Member& member, const std::optional<std::string>& protocol,
                   std::string_view topic) {
    const std::string* metadata = protocol ? member.metadata_for(*protocol) : nullptr;
    if (metadata == nullptr) {
        return true;
    }
    net::kafka::Reader reader(as_bytes(*metadata));
    const int16_t version = reader.read_int16();
    net::kafka::ConsumerProtocolSubscription subscription;
    if (!reader.ok() || version < 0
        || !subscription.decode(reader, std::min<int16_t>(version, 3)).ok()) {
        return true;
    }
    return std::find(subscription.topics.begin(), subscription.topics.end(), topic)
           != subscription.topics.end();
}

}  // namespace

GroupCoordinator::GroupCoordinator(Broker& broker, ShardLocal& local, uint64_t member_id_seed)
    : broker_(broker), local_(local), ids_(member_id_seed) {}

GroupCoordinator::~GroupCoordinator() {
    RL_ASSERT(tasks_.active() == 0);
}

int64_t GroupCoordinator::now_ms() const {
    // Sessions and deadlines use the monotonic clock: a wall-clock step must not expire them.
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

Group* GroupCoordinator::find(std::string_view group_id) const {
    const auto it = groups_.find(base::to_absl(group_id));
    return it == groups_.end() ? nullptr : it->second.get();
}

Group& GroupCoordinator::find_or_create(std::string_view group_id) {
    auto& entry = groups_[base::to_absl(group_id)];
    if (entry == nullptr) {
        entry = std::make_unique<Group>(std::string(group_id), ids_);
    }
    return *entry;
}

void GroupCoordinator::changed(Group& group) {
    if (group.needs_store()) {
        group.clear_needs_store();
        tasks_.spawn(store_in_background(group.id(), group.snapshot(now_ms())));
    }
    changed_.notify_all();
    // A group that never got a member or an offset (a failed first JoinGroup, pending members
    // that never came back) is forgotten; one with a history stays.
    if (group.is_unused() && group.generation_id() == 0 && group.pending_member_count() == 0
        && !group.has_waiters()) {
        const std::string id = group.id();
        groups_.erase(base::to_absl(id));
    }
}

io::Task<absl::Status> GroupCoordinator::append(std::string group_id,
                                                std::vector<net::kafka::RecordSpec> records) {
    const TopicInfo* topic = local_.catalog().find(offsets_topic);
    if (topic == nullptr) {
        co_return absl::UnavailableError("no __consumer_offsets topic");
    }
    const int32_t index = partition_for_group(group_id, topic->partitions);
    Partition* found = local_.find(offsets_topic, index);
    if (found == nullptr) {
        co_return absl::UnavailableError(
            absl::StrCat("__consumer_offsets-", index, " is not on this shard"));
    }
    Partition::Use partition = found->use();
    net::kafka::BatchSpec spec;
    const int64_t now = Clock::system().now_ms();
    for (net::kafka::RecordSpec& record : records) {
        record.timestamp = now;
    }
    spec.records = std::move(records);
    const std::vector<std::byte> batch = net::kafka::build_record_batch(spec);
    // AppendWait::policy is what acks=all waits for: under `always`, stable storage.
    auto appended = co_await partition->log().append(batch, AppendWait::policy);
    co_return appended.status();
}

io::Task<absl::Status> GroupCoordinator::store_group(std::string group_id, GroupSnapshot snapshot) {
    std::vector<net::kafka::RecordSpec> records(1);
    records[0].key = encode_group_key(group_id);
    records[0].value = encode_group_value(snapshot);
    co_return co_await append(std::move(group_id), std::move(records));
}

io::Task<void> GroupCoordinator::store_in_background(std::string group_id, GroupSnapshot snapshot) {
    const absl::Status status = co_await store_group(group_id, std::move(snapshot));
    if (!status.ok()) {
        std::fprintf(stderr, "ringlogd: storing group %s: %s\n", group_id.c_str(),
                     std::string(status.message()).c_str());
    }
}

// --- Start and stop -------------------------------------------------------------------------

io::Task<absl::Status> GroupCoordinator::replay(int32_t index, GroupRecords& latest) {
    Partition* found = local_.find(offsets_topic, index);
    if (found == nullptr) {
        co_return absl::OkStatus();
    }
    Partition::Use partition = found->use();
    Log& log = partition->log();
    size_t skipped = 0;
    const auto apply = [&](const net::kafka::Record& record) {
        if (!record.key.has_value()) {
            ++skipped;
            return;
        }
        absl::StatusOr<RecordKey> key = decode_key(*record.key);
        if (!key.ok()) {
            ++skipped;
            return;
        }
        if (const auto* offset_key = std::get_if<OffsetKey>(&*key)) {
            Group& group = find_or_create(offset_key->group);
            const TopicPartition partition_key{offset_key->topic, offset_key->partition};
            if (!record.value.has_value()) {
                group.erase_offset(partition_key);
                return;
            }
            absl::StatusOr<CommittedOffset> value = decode_offset_value(*record.value);
            if (!value.ok()) {
                ++skipped;
                return;
            }
            group.commit(partition_key, *std::move(value));
            return;
        }
        const auto& group_key = std::get<GroupKey>(*key);
        if (!record.value.has_value()) {
            latest[group_key.group] = std::nullopt;
            return;
        }
        absl::StatusOr<GroupSnapshot> value = decode_group_value(*record.value);
        if (!value.ok()) {
            ++skipped;
            return;
        }
        latest[group_key.group] = *std::move(value);
    };
    Offset next = log.log_start_offset();
    std::vector<std::byte> bytes;
    while (next < log.high_watermark()) {
        auto read = co_await log.read(next, 1 << 20);
        if (!read.ok()) {
            co_return absl::Status(read.status().code(), absl::StrCat("replay ", log.dir(), ": ",
                                                                      read.status().message()));
        }
        bytes.clear();
        for (const io::BufferView& view : read->views) {
            const auto part = view.bytes();
            bytes.insert(bytes.end(), part.begin(), part.end());
        }
        size_t position = 0;
        while (position < bytes.size()) {
            auto batch = net::kafka::RecordBatchView::parse(std::span(bytes).subspan(position));
            if (!batch.ok() || !batch->complete()) {
                break;
            }
            if (!net::kafka::for_each_record(*batch, apply).ok()) {
                ++skipped;  // a compressed or malformed batch: not one the coordinator wrote
            }
            position += batch->size_bytes();
        }
        if (read->next_offset <= next) {
            break;
        }
        next = read->next_offset;
    }
    if (skipped > 0) {
        std::fprintf(stderr, "ringlogd: %s: skipped %zu records that are not group records\n",
                     log.dir().c_str(), skipped);
    }
    co_return absl::OkStatus();
}

io::Task<absl::Status> GroupCoordinator::load() {
    const TopicInfo* topic = local_.catalog().find(offsets_topic);
    if (topic == nullptr) {
        co_return absl::FailedPreconditionError("no __consumer_offsets topic to load groups from");
    }
    const int partitions = topic->partitions;
    GroupRecords latest;
    for (int32_t index = 0; index < partitions; ++index) {
        if (shard_for(offsets_topic, index, broker_.shard_count()) == local_.shard().id()) {
            RL_CO_RETURN_IF_ERROR(co_await replay(index, latest));
        }
    }
    const int64_t now = now_ms();
    for (auto& [id, snapshot] : latest) {
        if (snapshot.has_value()) {
            find_or_create(id).restore(*snapshot, now);
        }
    }
    // Groups whose record was deleted and that have no offsets since.
    for (auto it = groups_.begin(); it != groups_.end();) {
        auto next = std::next(it);
        if (it->second->is_unused()) {
            const auto record = latest.find(it->first);
            if (record == latest.end() || !record->second.has_value()) {
                groups_.erase(it);
            }
        }
        it = next;
    }
    tasks_.spawn(run_timer());
    co_return absl::OkStatus();
}

io::Task<void> GroupCoordinator::run_timer() {
    std::vector<std::string> ids;
    while (!stopping_) {
        if (co_await stopping_signal_.wait_for(std::chrono::milliseconds(tick_interval_ms))) {
            break;
        }
        const int64_t now = now_ms();
        ids.clear();
        for (const auto& [id, group] : groups_) {
            ids.push_back(id);
        }
        for (const std::string& id : ids) {
            Group* group = find(id);
            if (group == nullptr) {
                continue;
            }
            // Every slot a tick fills comes with one of these changing, so an idle tick wakes
            // nobody.
            const auto shape = [](const Group& each) {
                return std::make_tuple(each.state(), each.generation_id(), each.members().size(),
                                       each.pending_member_count(), each.needs_store());
            };
            const auto before = shape(*group);
            group->tick(now);
            if (shape(*group) != before) {
                changed(*group);
            }
        }
    }
}

void GroupCoordinator::begin_stop() {
    stopping_ = true;
    for (auto& [id, group] : groups_) {
        group->abandon_waiters(ErrorCode::coordinator_not_available);
    }
    changed_.notify_all();
    stopping_signal_.notify_all();
}

io::Task<void> GroupCoordinator::stop() {
    RL_ASSERT(stopping_);
    co_await tasks_.wait_idle();
}

// --- Membership ------------------------------------------------------------------------------

io::Task<JoinResult> GroupCoordinator::join(std::string_view group_id, const JoinRequest& request) {
    if (stopping_) {
        JoinResult result;
        result.error = ErrorCode::coordinator_not_available;
        result.member_id = std::string(request.member_id);
        co_return result;
    }
    Group& group = find_or_create(group_id);
    JoinSlot slot;
    group.join(request, slot, now_ms());
    changed(group);
    while (!slot.done) {
        co_await changed_.wait();
    }
    co_return std::move(slot.result);
}

io::Task<SyncResult> GroupCoordinator::sync(std::string_view group_id, const SyncRequest& request) {
    Group* group = find(group_id);
    if (stopping_ || group == nullptr) {
        SyncResult result;
        result.error =
            stopping_ ? ErrorCode::coordinator_not_available : ErrorCode::unknown_member_id;
        co_return result;
    }
    SyncSlot slot;
    const SyncAction action = group->sync(request, slot, now_ms());
    changed(*group);
    if (action == SyncAction::store) {
        // The leader's assignment is acknowledged only once the group record holding it is
        // stored; a restart then finds the group stable with every member's assignment.
        const int32_t generation = group->generation_id();
        absl::Status status =
            co_await store_group(std::string(group_id), group->snapshot(now_ms()));
        if (!status.ok()) {
            std::fprintf(stderr, "ringlogd: storing group %s: %s\n", std::string(group_id).c_str(),
                         std::string(status.message()).c_str());
        }
        if (Group* again = find(group_id)) {
            again->stored(generation, status.ok(), now_ms());
            changed(*again);
        }
    }
    while (!slot.done) {
        co_await changed_.wait();
    }
    co_return std::move(slot.result);
}

ErrorCode GroupCoordinator::heartbeat(std::string_view group_id, std::string_view member_id,
                                      std::optional<std::string_view> group_instance_id,
                                      int32_t generation_id) {
    Group* group = find(group_id);
    if (stopping_) {
        return ErrorCode::coordinator_not_available;
    }
    if (group == nullptr) {
        return ErrorCode::unknown_member_id;
    }
    // A heartbeat only refreshes a session: nothing to wake or store.
    return group->heartbeat(member_id, group_instance_id, generation_id, now_ms());
}

LeaveResult GroupCoordinator::leave(std::string_view group_id,
                                    const std::vector<MemberIdentity>& identities) {
    LeaveResult result;
    Group* group = find(group_id);
    if (stopping_ || group == nullptr) {
        result.members.assign(identities.size(), stopping_ ? ErrorCode::coordinator_not_available
                                                           : ErrorCode::unknown_member_id);
        return result;
    }
    result.members = group->leave(identities, now_ms());
    changed(*group);
    return result;
}

// --- Offsets ---------------------------------------------------------------------------------

io::Task<void> GroupCoordinator::commit(const net::kafka::OffsetCommitRequest& request,
                                        net::kafka::OffsetCommitResponse& response) {
    const auto fail_all = [&response](ErrorCode error) {
        for (auto& topic : response.topics) {
            for (auto& partition : topic.partitions) {
                partition.error_code = static_cast<int16_t>(error);
            }
        }
    };
    if (stopping_) {
        fail_all(ErrorCode::coordinator_not_available);
        co_return;
    }
    const std::string group_id(request.group_id);
    ErrorCode allowed = ErrorCode::none;
    if (Group* group = find(group_id)) {
        allowed = group->check_commit(request.member_id, request.group_instance_id,
                                      request.generation_id_or_member_epoch, now_ms());
    } else if (request.generation_id_or_member_epoch >= 0) {
        allowed = ErrorCode::illegal_generation;  // no such group has generations
    }
    if (allowed != ErrorCode::none) {
        fail_all(allowed);
        co_return;
    }

    struct Accepted {
        TopicPartition partition;
        CommittedOffset offset;
        int16_t* error;
    };

    std::vector<Accepted> accepted;
    std::vector<net::kafka::RecordSpec> records;
    const int64_t now = Clock::system().now_ms();
    for (size_t t = 0; t < request.topics.size(); ++t) {
        const auto& topic = request.topics[t];
        const TopicInfo* info = local_.catalog().find(topic.name);
        for (size_t p = 0; p < topic.partitions.size(); ++p) {
            const auto& partition = topic.partitions[p];
            int16_t& error = response.topics[t].partitions[p].error_code;
            if (info == nullptr || partition.partition_index < 0
                || partition.partition_index >= info->partitions) {
                error = static_cast<int16_t>(ErrorCode::unknown_topic_or_partition);
                continue;
            }
            const std::string_view metadata = partition.committed_metadata.value_or("");
            if (metadata.size() > offset_metadata_bytes_max) {
                error = static_cast<int16_t>(ErrorCode::offset_metadata_too_large);
                continue;
            }
            CommittedOffset offset{
                .offset = partition.committed_offset,
                .leader_epoch = partition.committed_leader_epoch,
                .metadata = std::string(metadata),
                .commit_timestamp_ms =
                    partition.commit_timestamp >= 0 ? partition.commit_timestamp : now,
            };
            net::kafka::RecordSpec& record = records.emplace_back();
            record.key = encode_offset_key(group_id, topic.name, partition.partition_index);
            record.value = encode_offset_value(offset);
            accepted.push_back(
                {{std::string(topic.name), partition.partition_index}, std::move(offset), &error});
        }
    }
    if (accepted.empty()) {
        co_return;
    }
    const absl::Status status = co_await append(group_id, std::move(records));
    if (!status.ok()) {
        for (const Accepted& each : accepted) {
            *each.error = static_cast<int16_t>(ErrorCode::coordinator_not_available);
        }
        co_return;
    }
    Group& group = find_or_create(group_id);
    for (Accepted& each : accepted) {
        group.commit(each.partition, std::move(each.offset));
    }
    changed(group);
}

FetchedOffsets GroupCoordinator::fetch_offsets(std::string_view group_id,
                                               const OffsetQuery& query) {
    FetchedOffsets result;
    if (stopping_) {
        result.error = ErrorCode::coordinator_not_available;
        return result;
    }
    const Group* group = find(group_id);
    if (!query.has_value()) {
        if (group == nullptr) {
            return result;
        }
        for (const auto& [partition, offset] : group->offsets()) {
            if (result.topics.empty() || result.topics.back().name != partition.first) {
                result.topics.push_back({.name = partition.first, .partitions = {}});
            }
            result.topics.back().partitions.push_back({.partition = partition.second,
                                                       .offset = offset.offset,
                                                       .leader_epoch = offset.leader_epoch,
                                                       .metadata = offset.metadata,
                                                       .error = ErrorCode::none});
        }
        return result;
    }
    for (const auto& [topic, partitions] : *query) {
        FetchedTopic& out = result.topics.emplace_back();
        out.name = std::string(topic);
        for (const int32_t index : partitions) {
            FetchedPartition& fetched = out.partitions.emplace_back();
            fetched.partition = index;
            if (group == nullptr) {
                continue;
            }
            const auto it = group->offsets().find(TopicPartition{out.name, index});
            if (it != group->offsets().end()) {
                fetched.offset = it->second.offset;
                fetched.leader_epoch = it->second.leader_epoch;
                fetched.metadata = it->second.metadata;
            }
        }
    }
    return result;
}

// --- Administration --------------------------------------------------------------------------

std::vector<ListedGroup> GroupCoordinator::list_groups() const {
    std::vector<ListedGroup> listed;
    for (const auto& [id, group] : groups_) {
        if (group->is_unused() && group->generation_id() == 0) {
            continue;  // only pending members: not a group yet
        }
        listed.push_back({.group_id = id,
                          .protocol_type = group->protocol_type(),
                          .state = std::string(state_name(group->state()))});
    }
    return listed;
}

std::vector<CommittedPosition> GroupCoordinator::committed_positions() const {
    std::vector<CommittedPosition> positions;
    for (const auto& [id, group] : groups_) {
        for (const auto& [partition, committed] : group->offsets()) {
            positions.push_back({id, partition.first, partition.second, committed.offset});
        }
    }
    return positions;
}

DescribedGroup GroupCoordinator::describe(std::string_view group_id) const {
    DescribedGroup described;
    described.group_id = std::string(group_id);
    const Group* group = find(group_id);
    if (group == nullptr || (group->is_unused() && group->generation_id() == 0)) {
        described.state = "Dead";  // Kafka's answer for a group it does not know
        return described;
    }
    described.state = std::string(state_name(group->state()));
    described.protocol_type = group->protocol_type();
    // Kafka shows the protocol and the members' metadata and assignments only when stable.
    const bool stable = group->state() == GroupState::stable;
    if (stable) {
        described.protocol_data = group->protocol_name().value_or("");
    }
    for (const auto& [id, member] : group->members()) {
        DescribedMember& out = described.members.emplace_back();
        out.member_id = member.member_id;
        out.group_instance_id = member.group_instance_id;
        out.client_id = member.client_id;
        out.client_host = member.client_host;
        if (stable) {
            const std::string* metadata = member.metadata_for(described.protocol_data);
            out.metadata = metadata != nullptr ? *metadata : std::string();
            out.assignment = member.assignment;
        }
    }
    return described;
}

io::Task<ErrorCode> GroupCoordinator::delete_group(std::string_view group_id) {
    if (stopping_) {
        co_return ErrorCode::coordinator_not_available;
    }
    const std::string id(group_id);
    Group* group = find(id);
    if (group == nullptr || (group->is_unused() && group->generation_id() == 0)) {
        co_return ErrorCode::group_id_not_found;
    }
    if (!group->members().empty()) {
        co_return ErrorCode::non_empty_group;
    }
    std::vector<net::kafka::RecordSpec> records;
    for (const auto& [partition, offset] : group->offsets()) {
        records.emplace_back().key = encode_offset_key(id, partition.first, partition.second);
    }
    records.emplace_back().key = encode_group_key(id);  // tombstones: value stays null
    const absl::Status status = co_await append(id, std::move(records));
    if (!status.ok()) {
        co_return ErrorCode::coordinator_not_available;
    }
    group = find(id);
    if (group != nullptr && group->members().empty() && !group->has_waiters()) {
        groups_.erase(base::to_absl(id));
    }
    co_return ErrorCode::none;
}

io::Task<void> GroupCoordinator::delete_offsets(const net::kafka::OffsetDeleteRequest& request,
                                                net::kafka::OffsetDeleteResponse& response) {
    if (stopping_) {
        response.error_code = static_cast<int16_t>(ErrorCode::coordinator_not_available);
        co_return;
    }
    const std::string id(request.group_id);
    Group* group = find(id);
    if (group == nullptr || (group->is_unused() && group->generation_id() == 0)) {
        response.error_code = static_cast<int16_t>(ErrorCode::group_id_not_found);
        co_return;
    }
    if (!group->members().empty() && group->protocol_type() != "consumer") {
        response.error_code = static_cast<int16_t>(ErrorCode::non_empty_group);
        co_return;
    }
    std::vector<net::kafka::RecordSpec> records;
    std::vector<TopicPartition> deleted;
    for (size_t t = 0; t < request.topics.size(); ++t) {
        const auto& topic = request.topics[t];
        const bool subscribed =
            std::any_of(group->members().begin(), group->members().end(), [&](const auto& entry) {
                return subscribes_to(entry.second, group->protocol_name(), topic.name);
            });
        const TopicInfo* info = local_.catalog().find(topic.name);
        for (size_t p = 0; p < topic.partitions.size(); ++p) {
            const int32_t index = topic.partitions[p].partition_index;
            int16_t& error = response.topics[t].partitions[p].error_code;
            if (info == nullptr || index < 0 || index >= info->partitions) {
                error = static_cast<int16_t>(ErrorCode::unknown_topic_or_partition);
            } else if (subscribed) {
                error = static_cast<int16_t>(ErrorCode::group_subscribed_to_topic);
            } else {
                records.emplace_back().key = encode_offset_key(id, topic.name, index);
                deleted.emplace_back(std::string(topic.name), index);
            }
        }
    }
    if (records.empty()) {
        co_return;
    }
    const absl::Status status = co_await append(id, std::move(records));
    if (!status.ok()) {
        response.error_code = static_cast<int16_t>(ErrorCode::coordinator_not_available);
        co_return;
    }
    if (Group* again = find(id)) {
        for (const TopicPartition& partition : deleted) {
            again->erase_offset(partition);
        }
        changed(*again);
    }
}

}  // namespace ringlog::core::group
