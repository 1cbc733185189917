#!/usr/bin/python3
"""Consumer groups with real clients and raw frames against ringlogd.

rebalance_mid_stream: a 12-partition topic on 2 shards. Three confluent-kafka consumers in one
group (range assignor, commits every 0.2 s and when partitions are revoked) while a
producer writes at least 15,000 keyed messages; a fourth consumer joins, then one of the first three
leaves, both mid-stream. Then: every produced message was consumed; the group's committed
offsets reach every partition's end; each consumer read each partition it owned as a dense run
of offsets, and every run began at offset 0 or at an offset the group had committed (so a
duplicate only ever comes from resuming at the last commit after a rebalance).

commit_survives_sigkill: a group commits offsets in the middle of 4 partitions (acks=all), the
broker is SIGKILLed and restarted on the same folder; OffsetFetch returns the same offsets, and
a new consumer of the group starts exactly there.

fan_out_two_groups: with --advertise-shards, two groups of two consumers each read one
6-partition topic; each group receives every message exactly once.

bad_input: raw frames: MEMBER_ID_REQUIRED then a stable group of one; a wrong generation in
Heartbeat, SyncGroup and OffsetCommit (ILLEGAL_GENERATION), unknown members (UNKNOWN_MEMBER_ID),
a commit for an unknown partition and topic (UNKNOWN_TOPIC_OR_PARTITION, the valid partition
in the same request committed), another protocol type (INCONSISTENT_GROUP_PROTOCOL), a bad
session timeout, an empty group id, a fenced static instance (FENCED_INSTANCE_ID), a storm of
300 JoinGroups from one client; the group stays stable with its one member, DeleteGroups says
NON_EMPTY_GROUP, then after LeaveGroup deletes it, and a real consumer can then use the group.

kafka_python_group: kafka-python's KafkaConsumer(group_id=...) (JoinGroup v2, SyncGroup v1,
Heartbeat v1, OffsetCommit v2, OffsetFetch v1) consumes and commits half the messages; a second
KafkaConsumer of the group resumes at the committed offsets and reads the rest.

static_member_restart: two confluent-kafka consumers with group.instance.id; one closes and a
new client with the same instance id starts within the session timeout: it gets the same
partitions, and the other member sees no rebalance.

admin_groups: librdkafka's AdminClient.list_groups() and kafka-python's KafkaAdminClient
(list_consumer_groups, describe_consumer_groups, list_consumer_group_offsets,
delete_consumer_groups) see a stable group, its member and its offsets, then delete it once
it is empty.

clean_stop_mid_rebalance: SIGTERM while a JoinGroup waits for a rebalance: the broker answers
it (or closes), exits 0 in time, and after a restart the group is as last stored: stable,
its member's session and assignment intact.
"""

import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402

import client_util as cu  # noqa: E402
import group_wire as gw  # noqa: E402
import harness  # noqa: E402
import kafka_wire as kw  # noqa: E402
from harness import LOOPBACK, CheckFailed, Mismatches, check, check_eq, wait_until  # noqa: E402


def group_consumer_config(bootstrap, group, extra=None):
    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 300,
        "max.poll.interval.ms": 30000,
        "enable.partition.eof": False,
        **cu.QUIET,
    }
    conf.update(extra or {})
    return conf


