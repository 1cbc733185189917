#include "core/group/group.h"

#include <algorithm>
#include <cstdio>

#include "core/group/group_limits.h"
#include "io/base/assert.h"

namespace ringlog::core::group {

std::string_view state_name(GroupState state) {
    switch (state) {
        case GroupState::empty:
            return "Empty";
        case GroupState::preparing_rebalance:
            return "PreparingRebalance";
        case GroupState::completing_rebalance:
            return "CompletingRebalance";
        case GroupState::stable:
            return "Stable";
    }
    return "Dead";
}

const std::string* Member::metadata_for(std::string_view protocol) const {
    for (const Protocol& candidate : protocols) {
        if (candidate.name == protocol) {
            return &candidate.metadata;
        }
    }
    return nullptr;
}

std::string MemberIds::next(std::string_view prefix) {
    // splitmix64 over a counter: distinct for 2^64 calls, and unguessable enough that one
    // client cannot pick another's id by accident.
    const auto mix = [this] {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    };
    char hex[33];
    std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(mix()),
                  static_cast<unsigned long long>(mix()));
    std::string id(prefix);
    id += '-';
    id.append(hex, 32);
    return id;
}

Group::~Group() {
    RL_ASSERT(!has_waiters(), "group %s destroyed with requests waiting", id_.c_str());
}

bool Group::has_waiters() const {
    return std::any_of(members_.begin(), members_.end(), [](const auto& entry) {
        return entry.second.join != nullptr || entry.second.sync != nullptr;
    });
}

void Group::set_state(GroupState state, int64_t now_ms) {
    state_ = state;
    state_timestamp_ms_ = now_ms;
}

bool Group::is_fenced(std::string_view member_id,
                      const std::optional<std::string_view>& group_instance_id) const {
    if (!group_instance_id.has_value()) {
        return false;
    }
    const auto it = static_members_.find(*group_instance_id);
    return it != static_members_.end() && it->second != member_id;
}

bool Group::supports(const JoinRequest& request) const {
    if (request.protocol_type.empty() || request.protocols.empty()) {
        return false;
    }
    // The joining member's own current entry does not count: it may change its protocols.
    const auto is_self = [&request](const Member& member) {
        return member.member_id == request.member_id
               || (request.group_instance_id.has_value()
                   && member.group_instance_id == request.group_instance_id);
    };
    const bool alone = std::all_of(members_.begin(), members_.end(),
                                   [&](const auto& entry) { return is_self(entry.second); });
    if (alone) {
        return true;
    }
    if (request.protocol_type != protocol_type_) {
        return false;
    }
    // One of its protocols must be supported by every other member, so that the protocols all
    // members share never become none.
    return std::any_of(
        request.protocols.begin(), request.protocols.end(), [&](const Protocol& protocol) {
            return std::all_of(members_.begin(), members_.end(), [&](const auto& entry) {
                return is_self(entry.second) || entry.second.metadata_for(protocol.name) != nullptr;
            });
        });
}

std::optional<std::string> Group::select_protocol() const {
    if (members_.empty()) {
        return std::nullopt;
    }
    // Candidates: the protocols of the first member every other member supports too.
    std::vector<std::string> candidates;
    for (const Protocol& protocol : members_.begin()->second.protocols) {
        const bool everyone = std::all_of(members_.begin(), members_.end(), [&](const auto& entry) {
            return entry.second.metadata_for(protocol.name) != nullptr;
        });
        if (everyone) {
            candidates.push_back(protocol.name);
        }
    }
    if (candidates.empty()) {
        return std::nullopt;
    }
    // Each member votes for its own most preferred candidate; the most votes wins, ties to the
    // first candidate.
    std::vector<size_t> votes(candidates.size(), 0);
    for (const auto& [id, member] : members_) {
        for (const Protocol& protocol : member.protocols) {
            const auto it = std::find(candidates.begin(), candidates.end(), protocol.name);
            if (it != candidates.end()) {
                ++votes[static_cast<size_t>(it - candidates.begin())];
                break;
            }
        }
    }
    const auto best = std::max_element(votes.begin(), votes.end());
    return candidates[static_cast<size_t>(best - votes.begin())];
}

int32_t Group::rebalance_timeout_ms() const {
    int32_t longest = 0;
    for (const auto& [id, member] : members_) {
        longest = std::max(longest, member.rebalance_timeout_ms);
    }
    return longest;
}

