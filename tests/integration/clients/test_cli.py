#!/usr/bin/python3
"""`ringlog topics | produce | consume | groups` against a real ringlogd (2 shards, with and
without --advertise-shards), checked with an independent client (confluent-kafka):

- topics: `create` (partitions, --config) is seen by AdminClient's list_topics and
  describe_configs; a topic AdminClient created shows in `list` and in `describe` (partitions,
  leaders, log start/end offsets after confluent-kafka produced, configs); creating it again
  fails with TOPIC_ALREADY_EXISTS, a bad config with INVALID_CONFIG; `delete` removes it for
  AdminClient, and deleting it again fails with UNKNOWN_TOPIC_OR_PARTITION;
- produce: keyed lines (--key-separator) are read back by confluent-kafka with the same keys
  and values, each on the partition confluent-kafka's murmur2_random partitioner puts that
  key, in line order per partition; lines without a key go where --partition says; --acks 0
  and 1 store everything too;
- consume: what confluent-kafka produced is printed exactly (partition:offset, key, value),
  in offset order per partition; --count stops after N; --from latest --timeout-ms prints
  nothing and exits 0; --from OFFSET starts there;
- --group: the committed positions are what confluent-kafka's committed() reports, and the
  next run starts there;
- groups: `list` shows a group a confluent-kafka consumer committed for, `describe` its
  committed offsets, end offsets and lag exactly;
- bad input (unknown topic, bad flag, a port nothing listens on, a peer that never answers,
  bad offsets): a nonzero exit and a one-line error, within a deadline.

The ringlog binary comes from $RINGLOG_CLI (set by CMake).
"""

import os
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import client_util as cu  # noqa: E402
import harness  # noqa: E402
from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from confluent_kafka.admin import ConfigResource  # noqa: E402
from harness import check, check_eq  # noqa: E402

RINGLOG = os.environ.get("RINGLOG_CLI", "")
TIMEOUT = 60.0


def ringlog(args, input_bytes=None, check_rc=True, timeout=TIMEOUT):
    return harness.run([RINGLOG] + args, "ringlog " + " ".join(args[:2]), input_bytes=input_bytes,
                       timeout=timeout, check_rc=check_rc)


def fails_with(args, text, input_bytes=None, within=25.0):
    """Runs ringlog expecting failure: nonzero exit, `text` in a one-line error."""
    started = time.monotonic()
    done = ringlog(args, input_bytes=input_bytes, check_rc=False, timeout=within + 30.0)
    err = done.stderr.decode(errors="replace")
    check(done.returncode not in (0, None) and done.returncode > 0,
          "ringlog %s: expected a failure exit, got %s\nstderr: %s" % (" ".join(args), harness.describe_returncode(done.returncode), err))
    first = err.strip().split("\n")[0] if err.strip() else ""
    check(first.startswith("ringlog") and text in first,
          "ringlog %s: expected an error line with %r, stderr: %r" % (" ".join(args), text, err))
    check(time.monotonic() - started < within, "ringlog %s took %.1f s to fail" % (" ".join(args), time.monotonic() - started))
    return first


def lines(done):
    text = done.stdout.decode()
    return text.split("\n")[:-1] if text else []


def describe(bootstrap, topic):
    """`ringlog topics describe`: ({partition: (leader, start, end)}, {config: value})."""
    partitions, configs, header = {}, {}, None
    for line in lines(ringlog(["topics", "--bootstrap", bootstrap, "describe", topic])):
        words = line.split(" ")
        if words[0] == "topic":
            header = words
        elif words[0] == "partition":
            partitions[int(words[1])] = (int(words[3]), int(words[5]), int(words[7]))
        elif words[0] == "config":
            name, _, value = words[1].partition("=")
            configs[name] = value
    check(header is not None and header[1] == topic and int(header[3]) == len(partitions),
          "describe %s header %r for %d partitions" % (topic, header, len(partitions)))
    return partitions, configs


def admin_configs(bootstrap, topic):
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    client = cu.admin(bootstrap)
    result = client.describe_configs([resource])[resource].result(30)
    return {name: entry.value for name, entry in result.items()}


