"""Helpers shared by the client tests: topic administration, producing and consuming with
confluent-kafka (librdkafka), and reading a partition's stored batches on a raw socket.

consume() uses explicit assignment (test_groups.py covers groups) and producers are not
idempotent.
Every wait has a deadline.
"""

import sys
import time

sys.dont_write_bytecode = True

import confluent_kafka  # noqa: E402
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

import kafka_wire as kw  # noqa: E402
from harness import LOOPBACK, CheckFailed, check, wait_until  # noqa: E402

# librdkafka's own logs go to stderr through this logger only when a test asks for them.
QUIET = {"log_level": 3}


def admin(bootstrap):
    return AdminClient({"bootstrap.servers": bootstrap, **QUIET})


def topic_partition_counts(bootstrap, timeout=10.0):
    """{topic: partition count} for every topic (Metadata for all topics never auto-creates)."""
    md = admin(bootstrap).list_topics(timeout=timeout)
    return {name: len(t.partitions) for name, t in md.topics.items() if t.error is None}


def create_topic(bootstrap, name, partitions, config=None, timeout=30.0):
    client = admin(bootstrap)  # must outlive the future: a destroyed handle fails it
    futures = client.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})],
        operation_timeout=timeout,
        request_timeout=timeout,
    )
    try:
        futures[name].result(timeout)
    except Exception as e:
        raise CheckFailed("CreateTopics %s (%d partitions, config %s) failed: %r" % (name, partitions, config, e))
    wait_for_partitions(bootstrap, name, partitions, timeout)


def wait_for_partitions(bootstrap, name, partitions, timeout=30.0):
    def ready():
        md = admin(bootstrap).list_topics(timeout=5)
        t = md.topics.get(name)
        if t is None or t.error is not None or len(t.partitions) != partitions:
            return None
        if any(p.leader < 0 or p.error is not None for p in t.partitions.values()):
            return None
        return True

    wait_until(ready, timeout, "topic %s to show %d partitions with leaders in Metadata" % (name, partitions), 0.1)


class Delivery:
    __slots__ = ("index", "error", "partition", "offset", "key", "value", "timestamp")

    def __init__(self, index, error, partition, offset, key, value, timestamp):
        self.index, self.error, self.partition, self.offset = index, error, partition, offset
        self.key, self.value, self.timestamp = key, value, timestamp


def produce(bootstrap, topic, messages, config=None, timeout=60.0):
    """messages: dicts with key, value and optionally headers, partition, timestamp. Returns one
    Delivery per message, in message order, after every delivery report came back."""
    conf = {
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "enable.idempotence": False,
        "linger.ms": 5,
        **QUIET,
    }
    conf.update(config or {})
    p = Producer(conf)
    reports = [None] * len(messages)

    def on_delivery(index):
        def callback(err, msg):
            ts_type, ts = msg.timestamp()
            reports[index] = Delivery(index, err, msg.partition(), msg.offset(), msg.key(), msg.value(), ts)

        return callback

    for i, m in enumerate(messages):
        kwargs = {"key": m.get("key"), "value": m.get("value"), "on_delivery": on_delivery(i)}
        for field in ("headers", "partition", "timestamp"):
            if m.get(field) is not None:
                kwargs[field] = m[field]
        while True:
            try:
                p.produce(topic, **kwargs)
                break
            except BufferError:
                p.poll(0.05)  # the local queue is full: serve delivery reports, then retry
        p.poll(0)
    left = p.flush(timeout)
    missing = [i for i, r in enumerate(reports) if r is None]
    if left or missing:
        raise CheckFailed(
            "produce to %s: %d of %d messages had no delivery report within %.0f s (still queued: %d; first missing #%s)"
            % (topic, len(missing), len(messages), timeout, left, missing[:5])
        )
    return reports


def check_deliveries(reports, what):
    errors = [r for r in reports if r.error is not None]
    if errors:
        raise CheckFailed(
            "%s: %d of %d deliveries failed, e.g. %s"
            % (what, len(errors), len(reports), "; ".join("#%d: %s" % (r.index, r.error) for r in errors[:5]))
        )


class Message:
    __slots__ = ("partition", "offset", "key", "value", "headers", "timestamp", "timestamp_type")

    def __init__(self, m):
        self.partition, self.offset, self.key, self.value = m.partition(), m.offset(), m.key(), m.value()
        self.headers = m.headers() or []
        self.timestamp_type, self.timestamp = m.timestamp()


