#!/usr/bin/python3
"""The end-to-end benchmark suite behind scripts/bench.sh: one run, one machine, one report.

1. The machine's limits, measured now by `ringlog probe`: O_DIRECT sequential write bandwidth
   (1 MiB, io_uring, overwrite, no sync: the raw disk), the durable-append ceilings of acks=all
   (8 files x (1 MiB write + fdatasync), into pre-written and into fresh files), O_DIRECT 4 KiB
   write + fdatasync latency, loopback TCP stream bandwidth and round trip.
2. ringlogd (2 shards, --advertise-shards, a fresh data folder) driven by `ringlog bench`:
   produce throughput with acks=all and acks=1 for 100 B, 1 KiB and 16 KiB messages (medians
   of --repeats runs); a confluent-kafka (librdkafka) producer loop against the same broker
   for comparison; a sustained acks=all run on a topic whose retention recycles segment files;
   end-to-end latency (acks=1, 1 KiB) at half of the maximum throughput;
   produce throughput at 1, 10, 100 and 1,000 partitions.
3. Every figure as a ratio to the limit that bounds it, and the issue's targets, met or not.

Writes <out>/report.md, summary.json, probe.json, one JSON and two SVG plots per run, and the
suite's own plots. Numbers only: nothing here passes or fails on a figure.
"""

import argparse
import datetime
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import urllib.request
import time

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LOOPBACK = "127.0.0.1"
SIZES = [100, 1024, 16384]
PARTITION_COUNTS = [1, 10, 100, 1000]
RECYCLE_SEGMENT_BYTES = 128 << 20
RECYCLE_RETENTION_BYTES = 256 << 20


# Per-partition counters of the broker's logs that the suite reads after each run, summed over
# the run's topic (core/metrics/collect.cc names them).
LOG_COUNTERS = ("ringlog_log_recycled_segments_total", "ringlog_log_syncs_total")


def log(message):
    print("bench: %s" % message, flush=True)


def free_port_block(count):
    for _ in range(200):
        s = socket.socket()
        s.bind((LOOPBACK, 0))
        base = s.getsockname()[1]
        s.close()
        if base + count >= 65535:
            continue
        ok = True
        for p in range(base, base + count):
            t = socket.socket()
            try:
                t.bind((LOOPBACK, p))
            except OSError:
                ok = False
            finally:
                t.close()
        if ok:
            return base
    raise RuntimeError("no free block of %d ports" % count)