def case_topics(ctx):
    broker = ctx.broker(shards=2)
    b = broker.bootstrap
    ringlog(["topics", "--bootstrap", b, "create", "cli-made", "--partitions", "3", "--config", "retention.ms=123456",
             "--config", "cleanup.policy=compact"])
    counts = cu.topic_partition_counts(b)
    check_eq(counts.get("cli-made"), 3, "AdminClient's partition count of cli-made")
    configs = admin_configs(b, "cli-made")
    check_eq(configs.get("retention.ms"), "123456", "retention.ms by AdminClient")
    check_eq(configs.get("cleanup.policy"), "compact", "cleanup.policy by AdminClient")

    cu.create_topic(b, "admin-made", 2, config={"segment.bytes": "1048576"})
    listed = lines(ringlog(["topics", "--bootstrap", b, "list"]))
    check("cli-made" in listed and "admin-made" in listed, "ringlog topics list: %r" % listed)
    check_eq(sorted(t for t in listed if not t.startswith("__")),
             sorted(t for t in cu.topic_partition_counts(b) if not t.startswith("__")), "topics listed by both")

    reports = cu.produce(b, "admin-made", [{"key": b"k%d" % i, "value": b"v", "partition": i % 2} for i in range(7)])
    cu.check_deliveries(reports, "produce to admin-made")
    partitions, configs = describe(b, "admin-made")
    check_eq(sorted(partitions), [0, 1], "described partitions")
    check_eq({p: v[1:] for p, v in partitions.items()}, {0: (0, 4), 1: (0, 3)}, "log start/end offsets")
    leaders = {p.id: p.leader for p in cu.admin(b).list_topics(timeout=10).topics["admin-made"].partitions.values()}
    check_eq({p: v[0] for p, v in partitions.items()}, leaders, "leaders as AdminClient sees them")
    check_eq(configs.get("segment.bytes"), "1048576", "segment.bytes in describe")
    check_eq(configs, admin_configs(b, "admin-made"), "every config as AdminClient describes it")

    fails_with(["topics", "--bootstrap", b, "create", "admin-made", "--partitions", "2"], "TOPIC_ALREADY_EXISTS")
    fails_with(["topics", "--bootstrap", b, "create", "bad-config", "--config", "segment.bytes=abc"], "INVALID_CONFIG")
    fails_with(["topics", "--bootstrap", b, "describe", "no-such-topic"], "UNKNOWN_TOPIC_OR_PARTITION")

    ringlog(["topics", "--bootstrap", b, "delete", "cli-made"])
    harness.wait_until(lambda: "cli-made" not in cu.topic_partition_counts(b), 30, "cli-made gone for AdminClient")
    check("cli-made" not in lines(ringlog(["topics", "--bootstrap", b, "list"])), "cli-made still listed after delete")
    fails_with(["topics", "--bootstrap", b, "delete", "cli-made"], "UNKNOWN_TOPIC_OR_PARTITION")
    broker.stop()


def murmur2_partitions(bootstrap, topic, keys, partitions):
    """{key: partition} as confluent-kafka's murmur2_random partitioner places each key."""
    cu.create_topic(bootstrap, topic, partitions)
    reports = cu.produce(bootstrap, topic, [{"key": k, "value": b"x"} for k in keys], config={"partitioner": "murmur2_random"})
    cu.check_deliveries(reports, "confluent produce to " + topic)
    return {r.key: r.partition for r in reports}


def case_produce(ctx):
    broker = ctx.broker(shards=2, advertise_shards=True)
    b = broker.bootstrap
    topic, partitions, count = "cli-produce", 6, 600
    cu.create_topic(b, topic, partitions)
    keys = [b"user-%d" % (i % 97) for i in range(count)]
    values = [b"value %d with spaces" % i for i in range(count)]
    stdin = b"".join(k + b"=" + v + b"\n" for k, v in zip(keys, values))
    done = ringlog(["produce", "--bootstrap", b, "--topic", topic, "--key-separator", "="], input_bytes=stdin)
    check_eq(done.stdout, b"", "produce prints nothing on success")
    got = cu.consume(b, topic, range(partitions), expected=count)
    check_eq(len(got), count, "records read back by confluent-kafka")
    expected_partition = murmur2_partitions(b, "murmur2-reference", sorted(set(keys)), partitions)
    by_partition = {}
    for m in got:
        by_partition.setdefault(m.partition, []).append(m)
    mismatches = harness.Mismatches("records")
    for p, messages in by_partition.items():
        messages.sort(key=lambda m: m.offset)
        wanted = [(k, v) for k, v in zip(keys, values) if expected_partition[k] == p]
        if [(m.key, m.value) for m in messages] != wanted:
            mismatches.add("partition %d: %d records, expected %d in line order (first %r)" % (p, len(messages), len(wanted), [(m.key, m.value) for m in messages[:2]]))
    mismatches.raise_if_any()
    check(len(by_partition) > 1, "keys spread over partitions: %r" % sorted(by_partition))

    # No separator: null keys, all on --partition; --acks 0 and 1 also store every line.
    for acks, partition in (("1", 2), ("0", 4)):
        stdin = b"".join(b"plain-%s-%d\n" % (acks.encode(), i) for i in range(50))
        ringlog(["produce", "--bootstrap", b, "--topic", topic, "--partition", str(partition), "--acks", acks], input_bytes=stdin)
    harness.wait_until(lambda: sum(1 for m in cu.consume(b, topic, [4]) if m.key is None) == 50, 30, "acks=0 lines stored")
    for acks, partition in (("1", 2), ("0", 4)):
        plain = [m for m in cu.consume(b, topic, [partition]) if m.key is None]
        check_eq([m.value for m in plain], [b"plain-%s-%d" % (acks.encode(), i) for i in range(50)], "acks=%s lines on partition %d" % (acks, partition))

    # Null keys without --partition: every line stored once, somewhere.
    stdin = b"".join(b"sticky-%d\n" % i for i in range(300))
    ringlog(["produce", "--bootstrap", b, "--topic", topic], input_bytes=stdin)
    sticky = sorted(m.value for m in cu.consume(b, topic, range(partitions)) if m.value.startswith(b"sticky-"))
    check_eq(sticky, sorted(b"sticky-%d" % i for i in range(300)), "null-key lines, each once")
    broker.stop()


