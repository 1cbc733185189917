#!/usr/bin/python3
"""`ringlog bench` against a real ringlogd (2 shards): a functional test, not a benchmark. It
checks what the load generator claims, never how fast anything is:

- produce (acks=all, 4 partitions, a message count): the JSON results exist with
  messages_per_sec, mb_per_sec and latency_us (p50, p99, p999, max); every message sent was
  acknowledged and none failed; the partitions' end offsets, read back with ListOffsets, add
  up to exactly the messages acknowledged;
- consume from the earliest offset reads back at least that many;
- e2e with --advertise-shards (each partition's leader is its shard's own port) at a fixed
  rate: every produced message was acknowledged and fetched by the consumer, the end-to-end
  histogram holds every measured message, and both SVG plots are written;
- e2e with the consumers on the producer thread (--consumer-threads 0) and every reactor, the
  broker's and the load generator's, spinning before it sleeps (--idle-spin-us): the same
  counts add up, and the send latency (intended send -> on the socket) is there for every
  measured message and never above the produce latency it is part of;
- every mode again with --transport udp (the broker's kernel-UDP datagram transport, 2 shards):
  the same counts add up, and the stored end offsets match the messages acknowledged.

The ringlog binary comes from $RINGLOG_CLI (set by CMake).
"""

import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import client_util as cu  # noqa: E402
import harness  # noqa: E402
import kafka_wire as kw  # noqa: E402
from harness import LOOPBACK, check, check_eq  # noqa: E402

RINGLOG = os.environ.get("RINGLOG_CLI", "")


def bench(ctx, name, args, timeout=120.0):
    json_path = os.path.join(ctx.scratch, name + ".json")
    cmd = [RINGLOG, "bench"] + args + ["--json", json_path, "--plots", os.path.join(ctx.scratch, name + "-")]
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    output = result.stdout.decode(errors="replace")
    check(result.returncode == 0, "%s exited %d:\n%s" % (" ".join(cmd), result.returncode, harness.tail_text(output)))
    check(os.path.exists(json_path), "%s wrote no %s:\n%s" % (name, json_path, output))
    with open(json_path) as f:
        results = json.load(f)
    for key in ("messages_per_sec", "mb_per_sec", "latency_us"):
        check(key in results, "%s: no %s in the JSON" % (name, key))
    for key in ("p50", "p99", "p999", "max"):
        check(key in results["latency_us"], "%s: no latency_us.%s" % (name, key))
    check_eq(results["errors"], [], "%s errors" % name)
    return results, output


def end_offsets(port, topic, partitions):
    with kw.Connection(LOOPBACK, port, 10.0) as c:
        r = c.list_offsets(1, [(topic, [(p, kw.LATEST_TIMESTAMP) for p in range(partitions)])])
    return {p["partition"]: p["offset"] for p in r["topics"][0]["partitions"]}


def case_produce_then_consume(ctx):
    broker = ctx.broker(shards=2)
    topic = "bench-produce"
    count = 20000
    produced, output = bench(
        ctx,
        "produce",
        ["produce", "--bootstrap", broker.bootstrap, "--topic", topic, "--partitions", "4", "--msg-size", "100",
         "--acks", "all", "--messages", str(count), "--duration", "60", "--warmup", "0", "--batch-size", "4096"],
    )
    check_eq(produced["sent"], count, "messages sent")
    check_eq(produced["acked"], count, "messages acknowledged")
    check_eq(produced["failed"], 0, "messages failed")
    check_eq(produced["messages"], count, "messages measured (no warm-up)")
    check(produced["messages_per_sec"] > 0 and produced["mb_per_sec"] > 0, "a rate: %r" % produced)
    check_eq(produced["latency_us"]["count"], count, "latency samples")
    check("[   1s] produce" in output or "measured" in output, "progress or summary printed:\n%s" % output)
    offsets = end_offsets(broker.port, topic, 4)
    check_eq(sum(offsets.values()), count, "messages stored over the 4 partitions %r" % offsets)
    check(all(v > 0 for v in offsets.values()), "every partition got messages: %r" % offsets)

    consumed, _ = bench(
        ctx,
        "consume",
        ["consume", "--bootstrap", broker.bootstrap, "--topic", topic, "--msg-size", "100", "--messages", str(count),
         "--duration", "60", "--warmup", "0"],
    )
    check(consumed["consumed"] >= count, "consumed %d of %d" % (consumed["consumed"], count))
    broker.stop()