class Events:
    """What the consumers of one test did, in order, from several threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = []
        self.consumed = 0
        self.consumed_by = {}

    def add(self, *item):
        with self.lock:
            self.items.append(item)
            if item[0] == "msg":
                self.consumed += 1
                self.consumed_by[item[1]] = self.consumed_by.get(item[1], 0) + 1

    def snapshot(self):
        with self.lock:
            return list(self.items)


class GroupMember(threading.Thread):
    """A confluent-kafka consumer in its own thread: consumes, commits every 0.2 s and on
    revocation, logs every assignment, message and successful commit to `events`."""

    def __init__(self, name, bootstrap, group, topic, events, extra=None, leave=True):
        super().__init__(daemon=True, name=name)
        self.leave = leave  # False: close() only, as a static member's restart does
        self.consumer_name = name
        self.conf = group_consumer_config(bootstrap, group, extra)
        self.topic = topic
        self.events = events
        self.stop_requested = threading.Event()
        self.assigned = threading.Event()
        self.error = None
        self.positions = {}  # partition -> next offset to commit

    def commit(self, consumer, partitions=None):
        offsets = [TopicPartition(self.topic, p, o) for p, o in sorted(self.positions.items()) if partitions is None or p in partitions]
        if not offsets:
            return
        try:
            consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException:
            return  # a rebalance is under way: the next owner resumes from the last commit
        self.events.add("commit", self.consumer_name, {tp.partition: tp.offset for tp in offsets})

    def take(self, batch):
        for m in batch:
            if m.error() is not None:
                raise CheckFailed("%s: consumer error %s" % (self.consumer_name, m.error()))
            self.events.add("msg", self.consumer_name, m.partition(), m.offset())
            self.positions[m.partition()] = m.offset() + 1

    def run(self):
        try:
            c = Consumer(self.conf)

            def on_assign(consumer, partitions):
                self.events.add("assign", self.consumer_name, sorted(p.partition for p in partitions))
                self.assigned.set()

            def on_revoke(consumer, partitions):
                revoked = {p.partition for p in partitions}
                self.commit(consumer, revoked)
                for p in revoked:
                    self.positions.pop(p, None)
                self.events.add("revoke", self.consumer_name, sorted(revoked))

            c.subscribe([self.topic], on_assign=on_assign, on_revoke=on_revoke)
            last_commit = time.monotonic()
            while not self.stop_requested.is_set():
                self.take(c.consume(num_messages=500, timeout=0.2))
                # A synchronous commit every 0.2 s (each waits for the disk), as an
                # auto-committing consumer would, only more often.
                if time.monotonic() - last_commit >= 0.2:
                    self.commit(c)
                    last_commit = time.monotonic()
            # Unsubscribe (revoke, and so commit, then leave) and let the revocation finish
            # before close(): librdkafka 2.0.2 asserts in close() if an assignment is still
            # being applied (rd_kafka_cgrp_terminated), which a rebalance at that moment causes.
            if self.leave:
                c.unsubscribe()
            deadline = time.monotonic() + 30
            while self.leave and time.monotonic() < deadline:
                self.take(c.consume(num_messages=500, timeout=0.1))
                if not c.assignment():
                    break
            c.close()
            self.events.add("closed", self.consumer_name)
        except Exception as e:  # reported by the test thread
            self.error = e

    def finish(self, timeout=60):
        self.stop_requested.set()
        self.join(timeout)
        check(not self.is_alive(), "%s did not stop within %d s" % (self.consumer_name, timeout))
        if self.error is not None:
            raise CheckFailed("%s failed: %r" % (self.consumer_name, self.error))


def committed_offsets(port, group, topic, partitions):
    with kw.Connection(LOOPBACK, port) as conn:
        coordinator = gw.find_coordinator(conn, group)
    check_eq(coordinator["error_code"], 0, "FindCoordinator for %s" % group)
    with kw.Connection(LOOPBACK, coordinator["port"]) as conn:
        error, offsets = gw.offset_fetch(conn, group, [(topic, p) for p in range(partitions)])
    check_eq(error, 0, "OffsetFetch error for %s" % group)
    return {p: offsets.get((topic, p), -1) for p in range(partitions)}


def end_offsets(port, topic, partitions):
    """{partition: log end offset}, each asked of the partition's leader."""
    leaders = cu.partition_leaders(port, topic)
    out = {}
    for p in range(partitions):
        with kw.Connection(LOOPBACK, leaders[p]) as conn:
            response = conn.list_offsets(1, [(topic, [(p, kw.LATEST_TIMESTAMP)])])
        answer = response["topics"][0]["partitions"][0]
        check_eq(answer["error_code"], 0, "ListOffsets of %s/%d" % (topic, p))
        out[p] = answer["offset"]
    return out


def check_runs(events, commits_of_partition, what):
    """Each consumer's reads of a partition, between its assignments, are dense runs that begin
    at 0 or at an offset the group had committed for that partition."""
    bad = Mismatches(what)
    runs = {}  # (consumer, partition) -> next expected offset, or None at a new assignment
    committed = {}  # partition -> offsets committed so far
    for item in events:
        kind = item[0]
        if kind == "assign":
            for p in item[2]:
                runs[(item[1], p)] = None
        elif kind == "commit":
            for p, o in item[2].items():
                committed.setdefault(p, set()).add(o)
        elif kind == "msg":
            _, name, p, o = item
            expected = runs.get((name, p))
            if expected is None:
                if o != 0 and o not in committed.get(p, set()):
                    bad.add("%s began partition %d at %d, which nobody committed (commits: %s)" % (name, p, o, sorted(committed.get(p, set()))[-5:]))
            elif o != expected:
                bad.add("%s read partition %d at %d after %d" % (name, p, o, expected - 1))
            runs[(name, p)] = o + 1
    bad.raise_if_any()


