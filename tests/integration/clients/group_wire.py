"""Raw consumer-group frames for the group tests: FindCoordinator v2, JoinGroup v5, SyncGroup v3,
Heartbeat v3, LeaveGroup v3, OffsetCommit v7, OffsetFetch v5, DescribeGroups v4, ListGroups v2
and DeleteGroups v1. All of them are the last non-flexible versions (request header v1,
response header v0), written from the protocol's message/*.json. Also the consumer protocol's
Subscription v0 and Assignment v0, the bytes a JoinGroup and SyncGroup carry.
"""

import sys

sys.dont_write_bytecode = True

from kafka_wire import Reader, Writer  # noqa: E402

OFFSET_COMMIT = 8
OFFSET_FETCH = 9
FIND_COORDINATOR = 10
JOIN_GROUP = 11
HEARTBEAT = 12
LEAVE_GROUP = 13
SYNC_GROUP = 14
DESCRIBE_GROUPS = 15
LIST_GROUPS = 16
DELETE_GROUPS = 42

UNKNOWN_TOPIC_OR_PARTITION = 3
ILLEGAL_GENERATION = 22
INCONSISTENT_GROUP_PROTOCOL = 23
INVALID_GROUP_ID = 24
UNKNOWN_MEMBER_ID = 25
INVALID_SESSION_TIMEOUT = 26
REBALANCE_IN_PROGRESS = 27
NON_EMPTY_GROUP = 68
GROUP_ID_NOT_FOUND = 69
MEMBER_ID_REQUIRED = 79
FENCED_INSTANCE_ID = 82


def subscription(topics):
    """ConsumerProtocolSubscription v0: version, topics, user data (null)."""
    return Writer().int16(0).array(topics, lambda w, t: w.string(t)).bytes_(None).getvalue()


def assignment(partitions_by_topic):
    """ConsumerProtocolAssignment v0: version, [topic, [partition]], user data (null)."""
    items = sorted(partitions_by_topic.items())
    return (
        Writer()
        .int16(0)
        .array(items, lambda w, tp: w.string(tp[0]).array(tp[1], lambda w2, p: w2.int32(p)))
        .bytes_(None)
        .getvalue()
    )


def decode_assignment(data):
    if not data:
        return {}
    r = Reader(data)
    r.int16()
    topics = r.array(lambda r2: (r2.string(), r2.array(lambda r3: r3.int32())))
    return {t: ps for t, ps in topics or []}


def find_coordinator(conn, group_id):
    r = conn.call(FIND_COORDINATOR, 2, Writer().string(group_id).int8(0).getvalue())
    r.int32()
    return {"error_code": r.int16(), "error_message": r.string(), "node_id": r.int32(), "host": r.string(), "port": r.int32()}


def join_group(conn, group_id, member_id="", topics=("t",), session_timeout_ms=10000, rebalance_timeout_ms=10000,
               group_instance_id=None, protocol_type="consumer", protocols=None, timeout=None):
    if protocols is None:
        protocols = [("range", subscription(list(topics)))]
    body = (
        Writer()
        .string(group_id)
        .int32(session_timeout_ms)
        .int32(rebalance_timeout_ms)
        .string(member_id)
        .string(group_instance_id)
        .string(protocol_type)
        .array(protocols, lambda w, p: w.string(p[0]).bytes_(p[1]))
        .getvalue()
    )
    r = conn.call(JOIN_GROUP, 5, body, timeout=timeout)
    r.int32()
    out = {"error_code": r.int16(), "generation_id": r.int32(), "protocol_name": r.string(), "leader": r.string(), "member_id": r.string()}
    out["members"] = r.array(lambda r2: {"member_id": r2.string(), "group_instance_id": r2.string(), "metadata": r2.bytes_()})
    return out


def sync_group(conn, group_id, generation_id, member_id, assignments=(), group_instance_id=None, timeout=None):
    body = (
        Writer()
        .string(group_id)
        .int32(generation_id)
        .string(member_id)
        .string(group_instance_id)
        .array(list(assignments), lambda w, a: w.string(a[0]).bytes_(a[1]))
        .getvalue()
    )
    r = conn.call(SYNC_GROUP, 3, body, timeout=timeout)
    r.int32()
    return {"error_code": r.int16(), "assignment": r.bytes_()}


