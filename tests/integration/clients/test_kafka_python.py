#!/usr/bin/python3
"""kafka-python 2.0.2 (pure Python, its own protocol code) against ringlogd.

- roundtrip_none, roundtrip_gzip: 2,000 messages (keys, values, headers, timestamps,
  explicit partitions over 3) sent with KafkaProducer(acks='all'); every future resolves
  to a distinct offset on the asked partition; a KafkaConsumer(group_id=None) with assign()
  and seek_to_beginning() reads them all back exactly once with the same content; end_offsets
  match; the stored batches (raw Fetch v4) pass their CRC and carry the codec asked for
  (small ones may be uncompressed: kafka-python sends a batch as is if gzip does not shrink it).
  kafka-python infers a broker release from ApiVersions and uses message format v2 (Produce
  v7) only if it infers >= 0.11; it also checks which release it inferred. (lz4, snappy and
  zstd need Python modules Debian does not ship with it.)
- admin: KafkaAdminClient creates a 3-partition topic with retention.ms, list_topics shows
  it, describe_configs returns retention.ms, delete_topics removes it.
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import logging  # noqa: E402

from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic  # noqa: E402

import client_util as cu  # noqa: E402
import harness  # noqa: E402
from harness import CheckFailed, Mismatches, check, check_eq, wait_until  # noqa: E402

PARTITIONS = 3
MESSAGES = 2000

logging.basicConfig(level=logging.CRITICAL)  # kafka-python logs connection churn at WARNING


def roundtrip(codec):
    def case(ctx):
        broker = ctx.broker(shards=2, default_partitions=PARTITIONS)
        topic = "kp-%s" % codec
        producer = KafkaProducer(
            bootstrap_servers=broker.bootstrap,
            acks="all",
            compression_type=None if codec == "none" else codec,
            linger_ms=5,
            batch_size=16384,
            api_version_auto_timeout_ms=10000,
            request_timeout_ms=30000,
            max_block_ms=30000,
        )
        try:
            inferred = producer.config["api_version"]
            print("  kafka-python inferred broker version %s" % (inferred,))
            check(inferred >= (0, 11), "kafka-python inferred broker version %s from ApiVersions: below 0.11 it sends magic 0/1 message sets" % (inferred,))
            wait_until(lambda: producer.partitions_for(topic) == set(range(PARTITIONS)), 30, "%d partitions of %s in the producer's metadata" % (PARTITIONS, topic), 0.1)
            base = int(time.time() * 1000) - 60_000
            sent = []
            for i in range(MESSAGES):
                m = {
                    "key": b"kp-key-%05d" % i,
                    "value": b"kp-value-%05d " % i * (1 + i % 5),
                    "headers": [("index", b"%d" % i)] if i % 2 else [],
                    "partition": i % PARTITIONS,
                    "timestamp": base + i,
                }
                future = producer.send(topic, value=m["value"], key=m["key"], headers=m["headers"], partition=m["partition"], timestamp_ms=m["timestamp"])
                sent.append((m, future))
            producer.flush(60)
            acked = []
            bad = Mismatches("%s: send futures" % topic)
            for i, (m, future) in enumerate(sent):
                try:
                    md = future.get(timeout=30)
                except Exception as e:
                    bad.add("#%d failed: %r" % (i, e))
                    continue
                if md.partition != m["partition"]:
                    bad.add("#%d: partition %d, asked for %d" % (i, md.partition, m["partition"]))
                acked.append((m, md.partition, md.offset))
            bad.raise_if_any()
        finally:
            producer.close(10)

        consumer = KafkaConsumer(
            bootstrap_servers=broker.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            api_version_auto_timeout_ms=10000,
        )
        try:
            tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
            consumer.assign(tps)
            consumer.seek_to_beginning()
            end = consumer.end_offsets(tps)
            want_end = {TopicPartition(topic, p): sum(1 for _, q, _ in acked if q == p) for p in range(PARTITIONS)}
            check_eq(end, want_end, "end_offsets")
            consumed = []
            deadline = time.monotonic() + 60
            while len(consumed) < MESSAGES and time.monotonic() < deadline:
                for tp, records in consumer.poll(timeout_ms=500).items():
                    consumed += records
            # Anything beyond the expected count would be a duplicate: one more short poll.
            for tp, records in consumer.poll(timeout_ms=200).items():
                consumed += records
        finally:
            consumer.close()

        bad = Mismatches("%s: consumed against produced" % topic)
        by_position = {}
        for r in consumed:
            by_position.setdefault((r.partition, r.offset), []).append(r)
        for m, partition, offset in acked:
            got = by_position.pop((partition, offset), [])
            if len(got) != 1:
                bad.add("%r at %d/%d consumed %d times" % (m["key"], partition, offset, len(got)))
                continue
            g = got[0]
            have = (g.key, g.value, list(g.headers), g.timestamp, g.timestamp_type)
            want = (m["key"], m["value"], m["headers"], m["timestamp"], 0)
            if have != want:
                bad.add("at %d/%d: (key, value, headers, timestamp, type) %r, expected %r" % (partition, offset, have, want))
        for (p, o), extra in list(by_position.items())[:5]:
            bad.add("unexpected message at %d/%d: %r" % (p, o, extra[0].key))
        bad.raise_if_any()
        check_eq(len(consumed), MESSAGES, "messages consumed")

        cu.check_stored_codec(broker, topic, PARTITIONS, codec)
        broker.stop()

    return case


def case_admin(ctx):
    broker = ctx.broker(shards=2, auto_create_topics=False)
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, api_version_auto_timeout_ms=10000, request_timeout_ms=30000)
    try:
        name = "kp-admin"
        try:
            response = admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1, topic_configs={"retention.ms": "7200000"})], timeout_ms=30000)
        except Exception as e:
            raise CheckFailed("KafkaAdminClient.create_topics %s: %r" % (name, e))
        errors = [tuple(t[:2]) for t in response.topic_errors]
        check_eq(errors, [(name, 0)], "create_topics (topic, error)")
        wait_until(lambda: name in admin.list_topics(), 30, "%s in KafkaAdminClient.list_topics()" % name, 0.1)
        check_eq(cu.topic_partition_counts(broker.bootstrap).get(name), 3, "partitions of %s" % name)

        try:
            described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
        except Exception as e:
            raise CheckFailed("KafkaAdminClient.describe_configs %s: %r" % (name, e))
        entries = {}
        for response in described:
            for error_code, error_message, _, resource_name, config_entries in response.resources:
                check_eq((error_code, resource_name), (0, name), "describe_configs resource (error %r)" % error_message)
                for entry in config_entries:
                    entries[entry[0]] = entry[1]
        check_eq(entries.get("retention.ms"), "7200000", "describe_configs %s retention.ms" % name)

        try:
            response = admin.delete_topics([name], timeout_ms=30000)
        except Exception as e:
            raise CheckFailed("KafkaAdminClient.delete_topics %s: %r" % (name, e))
        check_eq([tuple(t[:2]) for t in response.topic_error_codes], [(name, 0)], "delete_topics (topic, error)")
        wait_until(lambda: name not in admin.list_topics(), 30, "%s gone from list_topics()" % name, 0.1)
    finally:
        admin.close()
    broker.stop()


CASES = [
    ("roundtrip_none", roundtrip("none")),
    ("roundtrip_gzip", roundtrip("gzip")),
    ("admin", case_admin),
]

if __name__ == "__main__":
    sys.exit(harness.run_cases(CASES, __doc__))