# --- Cases ---------------------------------------------------------------------------------


RATE = 4000


def rebalance_mid_stream(ctx):
    broker = ctx.broker(shards=2)
    topic, group, partitions, minimum = "stream", "stream-group", 12, 15000
    cu.create_topic(broker.bootstrap, topic, partitions)
    events = Events()
    members = [GroupMember("c%d" % i, broker.bootstrap, group, topic, events) for i in range(1, 4)]
    for m in members:
        m.start()
    for m in members:
        check(m.assigned.wait(60), "%s got no assignment within 60 s" % m.consumer_name)

    produced = {}
    producer_error = []
    stop_producing = threading.Event()
    sent = [0]

    def produce():
        try:
            p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "enable.idempotence": False, "linger.ms": 5, **cu.QUIET})

            def on_delivery(err, msg):
                if err is None:
                    produced[(msg.partition(), msg.offset())] = msg.key()
                else:
                    producer_error.append(err)

            i = 0
            started = time.monotonic()
            while not stop_producing.is_set() or i < minimum:
                # Paced at RATE messages a second, so that the stream runs until the test
                # stops it; poll() serves delivery reports while it waits.
                if i >= (time.monotonic() - started) * RATE:
                    p.poll(0.005)
                    continue
                try:
                    p.produce(topic, key=b"k%07d" % i, value=b"v%07d" % i, on_delivery=on_delivery)
                except BufferError:
                    p.poll(0.05)
                    continue
                i += 1
                p.poll(0)
            sent[0] = i
            left = p.flush(120)
            if left:
                producer_error.append("%d messages undelivered" % left)
        except Exception as e:
            producer_error.append(e)

    writer = threading.Thread(target=produce, daemon=True)
    writer.start()
    wait_until(lambda: events.consumed >= 3000, 60, "3,000 messages consumed before the fourth consumer joins")
    fourth = GroupMember("c4", broker.bootstrap, group, topic, events)
    fourth.start()
    members.append(fourth)
    check(fourth.assigned.wait(60), "c4 got no assignment within 60 s")

    wait_until(lambda: events.consumed_by.get("c4", 0) >= 500, 60, "c4 to consume 500 messages before c1 leaves")
    members[0].finish()
    leave_mark = events.consumed
    wait_until(lambda: events.consumed >= leave_mark + 3000, 60, "3,000 more messages consumed after c1 left")
    stop_producing.set()
    writer.join(180)
    check(not writer.is_alive(), "the producer did not finish within 180 s")
    check(not producer_error, "producer errors: %r" % producer_error[:3])
    total = sent[0]
    check_eq(len(produced), total, "acknowledged messages")
    ends = end_offsets(broker.port, topic, partitions)
    for m in members[1:]:
        broker.check_alive("while consuming")
        if m.error is not None:
            raise CheckFailed("%s failed: %r" % (m.consumer_name, m.error))
    wait_until(lambda: committed_offsets(broker.port, group, topic, partitions) == ends, 90,
               "the group's commits to reach the end offsets %s" % ends, 0.2)
    for m in members[1:]:
        m.finish()

    items = events.snapshot()
    seen = {}
    for item in items:
        if item[0] == "msg":
            seen[(item[2], item[3])] = seen.get((item[2], item[3]), 0) + 1
    # Every offset of the log, and so every acknowledged message (the producer may have
    # stored a retried message twice), was consumed; nothing beyond the end was.
    missing = [(p, o) for p in range(partitions) for o in range(ends[p]) if (p, o) not in seen]
    check(not missing, "%d stored messages never consumed, e.g. %s" % (len(missing), missing[:5]))
    unacknowledged = [k for k in produced if k not in seen]
    check(not unacknowledged, "acknowledged messages never consumed: %s" % sorted(unacknowledged)[:5])
    extra = [k for k in seen if k[1] >= ends[k[0]]]
    check(not extra, "consumed messages beyond the end offsets: %s" % sorted(extra)[:5])
    check_runs(items, None, "consumer runs")
    duplicates = sum(n - 1 for n in seen.values())
    assignments = sum(1 for item in items if item[0] == "assign")
    print("  %d messages, %d consumed twice (after a rebalance, from the last commit); %d assignments" % (total, duplicates, assignments))
    check(assignments >= 3 + 4 + 3, "expected at least three rebalances' worth of assignments, saw %d" % assignments)


