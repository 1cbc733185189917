#!/usr/bin/python3
"""End-to-end latency alone: the suite's e2e runs (scripts/bench/suite.py), repeated and
interleaved across variants, with the split that shows where a tail comes from.

The suite measures e2e once per durability as one part of a long run; chasing its tail needs
the same runs several times, before and after a change, in one sitting, on a machine whose
load drifts from minute to minute. This runs, against ringlogd with 2 shards and
--advertise-shards (a fresh broker and folder for every run):

1. unless --rate is given, the suite's maximum: the smaller of the acks=1 1 KiB produce
   maximum (median of --repeats runs, the suite's produce flags) and the consume maximum,
   and takes half of it;
2. for each --durability, --repeats rounds, each round one e2e run (acks=1, 1 KiB, 8
   partitions, the suite's e2e flags) per --variant, so every variant sees the same drift;
3. prints each run's e2e, produce and send (intended send -> on the socket: the load
   generator's own share) percentiles, the worst seconds' p99 and the CPU of each side, then
   the medians per variant.

  --variant 'NAME=BENCH FLAGS|BROKER FLAGS'   (repeatable; default: one variant "default")

Numbers only: it never fails on a figure. JSON of every run and e2e_summary.json go to --out.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import suite as suite_module  # noqa: E402

# What the suite passes to its e2e runs (suite.py main()).
E2E_FLAGS = ["--acks", "1", "--msg-size", "1024", "--linger-us", "200", "--batch-size", "65536",
             "--inflight", "16", "--request-partitions", "8"]


def worst_seconds(data, count=3):
    """The highest per-second e2e p99s (warm-up included), as 's<second>:<p99 us>'."""
    rows = sorted(((s["p99_us"], s["t"]) for s in data.get("seconds", [])), reverse=True)
    return ", ".join("s%d:%.0f" % (t, p99) for p99, t in rows[:count])


def parse_variant(text):
    name, _, flags = text.partition("=")
    bench, _, broker = flags.partition("|")
    return name, bench.split(), broker.split()


def fresh_broker(suite, args, durability, broker_flags):
    data_dir = tempfile.mkdtemp(prefix="ringlog-e2e-", dir=args.data_parent)
    os.makedirs(os.path.join(data_dir, "data"))
    broker = suite_module.Broker(suite.ringlogd, os.path.join(data_dir, "data"), shards=2,
                                 durability=durability, extra_args=broker_flags)
    return broker, data_dir


def measure_rate(suite, args):
    broker, data_dir = fresh_broker(suite, args, "always", [])
    try:
        runs = [suite.bench(broker, "produce_acks1_1024_r%d" % r, "produce",
                            ["--acks", "1", "--msg-size", "1024"] + args.produce_flags.split())
                for r in range(args.repeats)]
        best = suite_module.median_run(runs)
        if not best:
            raise RuntimeError("the produce runs failed")
        consume = suite.produce_then_consume(broker, "consume_1024", 1024, args.produce_flags.split())
    finally:
        broker.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    top = min(best["messages_per_sec"], consume["messages_per_sec"] if consume else 1e18)
    suite_module.log("maximum %.0f msg/s (produce %.0f, consume %s): e2e at %.0f msg/s" % (
        top, best["messages_per_sec"], consume and "%.0f" % consume["messages_per_sec"], top / 2))
    return top / 2


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(suite_module.ROOT, "build", "release"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--rate", type=float, default=0, help="messages/s; 0: half of the measured maximum")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", type=float, default=6.0, help="measured seconds per e2e run")
    parser.add_argument("--durability", default="always,none")
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--data-parent", default="/var/tmp")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--segment-bytes", type=int, default=256 << 20)
    parser.add_argument("--disk-free-min-gb", type=float, default=12.0)
    parser.add_argument("--produce-flags", default="--batch-size 262144 --inflight 5 --request-partitions 8")
    args = parser.parse_args()
    variants = [parse_variant(v) for v in args.variant] or [("default", [], [])]
    suite = suite_module.Suite(args)
    rate = args.rate if args.rate > 0 else measure_rate(suite, args)
    results = {}
    for durability in args.durability.split(","):
        for r in range(args.repeats):
            for name, bench_flags, broker_flags in variants:
                broker, data_dir = fresh_broker(suite, args, durability, broker_flags)
                try:
                    data = suite.bench(broker, "e2e_%s_%s_r%d" % (durability, name, r), "e2e",
                                       ["--rate", str(int(rate))] + E2E_FLAGS + bench_flags,
                                       duration=args.duration)
                finally:
                    broker.stop()
                    shutil.rmtree(data_dir, ignore_errors=True)
                if not data:
                    continue
                e, p, s = data["e2e_latency_us"], data["produce_latency_us"], data["send_latency_us"]
                suite_module.log(
                    "  %s %s run %d: e2e p50 %.0f p99 %.0f p99.9 %.0f | produce p50 %.0f p99 %.0f | send p50 %.0f "
                    "p99 %.0f us | worst seconds' p99 %s | broker %.2f cores, bench %.2f cores" % (
                        durability, name, r, e["p50"], e["p99"], e["p999"], p["p50"], p["p99"], s["p50"], s["p99"],
                        worst_seconds(data), data["broker_cpu_seconds"] / data["wall_seconds"],
                        data["client_cpu_seconds"] / data["wall_seconds"]))
                results.setdefault((durability, name), []).append(data)
    summary = {}
    for (durability, name), runs in results.items():
        medians = {}
        for histogram in ("e2e_latency_us", "produce_latency_us", "send_latency_us"):
            medians[histogram] = {q: statistics.median(r[histogram][q] for r in runs)
                                  for q in ("p50", "p99", "p999", "max")}
        summary["%s/%s" % (durability, name)] = dict(rate=rate, runs=len(runs), **medians)
        e, p, s = medians["e2e_latency_us"], medians["produce_latency_us"], medians["send_latency_us"]
        suite_module.log("%s %s: median of %d runs at %.0f msg/s: e2e p50 %.0f us, p99 %.0f us, p99.9 %.0f us; "
                         "produce p99 %.0f us; send p99 %.0f us" % (
                             durability, name, len(runs), rate, e["p50"], e["p99"], e["p999"], p["p99"], s["p99"]))
    with open(os.path.join(args.out, "e2e_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