def case_consume(ctx):
    broker = ctx.broker(shards=2, advertise_shards=True)
    b = broker.bootstrap
    topic, partitions, count = "cli-consume", 3, 500
    cu.create_topic(b, topic, partitions)
    messages = [{"key": b"key%d" % i, "value": b"message number %d" % i, "partition": i % partitions} for i in range(count)]
    messages.append({"key": None, "value": b"", "partition": 0})  # a null key and an empty value
    reports = cu.produce(b, topic, messages)
    cu.check_deliveries(reports, "confluent produce")
    wanted = sorted("%d:%d\t%s\t%s" % (r.partition, r.offset, (r.key or b"").decode(), (r.value or b"").decode()) for r in reports)

    out = lines(ringlog(["consume", "--bootstrap", b, "--topic", topic, "--print-offset", "--print-key"]))
    check_eq(sorted(out), wanted, "records printed by ringlog consume")
    for p in range(partitions):
        offsets = [int(line.split("\t")[0].split(":")[1]) for line in out if line.startswith("%d:" % p)]
        check_eq(offsets, sorted(offsets), "partition %d printed in offset order" % p)

    values = lines(ringlog(["consume", "--bootstrap", b, "--topic", topic, "--partition", "1"]))
    check_eq(values, [r.value.decode() for r in sorted(reports, key=lambda r: r.offset) if r.partition == 1], "values of partition 1")

    few = lines(ringlog(["consume", "--bootstrap", b, "--topic", topic, "--count", "5", "--partition", "2", "--from", "10", "--print-offset"]))
    check_eq([line.split("\t")[0] for line in few], ["2:%d" % o for o in range(10, 15)], "--count 5 --from 10")

    started = time.monotonic()
    done = ringlog(["consume", "--bootstrap", b, "--topic", topic, "--from", "latest", "--timeout-ms", "500"])
    check_eq(done.stdout, b"", "nothing after latest")
    check(time.monotonic() - started < 15, "--timeout-ms 500 took %.1f s" % (time.monotonic() - started))

    # --group: consume everything, commit; confluent-kafka sees the commits; a rerun resumes.
    group = "cli-group"
    first = lines(ringlog(["consume", "--bootstrap", b, "--topic", topic, "--group", group, "--count", "100"]))
    check_eq(len(first), 100, "--count 100 with --group")
    rest = lines(ringlog(["consume", "--bootstrap", b, "--topic", topic, "--group", group]))
    check_eq(sorted(first + rest), sorted(m["value"].decode() for m in messages), "two group runs read every record once")
    ends = {p: max(r.offset for r in reports if r.partition == p) + 1 for p in range(partitions)}
    c = Consumer({"bootstrap.servers": b, "group.id": group, "enable.auto.commit": False, **cu.QUIET})
    try:
        committed = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)
    finally:
        c.close()
    check_eq({tp.partition: tp.offset for tp in committed}, ends, "offsets committed by --group, per confluent-kafka")
    check_eq(lines(ringlog(["consume", "--bootstrap", b, "--topic", topic, "--group", group])), [], "a caught-up group reads nothing")
    reports = cu.produce(b, topic, [{"key": b"late", "value": b"late %d" % i, "partition": 1} for i in range(5)])
    cu.check_deliveries(reports, "late produce")
    check_eq(lines(ringlog(["consume", "--bootstrap", b, "--topic", topic, "--group", group])),
             ["late %d" % i for i in range(5)], "the group resumes at its commit")
    broker.stop()


