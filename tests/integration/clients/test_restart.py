#!/usr/bin/python3
"""Acknowledged means durable: SIGKILL ringlogd in the middle of an acks=all stream, restart
it on the same data folder and ports, and find every acknowledged message exactly once.

sigkill_mid_stream: a 4-partition topic on 2 shards. Twice: a confluent-kafka producer
(acks=all, no retries, so nothing is sent twice) streams keyed messages to explicit
partitions; once at least 2,000 have been acknowledged, while more are queued and in
flight, the broker is SIGKILLed; the producer's remaining messages are purged and every
delivery report collected; the broker is restarted on the same folder. Then:
- every acknowledged message is consumed exactly once, at the partition and offset its
  delivery report gave, with its value;
- no message appears twice and nothing appears that was never sent (unacknowledged
  messages may or may not be there);
- offsets are dense from 0 in every partition, and every stored batch passes its CRC
  (raw Fetch v4): nothing torn is served;
- after a clean SIGTERM (exit 0) and one more start, the log reads back the same.
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka import Producer  # noqa: E402

import client_util as cu  # noqa: E402
import harness  # noqa: E402
from harness import CheckFailed, Mismatches, check, check_eq  # noqa: E402

PARTITIONS = 4
ACKS_BEFORE_KILL = 2000
CYCLES = 2


def stream_then_kill(broker, topic, cycle):
    """Returns ({key: (partition, offset, value)} acknowledged, {key: value} sent)."""
    p = Producer(
        {
            "bootstrap.servers": broker.bootstrap,
            "acks": "all",
            "enable.idempotence": False,
            "message.send.max.retries": 0,
            "linger.ms": 2,
            "batch.num.messages": 200,
            "message.timeout.ms": 20000,
            **cu.QUIET,
        }
    )
    acked = {}
    failed = {}
    sent = {}

    def on_delivery(err, msg):
        if err is None:
            acked[msg.key()] = (msg.partition(), msg.offset(), msg.value())
        else:
            failed[msg.key()] = err

    deadline = time.monotonic() + 60
    i = 0
    while len(acked) < ACKS_BEFORE_KILL:
        check(time.monotonic() < deadline, "cycle %d: only %d acknowledgements after 60 s (failures: %s)" % (cycle, len(acked), list(failed.items())[:3]))
        if len(p) >= 4000:
            p.poll(0.005)  # enough queued and in flight: serve delivery reports first
            continue
        key = b"c%d-%07d" % (cycle, i)
        value = b"cycle %d message %d " % (cycle, i) * (1 + i % 4)
        try:
            p.produce(topic, key=key, value=value, partition=i % PARTITIONS, on_delivery=on_delivery)
        except BufferError:
            p.poll(0.01)
            continue
        sent[key] = value
        i += 1
        p.poll(0)
    in_queue = len(p)
    broker.kill()
    p.purge(in_queue=True, in_flight=True)
    left = p.flush(30)
    check_eq(left, 0, "cycle %d: messages still queued after purge and flush" % cycle)
    unresolved = len(sent) - len(acked) - len(failed)
    check_eq(unresolved, 0, "cycle %d: messages without a delivery report" % cycle)
    print("  cycle %d: sent %d, acknowledged %d, failed %d, %d queued or in flight at the kill" % (cycle, len(sent), len(acked), len(failed), in_queue))
    return acked, sent


def check_log(broker, topic, acked, sent, what):
    total_sent = len(sent)
    consumed = cu.consume(broker.bootstrap, topic, range(PARTITIONS), timeout=60)
    bad = Mismatches("%s: acknowledged messages" % what)
    seen = {}
    per_partition = {}
    for m in consumed:
        seen.setdefault(m.key, []).append(m)
        per_partition.setdefault(m.partition, []).append(m.offset)
    for key, (partition, offset, value) in acked.items():
        got = seen.get(key, [])
        if len(got) != 1:
            bad.add("%s (acknowledged at %d/%d) consumed %d times" % (key.decode(), partition, offset, len(got)))
            continue
        g = got[0]
        if (g.partition, g.offset, g.value) != (partition, offset, value):
            bad.add("%s: acknowledged at %d/%d, consumed at %d/%d (value %s)" % (key.decode(), partition, offset, g.partition, g.offset, "same" if g.value == value else "differs"))
    bad.raise_if_any()
    extra = Mismatches("%s: unacknowledged messages" % what)
    for key, got in seen.items():
        if key in acked:
            continue
        if key not in sent:
            extra.add("%r at %d/%d was never sent" % (key, got[0].partition, got[0].offset))
        elif len(got) != 1:
            extra.add("%s appears %d times" % (key.decode(), len(got)))
        elif got[0].value != sent[key]:
            extra.add("%s: value differs from what was sent" % key.decode())
    extra.raise_if_any()
    for partition, offsets in sorted(per_partition.items()):
        check_eq(offsets, list(range(len(offsets))), "%s: offsets of partition %d (dense from 0)" % (what, partition))
    leaders = cu.partition_leaders(broker.port, topic)
    for partition in range(PARTITIONS):
        batches, hw = cu.fetch_all_batches(leaders[partition], topic, partition)
        for b in batches:
            check(b.crc_ok, "%s: %s/%d batch at %d fails its CRC" % (what, topic, partition, b.base_offset))
        check_eq(hw, len(per_partition.get(partition, [])), "%s: high watermark of partition %d" % (what, partition))
    unacked_present = len(consumed) - len(acked)
    print("  %s: %d messages in the log: %d acknowledged, %d of the %d unacknowledged" % (what, len(consumed), len(acked), unacked_present, total_sent - len(acked)))
    return sorted((m.partition, m.offset, m.key, m.value) for m in consumed)


def case_sigkill_mid_stream(ctx):
    broker = ctx.broker(shards=2)
    topic = "restart"
    cu.create_topic(broker.bootstrap, topic, PARTITIONS)
    acked = {}
    sent = {}
    for cycle in range(1, CYCLES + 1):
        a, s = stream_then_kill(broker, topic, cycle)
        acked.update(a)
        sent.update(s)
        broker.restart()
        check_log(broker, topic, acked, sent, "after SIGKILL %d and restart" % cycle)
    before = check_log(broker, topic, acked, sent, "before a clean stop")
    broker.stop()
    broker.start()
    after = check_log(broker, topic, acked, sent, "after SIGTERM and restart")
    if before != after:
        raise CheckFailed("the log differs after a clean stop and start: %d messages before, %d after" % (len(before), len(after)))
    broker.stop()


CASES = [("sigkill_mid_stream", case_sigkill_mid_stream)]

if __name__ == "__main__":
    sys.exit(harness.run_cases(CASES, __doc__))