def heartbeat(conn, group_id, generation_id, member_id, group_instance_id=None):
    body = Writer().string(group_id).int32(generation_id).string(member_id).string(group_instance_id).getvalue()
    r = conn.call(HEARTBEAT, 3, body)
    r.int32()
    return r.int16()


def leave_group(conn, group_id, members):
    """members: [(member_id, group_instance_id)]. Returns (error, [member errors])."""
    body = Writer().string(group_id).array(members, lambda w, m: w.string(m[0]).string(m[1])).getvalue()
    r = conn.call(LEAVE_GROUP, 3, body)
    r.int32()
    error = r.int16()
    return error, r.array(lambda r2: (r2.string(), r2.string(), r2.int16()))


def offset_commit(conn, group_id, generation_id, member_id, offsets, group_instance_id=None):
    """offsets: {(topic, partition): offset}. Returns {(topic, partition): error}."""
    by_topic = {}
    for (topic, partition), offset in sorted(offsets.items()):
        by_topic.setdefault(topic, []).append((partition, offset))
    body = (
        Writer()
        .string(group_id)
        .int32(generation_id)
        .string(member_id)
        .string(group_instance_id)
        .array(
            list(by_topic.items()),
            lambda w, t: w.string(t[0]).array(t[1], lambda w2, p: w2.int32(p[0]).int64(p[1]).int32(-1).string("")),
        )
        .getvalue()
    )
    r = conn.call(OFFSET_COMMIT, 7, body)
    r.int32()
    out = {}
    for name, partitions in r.array(lambda r2: (r2.string(), r2.array(lambda r3: (r3.int32(), r3.int16())))):
        for partition, error in partitions:
            out[(name, partition)] = error
    return out


def offset_fetch(conn, group_id, partitions=None):
    """partitions: [(topic, partition)] or None for all. Returns (error, {(topic, p): offset})."""
    topics = None
    if partitions is not None:
        by_topic = {}
        for topic, partition in partitions:
            by_topic.setdefault(topic, []).append(partition)
        topics = list(by_topic.items())
    body = Writer().string(group_id).array(topics, lambda w, t: w.string(t[0]).array(t[1], lambda w2, p: w2.int32(p))).getvalue()
    r = conn.call(OFFSET_FETCH, 5, body)
    r.int32()
    out = {}
    for name, parts in r.array(lambda r2: (r2.string(), r2.array(lambda r3: (r3.int32(), r3.int64(), r3.int32(), r3.string(), r3.int16())))):
        for partition, offset, _epoch, _metadata, _error in parts:
            out[(name, partition)] = offset
    return r.int16(), out


def describe_groups(conn, group_ids):
    body = Writer().array(group_ids, lambda w, g: w.string(g)).boolean(False).getvalue()
    r = conn.call(DESCRIBE_GROUPS, 4, body)
    r.int32()

    def member(r2):
        return {
            "member_id": r2.string(),
            "group_instance_id": r2.string(),
            "client_id": r2.string(),
            "client_host": r2.string(),
            "metadata": r2.bytes_(),
            "assignment": r2.bytes_(),
        }

    def group(r2):
        out = {"error_code": r2.int16(), "group_id": r2.string(), "state": r2.string(), "protocol_type": r2.string(), "protocol_data": r2.string()}
        out["members"] = r2.array(member)
        out["authorized_operations"] = r2.int32()
        return out

    return r.array(group)


def list_groups(conn):
    r = conn.call(LIST_GROUPS, 2, b"")
    r.int32()
    error = r.int16()
    return error, r.array(lambda r2: (r2.string(), r2.string()))


def delete_groups(conn, group_ids):
    r = conn.call(DELETE_GROUPS, 1, Writer().array(group_ids, lambda w, g: w.string(g)).getvalue())
    r.int32()
    return dict(r.array(lambda r2: (r2.string(), r2.int16())))
