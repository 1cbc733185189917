// Group: one consumer group's state machine for Kafka's classic rebalance protocol (the
// GroupCoordinator of Kafka's broker, KIP-62, KIP-345 static membership, KIP-394 member ids).
// It is synchronous and takes the time as an argument, so tests drive it with a hand-moved
// clock; waiting (a JoinGroup until the rebalance completes, a follower's SyncGroup until the
// leader's assignment) is a slot the caller owns and the group fills. Storing records is not
// here either: the group says when its state should be written (core/group/coordinator.h).
//
// The broker never opens member metadata or assignments: the assignor runs in the leader
// client, so range, roundrobin and cooperative-sticky all work unchanged.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/kafka/generated/api_keys.h"

namespace ringlog::core::group {

using net::kafka::ErrorCode;

enum class GroupState { empty, preparing_rebalance, completing_rebalance, stable };

// Kafka's names, as DescribeGroups and ListGroups show them.
std::string_view state_name(GroupState state);

struct Protocol {
    std::string name;
    std::string metadata;

    bool operator==(const Protocol&) const = default;
};

struct MemberInfo {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string metadata;  // for the group's selected protocol
};

struct JoinResult {
    ErrorCode error = ErrorCode::none;
    int32_t generation_id = -1;
    std::string protocol_type;
    std::optional<std::string> protocol_name;
    std::string leader_id;
    std::string member_id;
    bool skip_assignment = false;
    std::vector<MemberInfo> members;  // for the leader only
};

struct SyncResult {
    ErrorCode error = ErrorCode::none;
    std::string protocol_type;
    std::optional<std::string> protocol_name;
    std::string assignment;
};

// Where a waiting request's answer goes. The request's coroutine owns the slot and waits on
// the group's changed() condition until `done`; the group fills every slot it holds exactly
// once (on completion, on the member's removal, on a newer request, or on shutdown).
template <typename Result>
struct Slot {
    bool done = false;
    Result result;
};

using JoinSlot = Slot<JoinResult>;
using SyncSlot = Slot<SyncResult>;

struct JoinRequest {
    std::string_view member_id;
    std::optional<std::string_view> group_instance_id;
    std::string_view client_id;
    std::string_view client_host;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    std::string_view protocol_type;
    std::vector<Protocol> protocols;
    // JoinGroup v4+: a new dynamic member first gets an id with MEMBER_ID_REQUIRED (KIP-394).
    bool require_known_member_id = false;
};

struct SyncRequest {
    std::string_view member_id;
    std::optional<std::string_view> group_instance_id;
    int32_t generation_id = 0;
    std::optional<std::string_view> protocol_type;
    std::optional<std::string_view> protocol_name;
    std::vector<std::pair<std::string_view, std::string_view>> assignments;  // leader only
};

struct MemberIdentity {
    std::string_view member_id;  // may be empty when group_instance_id is given (v3+)
    std::optional<std::string_view> group_instance_id;
};

enum class SyncAction {
    answered,  // the slot is filled
    waiting,   // the slot is held until the leader's assignment is stored
    store,     // the leader's assignment: store the group, then call stored()
};

struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    std::string protocol_type;
    std::vector<Protocol> protocols;
    std::string assignment;
    int64_t last_heard_ms = 0;
    JoinSlot* join = nullptr;  // a JoinGroup waiting for this rebalance to complete
    SyncSlot* sync = nullptr;  // a SyncGroup waiting for the leader's assignment

    // The metadata this member gave for `protocol`, or nullptr.
    const std::string* metadata_for(std::string_view protocol) const;
};

// Everything needed to rebuild a group after a restart (GroupMetadataValue).
struct GroupSnapshot {
    std::string protocol_type;
    int32_t generation_id = 0;
    std::optional<std::string> protocol_name;
    std::optional<std::string> leader_id;
    int64_t state_timestamp_ms = -1;

    struct StoredMember {
        std::string member_id;
        std::optional<std::string> group_instance_id;
        std::string client_id;
        std::string client_host;
        int32_t rebalance_timeout_ms = 0;
        int32_t session_timeout_ms = 0;
        std::string subscription;
        std::string assignment;
    };

    std::vector<StoredMember> members;
};

struct CommittedOffset {
    int64_t offset = -1;
    int32_t leader_epoch = -1;
    std::string metadata;
    int64_t commit_timestamp_ms = -1;
};

using TopicPartition = std::pair<std::string, int32_t>;

// Makes member ids: `prefix-<32 hex digits>`, as Kafka's are (client id or instance id, then
// a UUID). The state is a seed and a counter, so tests can make them deterministic.
class MemberIds {
public:
    explicit MemberIds(uint64_t seed) : state_(seed) {}

    std::string next(std::string_view prefix);

private:
    uint64_t state_;
};

