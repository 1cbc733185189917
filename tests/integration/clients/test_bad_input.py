#!/usr/bin/python3
"""Bad input on raw sockets (hand-encoded frames from kafka_wire.py) against ringlogd with
auto-creation off. Before anything, a 2-partition topic `intact` is created and filled by a
good producer (confluent-kafka, acks=all) and by a hand-built RecordBatch v2 sent with
Produce v3. Then, each on a fresh connection:

- garbage: an HTTP request (its first 4 bytes read as a 1.2 GB size), a size of 0, a
  huge size (2 GiB - 1) and a negative one (-2 GiB): the broker closes the connection;
- a frame whose client_id is longer than the frame: closed or answered, never a hang;
- a truncated frame, then close; 50 connections reset (SO_LINGER 0) halfway through a frame;
- an unknown API key (999): closed, or an answer with its correlation id;
- ApiVersions v99 and one above the advertised maximum (flexible encoding, as a newer client
  sends it): error 35 UNSUPPORTED_VERSION with a v0 body that lists ApiVersions' range, and
  the same connection then answers ApiVersions v0 (librdkafka retries in place);
- Metadata one above its advertised maximum, and Fetch v99: closed, or an answer with the
  correlation id;
- Produce v3 of a batch with a wrong CRC (in the CRC field, and in the payload) ->
  partition error 2 CORRUPT_MESSAGE; a batch whose length overruns the records, and a
  magic 1 message set -> 2 or 87 INVALID_RECORD (upstream answers 87 for magic < 2 in
  Produce v3+: RECORD-BATCH.md); the log end does not move;
- Produce, Metadata (v1, and v4 with allow_auto_topic_creation) and ListOffsets for an
  unknown topic -> 3 UNKNOWN_TOPIC_OR_PARTITION, and for an unknown partition of `intact`;
  the topic is not created;
- seven requests pipelined in one write are answered in order.

After each step the broker must still run and answer a fresh ApiVersions and `kcat -L`. At
the end every message of `intact` is consumed back unchanged (and passes its CRC on a raw
Fetch), and SIGTERM stops the broker with exit 0.
"""

import os
import random
import socket
import struct
import sys
import time
import traceback
import zlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import client_util as cu  # noqa: E402
import harness  # noqa: E402
import kafka_wire as kw  # noqa: E402
from harness import LOOPBACK, CheckFailed, check, check_eq, run  # noqa: E402

TOPIC = "intact"
UNKNOWN_TOPIC = "no-such-topic"
CLOSE_TIMEOUT = 5.0


class Broker:
    """What the steps need: the running broker, its advertised ranges and the expected log."""

    def __init__(self, broker):
        self.broker = broker
        self.port = broker.port
        self.ranges = {}
        self.expected = {}  # partition -> [(key, value)] in offset order

    def connect(self, timeout=10.0):
        return kw.Connection(LOOPBACK, self.port, timeout)

    def end_offsets(self):
        with self.connect() as c:
            r = c.list_offsets(1, [(TOPIC, [(0, kw.LATEST_TIMESTAMP), (1, kw.LATEST_TIMESTAMP)])])
        parts = {p["partition"]: p for p in r["topics"][0]["partitions"]}
        for p in parts.values():
            check_eq(p["error_code"], 0, "ListOffsets latest %s/%d error" % (TOPIC, p["partition"]))
        return {p: parts[p]["offset"] for p in sorted(parts)}


def expect_closed(conn, what):
    if conn.wait_closed(CLOSE_TIMEOUT):
        return "closed" + (" after %d bytes of answer" % len(conn.trailing) if conn.trailing else "")
    raise CheckFailed("%s: the connection is still open %.0f s later (received %d bytes: %s)" % (what, CLOSE_TIMEOUT, len(conn.trailing), conn.trailing[:40].hex()))


def expect_closed_or_answer(conn, correlation_id, what):
    """The broker either closes the connection or sends a frame with our correlation id."""
    try:
        frame = conn.recv_frame(CLOSE_TIMEOUT)
    except kw.ConnectionClosed:
        return "closed"
    except socket.timeout:
        raise CheckFailed("%s: neither an answer nor a close within %.0f s" % (what, CLOSE_TIMEOUT))
    got, _ = kw.decode_response_header(frame)
    check_eq(got, correlation_id, "%s: correlation id of the answer" % what)
    return "answered (%d bytes: %s)" % (len(frame), frame[4:16].hex())