std::vector<MemberInfo> Group::member_infos() const {
    std::vector<MemberInfo> infos;
    infos.reserve(members_.size());
    for (const auto& [id, member] : members_) {
        const std::string* metadata =
            protocol_name_ ? member.metadata_for(*protocol_name_) : nullptr;
        infos.push_back({.member_id = member.member_id,
                         .group_instance_id = member.group_instance_id,
                         .metadata = metadata != nullptr ? *metadata : std::string()});
    }
    return infos;
}

JoinResult Group::current_join_result(const Member& member, bool with_members) const {
    JoinResult result;
    result.generation_id = generation_id_;
    result.protocol_type = protocol_type_;
    result.protocol_name = protocol_name_;
    result.leader_id = leader_id_;
    result.member_id = member.member_id;
    if (with_members) {
        result.members = member_infos();
    }
    return result;
}

void Group::await_join(Member& member, JoinSlot& slot) {
    if (member.join != nullptr && member.join != &slot) {
        // The same member joined again before the first answer: the newer request wins.
        member.join->result.error = ErrorCode::rebalance_in_progress;
        member.join->done = true;
    }
    member.join = &slot;
}

void Group::update_member(Member& member, const JoinRequest& request) {
    member.client_id = std::string(request.client_id);
    member.client_host = std::string(request.client_host);
    member.session_timeout_ms = request.session_timeout_ms;
    member.rebalance_timeout_ms = request.rebalance_timeout_ms;
    member.protocol_type = std::string(request.protocol_type);
    member.protocols = request.protocols;
}

void Group::add_member(const JoinRequest& request, std::string member_id, JoinSlot& slot,
                       int64_t now_ms) {
    if (members_.empty()) {
        protocol_type_ = std::string(request.protocol_type);
    }
    Member& member = members_[member_id];
    member.member_id = member_id;
    if (request.group_instance_id.has_value()) {
        member.group_instance_id = std::string(*request.group_instance_id);
        static_members_[member.group_instance_id.value()] = member_id;
    }
    update_member(member, request);
    member.last_heard_ms = now_ms;
    if (leader_id_.empty()) {
        leader_id_ = member_id;
    }
    await_join(member, slot);
    if (state_ == GroupState::preparing_rebalance) {
        maybe_complete_join(now_ms);
    } else {
        prepare_rebalance(now_ms);
    }
}

