#!/usr/bin/python3
"""Log compaction against ringlogd with confluent-kafka: a topic with cleanup.policy=compact,
64 KiB segments (so dozens roll), delete.retention.ms of 2 s, min.cleanable.dirty.ratio 0.01
and a broker cleaner that looks every 200 ms:

- 100,000 updates over 1,000 keys, then tombstones for every tenth key and new values for a
  few of those, produced uncompressed and (a second case) snappy-compressed;
- while that is produced and cleaned, a consumer reads the partition from the beginning over
  and over: in every pass offsets strictly increase, every record is the one produced at its
  offset, and each key's values come in produce order;
- a sentinel key is appended every 200 ms so that segment.ms (1 s) seals the segments holding
  the workload; the test polls (with a deadline) until a full read from the beginning holds
  exactly the newest value of each live key at the offset it was produced at, and nothing of
  the tombstoned keys (their tombstones gone after delete.retention.ms), besides sentinels;
- the broker reports the cleaning on stderr ("ringlogd: cleaned ...") and every stored batch
  passes its CRC-32C;
- a record without a key is refused on a compacted topic (INVALID_RECORD, compressed or not,
  nothing of them stored) and taken on a delete topic.
"""

import os
import random
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import client_util as cu  # noqa: E402
import confluent_kafka  # noqa: E402
import harness  # noqa: E402
from confluent_kafka import Consumer, KafkaError, TopicPartition  # noqa: E402
from harness import CheckFailed, Mismatches, check, check_eq, wait_until  # noqa: E402

UPDATES = 100_000
KEYS = 1_000
SENTINEL = b"sentinel"


def key_of(k):
    return b"key-%04d" % k


def sequence_of(value):
    return int(value.split(b"-")[0])


def workload():
    """The messages in produce order: (key, value or None). A value is b"<seq>-<key>"."""
    rng = random.Random(11)
    messages = []
    for i in range(UPDATES):
        k = key_of(rng.randrange(KEYS))
        messages.append((k, b"%d-%s" % (i, k)))
    for k in range(0, KEYS, 10):
        messages.append((key_of(k), None))
    for k in range(0, KEYS, 100):  # deleted, then alive again
        messages.append((key_of(k), b"%d-%s" % (len(messages), key_of(k))))
    return messages


def read_everything(bootstrap, topic):
    """(offset, key, value) of every record from the beginning to the end of partition 0."""
    return [(m.offset, m.key, m.value) for m in cu.consume(bootstrap, topic, [0], timeout=60.0)]


def check_pass(records, produced, what):
    """One read from the beginning: offsets grow, each record is the one produced at its offset
    (sentinels aside), and each key's values come in produce order."""
    problems = Mismatches(what)
    previous = -1
    last_sequence = {}
    for offset, key, value in records:
        if offset <= previous:
            problems.add("offset %d after %d" % (offset, previous))
        previous = offset
        if key == SENTINEL:
            continue
        if produced.get(offset) != (key, value):
            problems.add("offset %d holds %r=%r, produced %r" % (offset, key, value, produced.get(offset)))
            continue
        if value is not None:
            sequence = sequence_of(value)
            if sequence <= last_sequence.get(key, -1):
                problems.add("key %r: value #%d after #%d" % (key, sequence, last_sequence[key]))
            last_sequence[key] = sequence
    problems.raise_if_any()


class ContinuousReader(threading.Thread):
    """Reads the partition from the beginning to its end, again and again, keeping each pass."""

    def __init__(self, bootstrap, topic):
        super().__init__(daemon=True)
        self.bootstrap, self.topic = bootstrap, topic
        self.stop = threading.Event()
        self.passes = []
        self.error = None

    def run(self):
        try:
            c = Consumer(
                {
                    "bootstrap.servers": self.bootstrap,
                    "group.id": "ringlog-itest-unused",
                    "enable.auto.commit": False,
                    "enable.partition.eof": True,
                    "auto.offset.reset": "earliest",
                    **cu.QUIET,
                }
            )
            while not self.stop.is_set():
                c.assign([TopicPartition(self.topic, 0, confluent_kafka.OFFSET_BEGINNING)])
                records = []
                while not self.stop.is_set():
                    batch = c.consume(num_messages=10000, timeout=0.2)
                    eof = False
                    for m in batch:
                        if m.error() is not None:
                            if m.error().code() == KafkaError._PARTITION_EOF:
                                eof = True
                                continue
                            raise CheckFailed("continuous reader: %s" % m.error())
                        records.append((m.offset(), m.key(), m.value()))
                    if eof:
                        break
                self.passes.append(records)
                c.unassign()
            c.close()
        except Exception as e:  # reported by the main thread
            self.error = e


