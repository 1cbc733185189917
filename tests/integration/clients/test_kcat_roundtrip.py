#!/usr/bin/python3
"""kcat (librdkafka 2.0.2) against ringlogd with --shards 2, once with every shard behind one
port (broker id 0) and once with --advertise-shards (shard i on port N+i, broker id i).

Per run:
- an 8-partition topic (created with the AdminClient in the first run, by auto-creation with
  --default-partitions 8 in the second), 100,000 keyed messages produced with
  `kcat -P -K: -X acks=all` (librdkafka's default partitioner, consistent_random: CRC-32 of the
  key), consumed back with `kcat -C -e -o beginning`, and checked: every message exactly once
  with its content, each key on the partition CRC-32(key) % 8 chooses, offsets per partition
  dense from 0 and in produce order, and `kcat -Q` end offsets equal to the counts;
- a second 8-partition topic, produced with `-X partitioner=murmur2_random`, where each key
  must sit on the partition the Java client's murmur2 chooses;
- finally SIGTERM, exit 0.
"""

import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import client_util  # noqa: E402
import harness  # noqa: E402
import kafka_wire as kw  # noqa: E402
from harness import Mismatches, check, check_eq, run, wait_until  # noqa: E402

KCAT = "kcat"
PARTITIONS = 8
MESSAGES = 100_000
MURMUR_MESSAGES = 10_000


def key_of(i):
    return b"key-%06d" % i


def value_of(i):
    return b"value-%06d-" % i + b"abcdefghijklmnopqrstuvwxyz"[: i % 27]


def kcat_list(bootstrap, topic=None):
    """kcat -L as JSON (None if it fails). Naming a topic asks for its auto-creation."""
    cmd = [KCAT, "-b", bootstrap, "-L", "-J", "-m", "10"]
    if topic is not None:
        cmd += ["-t", topic, "-X", "allow.auto.create.topics=true"]
    done = run(cmd, "kcat -L", timeout=30, check_rc=False)
    if done.returncode != 0:
        return None
    try:
        return json.loads(done.stdout)
    except ValueError:
        return None


def create_by_metadata(bootstrap, topic):
    """Auto-creation: a Metadata request naming the topic, then wait for its 8 partitions."""

    def ready():
        md = kcat_list(bootstrap, topic)
        if not md:
            return None
        for t in md.get("topics", []):
            if t.get("topic") == topic and "error" not in t and len(t.get("partitions", [])) == PARTITIONS:
                if all(p.get("leader", -1) >= 0 and "error" not in p for p in t["partitions"]):
                    return md
        return None

    wait_until(ready, 30, "auto-created topic %s with %d partitions (kcat -L)" % (topic, PARTITIONS), 0.1)


def kcat_produce(bootstrap, topic, count, extra):
    lines = b"".join(key_of(i) + b":" + value_of(i) + b"\n" for i in range(count))
    cmd = [KCAT, "-b", bootstrap, "-P", "-t", topic, "-K:", "-X", "acks=all"] + extra
    done = run(cmd, "kcat -P %s" % topic, input_bytes=lines, timeout=120)
    text = done.stderr.decode(errors="replace")
    problems = [line for line in text.splitlines() if "% ERROR" in line or "Delivery failed" in line]
    check(not problems, "kcat -P %s reported %d problems:\n%s" % (topic, len(problems), harness.tail_text(text)))


def kcat_consume(bootstrap, topic):
    cmd = [KCAT, "-b", bootstrap, "-C", "-t", topic, "-e", "-o", "beginning", "-q", "-f", "%p %o %k %s\\n"]
    done = run(cmd, "kcat -C %s" % topic, timeout=120)
    rows = []
    bad = Mismatches("kcat -C %s output lines" % topic)
    for line in done.stdout.split(b"\n"):
        if not line:
            continue
        parts = line.split(b" ")
        if len(parts) != 4:
            bad.add("unparsable line %r" % line[:100])
            continue
        rows.append((int(parts[0]), int(parts[1]), parts[2], parts[3]))
    bad.raise_if_any()
    return rows