void Group::join(const JoinRequest& request, JoinSlot& slot, int64_t now_ms) {
    const auto answer = [&slot](ErrorCode error, std::string member_id = {}) {
        slot.result.error = error;
        slot.result.member_id = std::move(member_id);
        slot.done = true;
    };
    if (request.session_timeout_ms < session_timeout_ms_min
        || request.session_timeout_ms > session_timeout_ms_max) {
        return answer(ErrorCode::invalid_session_timeout, std::string(request.member_id));
    }
    if (!supports(request)) {
        return answer(ErrorCode::inconsistent_group_protocol, std::string(request.member_id));
    }
    if (request.member_id.empty()) {
        if (request.group_instance_id.has_value()) {
            const auto known = static_members_.find(*request.group_instance_id);
            if (known != static_members_.end()) {
                // A static member back after a restart of its client: it takes over its old
                // entry under a new id, which fences the old instance (KIP-345).
                std::string new_id = ids_.next(*request.group_instance_id);
                auto node = members_.extract(known->second);
                RL_ASSERT(!node.empty());
                Member& old = node.mapped();
                if (old.join != nullptr) {
                    old.join->result.error = ErrorCode::fenced_instance_id;
                    old.join->done = true;
                    old.join = nullptr;
                }
                if (old.sync != nullptr) {
                    old.sync->result.error = ErrorCode::fenced_instance_id;
                    old.sync->done = true;
                    old.sync = nullptr;
                }
                const bool was_leader = leader_id_ == node.key();
                const std::vector<Protocol> old_protocols = old.protocols;
                node.key() = new_id;
                old.member_id = new_id;
                Member& member = members_.insert(std::move(node)).position->second;
                known->second = new_id;
                if (was_leader) {
                    leader_id_ = new_id;
                }
                update_member(member, request);
                member.last_heard_ms = now_ms;
                needs_store_ = true;
                if (state_ == GroupState::stable && select_protocol() == protocol_name_) {
                    // Same protocol next generation: no rebalance; the member keeps its
                    // assignment, and a leader is told to skip assigning (v9) or its new
                    // assignment is ignored (SyncGroup in Stable answers what is stored).
                    JoinResult result = current_join_result(member, was_leader);
                    result.skip_assignment = was_leader;
                    slot.result = std::move(result);
                    slot.done = true;
                    return;
                }
                await_join(member, slot);
                if (state_ == GroupState::preparing_rebalance) {
                    maybe_complete_join(now_ms);
                } else {
                    prepare_rebalance(now_ms);
                }
                return;
            }
            if (members_.size() >= group_members_max) {
                return answer(ErrorCode::group_max_size_reached);
            }
            add_member(request, ids_.next(*request.group_instance_id), slot, now_ms);
            return;
        }
        if (members_.size() + pending_members_.size() >= group_members_max) {
            return answer(ErrorCode::group_max_size_reached);
        }
        std::string new_id = ids_.next(request.client_id);
        if (request.require_known_member_id) {
            if (pending_members_.size() >= pending_members_max) {
                return answer(ErrorCode::group_max_size_reached);
            }
            pending_members_[new_id] = now_ms + request.session_timeout_ms;
            return answer(ErrorCode::member_id_required, std::move(new_id));
        }
        add_member(request, std::move(new_id), slot, now_ms);
        return;
    }
    if (const auto pending = pending_members_.find(request.member_id);
        pending != pending_members_.end()) {
        pending_members_.erase(pending);
        if (is_fenced(request.member_id, request.group_instance_id)) {
            return answer(ErrorCode::fenced_instance_id, std::string(request.member_id));
        }
        add_member(request, std::string(request.member_id), slot, now_ms);
        return;
    }
    if (is_fenced(request.member_id, request.group_instance_id)) {
        return answer(ErrorCode::fenced_instance_id, std::string(request.member_id));
    }
    const auto found = members_.find(request.member_id);
    if (found == members_.end()) {
        return answer(ErrorCode::unknown_member_id, std::string(request.member_id));
    }
    Member& member = found->second;
    member.last_heard_ms = now_ms;
    const bool same_protocols = member.protocols == request.protocols;
    switch (state_) {
        case GroupState::preparing_rebalance:
            update_member(member, request);
            await_join(member, slot);
            maybe_complete_join(now_ms);
            return;
        case GroupState::completing_rebalance:
            if (same_protocols) {
                // It lost the JoinGroup answer: give it again.
                slot.result = current_join_result(member, member.member_id == leader_id_);
                slot.done = true;
                return;
            }
            update_member(member, request);
            await_join(member, slot);
            prepare_rebalance(now_ms);
            return;
        case GroupState::stable:
            if (same_protocols && member.member_id != leader_id_) {
                slot.result = current_join_result(member, false);
                slot.done = true;
                return;
            }
            // The leader rejoining, or new subscriptions: a new generation.
            update_member(member, request);
            await_join(member, slot);
            prepare_rebalance(now_ms);
            return;
        case GroupState::empty:
            break;
    }
    RL_ASSERT(false, "group %s: a member in an empty group", id_.c_str());
}

SyncAction Group::sync(const SyncRequest& request, SyncSlot& slot, int64_t now_ms) {
    const auto answer = [&slot](ErrorCode error) {
        slot.result.error = error;
        slot.done = true;
        return SyncAction::answered;
    };
    if (is_fenced(request.member_id, request.group_instance_id)) {
        return answer(ErrorCode::fenced_instance_id);
    }
    const auto found = members_.find(request.member_id);
    if (found == members_.end()) {
        return answer(ErrorCode::unknown_member_id);
    }
    if (request.generation_id != generation_id_) {
        return answer(ErrorCode::illegal_generation);
    }
    if ((request.protocol_type.has_value() && *request.protocol_type != protocol_type_)
        || (request.protocol_name.has_value() && request.protocol_name != protocol_name_)) {
        return answer(ErrorCode::inconsistent_group_protocol);
    }
    Member& member = found->second;
    member.last_heard_ms = now_ms;
    slot.result.protocol_type = protocol_type_;
    slot.result.protocol_name = protocol_name_;
    switch (state_) {
        case GroupState::empty:
            return answer(ErrorCode::unknown_member_id);
        case GroupState::preparing_rebalance:
            return answer(ErrorCode::rebalance_in_progress);
        case GroupState::stable:
            slot.result.assignment = member.assignment;
            slot.done = true;
            return SyncAction::answered;
        case GroupState::completing_rebalance:
            break;
    }
    if (member.sync != nullptr && member.sync != &slot) {
        member.sync->result.error = ErrorCode::rebalance_in_progress;
        member.sync->done = true;
    }
    member.sync = &slot;
    if (member.member_id != leader_id_ || storing_) {
        return SyncAction::waiting;
    }
    for (auto& [id, each] : members_) {
        each.assignment.clear();
    }
    for (const auto& [member_id, assignment] : request.assignments) {
        const auto target = members_.find(member_id);
        if (target != members_.end()) {
            target->second.assignment = std::string(assignment);
        }
    }
    storing_ = true;
    return SyncAction::store;
}