def run_case(ctx, codec):
    broker = ctx.broker(extra_args=["--cleaner-interval-ms", "200"])
    topic = "compacted-" + codec
    cu.create_topic(
        broker.bootstrap,
        topic,
        1,
        {
            "cleanup.policy": "compact",
            "segment.bytes": "65536",
            "segment.ms": "1000",
            "delete.retention.ms": "2000",
            "min.cleanable.dirty.ratio": "0.01",
        },
    )
    reader = ContinuousReader(broker.bootstrap, topic)
    reader.start()

    messages = workload()
    config = {"compression.codec": codec, "linger.ms": 20, "batch.num.messages": 200}
    reports = cu.produce(broker.bootstrap, topic, [{"key": k, "value": v, "partition": 0} for k, v in messages], config, timeout=180.0)
    cu.check_deliveries(reports, "produce the workload")
    produced = {r.offset: (r.key, r.value) for r in reports}
    check_eq(len(produced), len(messages), "distinct offsets delivered")
    newest = {}
    for r in reports:
        newest[r.key] = r
    expected = {k: (r.offset, r.value) for k, r in newest.items() if r.value is not None}
    deleted = {k for k, r in newest.items() if r.value is None}
    check_eq(len(expected) + len(deleted), KEYS, "keys in the workload")
    print("  ok   %d updates over %d keys produced (%s), %d keys deleted" % (len(messages), KEYS, codec, len(deleted)))

    # A sentinel every 200 ms keeps segment.ms rolling the active segment, so the workload is
    # sealed and cleanable; the last full read is returned for the message on a timeout.
    sentinel = confluent_kafka.Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", **cu.QUIET})
    state = {"last": None}

    def compacted():
        sentinel.produce(topic, key=SENTINEL, value=b"tick", partition=0)
        sentinel.flush(10)
        broker.check_alive("waiting for compaction")
        records = read_everything(broker.bootstrap, topic)
        got = {k: (o, v) for o, k, v in records if k != SENTINEL}
        state["last"] = "%d records, %d keys, %d deleted keys present" % (len(records), len(got), len(deleted & set(got)))
        live = [r for r in records if r[1] != SENTINEL]
        return got == expected and len(live) == len(expected)

    try:
        wait_until(compacted, 180.0, "the topic to hold exactly the newest value of each live key", 0.2)
    except CheckFailed as e:
        raise CheckFailed("%s; last full read: %s" % (e, state["last"]))
    print("  ok   a full read holds exactly the %d live keys at their original offsets, no tombstoned key" % len(expected))

    reader.stop.set()
    reader.join(60)
    check(not reader.is_alive(), "the continuous reader did not stop")
    if reader.error is not None:
        raise reader.error
    check(len(reader.passes) >= 2, "the continuous reader made only %d passes" % len(reader.passes))
    for i, records in enumerate(reader.passes):
        check_pass(records, produced, "continuous read pass %d of %d" % (i + 1, len(reader.passes)))
    print("  ok   %d reads through the cleaning saw growing offsets and per-key produce order" % len(reader.passes))

    cleaned = [line for line in broker.lines if "ringlogd: cleaned" in line]
    check(cleaned, "the broker never reported a clean")
    for p, batches in enumerate([cu.fetch_all_batches(broker.port, topic, 0)[0]]):
        for b in batches:
            check(b.crc_ok, "%s/%d: batch at %d fails its CRC-32C" % (topic, p, b.base_offset))
    print("  ok   %d cleans reported; every stored batch passes its CRC" % len(cleaned))
    sentinel.flush(10)
    del sentinel  # before the broker goes, or librdkafka logs the refused reconnects
    broker.stop()


def case_compaction_uncompressed(ctx):
    run_case(ctx, "none")


def case_compaction_snappy(ctx):
    run_case(ctx, "snappy")


def case_null_keys_refused(ctx):
    """Kafka refuses a record without a key on a compacted topic with INVALID_RECORD, compressed
    or not, and stores nothing of it; keyed records and a delete topic's null keys go in."""
    broker = ctx.broker()
    cu.create_topic(broker.bootstrap, "compact-keys", 1, {"cleanup.policy": "compact"})
    cu.create_topic(broker.bootstrap, "delete-keys", 1, {"cleanup.policy": "delete"})
    keyed = cu.produce(broker.bootstrap, "compact-keys", [{"key": b"k%d" % i, "value": b"v%d" % i, "partition": 0} for i in range(10)])
    cu.check_deliveries(keyed, "keyed records to a compacted topic")
    for codec in ("none", "snappy"):
        config = {"compression.codec": codec, "retries": 0}
        refused = cu.produce(broker.bootstrap, "compact-keys", [{"key": None, "value": b"nokey-%s-%d" % (codec.encode(), i), "partition": 0} for i in range(5)], config)
        codes = {r.error.code() if r.error is not None else None for r in refused}
        check_eq(codes, {KafkaError.INVALID_RECORD}, "delivery errors of null-key records (%s) to a compacted topic" % codec)
    print("  ok   null keys refused with INVALID_RECORD, uncompressed and snappy")
    stored = cu.consume(broker.bootstrap, "compact-keys", [0], expected=len(keyed))
    check_eq(sorted((m.key, m.value) for m in stored), sorted((r.key, r.value) for r in keyed), "what the compacted topic holds")
    accepted = cu.produce(broker.bootstrap, "delete-keys", [{"key": None, "value": b"v%d" % i, "partition": 0} for i in range(5)])
    cu.check_deliveries(accepted, "null-key records to a delete topic")
    print("  ok   the compacted topic holds exactly the keyed records; a delete topic takes null keys")
    broker.stop()


CASES = [("compaction_uncompressed", case_compaction_uncompressed), ("compaction_snappy", case_compaction_snappy),
         ("null_keys_refused", case_null_keys_refused)]

if __name__ == "__main__":
    sys.exit(harness.run_cases(CASES, __doc__))