def check_roundtrip(rows, count, choose_partition, partitioner_name, topic):
    by_key = {}
    bad = Mismatches("%s: consumed messages" % topic)
    for partition, offset, key, value in rows:
        by_key.setdefault(key, []).append((partition, offset, value))
    for i in range(count):
        key = key_of(i)
        seen = by_key.pop(key, [])
        if len(seen) != 1:
            bad.add("%s: consumed %d times (expected once): %s" % (key.decode(), len(seen), seen[:3]))
            continue
        partition, offset, value = seen[0]
        if value != value_of(i):
            bad.add("%s at %d/%d: value %r, expected %r" % (key.decode(), partition, offset, value, value_of(i)))
        want = choose_partition(key, PARTITIONS)
        if partition != want:
            bad.add("%s: on partition %d, %s chooses %d" % (key.decode(), partition, partitioner_name, want))
    for key, seen in list(by_key.items())[:5]:
        bad.add("unexpected key %r: %s" % (key, seen[:3]))
    if len(by_key) > 5:
        bad.add("... %d unexpected keys in all" % len(by_key))
    bad.raise_if_any()

    per_partition = {}
    for partition, offset, key, value in rows:
        per_partition.setdefault(partition, []).append((offset, int(key[4:])))
    order = Mismatches("%s: offsets per partition" % topic)
    for partition, entries in sorted(per_partition.items()):
        offsets = [o for o, _ in entries]
        if offsets != list(range(len(offsets))):
            first = next(n for n, o in enumerate(offsets) if o != n)
            order.add("partition %d: offsets not 0..%d in order; at position %d: %s" % (partition, len(offsets) - 1, first, offsets[first : first + 5]))
        by_offset = sorted(entries)
        indexes = [i for _, i in by_offset]
        for n in range(1, len(indexes)):
            if indexes[n] <= indexes[n - 1]:
                order.add("partition %d: key-%06d at offset %d comes after key-%06d at offset %d (produce order broken)" % (partition, indexes[n], by_offset[n][0], indexes[n - 1], by_offset[n - 1][0]))
                break
    order.raise_if_any()
    return {p: len(e) for p, e in per_partition.items()}


def check_end_offsets(bootstrap, topic, counts):
    args = []
    for p in range(PARTITIONS):
        args += ["-t", "%s:%d:-1" % (topic, p)]
    done = run([KCAT, "-b", bootstrap, "-Q"] + args, "kcat -Q %s" % topic, timeout=30)
    got = {}
    for line in done.stdout.decode().splitlines():
        # "<topic> [<partition>] offset <n>"
        parts = line.split()
        if len(parts) == 4 and parts[0] == topic and parts[2] == "offset":
            got[int(parts[1].strip("[]"))] = int(parts[3])
    want = {p: counts.get(p, 0) for p in range(PARTITIONS)}
    check_eq(got, want, "kcat -Q %s end offsets per partition" % topic)


def roundtrip(ctx, advertise_shards):
    broker = ctx.broker(shards=2, advertise_shards=advertise_shards, default_partitions=PARTITIONS)
    bootstrap = broker.bootstrap
    md = kcat_list(bootstrap)
    check(md is not None, "kcat -L got no metadata from %s" % bootstrap)
    want_brokers = sorted((i, broker.port + i) for i in range(2)) if advertise_shards else [(0, broker.port)]
    got_brokers = sorted((b["id"], int(b["name"].rsplit(":", 1)[1])) for b in md.get("brokers", []))
    check_eq(got_brokers, want_brokers, "brokers (id, port) in Metadata")

    topic = "kcat-crc32"
    murmur_topic = "kcat-murmur2"
    if advertise_shards:
        create_by_metadata(bootstrap, topic)
        create_by_metadata(bootstrap, murmur_topic)
    else:
        client_util.create_topic(bootstrap, topic, PARTITIONS)
        client_util.create_topic(bootstrap, murmur_topic, PARTITIONS)
    if advertise_shards:
        leaders = {p["partition"]: p["leader"] for t in kcat_list(bootstrap, topic)["topics"] for p in t["partitions"]}
        check_eq(sorted(set(leaders.values())), [0, 1], "leaders of %s's partitions (both shards own some)" % topic)

    kcat_produce(bootstrap, topic, MESSAGES, [])
    rows = kcat_consume(bootstrap, topic)
    counts = check_roundtrip(rows, MESSAGES, kw.crc32_partition, "CRC-32 (consistent_random)", topic)
    check_end_offsets(bootstrap, topic, counts)
    print("  %s: %d messages, per partition %s" % (topic, len(rows), [counts.get(p, 0) for p in range(PARTITIONS)]))

    kcat_produce(bootstrap, murmur_topic, MURMUR_MESSAGES, ["-X", "partitioner=murmur2_random"])
    rows = kcat_consume(bootstrap, murmur_topic)
    counts = check_roundtrip(rows, MURMUR_MESSAGES, kw.murmur2_partition, "murmur2 (Java)", murmur_topic)
    check_end_offsets(bootstrap, murmur_topic, counts)
    print("  %s: %d messages, per partition %s" % (murmur_topic, len(rows), [counts.get(p, 0) for p in range(PARTITIONS)]))
    broker.stop()


CASES = [
    ("two_shards_one_port", lambda ctx: roundtrip(ctx, advertise_shards=False)),
    ("two_shards_advertised", lambda ctx: roundtrip(ctx, advertise_shards=True)),
]

if __name__ == "__main__":
    sys.exit(harness.run_cases(CASES, __doc__))