def commit_survives_sigkill(ctx):
    broker = ctx.broker(shards=2)
    topic, group, partitions = "durable", "durable-group", 4
    cu.create_topic(broker.bootstrap, topic, partitions)
    reports = cu.produce(broker.bootstrap, topic, [{"key": b"k%d" % i, "value": b"v%d" % i, "partition": i % partitions} for i in range(2000)])
    cu.check_deliveries(reports, "produce")
    c = Consumer(group_consumer_config(broker.bootstrap, group))
    c.subscribe([topic])
    seen = 0
    deadline = time.monotonic() + 60
    while seen < 100:
        check(time.monotonic() < deadline, "only %d messages consumed within 60 s" % seen)
        seen += len([m for m in c.consume(num_messages=100, timeout=0.5) if m.error() is None])
    wanted = {p: 100 + 37 * p for p in range(partitions)}
    c.commit(offsets=[TopicPartition(topic, p, o) for p, o in wanted.items()], asynchronous=False)
    check_eq(committed_offsets(broker.port, group, topic, partitions), wanted, "committed offsets before the kill")
    broker.kill()  # the consumer is not closed: its commit must be on disk already
    c.close()
    broker.restart()
    check_eq(committed_offsets(broker.port, group, topic, partitions), wanted, "committed offsets after SIGKILL and restart")

    c = Consumer(group_consumer_config(broker.bootstrap, group, {"session.timeout.ms": 6000}))
    first = {}
    c.subscribe([topic])
    try:
        deadline = time.monotonic() + 90
        while len(first) < partitions:
            check(time.monotonic() < deadline, "after the restart, only partitions %s were read within 90 s" % sorted(first))
            for m in c.consume(num_messages=500, timeout=0.5):
                if m.error() is None:
                    first.setdefault(m.partition(), m.offset())
    finally:
        c.close()
    check_eq(first, wanted, "the first offset the resumed consumer read per partition")


def fan_out_two_groups(ctx):
    broker = ctx.broker(shards=2, advertise_shards=True)
    topic, partitions, total = "fanout", 6, 6000
    cu.create_topic(broker.bootstrap, topic, partitions)
    events = {g: Events() for g in ("fan-a", "fan-b")}
    members = []
    for g, ev in events.items():
        for i in range(2):
            m = GroupMember("%s-%d" % (g, i), broker.bootstrap, g, topic, ev)
            m.start()
            members.append(m)
    for m in members:
        check(m.assigned.wait(60), "%s got no assignment within 60 s" % m.consumer_name)
    # Wait until each group settled on two members (both got partitions).
    for g, ev in events.items():
        wait_until(lambda: len({i[1] for i in ev.snapshot() if i[0] == "assign" and i[2]}) == 2, 60, "both members of %s to own partitions" % g)
    reports = cu.produce(broker.bootstrap, topic, [{"key": b"k%d" % i, "value": b"v%d" % i} for i in range(total)])
    cu.check_deliveries(reports, "produce")
    ends = end_offsets(broker.ports[0], topic, partitions)
    stored = {(p, o) for p in range(partitions) for o in range(ends[p])}  # retries may add some
    for g, ev in events.items():
        wait_until(lambda: ev.consumed >= len(stored), 90, "%s to consume %d messages" % (g, len(stored)))
    for m in members:
        m.finish()
    for g, ev in events.items():
        got = [(i[2], i[3]) for i in ev.snapshot() if i[0] == "msg"]
        check_eq(len(got), len(set(got)), "messages %s consumed (each once)" % g)
        check_eq(set(got), stored, "the messages %s consumed" % g)