void Group::stored(int32_t generation, bool ok, int64_t now_ms) {
    if (generation != generation_id_ || state_ != GroupState::completing_rebalance) {
        return;  // a rebalance began meanwhile and answered the waiting syncs
    }
    storing_ = false;
    if (!ok) {
        answer_syncs(ErrorCode::coordinator_not_available);
        prepare_rebalance(now_ms);
        return;
    }
    set_state(GroupState::stable, now_ms);
    answer_syncs(ErrorCode::none);
}

void Group::answer_syncs(ErrorCode error) {
    for (auto& [id, member] : members_) {
        if (member.sync == nullptr) {
            continue;
        }
        member.sync->result.error = error;
        member.sync->result.protocol_type = protocol_type_;
        member.sync->result.protocol_name = protocol_name_;
        if (error == ErrorCode::none) {
            member.sync->result.assignment = member.assignment;
        }
        member.sync->done = true;
        member.sync = nullptr;
    }
}

ErrorCode Group::heartbeat(std::string_view member_id,
                           const std::optional<std::string_view>& group_instance_id,
                           int32_t generation_id, int64_t now_ms) {
    if (is_fenced(member_id, group_instance_id)) {
        return ErrorCode::fenced_instance_id;
    }
    const auto found = members_.find(member_id);
    if (found == members_.end()) {
        return ErrorCode::unknown_member_id;
    }
    if (generation_id != generation_id_) {
        return ErrorCode::illegal_generation;
    }
    found->second.last_heard_ms = now_ms;
    return state_ == GroupState::preparing_rebalance ? ErrorCode::rebalance_in_progress
                                                     : ErrorCode::none;
}

std::vector<ErrorCode> Group::leave(const std::vector<MemberIdentity>& identities, int64_t now_ms) {
    std::vector<ErrorCode> errors;
    errors.reserve(identities.size());
    for (const MemberIdentity& identity : identities) {
        std::string member_id(identity.member_id);
        if (identity.group_instance_id.has_value()) {
            const auto known = static_members_.find(*identity.group_instance_id);
            if (known == static_members_.end()) {
                errors.push_back(ErrorCode::unknown_member_id);
                continue;
            }
            if (!member_id.empty() && member_id != known->second) {
                errors.push_back(ErrorCode::fenced_instance_id);
                continue;
            }
            member_id = known->second;
        }
        if (pending_members_.erase(member_id) > 0) {
            errors.push_back(ErrorCode::none);
            continue;
        }
        if (!members_.contains(member_id)) {
            errors.push_back(ErrorCode::unknown_member_id);
            continue;
        }
        remove_member(member_id, ErrorCode::unknown_member_id, now_ms);
        errors.push_back(ErrorCode::none);
    }
    return errors;
}

ErrorCode Group::check_commit(std::string_view member_id,
                              const std::optional<std::string_view>& group_instance_id,
                              int32_t generation_id, int64_t now_ms) {
    if (generation_id < 0 && members_.empty()) {
        return ErrorCode::none;  // a consumer that assigns its partitions itself
    }
    if (is_fenced(member_id, group_instance_id)) {
        return ErrorCode::fenced_instance_id;
    }
    const auto found = members_.find(member_id);
    if (found == members_.end()) {
        return ErrorCode::unknown_member_id;
    }
    if (generation_id != generation_id_) {
        return ErrorCode::illegal_generation;
    }
    if (state_ == GroupState::completing_rebalance) {
        return ErrorCode::rebalance_in_progress;
    }
    // Stable, or preparing: members commit what they consumed before they rejoin.
    found->second.last_heard_ms = now_ms;
    return ErrorCode::none;
}

