#!/usr/bin/python3
"""`ringlog bench --transport dpdk` against a real ringlogd over DPDK memif (net/dpdk/README.md):
the broker (2 shards) as memif server, the bench as memif client in another process, over
shared-memory sockets and without hugepages. Four memif ports: bench worker w reaches broker
shard i through port 2w + i, which the broker's shard i polls (2w + i mod 2 = i). Counts, not
speeds, are checked:

- produce 20,000 messages with acks=1 and 20,000 with acks=all, each to 4 partitions: every
  message sent is acknowledged, none failed, and the partitions' end offsets (ListOffsets over
  TCP) add up to exactly that;
- consume each topic from the earliest offset through the same transport: exactly 20,000 come
  back, so every stored message was fetched once;
- e2e (a producer and a consumer thread, so both workers' ports) at a fixed rate: every message
  acknowledged was fetched;
- the fetches left the broker as external-buffer segments over the log's buffers (the broker's
  closing counts say how many), and again, with --dpdk-tx copy, as copies (none external);
  that e2e runs its consumer on the producer's thread (--consumer-threads 0), busy-polling.

Exits 77 (skipped) with a message when ringlog was built without DPDK.
"""

import json
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import kafka_wire as kw  # noqa: E402
from harness import LOOPBACK, check, check_eq  # noqa: E402

RINGLOG = os.environ.get("RINGLOG_CLI", "")
EAL = "--no-huge -m 256 --no-pci --no-shconf --no-telemetry"
COUNT = 20_000
PORTS = 4  # 2 bench workers (e2e) x 2 broker shards
# Small segments: the default 1 GiB is preallocated (and zero-filled) per partition.
SMALL = ["--durability", "none", "--segment-bytes", str(8 << 20)]


def dpdk_built():
    done = subprocess.run([RINGLOG, "datagram-check", "--dpdk-available"], stdout=subprocess.PIPE, timeout=60)
    return done.stdout.decode().strip() == "dpdk: yes"


def vdevs(ctx, role):
    return " ".join(
        "--vdev=net_memif%d,role=%s,socket=%s" % (i, role, os.path.join(ctx.scratch, "memif%d.sock" % i))
        for i in range(PORTS)
    )


def start_broker(ctx, tx="extbuf"):
    return ctx.broker(shards=2, extra_args=SMALL + [
        "--datagram-host", "127.0.1.1", "--dpdk-tx", tx, "--dpdk", "%s %s" % (EAL, vdevs(ctx, "server"))])


def bench(ctx, broker, name, args, timeout=120.0):
    json_path = os.path.join(ctx.scratch, name + ".json")
    cmd = [RINGLOG, "bench"] + args + [
        "--bootstrap", broker.bootstrap, "--transport", "dpdk", "--local-ip", "127.0.1.2",
        "--dpdk", "%s %s" % (EAL, vdevs(ctx, "client")), "--warmup", "0", "--json", json_path]
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    output = result.stdout.decode(errors="replace")
    check(result.returncode == 0, "%s exited %d:\n%s" % (name, result.returncode, harness.tail_text(output)))
    with open(json_path) as f:
        results = json.load(f)
    check_eq(results["transport"], "dpdk", "%s: transport in the JSON" % name)
    check_eq(results["errors"], [], "%s errors" % name)
    return results


def end_offsets(port, topic, partitions):
    with kw.Connection(LOOPBACK, port, 10.0) as c:
        r = c.list_offsets(1, [(topic, [(p, kw.LATEST_TIMESTAMP) for p in range(partitions)])])
    return {p["partition"]: p["offset"] for p in r["topics"][0]["partitions"]}


def closing_counts(broker):
    """The broker's closing line per shard: {shard: (requests, external segments, copied)}."""
    counts = {}
    pattern = re.compile(r"shard (\d+) datagrams: (\d+) requests, .* (\d+) external segments, (\d+) payload bytes")
    for line in broker.lines:
        m = pattern.search(line)
        if m:
            counts[int(m.group(1))] = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
    check_eq(sorted(counts), [0, 1], "a closing line for each shard")
    return counts


