#!/usr/bin/python3
"""The datagram transport against TCP, in one run on one machine (bench/README.md, "The
datagram transport"). One ringlogd (1 shard, durability none) serves TCP and DPDK memif at
once; against that same broker, in turns, for each repeat:

1. transport round trip: `ringlog datagram-check --ping` (ApiVersions) over memif and TCP;
2. `ringlog bench produce --acks 1` throughput over tcp and dpdk;
3. `ringlog bench e2e --acks 1` latency at a fixed rate over tcp and dpdk, the consumer on
   the producer's thread (--consumer-threads 0).

That is done twice: with the broker and the bench busy-polling (`ringlogd --busy-poll true`,
`ringlog bench --busy-poll`), and with the default back-off (idle loops wait in the kernel).
Then the fetch path: a topic is filled once, and `ringlog bench consume` reads it over memif
from the broker restarted with --dpdk-tx extbuf and with --dpdk-tx copy, in turns.

Writes OUT/summary.md (medians over the repeats, and every run with its command), the JSON of
each run and the broker's stderr. Reports; asserts nothing. Needs a build with DPDK:
    /usr/bin/python3 scripts/bench/datagram_compare.py --build build/release --out DIR
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/integration/clients"))
import kafka_wire  # noqa: E402  (the test suite's raw Kafka client, for DeleteTopics)

EAL = "--no-huge -m 256 --no-pci --no-shconf --no-telemetry"
PORTS = 1  # bench workers (one; e2e runs its consumer on the producer thread) x 1 broker shard


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vdevs(scratch, role):
    return " ".join("--vdev=net_memif%d,role=%s,socket=%s/memif%d.sock" % (i, role, scratch, i) for i in range(PORTS))


class Broker:
    def __init__(self, build, scratch, out, tx, busy_poll):
        self.port = free_port()
        self.log_path = os.path.join(out, "ringlogd-%s-%d.log" % (tx, int(time.time() * 1000)))
        self.log = open(self.log_path, "w")
        cmd = [os.path.join(build, "tools/ringlogd"), "--data-dir", os.path.join(scratch, "data"),
               "--port", str(self.port), "--listen-host", "127.0.0.1", "--advertised-host", "127.0.0.1",
               "--shards", "1", "--metrics-port", "0", "--durability", "none",
               "--segment-bytes", str(256 << 20), "--datagram-host", "127.0.1.1", "--dpdk-tx", tx,
               "--busy-poll", "true" if busy_poll else "false",
               "--dpdk", "%s %s" % (EAL, vdevs(scratch, "server"))]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with open(self.log_path) as f:
                if "ringlogd: ready" in f.read():
                    return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        sys.exit("ringlogd did not start; see %s" % self.log_path)

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)
        self.log.close()


FAILURES = []  # (command, the end of its output): reported, and the run goes on


def delete_topic(broker, topic):
    """DeleteTopics v1: a throughput run writes gigabytes; the next one must not fill the disk."""
    body = kafka_wire.Writer().array([topic], lambda w, t: w.string(t)).int32(30000).getvalue()
    with kafka_wire.Connection("127.0.0.1", broker.port, 30.0) as c:
        c.call(20, 1, body)


def run(cmd, timeout=300):
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    text = done.stdout.decode(errors="replace")
    if done.returncode != 0:
        FAILURES.append((" ".join(cmd), "\n".join(line for line in text.splitlines()[-6:])))
        return None
    return text


class Runner:
    def __init__(self, args, scratch):
        self.args = args
        self.scratch = scratch
        self.ringlog = os.path.join(args.build, "tools/ringlog")
        self.rows = []  # (what, transport, repeat, figures, command)
        self.client_counts = []  # the bench's closing datagram counts

    def transport_flags(self, transport):
        if transport == "tcp":
            return ["--transport", "tcp"]
        return ["--transport", "dpdk", "--local-ip", "127.0.1.2", "--dpdk", "%s %s" % (EAL, vdevs(self.scratch, "client"))]

    def ping(self, broker, transport, repeat, mode):
        cmd = [self.ringlog, "datagram-check", "--bootstrap", broker.bootstrap, "--ping", "5000",
               "--ping-calls", "30000", "--inflight", "1"] + self.transport_flags(transport)
        text = run(cmd)
        if text is None:
            return
        m = re.search(r"rtt p50 ([\d.]+) us, p99 ([\d.]+) us .* ([\d.]+) calls/s", text)
        figures = {"rtt_p50_us": float(m.group(1)), "rtt_p99_us": float(m.group(2)), "calls_per_sec": float(m.group(3))}
        self.rows.append(("%s: round trip (ApiVersions)" % mode, transport, repeat, figures, " ".join(cmd)))

    def bench(self, broker, what, mode_args, transport, repeat, name):
        path = os.path.join(self.args.out, "%s-%s-%d.json" % (name, transport, repeat))
        cmd = [self.ringlog, "bench"] + mode_args + ["--bootstrap", broker.bootstrap, "--json", path, "--quiet"] \
            + self.transport_flags(transport)
        text = run(cmd)
        if text is None:
            return None
        self.client_counts += [line.strip() for line in text.splitlines() if line.startswith("bench: worker")]
        with open(path) as f:
            r = json.load(f)
        if r["errors"] or r["failed"]:
            FAILURES.append((" ".join(cmd), "errors %r, failed %d" % (r["errors"], r["failed"])))
            return None
        latency = r["e2e_latency_us"] if mode_args[0] == "e2e" else r["latency_us"]
        figures = {"messages_per_sec": r["messages_per_sec"], "mb_per_sec": r["mb_per_sec"],
                   "p50_us": latency["p50"], "p99_us": latency["p99"]}
        self.rows.append((what, transport, repeat, figures, " ".join(cmd)))
        return r


def median_table(rows):
    lines = []
    keys = []
    for what, transport, _, figures, _ in rows:
        if (what, transport) not in keys:
            keys.append((what, transport))
    lines.append("| what | transport | runs | medians |")
    lines.append("|---|---|---|---|")
    for what, transport in keys:
        runs = [f for w, t, _, f, _ in rows if (w, t) == (what, transport)]
        medians = ", ".join("%s %.1f" % (k, statistics.median(f[k] for f in runs)) for k in runs[0])
        lines.append("| %s | %s | %d | %s |" % (what, transport, len(runs), medians))
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build/release")
    parser.add_argument("--out", default="bench/results/datagram-%s" % time.strftime("%Y-%m-%d-%H%M", time.gmtime()))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", default="5")
    parser.add_argument("--e2e-rate", default="10000")
    parser.add_argument("--consume-mib", type=int, default=1024)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="rl-dgbench-", dir="/tmp")
    runner = Runner(args, scratch)
    consume_rows = []
    count = args.consume_mib * 1024  # 1 KiB messages
    try:
        for busy_poll in (True, False):
            mode = "busy-poll" if busy_poll else "back-off"
            polling = ["--busy-poll"] if busy_poll else []
            broker = Broker(args.build, scratch, args.out, "extbuf", busy_poll)
            try:
                produce = ["--partitions", "1", "--msg-size", "1024",
                           "--batch-size", "16384", "--acks", "1", "--duration", args.duration,
                           "--warmup", "1"] + polling
                e2e = ["e2e", "--topic", "e2e-100", "--partitions", "1", "--msg-size", "100", "--batch-size",
                       "100", "--acks", "1", "--rate", args.e2e_rate, "--duration", args.duration, "--warmup",
                       "1", "--from", "latest", "--consumer-threads", "0"] + polling
                for repeat in range(args.repeats):
                    order = ["tcp", "dpdk"] if repeat % 2 == 0 else ["dpdk", "tcp"]
                    for transport in order:
                        runner.ping(broker, transport, repeat, mode)
                    for transport in order:
                        topic = "produce-%s-%s-%d" % (mode, transport, repeat)
                        runner.bench(broker, "%s: produce acks=1, 1 KiB x 16/batch, 1 partition" % mode,
                                     ["produce", "--topic", topic] + produce, transport, repeat, "produce-" + mode)
                        delete_topic(broker, topic)
                    for transport in order:
                        runner.bench(broker, "%s: e2e acks=1, 100 B, 1/batch, %s msg/s" % (mode, args.e2e_rate),
                                     e2e, transport, repeat, "e2e-" + mode)
                if busy_poll:
                    # The fetch path's data: filled once over TCP.
                    runner.bench(broker, "fill the consume topic", [
                        "produce", "--topic", "consume-1k", "--partitions", "1", "--msg-size", "1024", "--acks",
                        "1", "--messages", str(count), "--duration", "120", "--warmup", "0"], "tcp", 0, "fill")
            finally:
                broker.stop()
            with open(broker.log_path) as f:
                consume_rows += ["%s broker: %s" % (mode, line.strip()) for line in f if "datagrams:" in line]
        for repeat in range(args.repeats):
            for tx in (["extbuf", "copy"] if repeat % 2 == 0 else ["copy", "extbuf"]):
                broker = Broker(args.build, scratch, args.out, tx, True)
                try:
                    runner.bench(broker, "busy-poll: consume 1 KiB messages, fetch over --dpdk-tx %s" % tx,
                                 ["consume", "--topic", "consume-1k", "--msg-size", "1024", "--messages", str(count),
                                  "--duration", "120", "--warmup", "0", "--busy-poll"], "dpdk", repeat,
                                 "consume-" + tx)
                finally:
                    broker.stop()
                with open(broker.log_path) as f:
                    consume_rows += ["consume over %s: %s" % (tx, line.strip()) for line in f if "datagrams:" in line]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    lines = ["# The datagram transport against TCP (%s)" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "",
             "`/usr/bin/python3 scripts/bench/datagram_compare.py --repeats %d --duration %s --e2e-rate %s "
             "--consume-mib %d`; load average at the end: %s" % (
                 args.repeats, args.duration, args.e2e_rate, args.consume_mib, open("/proc/loadavg").read().strip()),
             ""]
    lines += median_table([r for r in runner.rows if r[0] != "fill the consume topic"])
    lines += ["", "## Every run", ""]
    for what, transport, repeat, figures, cmd in runner.rows:
        lines.append("- %s, %s, run %d: %s  \n  `%s`" % (what, transport, repeat, json.dumps(figures), cmd))
    lines += ["", "## The broker's closing counts", ""] + ["- " + line for line in consume_rows]
    lines += ["", "## The bench's closing datagram counts (every dpdk run, in order)", ""]
    lines += ["- " + line for line in runner.client_counts]
    lines += ["", "## Failed runs", ""] + ["- `%s`:\n```\n%s\n```" % f for f in FAILURES] if FAILURES else [
        "", "## Failed runs", "", "none"]
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
