#!/usr/bin/python3
"""Long-poll Fetch against ringlogd with 2 shards and --advertise-shards (so the test knows
which shard owns each partition, and can send a fetch to a shard that does not own what it
reads, which the broker forwards):

- a Fetch with max_wait_ms of ten minutes and min_bytes 1, on an empty partition, is answered
  with the batch a producer appends while it waits, whether the partition is owned by the shard
  that received the fetch or by the other one; a hang is the failure (the ctest timeout);
- the same for a fetch that reads every partition of the topic, woken by an append to any one
  of them;
- a fetch at the end of the log with max_wait_ms 0 is answered at once with no records and no
  error; a fetch beyond the end gets OFFSET_OUT_OF_RANGE;
- a topic deleted while a long poll waits on it ends the poll (an answer, with or without an
  error), and the broker keeps serving.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import client_util as cu  # noqa: E402
import harness  # noqa: E402
import kafka_wire as kw  # noqa: E402
from harness import LOOPBACK, CheckFailed, check, check_eq  # noqa: E402

TOPIC = "polled"
PARTITIONS = 4
FOREVER_MS = 600_000
ANSWER_TIMEOUT = 120.0  # a guard against a hang, far beyond any wake-up


def records_of(response):
    """{partition: [(offset, key, value)]} of a Fetch v4 response."""
    out = {}
    for topic in response["responses"]:
        for p in topic["partitions"]:
            batches, _ = kw.parse_batches(p["records"])
            out[p["partition"]] = [(r.offset, r.key, r.value) for b in batches for r in b.records]
    return out


def errors_of(response):
    return {p["partition"]: p["error_code"] for t in response["responses"] for p in t["partitions"]}


def produce(port, partition, key):
    with kw.Connection(LOOPBACK, port, 10.0) as c:
        batch = kw.build_batch([(key, key + b"-value", [], 1_700_000_000_000)])
        r = c.produce(3, 1, [(TOPIC, [(partition, batch)])])
    p = r["responses"][0]["partitions"][0]
    check_eq(p["error_code"], 0, "Produce to %s/%d" % (TOPIC, partition))
    return p["base_offset"]


def long_poll(fetch_port, produce_port, wanted, produce_partition, key, offsets):
    """Sends a ten-minute fetch of `wanted` [(partition, offset)], then appends `key` to
    `produce_partition`; the fetch must come back with it."""
    with kw.Connection(LOOPBACK, fetch_port, ANSWER_TIMEOUT) as poll:
        correlation_id = poll.send_request(
            kw.FETCH, 4, kw.fetch_request(4, [(TOPIC, [(p, o, 1 << 20) for p, o in wanted])], FOREVER_MS, 1)
        )
        # A round trip to the fetch's shard on another connection: the fetch, sent first on
        # loopback, is then (almost surely) waiting there, so the append has to wake it. If it
        # is not, the fetch finds the data when it arrives, and the answer is the same.
        with kw.Connection(LOOPBACK, fetch_port, 10.0) as other:
            check_eq(other.api_versions(0)["error_code"], 0, "ApiVersions beside the long poll")
        offset = produce(produce_port, produce_partition, key)
        frame = poll.recv_frame(ANSWER_TIMEOUT)
        got, r = kw.decode_response_header(frame, 0)
        check_eq(got, correlation_id, "correlation id of the long poll")
        response = kw.decode_fetch_response(r, 4)
    check_eq(set(errors_of(response).values()), {0}, "long poll errors")
    found = records_of(response).get(produce_partition, [])
    check_eq(found, [(offset, key, key + b"-value")], "records the long poll returned for partition %d" % produce_partition)
    offsets[produce_partition] = offset + 1


def case_long_poll(ctx):
    broker = ctx.broker(shards=2, advertise_shards=True)
    cu.create_topic(broker.bootstrap, TOPIC, PARTITIONS)
    leaders = cu.partition_leaders(broker.port, TOPIC)
    ports = sorted(set(leaders.values()))
    check(len(ports) == 2, "both shards own partitions of %s: %r" % (TOPIC, leaders))
    offsets = {p: 0 for p in range(PARTITIONS)}
    for partition in range(PARTITIONS):
        owner = leaders[partition]
        other = [p for p in ports if p != owner][0]
        # Received by the owner, then by the other shard (forwarded across cores).
        for fetch_port, how in ((owner, "local"), (other, "forwarded")):
            long_poll(fetch_port, owner, [(partition, offsets[partition])], partition, b"%s-%d" % (how.encode(), partition), offsets)
    print("  ok   single-partition long polls woken on the owner and across shards")
    for partition in range(PARTITIONS):
        wanted = [(p, offsets[p]) for p in range(PARTITIONS)]
        long_poll(ports[0], leaders[partition], wanted, partition, b"all-%d" % partition, offsets)
    print("  ok   all-partition long polls woken by an append to any one partition")

    with kw.Connection(LOOPBACK, ports[0], 10.0) as c:
        at_end = c.fetch([(TOPIC, [(0, offsets[0], 1 << 20)])], max_wait_ms=0)
        check_eq(errors_of(at_end), {0: 0}, "Fetch at the end with max_wait 0")
        check_eq(records_of(at_end), {0: []}, "records at the end")
        beyond = c.fetch([(TOPIC, [(0, offsets[0] + 5, 1 << 20)])], max_wait_ms=0)
        check_eq(errors_of(beyond), {0: 1}, "Fetch beyond the end: OFFSET_OUT_OF_RANGE")
    print("  ok   immediate answers at and beyond the end")

    # Delete the topic while a long poll waits on it: the poll must end.
    with kw.Connection(LOOPBACK, ports[1], ANSWER_TIMEOUT) as poll:
        poll.send_request(kw.FETCH, 4, kw.fetch_request(4, [(TOPIC, [(p, offsets[p], 1 << 20) for p in range(PARTITIONS)])], FOREVER_MS, 1))
        client = cu.admin(broker.bootstrap)
        futures = client.delete_topics([TOPIC], operation_timeout=30, request_timeout=30)
        futures[TOPIC].result(60)
        try:
            poll.recv_frame(ANSWER_TIMEOUT)
        except kw.ConnectionClosed:
            pass  # also an end
    with kw.Connection(LOOPBACK, ports[0], 10.0) as c:
        check_eq(c.api_versions(0)["error_code"], 0, "ApiVersions after the deletion")
    print("  ok   a deleted topic ends the long polls on it")
    broker.stop()


CASES = [("long_poll", case_long_poll)]

if __name__ == "__main__":
    sys.exit(harness.run_cases(CASES, __doc__))