// Contract: owned by the coordinator of its shard and used only there. Every call takes the
// current time in milliseconds, from one monotonic source. A slot handed to join() or sync()
// must stay alive until it is done; tick() fills those whose deadlines pass, so every wait
// ends by itself. needs_store() goes true whenever the state worth keeping changes.
class Group {
public:
    Group(std::string id, MemberIds& ids) : id_(std::move(id)), ids_(ids) {}

    Group(const Group&) = delete;
    Group& operator=(const Group&) = delete;

    ~Group();

    const std::string& id() const { return id_; }

    GroupState state() const { return state_; }

    int32_t generation_id() const { return generation_id_; }

    const std::string& protocol_type() const { return protocol_type_; }

    const std::optional<std::string>& protocol_name() const { return protocol_name_; }

    const std::string& leader_id() const { return leader_id_; }

    const std::map<std::string, Member, std::less<>>& members() const { return members_; }

    size_t pending_member_count() const { return pending_members_.size(); }

    const std::map<TopicPartition, CommittedOffset>& offsets() const { return offsets_; }

    // No members and no committed offsets: the group can be forgotten.
    bool is_unused() const { return members_.empty() && offsets_.empty(); }

    void join(const JoinRequest& request, JoinSlot& slot, int64_t now_ms);

    SyncAction sync(const SyncRequest& request, SyncSlot& slot, int64_t now_ms);

    // After SyncAction::store: the group record for `generation` was written (or not).
    void stored(int32_t generation, bool ok, int64_t now_ms);

    ErrorCode heartbeat(std::string_view member_id,
                        const std::optional<std::string_view>& group_instance_id,
                        int32_t generation_id, int64_t now_ms);

    // One error per identity, in order.
    std::vector<ErrorCode> leave(const std::vector<MemberIdentity>& identities, int64_t now_ms);

    // Whether an OffsetCommit (generation -1 and any member id: a consumer without group
    // management) may commit now.
    ErrorCode check_commit(std::string_view member_id,
                           const std::optional<std::string_view>& group_instance_id,
                           int32_t generation_id, int64_t now_ms);

    void commit(const TopicPartition& partition, CommittedOffset offset) {
        offsets_[partition] = std::move(offset);
    }

    void erase_offset(const TopicPartition& partition) { offsets_.erase(partition); }

    // Session expiry, rebalance and sync deadlines, pending members.
    void tick(int64_t now_ms);

    // Answers every waiting slot with `error` (the broker is stopping).
    void abandon_waiters(ErrorCode error);

    bool has_waiters() const;

    // The group as the GroupMetadataValue record stores it, and back (after a restart: the
    // members' sessions start again at `now_ms`).
    GroupSnapshot snapshot(int64_t now_ms) const;
    void restore(const GroupSnapshot& snapshot, int64_t now_ms);

    bool needs_store() const { return needs_store_; }

    void clear_needs_store() { needs_store_ = false; }

    // The protocol every member supports, most preferred by the members' own order (Kafka's
    // vote); nullopt when there is none.
    std::optional<std::string> select_protocol() const;

private:
    bool is_fenced(std::string_view member_id,
                   const std::optional<std::string_view>& group_instance_id) const;
    bool supports(const JoinRequest& request) const;
    JoinResult current_join_result(const Member& member, bool with_members) const;
    std::vector<MemberInfo> member_infos() const;

    void add_member(const JoinRequest& request, std::string member_id, JoinSlot& slot,
                    int64_t now_ms);
    void update_member(Member& member, const JoinRequest& request);
    void await_join(Member& member, JoinSlot& slot);
    void remove_member(const std::string& member_id, ErrorCode error_for_waiters, int64_t now_ms);
    void prepare_rebalance(int64_t now_ms);
    void maybe_complete_join(int64_t now_ms);
    void complete_join(int64_t now_ms);
    void answer_syncs(ErrorCode error);
    int32_t rebalance_timeout_ms() const;
    void set_state(GroupState state, int64_t now_ms);

    std::string id_;
    MemberIds& ids_;  // the coordinator's; outlives every group
    GroupState state_ = GroupState::empty;
    int64_t state_timestamp_ms_ = -1;
    int32_t generation_id_ = 0;
    std::string protocol_type_;
    std::optional<std::string> protocol_name_;
    std::string leader_id_;
    std::map<std::string, Member, std::less<>> members_;
    std::map<std::string, std::string, std::less<>> static_members_;  // instance id -> member id
    std::map<std::string, int64_t, std::less<>> pending_members_;     // member id -> deadline
    int64_t rebalance_deadline_ms_ = 0;  // preparing_rebalance: when absent members are dropped
    int64_t sync_deadline_ms_ = 0;       // completing_rebalance: when the leader must have synced
    bool storing_ = false;               // the leader's assignment is being written
    bool needs_store_ = false;
    std::map<TopicPartition, CommittedOffset> offsets_;
};

}  // namespace ringlog::core::group