def produce_and_consume(ctx, broker, topic, acks):
    produced = bench(ctx, broker, "produce-" + topic, [
        "produce", "--topic", topic, "--partitions", "4", "--msg-size", "100", "--acks", acks,
        "--messages", str(COUNT), "--duration", "60", "--batch-size", "4096"])
    check_eq(produced["sent"], COUNT, "acks=%s: messages sent" % acks)
    check_eq(produced["acked"], COUNT, "acks=%s: messages acknowledged" % acks)
    check_eq(produced["failed"], 0, "acks=%s: messages failed" % acks)
    offsets = end_offsets(broker.port, topic, 4)
    check_eq(sum(offsets.values()), COUNT, "acks=%s: messages stored over the 4 partitions %r" % (acks, offsets))
    check(all(v > 0 for v in offsets.values()), "acks=%s: every partition got messages: %r" % (acks, offsets))
    consumed = bench(ctx, broker, "consume-" + topic, [
        "consume", "--topic", topic, "--msg-size", "100", "--messages", str(COUNT), "--duration", "60"])
    check_eq(consumed["consumed"], COUNT, "acks=%s: messages fetched back" % acks)
    check_eq(consumed["failed"], 0, "acks=%s: fetches failed" % acks)
    print("  ok   acks=%s: %d produced, %d stored, %d consumed over dpdk" % (
        acks, produced["acked"], sum(offsets.values()), consumed["consumed"]))


def e2e(ctx, broker, topic, extra=()):
    results = bench(ctx, broker, "e2e-" + topic, [
        "e2e", "--topic", topic, "--partitions", "4", "--msg-size", "200", "--acks", "1", "--rate", "20000",
        "--duration", "1", "--from", "latest"] + list(extra))
    check(results["sent"] > 0, "something was sent")
    check_eq(results["acked"], results["sent"], "e2e: every message acknowledged")
    check_eq(results["failed"], 0, "e2e: messages failed")
    check_eq(results["consumed"], results["acked"], "e2e: every acknowledged message fetched")
    check_eq(results["e2e_latency_us"]["count"], results["messages"], "e2e: a latency per measured message")
    print("  ok   e2e: %d sent, %d consumed over dpdk" % (results["sent"], results["consumed"]))


def case_every_mode_over_memif(ctx):
    broker = start_broker(ctx)
    produce_and_consume(ctx, broker, "dpdk-acks1", "1")
    produce_and_consume(ctx, broker, "dpdk-acksall", "all")
    e2e(ctx, broker, "dpdk-e2e")
    broker.stop()
    counts = closing_counts(broker)
    check(sum(c[1] for c in counts.values()) > 0, "fetches sent as external segments: %r" % counts)
    print("  ok   external segments per shard: %r" % {s: c[1] for s, c in counts.items()})


def case_copy_fallback(ctx):
    broker = start_broker(ctx, tx="copy")
    # One worker thread producing and consuming, busy-polling: one DPDK port per shard is used.
    e2e(ctx, broker, "dpdk-copy", ["--consumer-threads", "0", "--busy-poll"])
    broker.stop()
    counts = closing_counts(broker)
    check_eq(sum(c[1] for c in counts.values()), 0, "no external segments with --dpdk-tx copy")
    check(sum(c[2] for c in counts.values()) > 0, "payload copied with --dpdk-tx copy: %r" % counts)
    print("  ok   --dpdk-tx copy: every payload byte copied")


CASES = [("every_mode_over_memif", case_every_mode_over_memif), ("copy_fallback", case_copy_fallback)]

if __name__ == "__main__":
    if not RINGLOG:
        print("RINGLOG_CLI is not set")
        sys.exit(2)
    if not dpdk_built():
        print("skip: ringlog was built without DPDK, so there is no DPDK transport to test")
        sys.exit(77)
    sys.exit(harness.run_cases(CASES, __doc__))