class Broker:
    def __init__(self, ringlogd, data_dir, shards, durability="always", extra_args=()):
        self.port = free_port_block(shards)
        self.data_dir = data_dir
        self.log_path = os.path.join(data_dir, "..", "ringlogd-%s-%s.log" % (durability, os.path.basename(data_dir)))
        cmd = [ringlogd, "--data-dir", data_dir, "--port", str(self.port), "--advertised-host", LOOPBACK,
               "--listen-host", LOOPBACK, "--shards", str(shards), "--advertise-shards", "--durability", durability,
               "--metrics-port", "0"]
        cmd += list(extra_args)
        self.metrics_url = None
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen(cmd, stdout=self.log_file, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        for line in self.process.stderr:
            self.log_file.write(line)
            if "ringlogd: metrics on " in line:
                self.metrics_url = line.split("ringlogd: metrics on ", 1)[1].strip()
            if "ringlogd: ready" in line:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("ringlogd not ready after 60 s")
        else:
            raise RuntimeError("ringlogd exited before ready: see %s" % self.log_path)
        # Keep draining stderr so the broker never blocks on a full pipe.
        import threading

        def drain():
            for line in self.process.stderr:
                self.log_file.write(line)

        threading.Thread(target=drain, daemon=True).start()

    @property
    def bootstrap(self):
        return "%s:%d" % (LOOPBACK, self.port)

    def topic_metrics(self, topic, families):
        """Each family's samples for the topic's partitions, summed, from the broker's Prometheus
        endpoint; None without one."""
        if self.metrics_url is None:
            return None
        with urllib.request.urlopen(self.metrics_url, timeout=10) as response:
            text = response.read().decode()
        sums = {family: 0.0 for family in families}
        needle = 'topic="%s"' % topic
        for line in text.splitlines():
            name = line.split("{", 1)[0]
            if name in sums and needle in line:
                sums[name] += float(line.rsplit(" ", 1)[1])
        return sums

    def cpu_seconds(self):
        """The broker's user + system CPU time so far, from /proc (proc(5), fields 14 and 15)."""
        with open("/proc/%d/stat" % self.process.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log_file.close()


def io_stall_microseconds():
    """Kernel PSI: microseconds some task waited for I/O since boot (None without PSI). On a VM
    whose disk is shared with other machines it says how much of a run the disk was contended."""
    try:
        with open("/proc/pressure/io") as f:
            for line in f:
                if line.startswith("some "):
                    return int(line.split("total=")[1])
    except (OSError, IndexError, ValueError):
        pass
    return None


def children_cpu_seconds():
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def delete_topic(bootstrap, topic):
    try:
        import confluent_kafka.admin as admin

        client = admin.AdminClient({"bootstrap.servers": bootstrap})
        for future in client.delete_topics([topic], operation_timeout=60).values():
            future.result(timeout=60)
    except Exception as e:  # a leftover topic only costs disk space
        log("could not delete %s: %s" % (topic, e))


class Suite:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.ringlog = os.path.join(self.build, "tools", "ringlog")
        self.ringlogd = os.path.join(self.build, "tools", "ringlogd")
        self.out = os.path.abspath(args.out)
        os.makedirs(os.path.join(self.out, "runs"), exist_ok=True)
        self.topic_index = 0
        self.runs = {}

    def run(self, cmd, timeout=600):
        log(" ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd))
        result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        return result

    def probe(self):
        path = os.path.join(self.out, "probe.json")
        result = self.run([self.ringlog, "probe", "--dir", self.args.data_parent, "--file-mib", str(self.args.probe_mib),
                           "--json", path], timeout=600)
        if result.returncode != 0:
            raise RuntimeError("probe failed:\n%s" % result.stdout)
        with open(path) as f:
            return json.load(f)

    def check_disk(self):
        """Waits up to a minute for --disk-free-min-gb to be free (the disk is shared); False if
        it never is, and the run is skipped."""
        deadline = time.monotonic() + 60
        while True:
            free = shutil.disk_usage(self.args.data_parent).free
            if free >= self.args.disk_free_min_gb * 1e9:
                return True
            if time.monotonic() > deadline:
                log("only %.1f GB free in %s: skipping the run (--disk-free-min-gb)" % (free / 1e9, self.args.data_parent))
                return False
            time.sleep(1)  # polling a shared disk, not waiting for our own work

    def bench(self, broker, name, mode, extra, partitions=None, duration=None, warmup=1.0, topic_configs=None):
        """One `ringlog bench` run on a fresh topic, deleted afterwards."""
        if not self.check_disk():
            return None
        partitions = partitions or self.args.partitions
        if topic_configs is None:
            topic_configs = ["segment.bytes=%d" % self.args.segment_bytes]
        self.topic_index += 1
        topic = "bench-%d-%s" % (self.topic_index, name)
        json_path = os.path.join(self.out, "runs", name + ".json")
        cmd = [self.ringlog, "bench", mode, "--bootstrap", broker.bootstrap, "--topic", topic, "--partitions",
               str(partitions), "--duration", str(duration or self.args.duration), "--warmup", str(warmup), "--json",
               json_path, "--plots", os.path.join(self.out, "runs", name + "-"), "--quiet"]
        for config in topic_configs:
            cmd += ["--topic-config", config]
        broker_cpu = broker.cpu_seconds()
        child_cpu = children_cpu_seconds()
        wall = time.monotonic()
        result = self.run(cmd + list(extra))
        wall = time.monotonic() - wall
        broker_cpu = broker.cpu_seconds() - broker_cpu
        child_cpu = children_cpu_seconds() - child_cpu
        with open(os.path.join(self.out, "runs", name + ".txt"), "w") as f:
            f.write(result.stdout)
        try:
            log_counts = broker.topic_metrics(topic, LOG_COUNTERS)
        except OSError as error:
            log("%s: no metrics (%s)" % (name, error))
            log_counts = None
        delete_topic(broker.bootstrap, topic)
        if result.returncode != 0 or not os.path.exists(json_path):
            log("%s failed (exit %d):\n%s" % (name, result.returncode, result.stdout[-2000:]))
            return None
        with open(json_path) as f:
            data = json.load(f)
        data["client_cpu_seconds"] = round(child_cpu, 3)
        data["broker_cpu_seconds"] = round(broker_cpu, 3)
        data["wall_seconds"] = round(wall, 3)
        if log_counts is not None:
            data["broker_log_counters"] = log_counts
        log("%s: %.0f msg/s, %.1f MB/s, p50 %.0f us, p99 %.0f us" % (
            name, data["messages_per_sec"], data["mb_per_sec"], data["latency_us"]["p50"], data["latency_us"]["p99"]))
        self.runs[name] = data
        return data

    def produce_then_consume(self, broker, name, msg_size, flags):
        """A closed-loop acks=1 produce into a topic kept for a consume run from the earliest
        offset, which reads back every message; returns the consume run."""
        if not self.check_disk():
            return None
        self.topic_index += 1
        topic = "bench-%d-%s" % (self.topic_index, name)
        json_path = os.path.join(self.out, "runs", name + "_fill.json")
        self.run([self.ringlog, "bench", "produce", "--bootstrap", broker.bootstrap, "--topic", topic, "--partitions",
                  str(self.args.partitions), "--topic-config", "segment.bytes=%d" % self.args.segment_bytes,
                  "--acks", "1", "--msg-size", str(msg_size), "--duration", str(self.args.duration), "--warmup", "0",
                  "--json", json_path, "--quiet"] + flags)
        if not os.path.exists(json_path):
            delete_topic(broker.bootstrap, topic)
            return None
        with open(json_path) as f:
            count = json.load(f)["acked"]
        consume_json = os.path.join(self.out, "runs", name + ".json")
        result = self.run([self.ringlog, "bench", "consume", "--bootstrap", broker.bootstrap, "--topic", topic,
                           "--msg-size", str(msg_size), "--messages", str(count), "--duration", "120", "--warmup", "0",
                           "--json", consume_json, "--plots", os.path.join(self.out, "runs", name + "-"), "--quiet"])
        with open(os.path.join(self.out, "runs", name + ".txt"), "w") as f:
            f.write(result.stdout)
        try:
            log_counts = broker.topic_metrics(topic, LOG_COUNTERS)
        except OSError as error:
            log("%s: no metrics (%s)" % (name, error))
            log_counts = None
        delete_topic(broker.bootstrap, topic)
        if result.returncode != 0 or not os.path.exists(consume_json):
            log("%s failed:\n%s" % (name, result.stdout[-2000:]))
            return None
        with open(consume_json) as f:
            data = json.load(f)
        log("%s: %.0f msg/s, %.1f MB/s (%d messages read back)" % (name, data["messages_per_sec"], data["mb_per_sec"],
                                                                 data["consumed"]))
        self.runs[name] = data
        return data

    def build_rdkafka_loop(self):
        """Compiles rdkafka_produce.cc against librdkafka-dev; None when it is not installed."""
        if not os.path.exists("/usr/include/librdkafka/rdkafka.h"):
            log("librdkafka-dev is not installed: no C librdkafka comparison")
            return None
        binary = os.path.join(self.build, "rdkafka_produce")
        result = self.run(["g++", "-O2", "-std=c++20", "-o", binary, os.path.join(HERE, "rdkafka_produce.cc"),
                           "-lrdkafka"])
        return binary if result.returncode == 0 else None

    def librdkafka(self, broker, name, msg_size, acks, partitions=None, binary=None):
        if not self.check_disk():
            return None
        partitions = partitions or self.args.partitions
        self.topic_index += 1
        topic = "bench-%d-%s" % (self.topic_index, name)
        # Create the topic with the same partition count as the bench's own run.
        self.run([self.ringlog, "bench", "produce", "--bootstrap", broker.bootstrap, "--topic", topic, "--partitions",
                  str(partitions), "--messages", "1", "--warmup", "0", "--quiet", "--topic-config",
                  "segment.bytes=%d" % self.args.segment_bytes])
        json_path = os.path.join(self.out, "runs", name + ".json")
        child_cpu = children_cpu_seconds()
        if binary:
            result = self.run([binary, broker.bootstrap, topic, str(msg_size), str(acks), str(self.args.duration), "1"])
            if result.returncode == 0:
                with open(json_path, "w") as f:
                    f.write(result.stdout.strip().splitlines()[-1] + "\n")
        else:
            result = self.run(["/usr/bin/python3", os.path.join(HERE, "librdkafka_produce.py"), "--bootstrap",
                               broker.bootstrap, "--topic", topic, "--msg-size", str(msg_size), "--acks", str(acks),
                               "--duration", str(self.args.duration), "--json", json_path])
        delete_topic(broker.bootstrap, topic)
        if result.returncode != 0 or not os.path.exists(json_path):
            log("%s failed:\n%s" % (name, result.stdout[-2000:]))
            return None
        with open(json_path) as f:
            data = json.load(f)
        data["client_cpu_seconds"] = round(children_cpu_seconds() - child_cpu, 3)
        log("%s: %.0f msg/s, %.1f MB/s" % (name, data["messages_per_sec"], data["mb_per_sec"]))
        self.runs[name] = data
        return data


def median_run(runs):
    runs = [r for r in runs if r]
    if not runs:
        return None
    runs.sort(key=lambda r: r["mb_per_sec"])
    return runs[len(runs) // 2]


def svg_lines(title, x_label, y_label, series, path, x_log=False):
    """A small line chart: series = [(name, [(x, y), ...])]."""
    import math

    width, height, left, right, top, bottom = 760, 420, 80, 30, 50, 60
    xs = [x for _, pts in series for x, _ in pts] or [1]
    ys = [y for _, pts in series for _, y in pts] or [1]
    fx = (lambda x: math.log10(x)) if x_log else (lambda x: x)
    x0, x1 = min(fx(x) for x in xs), max(fx(x) for x in xs)
    if x1 <= x0:
        x1 = x0 + 1
    raw = (max(ys) or 1) / 5
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    y1 = step * math.ceil(max(ys) / step) if max(ys) > 0 else 1
    pw, ph = width - left - right, height - top - bottom

    def px(x):
        return left + (fx(x) - x0) / (x1 - x0) * pw

    def py(y):
        return top + ph - y / y1 * ph

    colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e"]
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="28" font-size="16" text-anchor="middle">%s</text>' % (width / 2, title)]
    for i in range(int(round(y1 / step)) + 1 if max(ys) > 0 else 1):
        y = step * i
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%.0f</text>'
                   % (left, py(y), left + pw, py(y), left - 6, py(y) + 4, y))
    for x in sorted(set(xs)):
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/><text x="%.1f" y="%d" text-anchor="middle">%s</text>'
                   % (px(x), top, px(x), top + ph, px(x), top + ph + 18, ("%g" % x)))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="black"/>' % (left, top, pw, ph))
    out.append('<text x="%d" y="%d" text-anchor="middle">%s</text>' % (left + pw / 2, height - 15, x_label))
    out.append('<text x="18" y="%d" text-anchor="middle" transform="rotate(-90 18 %d)">%s</text>' % (top + ph / 2, top + ph / 2, y_label))
    for i, (name, pts) in enumerate(series):
        c = colors[i % len(colors)]
        out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (c, " ".join("%.1f,%.1f" % (px(x), py(y)) for x, y in pts)))
        for x, y in pts:
            out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (px(x), py(y), c))
        ly = top + 16 + 18 * i
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/><text x="%d" y="%d">%s</text>'
                   % (left + 12, ly, left + 36, ly, c, left + 42, ly + 4, name))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def fmt(value, digits=0):
    if value is None:
        return "n/a"
    return ("{:,.%df}" % digits).format(value)


