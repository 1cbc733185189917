#!/usr/bin/python3
"""confluent-kafka 1.7 (librdkafka 2.0.2) against ringlogd.

- compression_<codec> for none, gzip, snappy, lz4, zstd: 3,000 messages (keys, values,
  headers, explicit partitions over 3) produced with acks=all; every delivery report is a
  success at a distinct offset; a consumer with explicit assignment reads every message back
  exactly once at the reported partition and offset with the same key, value, headers and
  timestamp; the stored batches, read on a raw socket (Fetch v4), have valid CRCs and carry the
  codec the producer was asked for (librdkafka 2.0.2 quietly sends gzip/snappy/lz4
  uncompressed unless the broker's Produce range includes v0: CLIENT-VERSIONS.md). Small
  batches may be stored uncompressed: librdkafka sends a batch as is when compressing it
  does not make it smaller.
- offsets_for_times: 1,000 messages with explicit, increasing timestamps in several batches;
  offsets_for_times answers the first offset at or after the asked time (exact hits, between
  two messages, before the first, after the last), consumed timestamps are CreateTime and
  equal, get_watermark_offsets gives (0, 1000).
- admin (auto-creation off): create_topics with num_partitions=3 and retention.ms, list_topics
  shows 3 partitions, describe_configs returns retention.ms, a second create fails with
  TOPIC_ALREADY_EXISTS, create_partitions grows it to 5, delete_topics removes it and a
  re-created topic of that name is empty; a validate_only creation creates nothing.
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka import KafkaError, Consumer, TopicPartition  # noqa: E402
from confluent_kafka.admin import ConfigResource, NewPartitions, NewTopic  # noqa: E402

import client_util as cu  # noqa: E402
import harness  # noqa: E402
from harness import CheckFailed, Mismatches, check, check_eq, wait_until  # noqa: E402

PARTITIONS = 3
MESSAGES = 3000


def make_messages(count, partitions, tag):
    base = int(time.time() * 1000) - 60_000
    out = []
    for i in range(count):
        value = (b"%s-value-%05d " % (tag, i)) * (1 + i % 7)
        headers = [("index", b"%d" % i), ("tag", tag)] if i % 3 else []
        out.append({"key": b"%s-key-%05d" % (tag, i), "value": value, "headers": headers, "partition": i % partitions, "timestamp": base + i})
    return out


def check_consumed_match(messages, reports, consumed, topic):
    bad = Mismatches("%s: consumed against produced" % topic)
    by_position = {}
    for m in consumed:
        by_position.setdefault((m.partition, m.offset), []).append(m)
    for m, r in zip(messages, reports):
        if r.partition != m["partition"]:
            bad.add("#%d: delivered to partition %d, asked for %d" % (r.index, r.partition, m["partition"]))
        got = by_position.pop((r.partition, r.offset), [])
        if len(got) != 1:
            bad.add("#%d at %d/%d: consumed %d times" % (r.index, r.partition, r.offset, len(got)))
            continue
        g = got[0]
        want_headers = [(k, v) for k, v in m["headers"]]
        for field, have, want in (
            ("key", g.key, m["key"]),
            ("value", g.value, m["value"]),
            ("headers", g.headers, want_headers),
            ("timestamp", g.timestamp, m["timestamp"]),
        ):
            if have != want:
                bad.add("#%d at %d/%d: %s %r, expected %r" % (r.index, r.partition, r.offset, field, have if field != "value" else have[:60], want if field != "value" else want[:60]))
    for (p, o), extra in list(by_position.items())[:5]:
        bad.add("unexpected message at %d/%d: key %r" % (p, o, extra[0].key))
    bad.raise_if_any()
    offsets = {}
    for r in reports:
        offsets.setdefault(r.partition, []).append(r.offset)
    for p, o in sorted(offsets.items()):
        check_eq(sorted(o), list(range(len(o))), "%s/%d: acknowledged offsets (dense from 0)" % (topic, p))


def compression(codec):
    def case(ctx):
        broker = ctx.broker(shards=2, default_partitions=PARTITIONS)
        topic = "ck-%s" % codec
        cu.create_topic(broker.bootstrap, topic, PARTITIONS)
        messages = make_messages(MESSAGES, PARTITIONS, codec.encode())
        reports = cu.produce(broker.bootstrap, topic, messages, {"compression.type": codec, "linger.ms": 20, "batch.num.messages": 250})
        cu.check_deliveries(reports, "produce %s with compression %s" % (topic, codec))
        consumed = cu.consume(broker.bootstrap, topic, range(PARTITIONS), expected=MESSAGES)
        check_consumed_match(messages, reports, consumed, topic)
        cu.check_stored_codec(broker, topic, PARTITIONS, codec)
        broker.stop()

    return case


def case_offsets_for_times(ctx):
    broker = ctx.broker(shards=2)
    topic = "ck-times"
    cu.create_topic(broker.bootstrap, topic, 1)
    base = (int(time.time() * 1000) - 3_600_000) // 1000 * 1000
    step = 10
    count = 1000
    messages = [{"key": b"t%04d" % i, "value": b"v%04d" % i, "partition": 0, "timestamp": base + i * step} for i in range(count)]
    reports = []
    for chunk in range(4):  # separate producers, so separate batches
        part = messages[chunk * 250 : (chunk + 1) * 250]
        got = cu.produce(broker.bootstrap, topic, part, {"linger.ms": 0, "batch.num.messages": 64})
        cu.check_deliveries(got, "produce %s chunk %d" % (topic, chunk))
        reports += got
    check_eq([r.offset for r in reports], list(range(count)), "acknowledged offsets")
    consumed = cu.consume(broker.bootstrap, topic, [0], expected=count)
    check_eq([(m.offset, m.timestamp_type, m.timestamp) for m in consumed], [(i, 1, base + i * step) for i in range(count)], "consumed (offset, timestamp type, timestamp)")

    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "ringlog-itest-unused", "enable.auto.commit": False, **cu.QUIET})
    try:
        queries = [
            ("the first message's time", base, 0),
            ("an exact hit", base + 437 * step, 437),
            ("between two messages", base + 437 * step + 1, 438),
            ("just before a batch boundary", base + 249 * step + 5, 250),
            ("the last message's time", base + (count - 1) * step, count - 1),
            ("before the first message", base - 3_000_000, 0),
            ("after the last message", base + count * step + 1, -1),
        ]
        bad = Mismatches("%s: offsets_for_times" % topic)
        for what, ts, want in queries:
            got = c.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=10)[0]
            if got.error is not None or got.offset != want:
                bad.add("%s (timestamp %d): expected offset %d, got offset %d error %s" % (what, ts, want, got.offset, got.error))
        bad.raise_if_any()
        low, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        check_eq((low, high), (0, count), "get_watermark_offsets")
    finally:
        c.close()
    broker.stop()


def case_admin(ctx):
    broker = ctx.broker(shards=2, auto_create_topics=False)
    a = cu.admin(broker.bootstrap)
    name = "ck-admin"
    retention = "3600000"
    futures = a.create_topics([NewTopic(name, num_partitions=3, replication_factor=1, config={"retention.ms": retention})], operation_timeout=30)
    try:
        futures[name].result(30)
    except Exception as e:
        raise CheckFailed("create_topics %s: %r" % (name, e))
    cu.wait_for_partitions(broker.bootstrap, name, 3)

    resource = ConfigResource(ConfigResource.Type.TOPIC, name)
    try:
        configs = a.describe_configs([resource])[resource].result(30)
    except Exception as e:
        raise CheckFailed("describe_configs %s: %r" % (name, e))
    check("retention.ms" in configs, "describe_configs %s: no retention.ms among %s" % (name, sorted(configs)))
    check_eq(configs["retention.ms"].value, retention, "describe_configs %s retention.ms" % name)

    try:
        a.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])[name].result(30)
        raise CheckFailed("creating %s a second time succeeded, expected TOPIC_ALREADY_EXISTS" % name)
    except CheckFailed:
        raise
    except Exception as e:
        code = e.args[0].code() if e.args and hasattr(e.args[0], "code") else None
        check_eq(code, KafkaError.TOPIC_ALREADY_EXISTS, "error creating %s twice (%r)" % (name, e))

    try:
        a.create_partitions([NewPartitions(name, 5)])[name].result(30)
    except Exception as e:
        raise CheckFailed("create_partitions %s to 5: %r" % (name, e))
    cu.wait_for_partitions(broker.bootstrap, name, 5)

    reports = cu.produce(broker.bootstrap, name, [{"key": b"k", "value": b"v%d" % i, "partition": i % 5} for i in range(50)])
    cu.check_deliveries(reports, "produce to %s" % name)

    try:
        a.delete_topics([name], operation_timeout=30)[name].result(30)
    except Exception as e:
        raise CheckFailed("delete_topics %s: %r" % (name, e))
    wait_until(lambda: name not in cu.topic_partition_counts(broker.bootstrap), 30, "%s to disappear from list_topics after delete_topics" % name, 0.1)

    a.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result(30)
    cu.wait_for_partitions(broker.bootstrap, name, 1)
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "ringlog-itest-unused", **cu.QUIET})
    try:
        check_eq(c.get_watermark_offsets(TopicPartition(name, 0), timeout=10), (0, 0), "watermarks of %s re-created after delete" % name)
    finally:
        c.close()

    validate = "ck-validate-only"
    try:
        a.create_topics([NewTopic(validate, num_partitions=2, replication_factor=1)], validate_only=True)[validate].result(30)
    except Exception as e:
        raise CheckFailed("create_topics %s with validate_only: %r" % (validate, e))
    topics = cu.topic_partition_counts(broker.bootstrap)
    check(validate not in topics, "validate_only created %s: list_topics shows %s" % (validate, topics))
    del a  # no admin handle left to log reconnect failures after the stop
    broker.stop()


CASES = [("compression_" + codec, compression(codec)) for codec in ("none", "gzip", "snappy", "lz4", "zstd")] + [
    ("offsets_for_times", case_offsets_for_times),
    ("admin", case_admin),
]

if __name__ == "__main__":
    sys.exit(harness.run_cases(CASES, __doc__))