def case_e2e_advertised_shards(ctx):
    broker = ctx.broker(shards=2, advertise_shards=True)
    topic = "bench-e2e"
    results, _ = bench(
        ctx,
        "e2e",
        ["e2e", "--bootstrap", broker.bootstrap, "--topic", topic, "--partitions", "4", "--msg-size", "200",
         "--acks", "1", "--rate", "20000", "--duration", "1", "--warmup", "0.2", "--linger-us", "200"],
    )
    leaders = cu.partition_leaders(broker.port, topic)
    check_eq(sorted(set(leaders.values())), sorted(broker.ports), "partitions led by both shards")
    check_eq(results["producer_connections"], 2, "one producer connection per leader")
    check(results["sent"] > 0, "something was sent")
    check_eq(results["acked"], results["sent"], "every message acknowledged")
    check_eq(results["failed"], 0, "messages failed")
    check_eq(results["consumed"], results["acked"], "every acknowledged message fetched")
    check_eq(results["e2e_latency_us"]["count"], results["messages"], "an e2e latency per measured message")
    check(results["e2e_latency_us"]["p50"] <= results["e2e_latency_us"]["max"], "percentiles ordered")
    for plot in ("e2e-latency.svg", "e2e-throughput.svg"):
        path = os.path.join(ctx.scratch, plot)
        check(os.path.exists(path) and open(path).read().startswith("<svg"), "%s written" % plot)
    broker.stop()


def case_e2e_shared_thread_spinning(ctx):
    broker = ctx.broker(shards=2, advertise_shards=True, extra_args=["--idle-spin-us", "50"])
    results, _ = bench(
        ctx,
        "e2e-shared",
        ["e2e", "--bootstrap", broker.bootstrap, "--topic", "bench-e2e-shared", "--partitions", "4", "--msg-size",
         "200", "--acks", "1", "--rate", "20000", "--duration", "1", "--warmup", "0.2", "--consumer-threads", "0",
         "--idle-spin-us", "50"],
    )
    check_eq(results["producer_connections"], 2, "one producer connection per leader")
    check_eq(results["consumer_connections"], 2, "one fetch connection per leader")
    check(results["sent"] > 0, "something was sent")
    check_eq(results["acked"], results["sent"], "every message acknowledged")
    check_eq(results["failed"], 0, "messages failed")
    check_eq(results["consumed"], results["acked"], "every acknowledged message fetched")
    check_eq(results["send_latency_us"]["count"], results["produce_latency_us"]["count"],
             "a send latency per measured acknowledgement")
    for q in ("p50", "p99", "max"):
        check(results["send_latency_us"][q] <= results["produce_latency_us"][q],
              "send %s within produce %s" % (q, q))
    broker.stop()


def case_every_mode_over_udp(ctx):
    udp_port = harness.free_port_block(2)
    broker = ctx.broker(shards=2, extra_args=["--udp-port", str(udp_port)])
    topic = "bench-udp"
    count = 20000
    udp = ["--bootstrap", broker.bootstrap, "--topic", topic, "--transport", "udp", "--warmup", "0"]
    produced, _ = bench(
        ctx,
        "udp-produce",
        ["produce"] + udp + ["--partitions", "4", "--msg-size", "100", "--acks", "all", "--messages", str(count),
                             "--duration", "60", "--batch-size", "4096"],
    )
    check_eq(produced["transport"], "udp", "transport in the JSON")
    check_eq(produced["sent"], count, "messages sent over udp")
    check_eq(produced["acked"], count, "messages acknowledged over udp")
    check_eq(produced["failed"], 0, "messages failed over udp")
    offsets = end_offsets(broker.port, topic, 4)
    check_eq(sum(offsets.values()), count, "messages stored over the 4 partitions %r" % offsets)
    consumed, _ = bench(
        ctx,
        "udp-consume",
        ["consume"] + udp + ["--msg-size", "100", "--messages", str(count), "--duration", "60"],
    )
    check(consumed["consumed"] >= count, "consumed over udp %d of %d" % (consumed["consumed"], count))
    e2e, _ = bench(
        ctx,
        "udp-e2e",
        ["e2e"] + udp + ["--msg-size", "200", "--acks", "1", "--rate", "20000", "--duration", "1", "--from", "latest"],
    )
    check(e2e["sent"] > 0, "something was sent over udp")
    check_eq(e2e["acked"], e2e["sent"], "every message acknowledged over udp")
    check_eq(e2e["failed"], 0, "e2e messages failed over udp")
    check_eq(e2e["consumed"], e2e["acked"], "every acknowledged message fetched over udp")
    print("  ok   produce %d, consume %d, e2e %d over udp" % (produced["acked"], consumed["consumed"], e2e["consumed"]))
    broker.stop()


CASES = [
    ("produce_then_consume", case_produce_then_consume),
    ("e2e_advertised_shards", case_e2e_advertised_shards),
    ("e2e_shared_thread_spinning", case_e2e_shared_thread_spinning),
    ("every_mode_over_udp", case_every_mode_over_udp),
]

if __name__ == "__main__":
    if not os.access(RINGLOG, os.X_OK):
        print("RINGLOG_CLI is not an executable: %r" % RINGLOG)
        sys.exit(2)
    sys.exit(harness.run_cases(CASES, __doc__))
