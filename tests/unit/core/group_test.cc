// Group: the classic rebalance protocol's state machine, driven by hand with a clock that only
// moves when a test says so: joins that wait for every member, the leader's assignment, member
// ids demanded from v4 clients, session and rebalance deadlines, errors for wrong generations
// and unknown or fenced members, static membership, commits, snapshots and their records.
#include "core/group/group.h"

#include <gtest/gtest.h>

#include "core/group/group_limits.h"
#include "core/group/offsets_records.h"

namespace ringlog::core::group {
namespace {

constexpr int32_t session_ms = 10'000;
constexpr int32_t rebalance_ms = 30'000;

JoinRequest join_request(std::string_view member_id,
                         std::vector<Protocol> protocols = {{"range", "meta-range"},
                                                            {"roundrobin", "meta-rr"}}) {
    JoinRequest request;
    request.member_id = member_id;
    request.client_id = "client";
    request.client_host = "/127.0.0.1";
    request.session_timeout_ms = session_ms;
    request.rebalance_timeout_ms = rebalance_ms;
    request.protocol_type = "consumer";
    request.protocols = std::move(protocols);
    return request;
}

class GroupTest : public ::testing::Test {
protected:
    // A member joins (v4+: first the MEMBER_ID_REQUIRED round) and its join is left waiting
    // or answered in `slot`; returns its member id.
    std::string join_new(JoinSlot& slot, std::optional<std::string_view> instance = std::nullopt) {
        JoinRequest request = join_request("");
        request.require_known_member_id = true;
        request.group_instance_id = instance;
        if (!instance) {
            JoinSlot first;
            group_.join(request, first, now_);
            EXPECT_TRUE(first.done);
            EXPECT_EQ(first.result.error, ErrorCode::member_id_required);
            const std::string id = first.result.member_id;
            request.member_id = id;
            group_.join(request, slot, now_);
            return id;
        }
        group_.join(request, slot, now_);
        return slot.done ? slot.result.member_id : find_instance(*instance);
    }

    std::string find_instance(std::string_view instance) const {
        for (const auto& [id, member] : group_.members()) {
            if (member.group_instance_id == instance) {
                return id;
            }
        }
        return {};
    }

    // The leader syncs with one assignment per member, the store succeeds.
    void leader_syncs(const std::string& leader, int32_t generation) {
        SyncRequest request;
        request.member_id = leader;
        request.generation_id = generation;
        std::vector<std::string> texts;
        texts.reserve(group_.members().size());
        for (const auto& [id, member] : group_.members()) {
            texts.push_back("assignment-of-" + id);
        }
        size_t i = 0;
        for (const auto& [id, member] : group_.members()) {
            request.assignments.emplace_back(id, texts[i++]);
        }
        SyncSlot slot;
        ASSERT_EQ(group_.sync(request, slot, now_), SyncAction::store);
        EXPECT_FALSE(slot.done);
        group_.stored(generation, true, now_);
        ASSERT_TRUE(slot.done);
        EXPECT_EQ(slot.result.error, ErrorCode::none);
        EXPECT_EQ(slot.result.assignment, "assignment-of-" + leader);
    }