def case_groups(ctx):
    broker = ctx.broker(shards=2, advertise_shards=True)
    b = broker.bootstrap
    topic, group = "cli-lag", "lagging-group"
    cu.create_topic(b, topic, 2)
    reports = cu.produce(b, topic, [{"key": b"k", "value": b"v%d" % i, "partition": i % 2} for i in range(40)])
    cu.check_deliveries(reports, "produce")
    c = Consumer({"bootstrap.servers": b, "group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "session.timeout.ms": 6000, "heartbeat.interval.ms": 300, **cu.QUIET})
    try:
        c.subscribe([topic])
        seen, deadline = 0, time.monotonic() + 60
        while seen < 10:
            check(time.monotonic() < deadline, "only %d messages consumed within 60 s" % seen)
            seen += len([m for m in c.consume(num_messages=10, timeout=0.5) if m.error() is None])
        c.commit(offsets=[TopicPartition(topic, 0, 7), TopicPartition(topic, 1, 3)], asynchronous=False)
    finally:
        c.close()
    listed = lines(ringlog(["groups", "--bootstrap", b, "list"]))
    check(any(line.split("\t")[0] == group for line in listed), "groups list: %r" % listed)
    out = lines(ringlog(["groups", "--bootstrap", b, "describe", group]))
    check(out and out[0].startswith("group %s state " % group), "describe header: %r" % out[:1])
    rows = {}
    for line in out:
        words = line.split("\t")
        if len(words) == 5 and words[0] == topic:
            rows[int(words[1])] = tuple(int(w) for w in words[2:])
    check_eq(rows, {0: (7, 20, 13), 1: (3, 20, 17)}, "committed, end and lag per partition")
    fails_with(["groups", "--bootstrap", b, "describe", "no-such-group"], "GROUP_ID_NOT_FOUND")
    broker.stop()


def case_bad_input(ctx):
    broker = ctx.broker(shards=2)
    b = broker.bootstrap
    cu.create_topic(b, "exists", 2)
    fails_with(["consume", "--bootstrap", b, "--topic", "missing"], "UNKNOWN_TOPIC_OR_PARTITION")
    fails_with(["produce", "--bootstrap", b, "--topic", "missing"], "UNKNOWN_TOPIC_OR_PARTITION", input_bytes=b"x\n")
    fails_with(["consume", "--bootstrap", b, "--topic", "exists", "--bogus"], "unknown flag")
    fails_with(["produce", "--bootstrap", b, "--topic", "exists", "--acks", "7"], "--acks", input_bytes=b"x\n")
    fails_with(["consume", "--bootstrap", b, "--topic", "exists", "--partition", "5"], "no 5")
    fails_with(["consume", "--bootstrap", b, "--topic", "exists", "--from", "99"], "OFFSET_OUT_OF_RANGE")
    fails_with(["consume", "--bootstrap", b, "--topic", "exists", "--count", "abc"], "--count")
    fails_with(["topics", "--bootstrap", "nonsense", "list"], "bad address")
    fails_with(["topics", "list"], "--bootstrap")
    fails_with(["groups", "--bootstrap", b, "frobnicate"], "unknown command")
    dead = "127.0.0.1:%d" % harness.free_port_block(1)
    for args in (["topics", "--bootstrap", dead, "list"], ["consume", "--bootstrap", dead, "--topic", "exists"],
                 ["groups", "--bootstrap", dead, "list"]):
        fails_with(args, "connect")
    fails_with(["produce", "--bootstrap", dead, "--topic", "exists"], "connect", input_bytes=b"x\n")
    # A peer that takes the connection and never answers: the request deadline (30 s) ends it.
    silent = socket.socket()
    try:
        silent.bind((harness.LOOPBACK, 0))
        silent.listen(8)  # never accepted: the kernel completes the handshake, nobody reads
        fails_with(["topics", "--bootstrap", "%s:%d" % silent.getsockname(), "list"], "no answer within", within=45.0)
    finally:
        silent.close()
    # Nothing was produced by the failed commands.
    partitions, _ = describe(b, "exists")
    check_eq({p: v[2] for p, v in partitions.items()}, {0: 0, 1: 0}, "end offsets after the failures")
    broker.check_alive("after the bad input")
    broker.stop()


CASES = [
    ("topics", case_topics),
    ("produce", case_produce),
    ("consume", case_consume),
    ("groups", case_groups),
    ("bad_input", case_bad_input),
]

if __name__ == "__main__":
    if not os.access(RINGLOG, os.X_OK):
        print("RINGLOG_CLI is not an executable: %r" % RINGLOG)
        sys.exit(2)
    sys.exit(harness.run_cases(CASES, __doc__))
