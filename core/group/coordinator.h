// GroupCoordinator: one shard's consumer groups. A group belongs to the coordinator partition
// its id hashes to (partition_for_group over __consumer_offsets' fixed partition count), and
// so to the shard that owns that partition; handlers on other shards forward to it with
// submit_to. The coordinator keeps each group's state machine (core/group/group.h), makes its
// requests wait for rebalances, expires sessions on a timer, and writes commits and completed
// rebalances to its __consumer_offsets partitions before answering (with the log's durability:
// under `always`, on stable storage). On start it replays those partitions: the latest record
// per key wins, a tombstone deletes, so groups and offsets survive restarts.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/status/status.h>

#include "core/clock.h"
#include "core/group/group.h"
#include "io/event.h"
#include "io/task.h"
#include "io/task_group.h"
#include "net/kafka/generated/offset_commit.h"
#include "net/kafka/generated/offset_delete.h"
#include "net/kafka/record_batch_builder.h"

namespace ringlog::core {
class Broker;
class ShardLocal;
}  // namespace ringlog::core

namespace ringlog::core::group {

struct FetchedPartition {
    int32_t partition = 0;
    int64_t offset = -1;
    int32_t leader_epoch = -1;
    std::string metadata;
    ErrorCode error = ErrorCode::none;
};

struct FetchedTopic {
    std::string name;
    std::vector<FetchedPartition> partitions;
};

struct FetchedOffsets {
    ErrorCode error = ErrorCode::none;
    std::vector<FetchedTopic> topics;
};

// What OffsetFetch asks for: nullopt means every committed offset of the group.
using OffsetQuery = std::optional<std::vector<std::pair<std::string_view, std::vector<int32_t>>>>;

// A group's committed offset of one partition (for the consumer-lag metric).
struct CommittedPosition {
    std::string group_id;
    std::string topic;
    int32_t partition;
    int64_t offset;
};

struct ListedGroup {
    std::string group_id;
    std::string protocol_type;
    std::string state;
};

struct DescribedMember {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    std::string metadata;
    std::string assignment;
};

struct DescribedGroup {
    ErrorCode error = ErrorCode::none;
    std::string group_id;
    std::string state;
    std::string protocol_type;
    std::string protocol_data;
    std::vector<DescribedMember> members;
};

struct LeaveResult {
    ErrorCode error = ErrorCode::none;
    std::vector<ErrorCode> members;
};

// Contract: created, loaded, stopped and destroyed on its shard; every call runs there.
// load() after the controller opened the partitions; begin_stop() before the servers stop (it
// answers every waiting request, so none holds up a connection's shutdown); stop() before the
// shard's partitions close (it waits for its timer and its writes).
class GroupCoordinator {
public:
    GroupCoordinator(Broker& broker, ShardLocal& local, uint64_t member_id_seed);
    ~GroupCoordinator();

    GroupCoordinator(const GroupCoordinator&) = delete;
    GroupCoordinator& operator=(const GroupCoordinator&) = delete;

    [[nodiscard]] io::Task<absl::Status> load();

    void begin_stop();

    [[nodiscard]] io::Task<void> stop();

    [[nodiscard]] io::Task<JoinResult> join(std::string_view group_id, const JoinRequest& request);

    [[nodiscard]] io::Task<SyncResult> sync(std::string_view group_id, const SyncRequest& request);

    ErrorCode heartbeat(std::string_view group_id, std::string_view member_id,
                        std::optional<std::string_view> group_instance_id, int32_t generation_id);

    LeaveResult leave(std::string_view group_id, const std::vector<MemberIdentity>& identities);

    // Fills every partition's error in `response`, whose topics mirror the request's.
    [[nodiscard]] io::Task<void> commit(const net::kafka::OffsetCommitRequest& request,
                                        net::kafka::OffsetCommitResponse& response);

    FetchedOffsets fetch_offsets(std::string_view group_id, const OffsetQuery& query);

    std::vector<ListedGroup> list_groups() const;

    // Every committed offset of every group this shard coordinates.
    std::vector<CommittedPosition> committed_positions() const;

    DescribedGroup describe(std::string_view group_id) const;

    [[nodiscard]] io::Task<ErrorCode> delete_group(std::string_view group_id);

    // OffsetDelete: fills `response` (top-level and per-partition errors).
    [[nodiscard]] io::Task<void> delete_offsets(const net::kafka::OffsetDeleteRequest& request,
                                                net::kafka::OffsetDeleteResponse& response);

private:
    Group* find(std::string_view group_id) const;
    Group& find_or_create(std::string_view group_id);
    int64_t now_ms() const;

    // After any change to `group`: wakes its waiters, and writes its record in the background
    // if the group asks for it.
    void changed(Group& group);

    // Appends `records` to the group's coordinator partition, waiting as acks=all would.
    [[nodiscard]] io::Task<absl::Status> append(std::string group_id,
                                                std::vector<net::kafka::RecordSpec> records);
    [[nodiscard]] io::Task<absl::Status> store_group(std::string group_id, GroupSnapshot snapshot);
    io::Task<void> store_in_background(std::string group_id, GroupSnapshot snapshot);
    // Applies partition `index`'s records: offsets straight into their groups, the latest group
    // record per group into `latest` (nullopt: deleted).
    [[nodiscard]] io::Task<absl::Status> replay(
        int32_t index, absl::flat_hash_map<std::string, std::optional<GroupSnapshot>>& latest);
    io::Task<void> run_timer();

    Broker& broker_;
    ShardLocal& local_;
    MemberIds ids_;
    absl::flat_hash_map<std::string, std::unique_ptr<Group>> groups_;
    // One condition for every waiting request of this shard: each re-checks its own slot. A
    // change wakes the waiters of every group on the shard, which is cheap while groups are
    // few; a condition per group is the step up if many groups rebalance at once.
    io::Notify changed_;
    io::Notify stopping_signal_;
    io::TaskGroup tasks_;
    bool stopping_ = false;
};

}  // namespace ringlog::core::group
