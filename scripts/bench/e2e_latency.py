#!/usr/bin/python3
"""End-to-end latency alone: the suite's e2e runs (scripts/bench/suite.py), repeated, with the
per-second percentiles that show where a tail comes from.

The suite measures e2e once per durability as one part of a long run; chasing its tail needs
the same runs several times, before and after a change, in one sitting. This runs, against
ringlogd with 2 shards and --advertise-shards (a fresh folder each time):

1. unless --rate is given, the suite's maximum, the smaller of the acks=1 1 KiB produce
   maximum (median of --repeats runs, the suite's produce flags) and the consume maximum, and
   takes half of it;
2. for each --durability, --repeats e2e runs (acks=1, 1 KiB, 8 partitions, the suite's e2e
   flags plus --extra) at that rate;
3. prints each run's p50/p99/p99.9/max and the worst seconds' p99, then the medians.

Numbers only: it never fails on a figure. JSON of every run goes to --out.
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(suite_module.ROOT, "build", "release"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--rate", type=float, default=0, help="messages/s; 0: half of the measured maximum")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", type=float, default=6.0, help="measured seconds per e2e run")
    parser.add_argument("--durability", default="always,none")
    parser.add_argument("--extra", default="", help="more ringlog bench flags for the e2e runs")
    parser.add_argument("--data-parent", default="/var/tmp")
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--segment-bytes", type=int, default=256 << 20)
    parser.add_argument("--disk-free-min-gb", type=float, default=12.0)
    parser.add_argument("--produce-flags", default="--batch-size 262144 --inflight 5 --request-partitions 8")
    args = parser.parse_args()
    suite = suite_module.Suite(args)
    rate = args.rate
    results = {}
    for durability in args.durability.split(","):
        data_dir = tempfile.mkdtemp(prefix="ringlog-e2e-", dir=args.data_parent)
        os.makedirs(os.path.join(data_dir, "data"))
        broker = suite_module.Broker(suite.ringlogd, os.path.join(data_dir, "data"), shards=2,
                                     durability=durability)
        try:
            if rate <= 0:
                runs = [suite.bench(broker, "produce_acks1_1024_r%d" % r, "produce",
                                    ["--acks", "1", "--msg-size", "1024"] + args.produce_flags.split())
                        for r in range(args.repeats)]
                best = suite_module.median_run(runs)
                if not best:
                    raise RuntimeError("the produce runs failed")
                # The suite's maximum: the smaller of the produce and the consume maxima.
                consume = suite.produce_then_consume(broker, "consume_1024", 1024, args.produce_flags.split())
                top = min(best["messages_per_sec"], consume["messages_per_sec"] if consume else 1e18)
                rate = top / 2
                suite_module.log("maximum %.0f msg/s (produce %.0f, consume %s): e2e at %.0f msg/s" % (
                    top, best["messages_per_sec"], consume and "%.0f" % consume["messages_per_sec"], rate))
            runs = []
            for r in range(args.repeats):
                data = suite.bench(broker, "e2e_%s_r%d" % (durability, r), "e2e",
                                   ["--rate", str(int(rate))] + E2E_FLAGS + args.extra.split(),
                                   duration=args.duration)
                if data:
                    e = data["e2e_latency_us"]
                    suite_module.log("  e2e %s run %d: p50 %.0f p99 %.0f p99.9 %.0f max %.0f us; worst seconds' p99 %s;"
                                     " broker %.2f cores, bench %.2f cores" % (
                                         durability, r, e["p50"], e["p99"], e["p999"], e["max"], worst_seconds(data),
                                         data["broker_cpu_seconds"] / data["wall_seconds"],
                                         data["client_cpu_seconds"] / data["wall_seconds"]))
                    runs.append(data)
            results[durability] = runs
        finally:
            broker.stop()
            shutil.rmtree(data_dir, ignore_errors=True)
    summary = {}
    for durability, runs in results.items():
        if not runs:
            continue
        medians = {k: statistics.median(r["e2e_latency_us"][k] for r in runs) for k in ("p50", "p99", "p999", "max")}
        summary[durability] = {"rate": rate, "runs": len(runs), "e2e_latency_us": medians}
        suite_module.log("%s: median of %d runs at %.0f msg/s: p50 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us"
                         % (durability, len(runs), rate, medians["p50"], medians["p99"], medians["p999"],
                            medians["max"]))
    with open(os.path.join(args.out, "e2e_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