def bad_input(ctx):
    broker = ctx.broker(shards=2)
    topic, group = "bad", "bad-group"
    cu.create_topic(broker.bootstrap, topic, 3)
    with kw.Connection(LOOPBACK, broker.port) as conn:
        first = gw.join_group(conn, group, topics=[topic])
        check_eq(first["error_code"], gw.MEMBER_ID_REQUIRED, "first JoinGroup v5")
        me = first["member_id"]
        check(me, "MEMBER_ID_REQUIRED came without a member id")
        joined = gw.join_group(conn, group, member_id=me, topics=[topic])
        check_eq(joined["error_code"], 0, "JoinGroup with the given id")
        gen = joined["generation_id"]
        check_eq(joined["leader"], me, "leader")
        mine = gw.assignment({topic: [0, 1, 2]})
        synced = gw.sync_group(conn, group, gen, me, [(me, mine)])
        check_eq((synced["error_code"], synced["assignment"]), (0, mine), "leader's SyncGroup")

        check_eq(gw.heartbeat(conn, group, gen + 5, me), gw.ILLEGAL_GENERATION, "Heartbeat, wrong generation")
        check_eq(gw.heartbeat(conn, group, gen, "nobody"), gw.UNKNOWN_MEMBER_ID, "Heartbeat, unknown member")
        check_eq(gw.sync_group(conn, group, gen + 1, me)["error_code"], gw.ILLEGAL_GENERATION, "SyncGroup, wrong generation")
        check_eq(gw.sync_group(conn, group, gen, "nobody")["error_code"], gw.UNKNOWN_MEMBER_ID, "SyncGroup, unknown member")
        errors = gw.offset_commit(conn, group, gen - 1, me, {(topic, 0): 5})
        check_eq(errors, {(topic, 0): gw.ILLEGAL_GENERATION}, "OffsetCommit, wrong generation")
        errors = gw.offset_commit(conn, group, gen, "nobody", {(topic, 0): 5})
        check_eq(errors, {(topic, 0): gw.UNKNOWN_MEMBER_ID}, "OffsetCommit, unknown member")
        errors = gw.offset_commit(conn, group, -1, "", {(topic, 0): 5})
        check_eq(errors, {(topic, 0): gw.UNKNOWN_MEMBER_ID}, "OffsetCommit without a generation into a group with members")
        errors = gw.offset_commit(conn, group, gen, me, {(topic, 0): 7, (topic, 99): 1, ("no-such-topic", 0): 1})
        check_eq(errors, {(topic, 0): 0, (topic, 99): kw.UNKNOWN_TOPIC_OR_PARTITION, ("no-such-topic", 0): kw.UNKNOWN_TOPIC_OR_PARTITION}, "OffsetCommit with unknown partitions")
        check_eq(gw.offset_fetch(conn, group, [(topic, 0), (topic, 1)]), (0, {(topic, 0): 7, (topic, 1): -1}), "OffsetFetch")

        other = gw.join_group(conn, group, protocol_type="connect", topics=[topic])
        check_eq(other["error_code"], gw.INCONSISTENT_GROUP_PROTOCOL, "JoinGroup with another protocol type")
        check_eq(gw.join_group(conn, group, session_timeout_ms=10)["error_code"], gw.INVALID_SESSION_TIMEOUT, "JoinGroup, session timeout 10 ms")
        check_eq(gw.join_group(conn, "")["error_code"], gw.INVALID_GROUP_ID, "JoinGroup, empty group id")
        check_eq(gw.join_group(conn, group, member_id="made-up", topics=[topic])["error_code"], gw.UNKNOWN_MEMBER_ID, "JoinGroup with an unknown member id")

        # The storm: one client asks to join 300 times without a member id.
        ids = set()
        for i in range(300):
            answer = gw.join_group(conn, group, topics=[topic])
            check_eq(answer["error_code"], gw.MEMBER_ID_REQUIRED, "storm JoinGroup #%d" % i)
            ids.add(answer["member_id"])
            if i % 50 == 49:  # the real member keeps its session alive, however slow the storm
                check_eq(gw.heartbeat(conn, group, gen, me), 0, "Heartbeat during the storm")
        check_eq(len(ids), 300, "distinct member ids handed out in the storm")
        check_eq(gw.heartbeat(conn, group, gen, me), 0, "Heartbeat of the real member after the storm")
        described = gw.describe_groups(conn, [group, "never-heard-of"])
        check_eq((described[0]["error_code"], described[0]["state"], [m["member_id"] for m in described[0]["members"]]), (0, "Stable", [me]), "DescribeGroups after the storm")
        check_eq(described[0]["members"][0]["assignment"], mine, "the described member's assignment")
        check_eq(described[1]["state"], "Dead", "DescribeGroups of an unknown group")
        error, listed = gw.list_groups(conn)
        check_eq((error, (group, "consumer") in listed), (0, True), "ListGroups shows the group")

        check_eq(gw.delete_groups(conn, [group, "never-heard-of"]), {group: gw.NON_EMPTY_GROUP, "never-heard-of": gw.GROUP_ID_NOT_FOUND}, "DeleteGroups of a group with a member")
        error, members = gw.leave_group(conn, group, [(me, None), ("ghost", None)])
        check_eq((error, [m[2] for m in members]), (0, [0, gw.UNKNOWN_MEMBER_ID]), "LeaveGroup")
        check_eq(gw.heartbeat(conn, group, gen, me), gw.UNKNOWN_MEMBER_ID, "Heartbeat after leaving")
        # An empty group takes commits from a consumer without group management.
        check_eq(gw.offset_commit(conn, group, -1, "", {(topic, 1): 3}), {(topic, 1): 0}, "OffsetCommit, generation -1, empty group")
        check_eq(gw.delete_groups(conn, [group]), {group: 0}, "DeleteGroups of the empty group")
        check_eq(gw.delete_groups(conn, [group]), {group: gw.GROUP_ID_NOT_FOUND}, "DeleteGroups again")
        check_eq(gw.offset_fetch(conn, group, [(topic, 0), (topic, 1)]), (0, {(topic, 0): -1, (topic, 1): -1}), "OffsetFetch after the deletion")

        # Static membership: a second join of instance "i1" without its member id takes over the
        # entry, and the old id is fenced.
        static_group = "static-group"
        a = gw.join_group(conn, static_group, group_instance_id="i1", topics=[topic])
        check_eq(a["error_code"], 0, "static JoinGroup")
        check_eq(gw.sync_group(conn, static_group, a["generation_id"], a["member_id"], [(a["member_id"], mine)], group_instance_id="i1")["error_code"], 0, "static SyncGroup")
        b = gw.join_group(conn, static_group, group_instance_id="i1", topics=[topic])
        check_eq((b["error_code"], b["generation_id"]), (0, a["generation_id"]), "the static member's second instance joins without a rebalance")
        check(b["member_id"] != a["member_id"], "the second instance got a new member id")
        check_eq(gw.heartbeat(conn, static_group, a["generation_id"], a["member_id"], "i1"), gw.FENCED_INSTANCE_ID, "Heartbeat of the fenced instance")
        check_eq(gw.sync_group(conn, static_group, b["generation_id"], b["member_id"], group_instance_id="i1")["assignment"], mine, "the new instance's assignment")
    broker.check_alive("after the bad input")

    # The group id is usable again by a real consumer.
    reports = cu.produce(broker.bootstrap, topic, [{"key": b"k%d" % i, "value": b"v%d" % i} for i in range(300)])
    cu.check_deliveries(reports, "produce")
    c = Consumer(group_consumer_config(broker.bootstrap, group))
    c.subscribe([topic])
    got = 0
    try:
        deadline = time.monotonic() + 60
        while got < 300:
            check(time.monotonic() < deadline, "a consumer of the reused group read %d of 300 messages in 60 s" % got)
            got += len([m for m in c.consume(num_messages=500, timeout=0.5) if m.error() is None])
    finally:
        c.close()


