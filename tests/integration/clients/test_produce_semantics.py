#!/usr/bin/python3
"""Produce and Fetch semantics on raw sockets (hand-built RecordBatch v2, Produce v3, Fetch v4)
against ringlogd with 2 shards:

- acks=0 gets no response (the next request's answer is the next frame on the connection),
  yet the batch is stored; acks=1 and acks=-1 are answered with their base offsets; acks=2 is
  INVALID_REQUIRED_ACKS (21) and stores nothing;
- a topic with message.timestamp.type=LogAppendTime stores the broker's clock: the batch read
  back has the LogAppendTime attribute bit, a valid CRC, and a maxTimestamp between the
  client's clock before and after the produce; the response carries the same time;
- a topic with max.message.bytes smaller than a batch answers MESSAGE_TOO_LARGE (10) and
  stores nothing;
- Fetch size limits: partition_max_bytes of 1 still returns one whole batch (a big batch is
  never stuck), max_bytes bounds the whole response beyond the first partition with data.
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import client_util as cu  # noqa: E402
import harness  # noqa: E402
import kafka_wire as kw  # noqa: E402
from harness import LOOPBACK, check, check_eq  # noqa: E402

LOG_APPEND_TIME_BIT = 0x08


def batch(tag, count=1, value_bytes=10):
    return kw.build_batch([(b"%s-%d" % (tag, i), b"v" * value_bytes, [], 1_000 + i) for i in range(count)])


def partition_answer(response):
    return response["responses"][0]["partitions"][0]


def end_offset(c, topic, partition):
    r = c.list_offsets(1, [(topic, [(partition, kw.LATEST_TIMESTAMP)])])
    return r["topics"][0]["partitions"][0]["offset"]


def fetch_batches(c, topic, partition, offset, partition_max_bytes=1 << 20):
    r = c.fetch([(topic, [(partition, offset, partition_max_bytes)])])
    p = r["responses"][0]["partitions"][0]
    check_eq(p["error_code"], 0, "Fetch %s/%d error" % (topic, partition))
    batches, _ = kw.parse_batches(p["records"])
    return batches


def case_acks(ctx):
    broker = ctx.broker(shards=2)
    topic = "acks"
    cu.create_topic(broker.bootstrap, topic, 1)
    with kw.Connection(LOOPBACK, broker.port, 10.0) as c:
        # acks=0: no answer; the ApiVersions sent after it is answered first.
        c.send_request(kw.PRODUCE, 3, kw.produce_request(3, 0, 10000, [(topic, [(0, batch(b"zero"))])]))
        check_eq(c.api_versions(0)["error_code"], 0, "ApiVersions after an acks=0 produce")
        one = partition_answer(c.produce(3, 1, [(topic, [(0, batch(b"one", 2))])]))
        check_eq((one["error_code"], one["base_offset"]), (0, 1), "acks=1 answer")
        everything = partition_answer(c.produce(3, -1, [(topic, [(0, batch(b"all", 3))])]))
        check_eq((everything["error_code"], everything["base_offset"]), (0, 3), "acks=-1 answer")
        bad = partition_answer(c.produce(3, 2, [(topic, [(0, batch(b"two"))])]))
        check_eq(bad["error_code"], 21, "acks=2: INVALID_REQUIRED_ACKS")
        check_eq(end_offset(c, topic, 0), 6, "end offset: the acks=2 batch was not stored")
        keys = [r.key for b in fetch_batches(c, topic, 0, 0) for r in b.records]
        check_eq(keys, [b"zero-0", b"one-0", b"one-1", b"all-0", b"all-1", b"all-2"], "stored keys")
    broker.stop()


def case_log_append_time(ctx):
    broker = ctx.broker(shards=2)
    topic = "stamped"
    cu.create_topic(broker.bootstrap, topic, 1, {"message.timestamp.type": "LogAppendTime"})
    with kw.Connection(LOOPBACK, broker.port, 10.0) as c:
        before = int(time.time() * 1000)
        answer = partition_answer(c.produce(3, -1, [(topic, [(0, batch(b"t", 4))])]))
        after = int(time.time() * 1000)
        check_eq(answer["error_code"], 0, "produce to a LogAppendTime topic")
        check(before <= answer["log_append_time_ms"] <= after, "log_append_time_ms %d outside [%d, %d]" % (answer["log_append_time_ms"], before, after))
        (stored,) = fetch_batches(c, topic, 0, 0)
        check(stored.attributes & LOG_APPEND_TIME_BIT, "the stored batch has the LogAppendTime bit: attributes %#x" % stored.attributes)
        check(stored.crc_ok, "the stored batch's CRC is valid after the broker's edit")
        check_eq(stored.max_timestamp, answer["log_append_time_ms"], "stored maxTimestamp")
    broker.stop()


def case_message_too_large(ctx):
    broker = ctx.broker(shards=2)
    topic = "small"
    cu.create_topic(broker.bootstrap, topic, 1, {"max.message.bytes": "200"})
    with kw.Connection(LOOPBACK, broker.port, 10.0) as c:
        ok = partition_answer(c.produce(3, -1, [(topic, [(0, batch(b"fits", 1, 20))])]))
        check_eq(ok["error_code"], 0, "a batch under max.message.bytes")
        big = partition_answer(c.produce(3, -1, [(topic, [(0, batch(b"big", 4, 100))])]))
        check_eq(big["error_code"], 10, "a batch over max.message.bytes: MESSAGE_TOO_LARGE")
        check_eq(end_offset(c, topic, 0), 1, "end offset after the refused batch")
    broker.stop()


def case_fetch_limits(ctx):
    broker = ctx.broker(shards=2)
    topic = "limits"
    cu.create_topic(broker.bootstrap, topic, 2)
    with kw.Connection(LOOPBACK, broker.port, 10.0) as c:
        for partition in (0, 1):
            for i in range(3):
                r = partition_answer(c.produce(3, -1, [(topic, [(partition, batch(b"p%d-%d" % (partition, i), 10, 100))])]))
                check_eq(r["error_code"], 0, "fill %s/%d" % (topic, partition))
        (first,) = fetch_batches(c, topic, 0, 0, partition_max_bytes=1)
        check_eq((first.base_offset, first.record_count), (0, 10), "partition_max_bytes=1 returns the first whole batch")
        batch_bytes = len(first.raw)
        # max_bytes of two batches: partition 0 fills it; partition 1 gets nothing more.
        r = c.fetch([(topic, [(0, 0, 1 << 20), (1, 0, 1 << 20)])], max_bytes=2 * batch_bytes)
        sizes = {p["partition"]: len(p["records"] or b"") for p in r["responses"][0]["partitions"]}
        check_eq(sizes, {0: 2 * batch_bytes, 1: 0}, "bytes per partition under max_bytes of two batches")
    broker.stop()


CASES = [
    ("acks", case_acks),
    ("log_append_time", case_log_append_time),
    ("message_too_large", case_message_too_large),
    ("fetch_limits", case_fetch_limits),
]

if __name__ == "__main__":
    sys.exit(harness.run_cases(CASES, __doc__))