void Group::remove_member(const std::string& member_id, ErrorCode error_for_waiters,
                          int64_t now_ms) {
    const auto found = members_.find(member_id);
    RL_ASSERT(found != members_.end());
    Member& member = found->second;
    if (member.join != nullptr) {
        member.join->result.error = error_for_waiters;
        member.join->result.member_id = member_id;
        member.join->done = true;
    }
    if (member.sync != nullptr) {
        member.sync->result.error = error_for_waiters;
        member.sync->done = true;
    }
    if (member.group_instance_id.has_value()) {
        static_members_.erase(*member.group_instance_id);
    }
    members_.erase(found);
    if (leader_id_ == member_id) {
        // Prefer a member that is already waiting in JoinGroup: it can assign at once.
        leader_id_.clear();
        for (const auto& [id, candidate] : members_) {
            if (candidate.join != nullptr) {
                leader_id_ = id;
                break;
            }
        }
        if (leader_id_.empty() && !members_.empty()) {
            leader_id_ = members_.begin()->first;
        }
    }
    switch (state_) {
        case GroupState::stable:
        case GroupState::completing_rebalance:
            prepare_rebalance(now_ms);
            break;
        case GroupState::preparing_rebalance:
            maybe_complete_join(now_ms);
            break;
        case GroupState::empty:
            break;
    }
}

void Group::prepare_rebalance(int64_t now_ms) {
    if (state_ == GroupState::completing_rebalance) {
        // Assignments of the generation that never became stable are void.
        for (auto& [id, member] : members_) {
            member.assignment.clear();
        }
        answer_syncs(ErrorCode::rebalance_in_progress);
    }
    storing_ = false;
    set_state(GroupState::preparing_rebalance, now_ms);
    rebalance_deadline_ms_ = now_ms + rebalance_timeout_ms();
    maybe_complete_join(now_ms);
}

void Group::maybe_complete_join(int64_t now_ms) {
    if (state_ != GroupState::preparing_rebalance) {
        return;
    }
    const bool all_joined = std::all_of(members_.begin(), members_.end(), [](const auto& entry) {
        return entry.second.join != nullptr;
    });
    if (all_joined) {
        complete_join(now_ms);
    }
}

void Group::complete_join(int64_t now_ms) {
    RL_ASSERT(state_ == GroupState::preparing_rebalance);
    // Dynamic members that did not rejoin in time are gone; static ones keep their place until
    // their session expires (KIP-345), and the leader assigns to them too.
    for (auto it = members_.begin(); it != members_.end();) {
        Member& member = it->second;
        if (member.join == nullptr && !member.group_instance_id.has_value()) {
            if (member.sync != nullptr) {
                member.sync->result.error = ErrorCode::unknown_member_id;
                member.sync->done = true;
            }
            it = members_.erase(it);
        } else {
            ++it;
        }
    }
    ++generation_id_;
    needs_store_ = true;
    if (members_.empty()) {
        // The protocol type stays, as in Kafka: ListGroups shows an empty consumer group as
        // "consumer", and the next member may bring another.
        protocol_name_.reset();
        leader_id_.clear();
        set_state(GroupState::empty, now_ms);
        return;
    }
    if (!members_.contains(leader_id_) || members_.at(leader_id_).join == nullptr) {
        for (const auto& [id, member] : members_) {
            if (member.join != nullptr) {
                leader_id_ = id;
                break;
            }
        }
    }
    protocol_name_ = select_protocol();
    if (!protocol_name_.has_value()) {
        // join() admits only members that share a protocol with all others, so this means a
        // bug, but one that costs a group its generation, not the broker its data.
        std::fprintf(stderr, "ringlogd: group %s: members share no protocol\n", id_.c_str());
        std::vector<std::string> everyone;
        for (const auto& [id, member] : members_) {
            everyone.push_back(id);
        }
        for (const std::string& id : everyone) {
            Member& member = members_.at(id);
            if (member.join != nullptr) {
                member.join->result.error = ErrorCode::inconsistent_group_protocol;
                member.join->done = true;
                member.join = nullptr;
            }
        }
        members_.clear();
        static_members_.clear();
        leader_id_.clear();
        set_state(GroupState::empty, now_ms);
        return;
    }
    set_state(GroupState::completing_rebalance, now_ms);
    sync_deadline_ms_ = now_ms + rebalance_timeout_ms();
    for (auto& [id, member] : members_) {
        member.assignment.clear();
        if (member.join == nullptr) {
            continue;
        }
        member.join->result = current_join_result(member, id == leader_id_);
        member.join->done = true;
        member.join = nullptr;
        member.last_heard_ms = now_ms;  // the session restarts when the answer goes out
    }
}