def healthy(b, step):
    b.broker.check_alive("after %s" % step)
    with b.connect() as c:
        r = c.api_versions(0)
    check_eq(r["error_code"], 0, "after %s: ApiVersions v0 on a fresh connection" % step)
    run(["kcat", "-b", b.broker.bootstrap, "-L", "-m", "10"], "after %s: kcat -L" % step, timeout=30)


def good_batch(count, tag, ts):
    return kw.build_batch([(b"%s-k%d" % (tag, i), b"%s-v%d" % (tag, i) * 3, [("h", b"%d" % i)], ts + i) for i in range(count)])


# --- Steps ------------------------------------------------------------------------------------


def step_http_garbage(b):
    with b.connect() as c:
        c.send_raw(b"GET / HTTP/1.1\r\nHost: ringlog\r\nUser-Agent: curl/7.88\r\n\r\n")
        return expect_closed(c, "HTTP request")


def step_size_zero(b):
    with b.connect() as c:
        c.send_raw(struct.pack(">i", 0) + b"\x00\x12\x00\x00")
        return expect_closed(c, "frame of size 0")


def step_huge_size(b):
    with b.connect() as c:
        c.send_raw(struct.pack(">i", 0x7FFFFFFF) + kw.request(kw.API_VERSIONS, 0, 5, b""))
        return expect_closed(c, "size prefix 2 GiB - 1")


def step_negative_size(b):
    with b.connect() as c:
        c.send_raw(struct.pack(">I", 0x80000000) + kw.request(kw.API_VERSIONS, 0, 5, b""))
        return expect_closed(c, "size prefix -2 GiB")


def step_random_garbage(b):
    rng = random.Random(20240601)
    outcomes = []
    for n in range(5):
        body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(8, 200)))
        with b.connect() as c:
            c.send_raw(struct.pack(">i", len(body)) + body)
            outcomes.append(expect_closed_or_answer(c, struct.unpack(">i", body[4:8])[0], "random frame %d (%s...)" % (n, body[:8].hex())))
    return "; ".join(outcomes)


def step_client_id_overrun(b):
    frame = struct.pack(">hhih", kw.API_VERSIONS, 0, 6, 500) + b"short"
    with b.connect() as c:
        c.send_raw(kw.size_prefixed(frame))
        return expect_closed_or_answer(c, 6, "client_id of 500 bytes in a 15-byte frame")


def step_truncated_then_close(b):
    frame = kw.request(kw.METADATA, 1, 7, kw.metadata_request(1, [TOPIC]))
    with b.connect() as c:
        c.send_raw(struct.pack(">i", len(frame) + 100) + frame)
    with b.connect() as c:
        c.send_raw(struct.pack(">i", len(frame))[:3])  # not even a whole size prefix
    return "sent and closed"