def kafka_python_group(ctx):
    from kafka import KafkaConsumer  # noqa: E402

    broker = ctx.broker(shards=2)
    topic, group, partitions, total = "kp", "kp-group", 3, 600
    cu.create_topic(broker.bootstrap, topic, partitions)
    reports = cu.produce(broker.bootstrap, topic, [{"key": b"k%d" % i, "value": b"v%d" % i, "partition": i % partitions} for i in range(total)])
    cu.check_deliveries(reports, "produce")

    def consumer():
        return KafkaConsumer(
            topic,
            bootstrap_servers=broker.bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            session_timeout_ms=6000,
            heartbeat_interval_ms=500,
            consumer_timeout_ms=500,
            api_version_auto_timeout_ms=10000,
        )

    first = consumer()
    seen = {}
    deadline = time.monotonic() + 60
    while len(seen) < total // 2:
        check(time.monotonic() < deadline, "kafka-python consumed %d of %d within 60 s" % (len(seen), total // 2))
        for tp, records in first.poll(timeout_ms=500, max_records=50).items():
            for r in records:
                seen[(tp.partition, r.offset)] = r.value
    first.commit()
    committed = committed_offsets(broker.port, group, topic, partitions)
    for p in range(partitions):
        mine = [o for (q, o) in seen if q == p]
        # A partition it read nothing of is committed at its position, 0, or not at all.
        check(committed[p] == max(mine) + 1 if mine else committed[p] in (-1, 0), "committed offset of partition %d: %d, after reading %s" % (p, committed[p], sorted(mine)[-3:]))
    first.close()

    second = consumer()
    rest = {}
    deadline = time.monotonic() + 60
    while len(seen) + len(rest) < total:
        check(time.monotonic() < deadline, "the second kafka-python consumer read %d of %d within 60 s" % (len(rest), total - len(seen)))
        for tp, records in second.poll(timeout_ms=500).items():
            for r in records:
                key = (tp.partition, r.offset)
                check(key not in seen and key not in rest, "partition %d offset %d read again after its commit" % key)
                rest[key] = r.value
    second.commit()
    second.close()
    check_eq(committed_offsets(broker.port, group, topic, partitions), end_offsets(broker.port, topic, partitions), "final commits")


def static_member_restart(ctx):
    broker = ctx.broker(shards=2)
    topic, group, partitions = "static", "static-group", 4
    cu.create_topic(broker.bootstrap, topic, partitions)
    events = Events()
    # Sessions long enough that b's restart never outlasts its session, however loaded the
    # machine: an expiry would be a (legitimate) rebalance.
    static = {"session.timeout.ms": 25000}  # at most max.poll.interval.ms (30 s)
    a = GroupMember("a", broker.bootstrap, group, topic, events, {"group.instance.id": "instance-a", **static})
    b = GroupMember("b", broker.bootstrap, group, topic, events, {"group.instance.id": "instance-b", **static}, leave=False)
    a.start()
    b.start()

    def latest_assignments():
        latest = {}
        for item in events.snapshot():
            if item[0] == "assign":
                latest[item[1]] = item[2]
            elif item[0] == "revoke":
                latest[item[1]] = []
        return latest

    def settled():
        latest = latest_assignments()
        owned = sorted(latest.get("a", []) + latest.get("b2", latest.get("b", [])))
        return latest if owned == list(range(partitions)) and latest.get("a") else None

    before = wait_until(settled, 60, "a and b to share the %d partitions" % partitions)
    a_assigns = sum(1 for i in events.snapshot() if i[0] == "assign" and i[1] == "a")
    b.finish()  # close() without unsubscribing: a static member stays in the group (KIP-345)
    b2 = GroupMember("b2", broker.bootstrap, group, topic, events, {"group.instance.id": "instance-b", **static})
    b2.start()
    check(b2.assigned.wait(60), "the restarted instance-b got no assignment within 60 s")
    after = latest_assignments()
    check_eq(after.get("b2"), before["b"], "the restarted static member's assignment")
    reports = cu.produce(broker.bootstrap, topic, [{"key": b"k%d" % i, "value": b"v%d" % i, "partition": i % partitions} for i in range(400)])
    cu.check_deliveries(reports, "produce")
    wait_until(lambda: events.consumed_by.get("a") and events.consumed_by.get("b2"), 60, "a and b2 to consume")
    check_eq(sum(1 for i in events.snapshot() if i[0] == "assign" and i[1] == "a"), a_assigns, "assignments a saw (no rebalance for the static restart)")
    with kw.Connection(LOOPBACK, broker.port) as conn:
        coordinator = gw.find_coordinator(conn, group)
    with kw.Connection(LOOPBACK, coordinator["port"]) as conn:
        described = gw.describe_groups(conn, [group])[0]
    check_eq(sorted(m["group_instance_id"] for m in described["members"]), ["instance-a", "instance-b"], "the group's static members")
    a.finish()
    b2.finish()


def admin_groups(ctx):
    from kafka.admin import KafkaAdminClient  # noqa: E402

    broker = ctx.broker(shards=2)
    topic, group, partitions = "admin", "admin-group", 3
    cu.create_topic(broker.bootstrap, topic, partitions)
    reports = cu.produce(broker.bootstrap, topic, [{"key": b"k%d" % i, "value": b"v%d" % i, "partition": i % partitions} for i in range(300)])
    cu.check_deliveries(reports, "produce")
    events = Events()
    member = GroupMember("m", broker.bootstrap, group, topic, events)
    member.start()
    check(member.assigned.wait(60), "the member got no assignment within 60 s")
    wait_until(lambda: committed_offsets(broker.port, group, topic, partitions) == {p: 100 for p in range(partitions)}, 60, "the member to commit every partition's end")

    # librdkafka's list_groups: ListGroups, then DescribeGroups.
    listed = [g for g in cu.admin(broker.bootstrap).list_groups(timeout=10) if g.id == group]
    check_eq(len(listed), 1, "AdminClient.list_groups() entries for %s" % group)
    check_eq((listed[0].state, listed[0].protocol_type, listed[0].protocol, len(listed[0].members)), ("Stable", "consumer", "range", 1), "AdminClient.list_groups() of %s" % group)

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, api_version_auto_timeout_ms=10000)
    try:
        check((group, "consumer") in admin.list_consumer_groups(), "kafka-python list_consumer_groups() misses %s" % group)
        described = admin.describe_consumer_groups([group])[0]
        check_eq((described.state, described.protocol, len(described.members)), ("Stable", "range", 1), "describe_consumer_groups()")
        offsets = admin.list_consumer_group_offsets(group)
        check_eq({tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}, {p: 100 for p in range(partitions)}, "list_consumer_group_offsets()")
        member.finish()
        wait_until(lambda: admin.describe_consumer_groups([group])[0].state == "Empty", 30, "the group to be empty after its member left")
        result = admin.delete_consumer_groups([group])
        check_eq([(g, getattr(e, "__name__", type(e).__name__)) for g, e in result], [(group, "NoError")], "delete_consumer_groups()")
        check((group, "consumer") not in admin.list_consumer_groups(), "%s still listed after its deletion" % group)
    finally:
        admin.close()


def clean_stop_mid_rebalance(ctx):
    broker = ctx.broker(shards=2)
    topic, group = "stopping", "stopping-group"
    cu.create_topic(broker.bootstrap, topic, 2)
    with kw.Connection(LOOPBACK, broker.port) as conn:
        coordinator_port = gw.find_coordinator(conn, group)["port"]
    mine = gw.assignment({topic: [0, 1]})
    with kw.Connection(LOOPBACK, coordinator_port) as a, kw.Connection(LOOPBACK, coordinator_port) as b:
        me = gw.join_group(a, group, topics=[topic])["member_id"]
        joined = gw.join_group(a, group, member_id=me, topics=[topic])
        check_eq(gw.sync_group(a, group, joined["generation_id"], me, [(me, mine)])["error_code"], 0, "SyncGroup")
        # b joins; its JoinGroup waits for a to rejoin, which it never does before the stop.
        other = gw.join_group(b, group, topics=[topic])["member_id"]
        body = kw.Writer().string(group).int32(10000).int32(60000).string(other).string(None).string("consumer")
        body.array([("range", gw.subscription([topic]))], lambda w, p: w.string(p[0]).bytes_(p[1]))
        waiting = b.send_request(gw.JOIN_GROUP, 5, body.getvalue())
        # b's JoinGroup travels on another connection: wait until the group has seen it.
        wait_until(lambda: gw.heartbeat(a, group, joined["generation_id"], me) == gw.REBALANCE_IN_PROGRESS, 30, "a's Heartbeat to say REBALANCE_IN_PROGRESS while b waits")
        broker.stop()  # SIGTERM: must exit 0 (no request left hanging, nothing leaked) in time
        try:
            frame = b.recv_frame(10)
            got, r = kw.decode_response_header(frame, 0)
            r.int32()
            check_eq((got, r.int16()), (waiting, 15), "the waiting JoinGroup's answer at shutdown (COORDINATOR_NOT_AVAILABLE)")
        except kw.ConnectionClosed:
            pass  # also fine: the connection closed with the broker
    broker.restart()
    with kw.Connection(LOOPBACK, coordinator_port) as conn:
        # The last stored state: stable, generation 1, a with its assignment.
        check_eq(gw.heartbeat(conn, group, joined["generation_id"], me), 0, "a's Heartbeat after the restart")
        described = gw.describe_groups(conn, [group])[0]
        check_eq((described["state"], [m["member_id"] for m in described["members"]], described["members"][0]["assignment"]), ("Stable", [me], mine), "the group after the restart")


CASES = [
    ("rebalance_mid_stream", rebalance_mid_stream),
    ("commit_survives_sigkill", commit_survives_sigkill),
    ("fan_out_two_groups", fan_out_two_groups),
    ("bad_input", bad_input),
    ("kafka_python_group", kafka_python_group),
    ("static_member_restart", static_member_restart),
    ("admin_groups", admin_groups),
    ("clean_stop_mid_rebalance", clean_stop_mid_rebalance),
]

if __name__ == "__main__":
    sys.exit(harness.run_cases(CASES, __doc__.split("\n\n")[0]))