void Group::tick(int64_t now_ms) {
    for (auto it = pending_members_.begin(); it != pending_members_.end();) {
        it = it->second <= now_ms ? pending_members_.erase(it) : std::next(it);
    }
    if (state_ == GroupState::preparing_rebalance && now_ms >= rebalance_deadline_ms_) {
        complete_join(now_ms);
    }
    if (state_ == GroupState::completing_rebalance && !storing_ && now_ms >= sync_deadline_ms_) {
        // The leader never sent its assignment: drop the members that did not sync, start over.
        std::vector<std::string> silent;
        for (const auto& [id, member] : members_) {
            if (member.sync == nullptr) {
                silent.push_back(id);
            }
        }
        for (const std::string& id : silent) {
            if (members_.contains(id)) {
                remove_member(id, ErrorCode::unknown_member_id, now_ms);
            }
        }
        if (state_ == GroupState::completing_rebalance) {
            prepare_rebalance(now_ms);
        }
    }
    // Sessions: a member with a request waiting is alive (its session restarts with the
    // answer); any other must have been heard from within its session timeout.
    std::vector<std::string> expired;
    for (const auto& [id, member] : members_) {
        if (member.join == nullptr && member.sync == nullptr
            && now_ms - member.last_heard_ms > member.session_timeout_ms) {
            expired.push_back(id);
        }
    }
    for (const std::string& id : expired) {
        if (members_.contains(id)) {
            remove_member(id, ErrorCode::unknown_member_id, now_ms);
        }
    }
}

void Group::abandon_waiters(ErrorCode error) {
    for (auto& [id, member] : members_) {
        if (member.join != nullptr) {
            member.join->result.error = error;
            member.join->done = true;
            member.join = nullptr;
        }
        if (member.sync != nullptr) {
            member.sync->result.error = error;
            member.sync->done = true;
            member.sync = nullptr;
        }
    }
}

GroupSnapshot Group::snapshot(int64_t now_ms) const {
    GroupSnapshot snapshot;
    snapshot.protocol_type = protocol_type_;
    snapshot.generation_id = generation_id_;
    snapshot.protocol_name = protocol_name_;
    if (!leader_id_.empty()) {
        snapshot.leader_id = leader_id_;
    }
    snapshot.state_timestamp_ms = state_timestamp_ms_ >= 0 ? state_timestamp_ms_ : now_ms;
    // Only a stable group's members (or those the leader's assignment is being stored for) are
    // worth restoring: mid-rebalance, the members rejoin anyway.
    if (state_ != GroupState::stable && !storing_) {
        return snapshot;
    }
    for (const auto& [id, member] : members_) {
        const std::string* subscription =
            protocol_name_ ? member.metadata_for(*protocol_name_) : nullptr;
        snapshot.members.push_back({
            .member_id = member.member_id,
            .group_instance_id = member.group_instance_id,
            .client_id = member.client_id,
            .client_host = member.client_host,
            .rebalance_timeout_ms = member.rebalance_timeout_ms,
            .session_timeout_ms = member.session_timeout_ms,
            .subscription = subscription != nullptr ? *subscription : std::string(),
            .assignment = member.assignment,
        });
    }
    return snapshot;
}

void Group::restore(const GroupSnapshot& snapshot, int64_t now_ms) {
    RL_ASSERT(!has_waiters());
    members_.clear();
    static_members_.clear();
    pending_members_.clear();
    storing_ = false;
    generation_id_ = snapshot.generation_id;
    protocol_type_ = snapshot.protocol_type;
    protocol_name_ = snapshot.protocol_name;
    leader_id_ = snapshot.leader_id.value_or("");
    for (const GroupSnapshot::StoredMember& stored : snapshot.members) {
        Member& member = members_[stored.member_id];
        member.member_id = stored.member_id;
        member.group_instance_id = stored.group_instance_id;
        if (stored.group_instance_id.has_value()) {
            static_members_[*stored.group_instance_id] = stored.member_id;
        }
        member.client_id = stored.client_id;
        member.client_host = stored.client_host;
        member.rebalance_timeout_ms = stored.rebalance_timeout_ms;
        member.session_timeout_ms = stored.session_timeout_ms;
        member.protocol_type = snapshot.protocol_type;
        if (protocol_name_.has_value()) {
            member.protocols = {Protocol{.name = *protocol_name_, .metadata = stored.subscription}};
        }
        member.assignment = stored.assignment;
        member.last_heard_ms = now_ms;
    }
    if (members_.empty() || !protocol_name_.has_value() || !members_.contains(leader_id_)) {
        if (!members_.empty()) {
            members_.clear();
            static_members_.clear();
        }
        leader_id_.clear();
        set_state(GroupState::empty, now_ms);
        return;
    }
    set_state(GroupState::stable, now_ms);
}

}  // namespace ringlog::core::group