def step_resets_mid_frame(b):
    frame = kw.size_prefixed(kw.request(kw.PRODUCE, 3, 8, kw.produce_request(3, -1, 1000, [(TOPIC, [(0, good_batch(50, b"reset", 1))])])))
    for n in range(50):
        s = socket.create_connection((LOOPBACK, b.port), timeout=10)
        s.sendall(frame[: len(frame) // 2 + n])
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # RST
    return "50 connections reset"


def step_unknown_api_key(b):
    with b.connect() as c:
        c.send_request(999, 0, b"", correlation_id=42)
        return expect_closed_or_answer(c, 42, "API key 999")


def api_versions_unsupported(b, version):
    """A future client: ApiVersions at a version the broker lacks, in the flexible encoding
    (request header v2, v3 body), as librdkafka sends v3."""
    with b.connect() as c:
        c.send_request(kw.API_VERSIONS, version, kw.api_versions_request(3), header_version=2, correlation_id=43)
        try:
            frame = c.recv_frame(CLOSE_TIMEOUT)
        except kw.ConnectionClosed as e:
            raise CheckFailed("ApiVersions v%d: expected error 35 with a v0 body, but the connection was %s" % (version, e))
        got, r = kw.decode_response_header(frame)
        check_eq(got, 43, "ApiVersions v%d: correlation id" % version)
        try:
            body = kw.decode_api_versions_response(r, 0)
        except kw.DecodeError as e:
            raise CheckFailed("ApiVersions v%d: the answer is not a v0 body: %s (bytes %s)" % (version, e, frame[4:40].hex()))
        check_eq(body["error_code"], kw.UNSUPPORTED_VERSION, "ApiVersions v%d: error code" % version)
        check(kw.API_VERSIONS in body["api_keys"], "ApiVersions v%d: the error answer lists no ApiVersions range (%s)" % (version, body["api_keys"]))
        again = c.api_versions(0)
        check_eq(again["error_code"], 0, "ApiVersions v0 on the same connection after the v%d error" % version)
        return "error 35, lists ApiVersions %s" % (body["api_keys"][kw.API_VERSIONS],)


def step_api_versions_v99(b):
    return api_versions_unsupported(b, 99)


def step_api_versions_above_max(b):
    return api_versions_unsupported(b, b.ranges[kw.API_VERSIONS][1] + 1)


def step_metadata_above_max(b):
    version = b.ranges[kw.METADATA][1] + 1
    with b.connect() as c:
        c.send_request(kw.METADATA, version, kw.metadata_request(1, [TOPIC]), correlation_id=44)
        return "Metadata v%d: %s" % (version, expect_closed_or_answer(c, 44, "Metadata v%d (advertised max %d)" % (version, version - 1)))


def step_fetch_v99(b):
    with b.connect() as c:
        c.send_request(kw.FETCH, 99, kw.fetch_request(4, [(TOPIC, [(0, 0, 1 << 20)])]), correlation_id=45)
        return expect_closed_or_answer(c, 45, "Fetch v99")


def produce_one(b, topic, partition, records):
    with b.connect() as c:
        r = c.produce(3, -1, [(topic, [(partition, records)])])
    check_eq([(t["name"], [p["partition"] for p in t["partitions"]]) for t in r["responses"]], [(topic, [partition])], "Produce v3 answer topics and partitions")
    return r["responses"][0]["partitions"][0]


def corrupt_produce(b, what, records, allowed):
    before = b.end_offsets()
    p = produce_one(b, TOPIC, 0, records)
    after = b.end_offsets()
    check_eq(after, before, "%s: log end offsets" % what)
    if p["error_code"] not in allowed:
        raise CheckFailed("%s: Produce v3 partition error %s, expected %s" % (what, kw.error_name(p["error_code"]), " or ".join(kw.error_name(a) for a in allowed)))
    return "error %s" % kw.error_name(p["error_code"])


def step_produce_bad_crc_field(b):
    batch = bytearray(good_batch(5, b"badcrc", int(time.time() * 1000)))
    batch[17:21] = struct.pack(">I", struct.unpack(">I", batch[17:21])[0] ^ 0x00010000)
    return corrupt_produce(b, "batch with a wrong CRC field", bytes(batch), {kw.CORRUPT_MESSAGE})


def step_produce_bad_crc_payload(b):
    batch = bytearray(good_batch(5, b"badpayload", int(time.time() * 1000)))
    batch[-3] ^= 0x20  # inside the last record's header value
    return corrupt_produce(b, "batch with a flipped payload byte", bytes(batch), {kw.CORRUPT_MESSAGE})


def step_produce_length_overrun(b):
    batch = bytearray(good_batch(5, b"overrun", int(time.time() * 1000)))
    batch[8:12] = struct.pack(">i", len(batch) - 12 + 40)
    return corrupt_produce(b, "batch whose length runs 40 bytes past the records", bytes(batch), {kw.CORRUPT_MESSAGE, 87})


def step_produce_magic1(b):
    # One legacy v1 message: offset, size, crc (CRC-32), magic 1, attributes, timestamp, key, value.
    body = struct.pack(">bbq", 1, 0, int(time.time() * 1000)) + struct.pack(">i", 1) + b"k" + struct.pack(">i", 1) + b"v"
    message = struct.pack(">I", zlib.crc32(body)) + body
    records = struct.pack(">qi", 0, len(message)) + message
    return corrupt_produce(b, "magic 1 message set in Produce v3", records, {kw.CORRUPT_MESSAGE, 87})


def step_unknown_topic(b):
    results = []
    p = produce_one(b, UNKNOWN_TOPIC, 0, good_batch(3, b"unknown", int(time.time() * 1000)))
    check_eq(p["error_code"], kw.UNKNOWN_TOPIC_OR_PARTITION, "Produce v3 to %s: partition error" % UNKNOWN_TOPIC)
    with b.connect() as c:
        md = c.metadata(1, [UNKNOWN_TOPIC])
        check_eq([(t["name"], t["error_code"]) for t in md["topics"]], [(UNKNOWN_TOPIC, kw.UNKNOWN_TOPIC_OR_PARTITION)], "Metadata v1 for %s" % UNKNOWN_TOPIC)
        if b.ranges[kw.METADATA][1] >= 4:
            md = c.metadata(4, [UNKNOWN_TOPIC], allow_auto_topic_creation=True)
            check_eq([(t["name"], t["error_code"]) for t in md["topics"]], [(UNKNOWN_TOPIC, kw.UNKNOWN_TOPIC_OR_PARTITION)], "Metadata v4 (allow_auto_topic_creation) for %s with auto-creation off" % UNKNOWN_TOPIC)
            results.append("Metadata v4 too")
        lo = c.list_offsets(1, [(UNKNOWN_TOPIC, [(0, kw.LATEST_TIMESTAMP)])])
        check_eq([(t["name"], [(p["partition"], p["error_code"]) for p in t["partitions"]]) for t in lo["topics"]], [(UNKNOWN_TOPIC, [(0, kw.UNKNOWN_TOPIC_OR_PARTITION)])], "ListOffsets v1 for %s/0" % UNKNOWN_TOPIC)
        all_topics = c.metadata(1, None)
    names = sorted(t["name"] for t in all_topics["topics"])
    check(UNKNOWN_TOPIC not in names, "%s was created: Metadata lists %s" % (UNKNOWN_TOPIC, names))
    return "error 3 from Produce, Metadata v1, ListOffsets%s" % (", " + results[0] if results else "")


def step_unknown_partition(b):
    before = b.end_offsets()
    p = produce_one(b, TOPIC, 99, good_batch(3, b"nopartition", int(time.time() * 1000)))
    check_eq(p["error_code"], kw.UNKNOWN_TOPIC_OR_PARTITION, "Produce v3 to %s/99: partition error" % TOPIC)
    with b.connect() as c:
        lo = c.list_offsets(1, [(TOPIC, [(99, kw.LATEST_TIMESTAMP)])])
    check_eq(lo["topics"][0]["partitions"][0]["error_code"], kw.UNKNOWN_TOPIC_OR_PARTITION, "ListOffsets v1 %s/99 error" % TOPIC)
    check_eq(b.end_offsets(), before, "log end offsets after a produce to an unknown partition")
    return "error 3"


def step_pipelined(b):
    requests = [
        (kw.API_VERSIONS, 0, b"", 1),
        (kw.METADATA, 1, kw.metadata_request(1, [TOPIC]), 1),
        (kw.LIST_OFFSETS, 1, kw.list_offsets_request(1, [(TOPIC, [(0, kw.EARLIEST_TIMESTAMP)])]), 1),
        (kw.LIST_OFFSETS, 1, kw.list_offsets_request(1, [(TOPIC, [(1, kw.LATEST_TIMESTAMP)])]), 1),
        (kw.FETCH, 4, kw.fetch_request(4, [(TOPIC, [(0, 0, 4096)])]), 1),
        (kw.METADATA, 1, kw.metadata_request(1, None), 1),
        (kw.API_VERSIONS, 3, kw.api_versions_request(3), 2),
    ]
    with b.connect() as c:
        data = b""
        for n, (key, version, body, header_version) in enumerate(requests):
            data += kw.size_prefixed(kw.request(key, version, 1000 + n, body, header_version=header_version))
        c.send_raw(data)
        got = []
        for _ in requests:
            frame = c.recv_frame(10)
            got.append(kw.decode_response_header(frame)[0])
    check_eq(got, [1000 + n for n in range(len(requests))], "correlation ids of pipelined answers, in order")
    return "7 answers in order"


STEPS = [
    ("HTTP request as garbage", step_http_garbage),
    ("size 0", step_size_zero),
    ("size 2 GiB - 1", step_huge_size),
    ("size -2 GiB", step_negative_size),
    ("random frames", step_random_garbage),
    ("client_id overruns the frame", step_client_id_overrun),
    ("truncated frame, then close", step_truncated_then_close),
    ("resets halfway through a frame", step_resets_mid_frame),
    ("unknown API key 999", step_unknown_api_key),
    ("ApiVersions v99", step_api_versions_v99),
    ("ApiVersions one above its max", step_api_versions_above_max),
    ("Metadata above its max", step_metadata_above_max),
    ("Fetch v99", step_fetch_v99),
    ("Produce: wrong CRC field", step_produce_bad_crc_field),
    ("Produce: flipped payload byte", step_produce_bad_crc_payload),
    ("Produce: batch length overruns", step_produce_length_overrun),
    ("Produce: magic 1", step_produce_magic1),
    ("unknown topic", step_unknown_topic),
    ("unknown partition", step_unknown_partition),
    ("pipelined requests", step_pipelined),
]


def fill(b):
    """The good data: 400 messages from confluent-kafka, then a hand-built batch of 10."""
    bootstrap = b.broker.bootstrap
    with b.connect() as c:
        av = c.api_versions(0)
    check_eq(av["error_code"], 0, "ApiVersions v0")
    b.ranges = av["api_keys"]
    print("  advertised: %s" % ", ".join("%d:%d-%d" % (k, lo, hi) for k, (lo, hi) in sorted(b.ranges.items())))
    for key, version, name in ((kw.PRODUCE, 3, "Produce"), (kw.METADATA, 1, "Metadata"), (kw.LIST_OFFSETS, 1, "ListOffsets"), (kw.FETCH, 4, "Fetch")):
        lo, hi = b.ranges.get(key, (None, None))
        check(lo is not None and lo <= version <= hi, "this test speaks %s v%d; the broker advertises %s" % (name, version, b.ranges.get(key)))
    cu.create_topic(bootstrap, TOPIC, 2)
    messages = [{"key": b"good-%04d" % i, "value": b"good value %04d " % i * (1 + i % 9), "partition": i % 2} for i in range(400)]
    reports = cu.produce(bootstrap, TOPIC, messages)
    cu.check_deliveries(reports, "good produce to %s" % TOPIC)
    b.expected = {0: [], 1: []}
    for m, r in sorted(zip(messages, reports), key=lambda mr: (mr[1].partition, mr[1].offset)):
        check_eq(r.offset, len(b.expected[r.partition]), "offset of good message %r" % m["key"])
        b.expected[r.partition].append((m["key"], m["value"]))
    ts = int(time.time() * 1000)
    records = [(b"raw-%d" % i, b"raw value %d" % i, [], ts + i) for i in range(10)]
    p = produce_one(b, TOPIC, 0, kw.build_batch(records))
    check_eq(p["error_code"], 0, "hand-built batch: Produce v3 partition error")
    check_eq(p["base_offset"], len(b.expected[0]), "hand-built batch: base offset")
    b.expected[0] += [(k, v) for k, v, _, _ in records]
    check_eq(b.end_offsets(), {0: len(b.expected[0]), 1: len(b.expected[1])}, "end offsets after the good produce")


def check_intact(b):
    for partition, want in sorted(b.expected.items()):
        consumed = cu.consume(b.broker.bootstrap, TOPIC, [partition], expected=len(want))
        got = [(m.key, m.value) for m in consumed]
        if got != want:
            first = next((n for n, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
            raise CheckFailed("%s/%d differs: %d messages, expected %d; first difference at offset %d: got %r, expected %r" % (TOPIC, partition, len(got), len(want), first, got[first:first + 1], want[first:first + 1]))
        check_eq([m.offset for m in consumed], list(range(len(want))), "%s/%d offsets" % (TOPIC, partition))
        batches, hw = cu.fetch_all_batches(b.port, TOPIC, partition)
        check_eq(hw, len(want), "%s/%d high watermark" % (TOPIC, partition))
        for batch in batches:
            check(batch.crc_ok, "%s/%d: stored batch at %d fails its CRC" % (TOPIC, partition, batch.base_offset))
            if batch.records is not None:
                for r in batch.records:
                    check_eq((r.key, r.value), want[r.offset], "%s/%d raw Fetch record at %d" % (TOPIC, partition, r.offset))


def case_bad_input(ctx):
    broker = ctx.broker(shards=2, auto_create_topics=False)
    b = Broker(broker)
    fill(b)
    failures = []
    for name, step in STEPS:
        try:
            outcome = step(b)
            healthy(b, name)
            print("  ok   %-34s %s" % (name, outcome))
        except Exception as e:
            if isinstance(e, CheckFailed):
                detail = str(e)
            elif isinstance(e, (kw.ConnectionClosed, kw.NoAnswer, kw.DecodeError, socket.timeout)):
                detail = "%s: %s" % (type(e).__name__, e)
            else:
                detail = traceback.format_exc()
            failures.append("%s: %s" % (name, detail))
            print("  FAIL %-34s %s" % (name, detail.strip().replace("\n", "\n       ")))
            if not broker.running():
                failures.append("the broker died; the remaining steps were not run")
                break
    if broker.running():
        check_intact(b)
        print("  ok   %-34s %s" % ("data intact", {p: len(v) for p, v in b.expected.items()}))
        broker.stop()
    if failures:
        raise CheckFailed("%d of %d steps failed:\n%s" % (len(failures), len(STEPS), "\n".join(failures)))


CASES = [("bad_input", case_bad_input)]

if __name__ == "__main__":
    sys.exit(harness.run_cases(CASES, __doc__))