def cpu_per_gb(run):
    """Client CPU seconds per GB acknowledged, over the whole run (warm-up included)."""
    if not run or "client_cpu_seconds" not in run:
        return None
    gb = run.get("acked", run.get("total_messages", run.get("messages", 0))) * run.get("msg_size", 1024) / 1e9
    return run["client_cpu_seconds"] / gb if gb > 0 else None


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def late_mb_per_sec(run):
    """MB/s produced over the second half of a run's whole seconds (its per-second series)."""
    seconds = [s.get("mb", 0) for s in run.get("seconds", [])][:-1]  # the last is partial
    late = seconds[len(seconds) // 2:]
    return sum(late) / len(late) if late else None


def profile_broker(suite, broker, seconds):
    """perf record of the broker during an acks=all 1 KiB run; returns the top of the report."""
    perf = shutil.which("perf")
    if not perf:
        return "perf not installed (apt-get install linux-perf)"
    data = os.path.join(suite.out, "perf.data")
    recorder = subprocess.Popen([perf, "record", "-e", "cpu-clock", "-g", "-p", str(broker.process.pid), "-o", data,
                                 "--", "sleep", str(seconds + 2)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    suite.bench(broker, "profile_acks_all_1024", "produce",
                ["--acks", "all", "--msg-size", "1024"] + suite.args.produce_flags.split(), duration=seconds)
    recorder.wait()
    report = subprocess.run([perf, "report", "-i", data, "--stdio", "--no-children", "--percent-limit", "1.5",
                             "--sort", "dso,symbol", "-g", "none"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    text = report.stdout
    with open(os.path.join(suite.out, "profile.txt"), "w") as f:
        f.write(text)
    os.remove(data)
    lines = [" ".join(l.split()[:4]) for l in text.splitlines() if l.strip() and not l.startswith("#")]
    return "\n".join(lines[:25])



def e2e_flags(rate):
    """The e2e runs' load: acks=1, 1 KiB, open loop at `rate` messages per second."""
    return ["--acks", "1", "--msg-size", "1024", "--rate", str(int(rate)), "--linger-us", "200",
            "--batch-size", "65536", "--inflight", "16", "--request-partitions", "8"]


def e2e_max_flags():
    """The e2e runs' load as fast as it goes: producers and consumers on the machine at once."""
    return ["--acks", "1", "--msg-size", "1024", "--rate", "0", "--batch-size", "65536", "--inflight", "16",
            "--request-partitions", "8"]


def e2e_own_broker(suite, root, name, max_rate, duration, durability, extra_args=()):
    """The half-load e2e run against a broker of its own, its log in root.

    Under `always` a consumer sees a message only once it is durable, even with acks=1; with
    `none` (Kafka's own default: no fsync per message) it sees it at append time."""
    data = os.path.join(root, "data-%s" % name)
    os.makedirs(data)
    broker = Broker(suite.ringlogd, data, shards=2, durability=durability, extra_args=extra_args)
    try:
        return suite.bench(broker, name, "e2e", e2e_flags((max_rate or 100000) / 2), duration=duration + 2)
    finally:
        broker.stop()
        shutil.rmtree(data, ignore_errors=True)

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--duration", type=float, default=4.0, help="measured seconds per run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per produce figure (median)")
    parser.add_argument("--probe-mib", type=int, default=1024)
    parser.add_argument("--data-parent", default="/var/tmp")
    parser.add_argument("--partitions", type=int, default=8, help="partitions of the produce and e2e runs")
    parser.add_argument("--segment-bytes", type=int, default=256 << 20,
                        help="segment.bytes of the topics (each partition preallocates one segment)")
    parser.add_argument("--disk-free-min-gb", type=float, default=12.0)
    parser.add_argument("--produce-flags", default="--batch-size 262144 --inflight 5 --request-partitions 8",
                        help="ringlog bench flags for the throughput runs")
    parser.add_argument("--recycle-duration", type=float, default=15.0,
                        help="measured seconds of the acks=all run on the recycling topic")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    suite = Suite(args)
    started = time.monotonic()
    io_stall_start = io_stall_microseconds()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    log("probing the machine's limits")
    probe = suite.probe()
    disk = probe["disk_write_mb_per_sec"]
    durable_pre = probe.get("durable_prewritten_mb_per_sec")
    durable_fresh = probe.get("durable_fresh_mb_per_sec")
    tcp = probe["tcp_mb_per_sec"]
    rtt = probe["tcp_round_trip_us"]
    sync = probe["sync_write_latency_us"]

    data_dir = tempfile.mkdtemp(prefix="ringlog-bench-", dir=args.data_parent)
    os.makedirs(os.path.join(data_dir, "data"))
    broker = Broker(suite.ringlogd, os.path.join(data_dir, "data"), shards=2)
    produce = {}
    profile = None
    consume = None
    e2e = None
    e2e_max = None
    e2e_low = None
    e2e_none = None
    e2e_interval = None
    e2e_adaptive = None
    max_rate = None
    rdkafka = None
    rdkafka_c = None
    recycled = None
    scaling = {}
    try:
        flags = args.produce_flags.split()
        for acks in ("all", "1"):
            for size in SIZES:
                runs = [suite.bench(broker, "produce_acks%s_%d_r%d" % (acks, size, r), "produce",
                                    ["--acks", acks, "--msg-size", str(size)] + flags) for r in range(args.repeats)]
                produce[(acks, size)] = median_run(runs)
        # Sustained acks=all on a topic that keeps 256 MiB per partition in 128 MiB segments:
        # after its first few segments, retention hands their files back as the next ones, so
        # the broker overwrites written blocks (the pre-written ceiling's pattern).
        recycled = suite.bench(broker, "produce_acksall_1024_recycled", "produce",
                               ["--acks", "all", "--msg-size", "1024"] + flags, duration=args.recycle_duration,
                               topic_configs=["segment.bytes=%d" % RECYCLE_SEGMENT_BYTES,
                                              "retention.bytes=%d" % RECYCLE_RETENTION_BYTES])
        rdkafka = median_run([suite.librdkafka(broker, "librdkafka_py_acks1_1024_r%d" % r, 1024, 1)
                              for r in range(args.repeats)])
        loop = suite.build_rdkafka_loop()
        rdkafka_c = median_run([suite.librdkafka(broker, "librdkafka_c_acks1_1024_r%d" % r, 1024, 1, binary=loop)
                                for r in range(args.repeats)]) if loop else None
        # Consumers' maximum: read back what a closed-loop acks=1 run wrote, from the start.
        consume = suite.produce_then_consume(broker, "consume_1024", 1024, flags)
        produce_max = produce[("1", 1024)]["messages_per_sec"] if produce[("1", 1024)] else 100000
        consume_max = consume["messages_per_sec"] if consume else produce_max
        # Producing and consuming at once, both compete for the same two cores, so the e2e load
        # has a maximum of its own below either one's alone: half load is half of the smallest.
        e2e_max = suite.bench(broker, "e2e_acks1_1024_max", "e2e", e2e_max_flags(), duration=args.duration)
        e2e_max_rate = e2e_max["messages_per_sec"] if e2e_max else consume_max
        max_rate = min(produce_max, consume_max, e2e_max_rate)
        e2e_low = suite.bench(broker, "e2e_acks1_1024_tenth", "e2e", e2e_flags(max_rate / 10),
                              duration=args.duration + 2)
        e2e = suite.bench(broker, "e2e_acks1_1024_half", "e2e", e2e_flags(max_rate / 2), duration=args.duration + 2)
        scaling = {}
        for count in PARTITION_COUNTS:
            # Small segments: each partition zero-fills min(segment, 64 MiB) ahead of its
            # appender, and 1,000 x 64 MiB would be 64 GB of zeros.
            # Every case sends the same 256 KiB requests (5 in flight per connection), spread
            # over up to 16 partitions each: many partitions mean smaller batches per partition.
            spread = min(count, 16)
            scaling[count] = suite.bench(
                broker, "partitions_%d" % count, "produce",
                ["--acks", "all", "--msg-size", "1024", "--inflight", "5", "--request-partitions", str(spread),
                 "--batch-size", str(262144 // spread)],
                partitions=count, warmup=2.0, topic_configs=["segment.bytes=4194304"])
        best = produce[("all", 1024)]
        if not args.no_profile and best and ratio(best["mb_per_sec"], disk) is not None \
                and best["mb_per_sec"] < 0.8 * disk:
            log("acks=all is below 0.8 of the disk: profiling the broker")
            profile = profile_broker(suite, broker, args.duration)
    finally:
        broker.stop()
        shutil.rmtree(os.path.join(data_dir, "data"), ignore_errors=True)
    try:
        e2e_none = e2e_own_broker(suite, data_dir, "e2e_acks1_1024_half_durability_none", max_rate,
                                  args.duration, "none")
        # Kafka's own durability model (log.flush.interval.ms: the log syncs on a timer, readers
        # see a batch once it is appended), the one a Kafka user's acks=1 latency figure assumes.
        e2e_interval = e2e_own_broker(suite, data_dir, "e2e_acks1_1024_half_durability_interval", max_rate,
                                      args.duration, "interval")
        # Under `always` with --sync-method adaptive: a small lone flush is one RWF_DSYNC write
        # instead of a write and then an fdatasync (one device operation fewer between append
        # and read), anything else pipelined as by default.
        e2e_adaptive = e2e_own_broker(suite, data_dir, "e2e_acks1_1024_half_adaptive", max_rate,
                                      args.duration, "always", ["--sync-method", "adaptive"])
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    # The same run with the log in memory (tmpfs), to separate the disk's share of the tail from
    # the CPU's: the broker still writes every byte with O_DIRECT, into pages instead of a device.
    e2e_memory = None
    if os.path.isdir("/dev/shm"):
        memory_root = tempfile.mkdtemp(prefix="ringlog-bench-", dir="/dev/shm")
        try:
            e2e_memory = e2e_own_broker(suite, memory_root, "e2e_acks1_1024_half_durability_none_tmpfs",
                                        max_rate, args.duration, "none")
        finally:
            shutil.rmtree(memory_root, ignore_errors=True)

    # --- The report ----------------------------------------------------------------------------
    io_stall_end = io_stall_microseconds()
    io_stall_share = None
    if io_stall_start is not None and io_stall_end is not None:
        io_stall_share = (io_stall_end - io_stall_start) / 1e6 / (time.monotonic() - started)
    lines = ["# ringlog benchmark report", "",
             "%s, `scripts/bench.sh`, %.0f s in all. Machine: %d CPUs, `%s`, load average at the end %s%s." % (
                 when, time.monotonic() - started, os.cpu_count(), os.uname().release,
                 " ".join("%.1f" % l for l in os.getloadavg()),
                 "" if io_stall_share is None else
                 "; some task waited for I/O during %.0f %% of the run (PSI io `some`: the broker's own "
                 "writes count too, so compare it between runs of the same suite)" % (
                     100 * io_stall_share)), "",
             "## The machine's limits (measured in this run by `ringlog probe`)", "",
             "| limit | value |", "|---|---|",
             "| O_DIRECT sequential write, 1 MiB, io_uring qd4 (median of passes %s) | **%s MB/s** |" % (
                 ", ".join(fmt(p) for p in probe["disk_write_passes_mb_per_sec"]), fmt(disk)),
             "| durable append, %d files x (%d KiB write + fdatasync), pre-written files (passes %s) | **%s MB/s** |" % (
                 probe["durable_files"], probe["durable_block_kib"],
                 ", ".join(fmt(p) for p in probe["durable_prewritten_passes_mb_per_sec"]), fmt(durable_pre)),
             "| the same into fresh, growing files (passes %s) | **%s MB/s** |" % (
                 ", ".join(fmt(p) for p in probe["durable_fresh_passes_mb_per_sec"]), fmt(durable_fresh)),
             "| O_DIRECT 4 KiB write + fdatasync | p50 %s us, p99 %s us, mean %s us |" % (
                 fmt(sync["p50"], 1), fmt(sync["p99"], 1), fmt(sync["mean"], 1)),
             "| loopback TCP, one stream | **%s MB/s** |" % fmt(tcp),
             "| loopback TCP round trip, 64 B | p50 %s us, p99 %s us |" % (fmt(rtt["p50"], 1), fmt(rtt["p99"], 1)), "",
             "## Produce throughput (%d partitions over the 2 shards, `%s`; median of %d runs)" % (
                 args.partitions, args.produce_flags, args.repeats), "",
             "Ratios to the disk's bandwidth and to one loopback TCP stream. CPU: the broker's cores busy during "
             "the run (both shards together, out of 2), and the load generator's CPU seconds per GB produced.", "",
             "| acks | message | msg/s | MB/s | / disk | / TCP | p50 ack | p99 ack | broker cores | bench CPU s/GB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for acks in ("all", "1"):
        for size in SIZES:
            r = produce[(acks, size)]
            if not r:
                lines.append("| %s | %d B | failed | | | | | |" % (acks, size))
                continue
            lines.append("| %s | %s B | %s | %s | %s | %s | %s us | %s us | %s | %s |" % (
                acks, fmt(size), fmt(r["messages_per_sec"]), fmt(r["mb_per_sec"], 1),
                fmt(ratio(r["mb_per_sec"], disk), 2), fmt(ratio(r["mb_per_sec"], tcp), 2),
                fmt(r["latency_us"]["p50"]), fmt(r["latency_us"]["p99"]),
                fmt(ratio(r["broker_cpu_seconds"], r["wall_seconds"]), 2), fmt(cpu_per_gb(r), 2)))
    lines += ["", "## acks=all against the disk's three ceilings (1 KiB, %d partitions)" % args.partitions, "",
              "Three denominators, each named in its column: **raw disk** is the probe's O_DIRECT overwrite with no "
              "sync (%s MB/s); **durable pre-written** is %d files each appended in %d KiB writes with an fdatasync "
              "after each, overwriting written blocks (%s MB/s: the best acks=all can do into recycled segments); "
              "**durable fresh** is the same into fresh, growing files (%s MB/s: the best into new segments). "
              "The issue's target uses the raw disk." % (
                  fmt(disk), probe["durable_files"], probe["durable_block_kib"], fmt(durable_pre),
                  fmt(durable_fresh)), "",
              "| run | topic | seconds | msg/s | MB/s | / raw disk | / durable pre-written | / durable fresh | p99 ack |",
              "|---|---|---|---|---|---|---|---|---|"]
    for label, topic_label, r in (
            ("acks=all, fresh topic (median of %d)" % args.repeats,
             "segment.bytes %d MiB, no retention: every segment new" % (args.segment_bytes >> 20),
             produce[("all", 1024)]),
            ("acks=all, sustained, recycling topic",
             "segment.bytes %d MiB, retention.bytes %d MiB per partition" % (
                 RECYCLE_SEGMENT_BYTES >> 20, RECYCLE_RETENTION_BYTES >> 20), recycled)):
        if not r:
            lines.append("| %s | %s | failed | | | | | | |" % (label, topic_label))
            continue
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s us |" % (
            label, topic_label, fmt(r.get("measured_s"), 0), fmt(r["messages_per_sec"]),
            fmt(r["mb_per_sec"], 1), fmt(ratio(r["mb_per_sec"], disk), 2),
            fmt(ratio(r["mb_per_sec"], durable_pre), 2), fmt(ratio(r["mb_per_sec"], durable_fresh), 2),
            fmt(r["latency_us"]["p99"])))
    if recycled:
        written = recycled.get("acked", 0) * 1024
        per_partition = written / args.partitions
        lines += ["", "The recycling run wrote %s GB (%s MiB per partition, about %s segments of %d MiB each); "
                  "retention keeps %d MiB per partition plus up to two spare files, so by the broker's design every "
                  "segment after the first four or so of each partition was a recycled, already-written file." % (
                      fmt(written / 1e9, 1), fmt(per_partition / 2**20), fmt(per_partition / RECYCLE_SEGMENT_BYTES),
                      RECYCLE_SEGMENT_BYTES >> 20, RECYCLE_RETENTION_BYTES >> 20)]
        counts = recycled.get("broker_log_counters")
        if counts:
            lines[-1] += (" The broker counted %s recycled segments in all (`ringlog_log_recycled_segments_total`) "
                          "and %s syncs (`ringlog_log_syncs_total`, %s KB each on average)." % (
                              fmt(counts["ringlog_log_recycled_segments_total"]),
                              fmt(counts["ringlog_log_syncs_total"]),
                              fmt(written / 1e3 / counts["ringlog_log_syncs_total"])
                              if counts["ringlog_log_syncs_total"] else "-"))
        late = late_mb_per_sec(recycled)
        if late is not None:
            lines += ["", "Its second half alone (whole seconds, all segments recycled by then): %s MB/s = %s of raw "
                      "disk, %s of durable pre-written, %s of durable fresh." % (
                          fmt(late, 1), fmt(ratio(late, disk), 2), fmt(ratio(late, durable_pre), 2),
                          fmt(ratio(late, durable_fresh), 2))]
    own = produce[("1", 1024)]
    for r in (rdkafka, rdkafka_c):
        if r:
            r["msg_size"] = 1024
    lines += ["", "## The load generator against librdkafka (acks=1, 1 KiB, %d partitions, same broker)" % args.partitions,
              "", "| producer | msg/s | MB/s | client CPU s/GB |", "|---|---|---|---|",
              "| `ringlog bench` (1 thread, 1 connection per leader) | %s | %s | %s |" % (
                  fmt(own and own["messages_per_sec"]), fmt(own and own["mb_per_sec"], 1), fmt(cpu_per_gb(own), 2)),
              "| %s, Python producer loop | %s | %s | %s |" % (
                  rdkafka["client"] if rdkafka else "confluent-kafka", fmt(rdkafka and rdkafka["messages_per_sec"]),
                  fmt(rdkafka and rdkafka["mb_per_sec"], 1), fmt(cpu_per_gb(rdkafka), 2)),
              "| %s (scripts/bench/rdkafka_produce.cc) | %s | %s | %s |" % (
                  rdkafka_c["client"] if rdkafka_c else "librdkafka C API loop (not run)",
                  fmt(rdkafka_c and rdkafka_c["messages_per_sec"]), fmt(rdkafka_c and rdkafka_c["mb_per_sec"], 1),
                  fmt(cpu_per_gb(rdkafka_c), 2)),
              "", "Ratio ringlog bench / librdkafka: **%s** against the C API loop, %s against the Python loop. "
              "(Debian 12 ships no `rdkafka_performance`; `apt-cache search rdkafka` lists only the libraries, so "
              "the C loop does what `rdkafka_performance -P` does: one value copied per message, no keys.)" % (
                  fmt(ratio(own and own["messages_per_sec"], rdkafka_c and rdkafka_c["messages_per_sec"]), 2),
                  fmt(ratio(own and own["messages_per_sec"], rdkafka and rdkafka["messages_per_sec"]), 2))]
    lines += ["", "## Consume throughput (1 KiB, %d partitions, from the earliest offset, one Fetch in flight per leader)"
              % args.partitions, ""]
    if consume:
        lines.append("%s msg/s, %s MB/s (%s of one TCP stream); Fetch round trip p50 %s us, p99 %s us." % (
            fmt(consume["messages_per_sec"]), fmt(consume["mb_per_sec"], 1), fmt(ratio(consume["mb_per_sec"], tcp), 2),
            fmt(consume["fetch_latency_us"]["p50"]), fmt(consume["fetch_latency_us"]["p99"])))
    else:
        lines.append("The consume run failed; see runs/consume_1024.txt.")
    lines += ["", "## End-to-end latency (acks=1, 1 KiB, %d partitions, at half of the maximum)" % args.partitions, "",
              "The maximum is the smallest of the acks=1 produce and the consume maxima above and of the e2e "
              "load's own (producers and consumers at once, as fast as they go: %s msg/s): %s msg/s." % (
                  fmt(e2e_max and e2e_max["messages_per_sec"]), fmt(max_rate)),
              ""]
    if e2e:
        el = e2e["e2e_latency_us"]
        lines += ["Rate %s msg/s (%s MB/s) open loop, latency from each message's intended send time to its "
                  "arrival at the consumer in the same process:" % (fmt(e2e["messages_per_sec"]), fmt(e2e["mb_per_sec"], 1)),
                  "", "| p50 | p90 | p99 | p99.9 | max | p50 / RTT p50 | p99 / RTT p99 |", "|---|---|---|---|---|---|---|",
                  "| %s us | %s us | %s us | %s us | %s us | %s | %s |" % (
                      fmt(el["p50"]), fmt(el["p90"]), fmt(el["p99"]), fmt(el["p999"]), fmt(el["max"]),
                      fmt(ratio(el["p50"], rtt["p50"]), 1), fmt(ratio(el["p99"], rtt["p99"]), 1)),
                  ""]
        if "send_latency_us" in e2e:
            pl, sl, fl = e2e["produce_latency_us"], e2e["send_latency_us"], e2e["fetch_latency_us"]
            lines += ["Where it went: intended send -> on the socket (the load generator: linger, a late thread) p50 %s us, "
                      "p99 %s us; -> acknowledged p50 %s us, p99 %s us; Fetch round trip p50 %s us, p99 %s us "
                      "(scripts/bench/e2e_latency.py repeats these runs)." % (
                          fmt(sl["p50"]), fmt(sl["p99"]), fmt(pl["p50"]), fmt(pl["p99"]), fmt(fl["p50"]),
                          fmt(fl["p99"])), ""]
        if e2e_none:
            no = e2e_none["e2e_latency_us"]
            lines += ["The same against a broker with `--durability none` (readers see a batch when it is appended, "
                      "not when it is synced): p50 %s us, p90 %s us, p99 %s us, p99.9 %s us, max %s us." % (
                          fmt(no["p50"]), fmt(no["p90"]), fmt(no["p99"]), fmt(no["p999"]), fmt(no["max"])), ""]
        if e2e_interval:
            io_ = e2e_interval["e2e_latency_us"]
            lines += ["The same against a broker with `--durability interval` (syncs every 100 ms, as Kafka's "
                      "log.flush.interval.ms; readers see a batch when it is appended): p50 %s us, p90 %s us, "
                      "p99 %s us, p99.9 %s us, max %s us." % (
                          fmt(io_["p50"]), fmt(io_["p90"]), fmt(io_["p99"]), fmt(io_["p999"]), fmt(io_["max"])), ""]
        if e2e_adaptive:
            do = e2e_adaptive["e2e_latency_us"]
            lines += ["The same under `always` with `--sync-method adaptive` (a small flush with no sync in "
                      "flight is one RWF_DSYNC write, not a write and then an fdatasync): p50 %s us, p90 %s us, "
                      "p99 %s us, p99.9 %s us, max %s us." % (
                          fmt(do["p50"]), fmt(do["p90"]), fmt(do["p99"]), fmt(do["p999"]), fmt(do["max"])), ""]
        if e2e_memory:
            mo = e2e_memory["e2e_latency_us"]
            lines += ["The same with `--durability none` and the log on tmpfs (no disk under it; the rest of the "
                      "difference to the run above is the disk's): p50 %s us, p90 %s us, p99 %s us, p99.9 %s us, "
                      "max %s us." % (fmt(mo["p50"]), fmt(mo["p90"]), fmt(mo["p99"]), fmt(mo["p999"]),
                                      fmt(mo["max"])), ""]
        if e2e_low:
            lo = e2e_low["e2e_latency_us"]
            lines += ["At a tenth of the maximum (%s msg/s) for comparison: p50 %s us, p99 %s us, p99.9 %s us." % (
                fmt(e2e_low["messages_per_sec"]), fmt(lo["p50"]), fmt(lo["p99"]), fmt(lo["p999"])), ""]
        lines += ["![e2e latency](runs/e2e_acks1_1024_half-latency.svg)",
                  "![e2e throughput](runs/e2e_acks1_1024_half-throughput.svg)"]
    else:
        lines.append("The e2e run failed; see runs/e2e_acks1_1024_half.txt.")
    one = scaling.get(1)
    lines += ["", "## Produce throughput by partition count (acks=all, 1 KiB, segment.bytes 4 MiB)", "",
              "Every case sends 256 KiB requests, 5 in flight per connection, each request spread over up to 16 "
              "partitions (one batch each), so more partitions mean smaller batches per partition.", "", "| partitions | msg/s | MB/s | / 1 partition | / disk | p99 ack |",
              "|---|---|---|---|---|---|"]
    for count in PARTITION_COUNTS:
        r = scaling.get(count)
        if not r:
            lines.append("| %s | failed | | | | |" % fmt(count))
            continue
        lines.append("| %s | %s | %s | %s | %s | %s us |" % (
            fmt(count), fmt(r["messages_per_sec"]), fmt(r["mb_per_sec"], 1),
            fmt(ratio(r["mb_per_sec"], one and one["mb_per_sec"]), 2), fmt(ratio(r["mb_per_sec"], disk), 2),
            fmt(r["latency_us"]["p99"])))
    svg_lines("produce MB/s by message size", "message bytes (log scale)", "MB/s",
              [("acks=%s" % a, [(s, produce[(a, s)]["mb_per_sec"]) for s in SIZES if produce[(a, s)]])
               for a in ("all", "1")], os.path.join(suite.out, "produce_by_size.svg"), x_log=True)
    svg_lines("produce MB/s by partition count (acks=all, 1 KiB)", "partitions (log scale)", "MB/s",
              [("acks=all", [(c, scaling[c]["mb_per_sec"]) for c in PARTITION_COUNTS if scaling.get(c)])],
              os.path.join(suite.out, "produce_by_partitions.svg"), x_log=True)
    lines += ["", "![by size](produce_by_size.svg) ![by partitions](produce_by_partitions.svg)",
              "", "![acks=all 1 KiB latency](runs/produce_acksall_1024_r0-latency.svg)"]

    # Targets (reported, never asserted).
    targets = []
    acks_all = produce[("all", 1024)]
    t1 = ratio(acks_all and acks_all["mb_per_sec"], disk)
    targets.append(("acks=all produce, 1 KiB >= 0.8 of raw disk bandwidth", "%s of %s MB/s" % (fmt(t1, 2), fmt(disk)),
                    t1 is not None and t1 >= 0.8))
    info = []
    for label, r in (("acks=all, fresh topic", acks_all), ("acks=all, sustained, recycling topic", recycled)):
        mb = r and r["mb_per_sec"]
        info.append("%s: %s MB/s = %s of raw disk (%s MB/s), %s of durable pre-written (%s MB/s), %s of durable "
                    "fresh (%s MB/s)" % (label, fmt(mb, 1), fmt(ratio(mb, disk), 2), fmt(disk),
                                          fmt(ratio(mb, durable_pre), 2), fmt(durable_pre),
                                          fmt(ratio(mb, durable_fresh), 2), fmt(durable_fresh)))
    p99 = e2e and e2e["e2e_latency_us"]["p99"]
    targets.append(("acks=1 end-to-end p99 at half load < 1 ms over loopback (durability always)", "%s us" % fmt(p99),
                    p99 is not None and p99 < 1000))
    p99_none = e2e_none and e2e_none["e2e_latency_us"]["p99"]
    targets.append(("the same with --durability none", "%s us" % fmt(p99_none), p99_none is not None and p99_none < 1000))
    p99_interval = e2e_interval and e2e_interval["e2e_latency_us"]["p99"]
    targets.append(("the same with --durability interval (Kafka's own model: a sync every 100 ms)",
                    "%s us" % fmt(p99_interval), p99_interval is not None and p99_interval < 1000))
    p99_adaptive = e2e_adaptive and e2e_adaptive["e2e_latency_us"]["p99"]
    if e2e_adaptive:
        info.append("acks=1 end-to-end p99 at half load, durability always, --sync-method adaptive: %s us" % fmt(
            p99_adaptive))
    p99_memory = e2e_memory and e2e_memory["e2e_latency_us"]["p99"]
    if e2e_memory:
        info.append("acks=1 end-to-end p99 at half load, --durability none, log on tmpfs: %s us" % fmt(p99_memory))
    t3 = ratio(scaling.get(1000) and scaling[1000]["mb_per_sec"], one and one["mb_per_sec"])
    targets.append(("1,000 partitions >= 0.7 of the 1-partition throughput", fmt(t3, 2), t3 is not None and t3 >= 0.7))
    best_rdkafka = rdkafka_c or rdkafka
    t4 = ratio(own and own["messages_per_sec"], best_rdkafka and best_rdkafka["messages_per_sec"])
    targets.append(("ringlog bench produces at least as fast as librdkafka", fmt(t4, 2), t4 is not None and t4 >= 1.0))
    lines += ["", "## Targets (reported, not asserted)", "", "| target | measured | met |", "|---|---|---|"]
    for name, value, met in targets:
        lines.append("| %s | %s | %s |" % (name, value, "yes" if met else "**no**"))
    lines += ["", "Informative, not targets (each ratio names its denominator):", ""] + ["- " + l for l in info]
    if profile:
        lines += ["", "## Where the broker's time goes under acks=all (perf record -e cpu-clock -g, 1 KiB)", "",
                  "```", profile, "```", "", "Full report: profile.txt."]
    lines += ["", "## Reproduce", "", "```", "scripts/bench.sh            # builds release, writes bench/results/<date>/",
              "```", "", "Each run's command line is in bench.log; its JSON, text and plots are in runs/."]
    with open(os.path.join(suite.out, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    summary = {
        "when": when, "probe": probe, "io_stall_share": io_stall_share,
        "produce": {"acks=%s/%d" % k: v for k, v in produce.items()},
        "librdkafka": rdkafka, "librdkafka_c": rdkafka_c, "consume": consume, "e2e": e2e, "e2e_max": e2e_max, "e2e_tenth": e2e_low, "e2e_durability_none": e2e_none,
        "e2e_durability_interval": e2e_interval,
        "e2e_durability_none_tmpfs": e2e_memory, "e2e_adaptive": e2e_adaptive,
        "produce_acksall_1024_recycled": recycled, "partitions": {str(k): v for k, v in scaling.items()},
        "targets": [{"target": n, "measured": v, "met": m} for n, v, m in targets],
    }
    with open(os.path.join(suite.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    log("report: %s" % os.path.join(suite.out, "report.md"))
    for name, value, met in targets:
        log("target %s: %s (%s)" % (name, value, "met" if met else "missed"))
    for line in info:
        log(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