    MemberIds ids_{42};
    Group group_{"orders-group", ids_};
    int64_t now_ = 1'000'000;
};

TEST_F(GroupTest, FirstMemberBecomesLeaderOfGenerationOne) {
    JoinSlot slot;
    const std::string id = join_new(slot);
    ASSERT_TRUE(slot.done);
    EXPECT_EQ(slot.result.error, ErrorCode::none);
    EXPECT_EQ(slot.result.generation_id, 1);
    EXPECT_EQ(slot.result.leader_id, id);
    EXPECT_EQ(slot.result.member_id, id);
    EXPECT_EQ(slot.result.protocol_name, "range");
    ASSERT_EQ(slot.result.members.size(), 1u);
    EXPECT_EQ(slot.result.members[0].metadata, "meta-range");
    EXPECT_EQ(group_.state(), GroupState::completing_rebalance);
    leader_syncs(id, 1);
    EXPECT_EQ(group_.state(), GroupState::stable);
}

TEST_F(GroupTest, MemberIdRequiredDoesNotAddAMember) {
    JoinRequest request = join_request("");
    request.require_known_member_id = true;
    for (int i = 0; i < 50; ++i) {
        JoinSlot slot;
        group_.join(request, slot, now_);
        ASSERT_TRUE(slot.done);
        EXPECT_EQ(slot.result.error, ErrorCode::member_id_required);
        EXPECT_FALSE(slot.result.member_id.empty());
    }
    EXPECT_TRUE(group_.members().empty());
    EXPECT_EQ(group_.pending_member_count(), 50u);
    EXPECT_EQ(group_.state(), GroupState::empty);
    now_ += session_ms + 1;
    group_.tick(now_);
    EXPECT_EQ(group_.pending_member_count(), 0u);
}

TEST_F(GroupTest, SecondMemberRebalancesAndJoinWaitsForEveryone) {
    JoinSlot first;
    const std::string a = join_new(first);
    leader_syncs(a, 1);

    JoinSlot second;
    const std::string b = join_new(second);
    EXPECT_FALSE(second.done);  // waits for a to rejoin
    EXPECT_EQ(group_.state(), GroupState::preparing_rebalance);
    EXPECT_EQ(group_.heartbeat(a, std::nullopt, 1, now_), ErrorCode::rebalance_in_progress);
    // A commit of generation 1 is still accepted while preparing: members commit before
    // they rejoin, so nothing they consumed is lost.
    EXPECT_EQ(group_.check_commit(a, std::nullopt, 1, now_), ErrorCode::none);

    JoinSlot again;
    group_.join(join_request(a), again, now_);
    ASSERT_TRUE(again.done);
    ASSERT_TRUE(second.done);
    EXPECT_EQ(again.result.generation_id, 2);
    EXPECT_EQ(second.result.generation_id, 2);
    EXPECT_EQ(again.result.leader_id, a);
    EXPECT_EQ(again.result.members.size(), 2u);
    EXPECT_TRUE(second.result.members.empty());

    // The follower's sync waits for the leader's.
    SyncRequest follower;
    follower.member_id = b;
    follower.generation_id = 2;
    SyncSlot follower_slot;
    EXPECT_EQ(group_.sync(follower, follower_slot, now_), SyncAction::waiting);
    EXPECT_EQ(group_.check_commit(a, std::nullopt, 2, now_), ErrorCode::rebalance_in_progress);
    leader_syncs(a, 2);
    ASSERT_TRUE(follower_slot.done);
    EXPECT_EQ(follower_slot.result.assignment, "assignment-of-" + b);
    EXPECT_EQ(group_.heartbeat(b, std::nullopt, 2, now_), ErrorCode::none);
}

TEST_F(GroupTest, WrongGenerationAndUnknownMembersGetTheirErrors) {
    JoinSlot slot;
    const std::string a = join_new(slot);
    leader_syncs(a, 1);
    EXPECT_EQ(group_.heartbeat(a, std::nullopt, 7, now_), ErrorCode::illegal_generation);
    EXPECT_EQ(group_.heartbeat("nobody", std::nullopt, 1, now_), ErrorCode::unknown_member_id);
    EXPECT_EQ(group_.check_commit(a, std::nullopt, 0, now_), ErrorCode::illegal_generation);
    EXPECT_EQ(group_.check_commit("nobody", std::nullopt, 1, now_), ErrorCode::unknown_member_id);
    // A consumer without group management may not commit into a group with members.
    EXPECT_EQ(group_.check_commit("", std::nullopt, -1, now_), ErrorCode::unknown_member_id);
    SyncRequest sync;
    sync.member_id = a;
    sync.generation_id = 3;
    SyncSlot sync_slot;
    EXPECT_EQ(group_.sync(sync, sync_slot, now_), SyncAction::answered);
    EXPECT_EQ(sync_slot.result.error, ErrorCode::illegal_generation);
    JoinSlot unknown;
    group_.join(join_request("made-up-id"), unknown, now_);
    ASSERT_TRUE(unknown.done);
    EXPECT_EQ(unknown.result.error, ErrorCode::unknown_member_id);
    EXPECT_EQ(group_.state(), GroupState::stable);  // none of it disturbed the group
}

TEST_F(GroupTest, ProtocolsMustMatch) {
    JoinSlot slot;
    join_new(slot);
    JoinSlot other_type;
    JoinRequest request = join_request("");
    request.protocol_type = "connect";
    group_.join(request, other_type, now_);
    EXPECT_EQ(other_type.result.error, ErrorCode::inconsistent_group_protocol);
    JoinSlot no_common;
    group_.join(join_request("", {{"sticky", "x"}}), no_common, now_);
    EXPECT_EQ(no_common.result.error, ErrorCode::inconsistent_group_protocol);
    JoinSlot bad_session;
    request = join_request("");
    request.session_timeout_ms = 10;
    group_.join(request, bad_session, now_);
    EXPECT_EQ(bad_session.result.error, ErrorCode::invalid_session_timeout);
}

TEST_F(GroupTest, TheMostPreferredCommonProtocolIsChosen) {
    JoinSlot first;
    const std::string a = join_new(first);
    leader_syncs(a, 1);
    JoinSlot second;
    JoinRequest request = join_request("", {{"roundrobin", "b-rr"}, {"range", "b-range"}});
    request.require_known_member_id = false;
    group_.join(request, second, now_);
    JoinSlot third;
    group_.join(request, third, now_);
    JoinSlot again;
    group_.join(join_request(a), again, now_);
    ASSERT_TRUE(again.done);
    EXPECT_EQ(again.result.protocol_name, "roundrobin");  // two votes to one
}

TEST_F(GroupTest, SilentMembersExpireAndTheGroupRebalances) {
    JoinSlot first;
    const std::string a = join_new(first);
    leader_syncs(a, 1);
    JoinSlot second;
    const std::string b = join_new(second);
    JoinSlot again;
    group_.join(join_request(a), again, now_);
    leader_syncs(a, 2);
    SyncRequest follower;
    follower.member_id = b;
    follower.generation_id = 2;
    SyncSlot follower_slot;
    group_.sync(follower, follower_slot, now_);

    // b keeps heartbeating, a falls silent.
    for (int i = 0; i < 4; ++i) {
        now_ += session_ms / 3;
        EXPECT_EQ(group_.heartbeat(b, std::nullopt, 2, now_), ErrorCode::none);
        group_.tick(now_);
    }
    EXPECT_FALSE(group_.members().contains(a));
    EXPECT_EQ(group_.state(), GroupState::preparing_rebalance);
    EXPECT_EQ(group_.leader_id(), b);
    JoinSlot rejoin;
    group_.join(join_request(b), rejoin, now_);
    ASSERT_TRUE(rejoin.done);
    EXPECT_EQ(rejoin.result.generation_id, 3);
    EXPECT_EQ(rejoin.result.leader_id, b);
}

TEST_F(GroupTest, RebalanceTimeoutDropsMembersThatDoNotRejoin) {
    JoinSlot first;
    const std::string a = join_new(first);
    leader_syncs(a, 1);
    JoinSlot second;
    join_new(second);
    ASSERT_FALSE(second.done);
    // a heartbeats (so its session stays alive) but never rejoins.
    for (int64_t waited = 0; waited <= rebalance_ms; waited += session_ms / 2) {
        now_ += session_ms / 2;
        group_.heartbeat(a, std::nullopt, 1, now_);
        group_.tick(now_);
    }
    ASSERT_TRUE(second.done);
    EXPECT_EQ(second.result.error, ErrorCode::none);
    EXPECT_EQ(second.result.generation_id, 2);
    EXPECT_EQ(second.result.leader_id, second.result.member_id);
    EXPECT_FALSE(group_.members().contains(a));
}

TEST_F(GroupTest, LeavingLastMemberEmptiesTheGroup) {
    JoinSlot slot;
    const std::string a = join_new(slot);
    leader_syncs(a, 1);
    const auto errors = group_.leave({{a, std::nullopt}, {"ghost", std::nullopt}}, now_);
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(errors[0], ErrorCode::none);
    EXPECT_EQ(errors[1], ErrorCode::unknown_member_id);
    EXPECT_EQ(group_.state(), GroupState::empty);
    EXPECT_EQ(group_.generation_id(), 2);
    EXPECT_EQ(group_.protocol_type(), "consumer");
    EXPECT_FALSE(group_.protocol_name().has_value());
    EXPECT_EQ(group_.check_commit("", std::nullopt, -1, now_), ErrorCode::none);
}

TEST_F(GroupTest, StaticMemberRestartKeepsItsAssignmentAndFencesTheOldInstance) {
    JoinSlot first;
    const std::string a = join_new(first, "instance-a");
    ASSERT_TRUE(first.done);
    leader_syncs(a, 1);
    JoinSlot second;
    const std::string b = join_new(second, "instance-b");
    JoinSlot again;
    JoinRequest rejoin = join_request(a);
    rejoin.group_instance_id = "instance-a";
    group_.join(rejoin, again, now_);
    leader_syncs(a, 2);

    // b's client restarts: it joins with its instance id and no member id.
    JoinSlot restarted;
    const std::string b2 = join_new(restarted, "instance-b");
    ASSERT_TRUE(restarted.done);
    EXPECT_EQ(restarted.result.error, ErrorCode::none);
    EXPECT_EQ(restarted.result.generation_id, 2);  // no rebalance
    EXPECT_NE(restarted.result.member_id, b);
    EXPECT_EQ(group_.state(), GroupState::stable);
    SyncRequest sync;
    sync.member_id = restarted.result.member_id;
    sync.group_instance_id = "instance-b";
    sync.generation_id = 2;
    SyncSlot sync_slot;
    EXPECT_EQ(group_.sync(sync, sync_slot, now_), SyncAction::answered);
    EXPECT_EQ(sync_slot.result.assignment, "assignment-of-" + b);
    // The old instance is fenced.
    EXPECT_EQ(group_.heartbeat(b, std::string_view("instance-b"), 2, now_),
              ErrorCode::fenced_instance_id);
    EXPECT_EQ(group_.check_commit(b, std::string_view("instance-b"), 2, now_),
              ErrorCode::fenced_instance_id);
}

TEST_F(GroupTest, LeaderThatNeverSyncsStartsAnotherRebalance) {
    JoinSlot first;
    const std::string a = join_new(first);
    leader_syncs(a, 1);
    JoinSlot second;
    const std::string b = join_new(second);
    JoinSlot again;
    group_.join(join_request(a), again, now_);
    ASSERT_TRUE(second.done);
    SyncRequest follower;
    follower.member_id = b;
    follower.generation_id = 2;
    SyncSlot follower_slot;
    EXPECT_EQ(group_.sync(follower, follower_slot, now_), SyncAction::waiting);
    now_ += rebalance_ms + 1;
    group_.tick(now_);
    ASSERT_TRUE(follower_slot.done);
    EXPECT_EQ(follower_slot.result.error, ErrorCode::rebalance_in_progress);
    EXPECT_FALSE(group_.members().contains(a));
}

TEST_F(GroupTest, AbandonAnswersEveryWaiter) {
    JoinSlot first;
    const std::string a = join_new(first);
    leader_syncs(a, 1);
    JoinSlot second;
    join_new(second);
    ASSERT_FALSE(second.done);
    group_.abandon_waiters(ErrorCode::coordinator_not_available);
    ASSERT_TRUE(second.done);
    EXPECT_EQ(second.result.error, ErrorCode::coordinator_not_available);
    EXPECT_FALSE(group_.has_waiters());
}

TEST_F(GroupTest, SnapshotRestoresAStableGroup) {
    JoinSlot first;
    const std::string a = join_new(first, "instance-a");
    leader_syncs(a, 1);
    group_.commit({"orders", 3},
                  {.offset = 42, .leader_epoch = 0, .metadata = "m", .commit_timestamp_ms = 5});
    const GroupSnapshot snapshot = group_.snapshot(now_);
    const std::string value = encode_group_value(snapshot);
    auto decoded = decode_group_value(std::as_bytes(std::span(value.data(), value.size())));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    ASSERT_EQ(decoded->members.size(), 1u);
    EXPECT_EQ(decoded->members[0].assignment, "assignment-of-" + a);
    EXPECT_EQ(decoded->members[0].group_instance_id, "instance-a");

    Group restored("orders-group", ids_);
    restored.restore(*decoded, now_);
    EXPECT_EQ(restored.state(), GroupState::stable);
    EXPECT_EQ(restored.generation_id(), 1);
    EXPECT_EQ(restored.leader_id(), a);
    EXPECT_EQ(restored.heartbeat(a, std::string_view("instance-a"), 1, now_), ErrorCode::none);
}

TEST(OffsetsRecords, KeysAndValuesRoundTrip) {
    const std::string key = encode_offset_key("g", "orders", 7);
    auto decoded = decode_key(std::as_bytes(std::span(key.data(), key.size())));
    ASSERT_TRUE(decoded.ok());
    const auto* offset_key = std::get_if<OffsetKey>(&*decoded);
    ASSERT_NE(offset_key, nullptr);
    EXPECT_EQ(offset_key->group, "g");
    EXPECT_EQ(offset_key->topic, "orders");
    EXPECT_EQ(offset_key->partition, 7);

    const std::string value = encode_offset_value(
        {.offset = 99, .leader_epoch = 3, .metadata = "meta", .commit_timestamp_ms = 1234});
    auto offset = decode_offset_value(std::as_bytes(std::span(value.data(), value.size())));
    ASSERT_TRUE(offset.ok());
    EXPECT_EQ(offset->offset, 99);
    EXPECT_EQ(offset->metadata, "meta");

    const std::string group_key = encode_group_key("g");
    auto decoded_group = decode_key(std::as_bytes(std::span(group_key.data(), group_key.size())));
    ASSERT_TRUE(decoded_group.ok());
    EXPECT_EQ(std::get<GroupKey>(*decoded_group).group, "g");

    // Truncated bytes are refused, not guessed at.
    auto truncated = decode_key(std::as_bytes(std::span(key.data(), key.size() - 1)));
    EXPECT_FALSE(truncated.ok());
}

TEST(OffsetsRecords, GroupPartitionIsStable) {
    // Golden values: a change would move every group to another coordinator partition.
    EXPECT_EQ(partition_for_group("", offsets_topic_partitions), 5);
    EXPECT_EQ(partition_for_group("orders-group", offsets_topic_partitions),
              partition_for_group("orders-group", offsets_topic_partitions));
    EXPECT_EQ(partition_for_group("a", 16), static_cast<int32_t>(0xe40c292cu % 16));
}

}  // namespace
}  // namespace ringlog::core::group