def consume(bootstrap, topic, partitions, expected=None, timeout=60.0, config=None, start=confluent_kafka.OFFSET_BEGINNING):
    """Every message of the given partitions from the start, read until each partition reported
    its end (after at least `expected` messages, if given). Fails on any consumer error."""
    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": "ringlog-itest-unused",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "error",
        **QUIET,
    }
    conf.update(config or {})
    c = Consumer(conf)
    try:
        c.assign([TopicPartition(topic, p, start) for p in partitions])
        messages = []
        at_end = {p: False for p in partitions}
        deadline = time.monotonic() + timeout
        while True:
            if all(at_end.values()) and (expected is None or len(messages) >= expected):
                return messages
            if time.monotonic() > deadline:
                raise CheckFailed(
                    "consume %s: after %.0f s got %d messages (expected %s); partitions at their end: %s"
                    % (topic, timeout, len(messages), expected, sorted(p for p, e in at_end.items() if e))
                )
            for m in c.consume(num_messages=10000, timeout=0.2):
                if m.error() is not None:
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        at_end[m.partition()] = True
                        continue
                    raise CheckFailed("consume %s: error on partition %s: %s" % (topic, m.partition(), m.error()))
                at_end[m.partition()] = False
                messages.append(Message(m))
    finally:
        c.close()


# --- Raw-socket reads ---------------------------------------------------------------------------


def partition_leaders(bootstrap_port, topic, timeout=10.0):
    """{partition: port of its leader}, from a raw Metadata v1 on the bootstrap port."""
    with kw.Connection(LOOPBACK, bootstrap_port, timeout) as conn:
        md = conn.metadata(1, [topic], allow_auto_topic_creation=False)
    ports = {b["node_id"]: b["port"] for b in md["brokers"]}
    topics = [t for t in md["topics"] if t["name"] == topic]
    check(topics and topics[0]["error_code"] == 0, "Metadata v1 for %s: %r" % (topic, topics))
    out = {}
    for p in topics[0]["partitions"]:
        check(p["leader"] in ports, "partition %s/%d: leader %d is not among the brokers %r" % (topic, p["partition"], p["leader"], ports))
        out[p["partition"]] = ports[p["leader"]]
    return out


def fetch_all_batches(port, topic, partition, timeout=30.0):
    """Every stored batch of one partition, read with raw Fetch v4 from offset 0 up to the high
    watermark. Each batch is a kafka_wire.Batch (CRC checked by the caller)."""
    batches = []
    offset = 0
    deadline = time.monotonic() + timeout
    with kw.Connection(LOOPBACK, port, timeout) as conn:
        while True:
            response = conn.fetch([(topic, [(partition, offset, 8 << 20)])], max_wait_ms=0)
            parts = response["responses"][0]["partitions"]
            p = parts[0]
            check(p["error_code"] == 0, "Fetch %s/%d at %d: error %s" % (topic, partition, offset, kw.error_name(p["error_code"])))
            found, _ = kw.parse_batches(p["records"])
            found = [b for b in found if b.last_offset >= offset]
            batches += found
            if found:
                offset = found[-1].last_offset + 1
            if offset >= p["high_watermark"]:
                return batches, p["high_watermark"]
            check(found or time.monotonic() < deadline, "Fetch %s/%d at %d: no batch before the high watermark %d" % (topic, partition, offset, p["high_watermark"]))
            if time.monotonic() > deadline:
                raise CheckFailed("Fetch %s/%d: timed out at offset %d of %d" % (topic, partition, offset, p["high_watermark"]))


SMALL_PAYLOAD_BYTES = 512


def check_stored_codec(broker, topic, partitions, codec):
    """Every stored batch (raw Fetch v4) passes its CRC and carries `codec`, except that
    librdkafka (rdkafka_msgset_writer.c) and kafka-python (_maybe_compress) send a batch
    uncompressed when compressing did not make it smaller, which happens to tiny batches when
    a loaded machine makes linger.ms expire early. So uncompressed batches are allowed if
    small, but most records must be in `codec` batches."""
    leaders = partition_leaders(broker.port, topic)
    batches = {}
    records = {}
    for p in range(partitions):
        found, _ = fetch_all_batches(leaders[p], topic, p)
        for b in found:
            check(b.crc_ok, "%s/%d: fetched batch at offset %d fails its CRC-32C" % (topic, p, b.base_offset))
            name = kw.CODEC_NAMES.get(b.codec, str(b.codec))
            batches[name] = batches.get(name, 0) + 1
            records[name] = records.get(name, 0) + b.record_count
            if name != codec and not (name == "none" and len(b.payload) <= SMALL_PAYLOAD_BYTES):
                raise CheckFailed("%s/%d: batch at offset %d (%d records, %d bytes) stored with codec %s, expected %s" % (topic, p, b.base_offset, b.record_count, len(b.payload), name, codec))
    print("  stored batches by codec: %s; records by codec: %s" % (batches, records))
    total = sum(records.values())
    if records.get(codec, 0) * 2 < total:
        hint = ""
        if codec in ("gzip", "snappy", "lz4"):
            hint = " (librdkafka 2.0.2 compresses with %s only if ApiVersions lists Produce v0: see CLIENT-VERSIONS.md)" % codec
        raise CheckFailed("%s: only %d of %d records stored with codec %s (batches by codec %s)%s" % (topic, records.get(codec, 0), total, codec, batches, hint))
