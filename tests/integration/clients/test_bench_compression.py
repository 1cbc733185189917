#!/usr/bin/python3
"""`ringlog bench --compression` and keyed partitioning against a real ringlogd (2 shards): a
functional test, not a benchmark. It checks what the load generator claims and what it
stored, never how fast anything is:

- every codec (none, gzip, snappy, lz4, zstd): `bench produce --compression X
  --value-entropy 4` acknowledges every message, reports its codec and wire bytes in the JSON
  (fewer wire bytes than value bytes for gzip and zstd, whose entropy coding halves 4-bit
  values); every stored batch carries the codec (raw Fetch) and passes its CRC; `bench
  consume` reads exactly that many back; a confluent-kafka consumer decompresses them all:
  the count is right and every value is intact (its size, a 16-byte stamp with a distinct
  sequence per producer, then only the 16 symbols a 4-bit pool uses);
- e2e with zstd (--advertise-shards, a fixed rate): every acknowledged message is fetched
  and decompressed by the bench's consumer, one e2e latency per measured message;
- keys: `bench produce --keys 300` (uniform, and zipf on an --advertise-shards broker, where
  two connections share the rate and --messages by their keys' weight): exactly --messages
  stored, and each record, read back with confluent-kafka, sits on the partition murmur2 of
  its key gives, the partition confluent-kafka's own `partitioner=murmur2_random` chose
  for the same keys in a topic of the same partition count; zipf's first key is its most
  frequent, and sequential gives every key an equal count.

The ringlog binary comes from $RINGLOG_CLI (set by CMake).
"""

import collections
import json
import os
import struct
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import client_util as cu  # noqa: E402
import harness  # noqa: E402
import kafka_wire as kw  # noqa: E402
from harness import LOOPBACK, check, check_eq  # noqa: E402

RINGLOG = os.environ.get("RINGLOG_CLI", "")
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
# A 4-bit pool's symbols (batch_builder.cc): the first 16 of base64's alphabet.
FOUR_BIT_SYMBOLS = frozenset(b"ABCDEFGHIJKLMNOP")


def bench(ctx, name, args, timeout=120.0):
    json_path = os.path.join(ctx.scratch, name + ".json")
    cmd = [RINGLOG, "bench"] + args + ["--json", json_path, "--quiet"]
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    output = result.stdout.decode(errors="replace")
    check(result.returncode == 0, "%s exited %d:\n%s" % (" ".join(cmd), result.returncode, harness.tail_text(output)))
    with open(json_path) as f:
        results = json.load(f)
    check_eq(results["errors"], [], "%s errors" % name)
    for key in ("messages_per_sec", "mb_per_sec", "wire_mb_per_sec", "wire_bytes", "compression"):
        check(key in results, "%s: no %s in the JSON" % (name, key))
    return results


def end_offsets(port, topic, partitions):
    with kw.Connection(LOOPBACK, port, 10.0) as c:
        r = c.list_offsets(1, [(topic, [(p, kw.LATEST_TIMESTAMP) for p in range(partitions)])])
    return {p["partition"]: p["offset"] for p in r["topics"][0]["partitions"]}


def check_values(messages, size, what):
    """Each value: `size` bytes, a stamp (intended ns, sequence), then 4-bit pool symbols."""
    sequences = set()
    for m in messages:
        check(m.value is not None and len(m.value) == size, "%s: a value of %r bytes at %d/%d" % (what, None if m.value is None else len(m.value), m.partition, m.offset))
        _, sequence = struct.unpack("<qQ", m.value[:16])
        sequences.add(sequence)
        stray = set(m.value[16:]) - FOUR_BIT_SYMBOLS
        check(not stray, "%s: value at %d/%d has bytes outside the pool: %r" % (what, m.partition, m.offset, sorted(stray)[:5]))
    # One producer connection here: its sequences are distinct.
    check_eq(len(sequences), len(messages), "%s: distinct stamp sequences" % what)


def case_every_codec(ctx):
    broker = ctx.broker(shards=2)
    count = 6000
    size = 200
    for codec in CODECS:
        topic = "bench-" + codec
        produced = bench(
            ctx,
            "produce-" + codec,
            ["produce", "--bootstrap", broker.bootstrap, "--topic", topic, "--partitions", "4", "--msg-size", str(size),
             "--acks", "all", "--messages", str(count), "--duration", "60", "--warmup", "0", "--batch-size", "16384",
             "--compression", codec, "--value-entropy", "4"],
        )
        check_eq(produced["compression"], codec, "compression in the JSON")
        check_eq(produced["value_entropy"], "4", "value_entropy in the JSON")
        check_eq((produced["sent"], produced["acked"], produced["failed"]), (count, count, 0), "%s: sent, acked, failed" % codec)
        check(produced["wire_bytes"] > 0, "%s: wire bytes counted" % codec)
        payload = count * size
        if codec in ("gzip", "zstd"):
            check(produced["wire_bytes"] < payload * 0.75, "%s: %d wire bytes for %d value bytes" % (codec, produced["wire_bytes"], payload))
        if codec == "none":
            check(produced["wire_bytes"] > payload, "none: wire bytes %d hold the values %d" % (produced["wire_bytes"], payload))
        offsets = end_offsets(broker.port, topic, 4)
        check_eq(sum(offsets.values()), count, "%s: messages stored %r" % (codec, offsets))
        cu.check_stored_codec(broker, topic, 4, codec)

        consumed = bench(
            ctx,
            "consume-" + codec,
            ["consume", "--bootstrap", broker.bootstrap, "--topic", topic, "--msg-size", str(size), "--messages", str(count),
             "--duration", "60", "--warmup", "0"],
        )
        check_eq(consumed["consumed"], count, "%s: bench consume read back" % codec)
        check(consumed["wire_bytes"] > 0, "%s: consumed wire bytes counted" % codec)

        messages = cu.consume(broker.bootstrap, topic, range(4), expected=count)
        check_eq(len(messages), count, "%s: confluent-kafka read back" % codec)
        check_values(messages, size, codec)
        print("  ok   %-6s %d messages, %d value bytes in %d wire bytes" % (codec, count, payload, produced["wire_bytes"]))
    broker.stop()


def case_e2e_zstd(ctx):
    broker = ctx.broker(shards=2, advertise_shards=True)
    results = bench(
        ctx,
        "e2e-zstd",
        ["e2e", "--bootstrap", broker.bootstrap, "--topic", "bench-e2e-zstd", "--partitions", "4", "--msg-size", "300",
         "--acks", "1", "--rate", "20000", "--duration", "1", "--warmup", "0.2", "--linger-us", "500",
         "--compression", "zstd", "--value-entropy", "4"],
    )
    check_eq(results["producer_connections"], 2, "one producer connection per leader")
    check(results["sent"] > 0, "something was sent")
    check_eq(results["acked"], results["sent"], "every message acknowledged")
    check_eq(results["failed"], 0, "messages failed")
    check_eq(results["consumed"], results["acked"], "every acknowledged message fetched")
    check_eq(results["e2e_latency_us"]["count"], results["messages"], "an e2e latency per measured message")
    check(results["wire_mb_per_sec"] < results["mb_per_sec"], "zstd on the wire %r < values %r" % (results["wire_mb_per_sec"], results["mb_per_sec"]))
    cu.check_stored_codec(broker, "bench-e2e-zstd", 4, "zstd")
    print("  ok   e2e zstd: %d messages produced and fetched" % results["consumed"])
    broker.stop()


def murmur2_partitions_of_confluent(broker, topic, keys, partitions):
    """The partition librdkafka's murmur2_random partitioner picks for each key, by producing it."""
    cu.create_topic(broker.bootstrap, topic, partitions)
    reports = cu.produce(broker.bootstrap, topic, [{"key": k, "value": b"x"} for k in keys], config={"partitioner": "murmur2_random"})
    cu.check_deliveries(reports, "confluent-kafka murmur2_random")
    return {r.key: r.partition for r in reports}


def keyed_run(ctx, broker, topic, distribution, keys, count, partitions=8):
    produced = bench(
        ctx,
        "keys-" + distribution.replace(":", "-"),
        ["produce", "--bootstrap", broker.bootstrap, "--topic", topic, "--partitions", str(partitions), "--msg-size", "100",
         "--acks", "all", "--messages", str(count), "--duration", "60", "--warmup", "0", "--batch-size", "8192",
         "--keys", str(keys), "--key-distribution", distribution, "--compression", "lz4", "--value-entropy", "4"],
    )
    check_eq((produced["acked"], produced["failed"]), (count, 0), "%s: acked, failed" % distribution)
    check_eq(produced["keys"], keys, "keys in the JSON")
    check_eq(sum(end_offsets(broker.port, topic, partitions).values()), count, "%s: messages stored" % distribution)
    messages = cu.consume(broker.bootstrap, topic, range(partitions), expected=count)
    check_eq(len(messages), count, "%s: read back" % distribution)
    return produced, messages


def case_keys_choose_the_partition(ctx):
    broker = ctx.broker(shards=2)
    keys, count = 300, 6000
    names = [b"key-%010d" % i for i in range(keys)]
    chosen = murmur2_partitions_of_confluent(broker, "ck-murmur2", names, 8)
    for name in names:
        check_eq(chosen[name], kw.murmur2_partition(name, 8), "confluent-kafka's murmur2_random partition of %r" % name)
    for distribution in ("uniform", "sequential"):
        _, messages = keyed_run(ctx, broker, "bench-keys-" + distribution, distribution, keys, count)
        per_key = collections.Counter()
        for m in messages:
            check(m.key in chosen, "%s: a key the bench should not make: %r" % (distribution, m.key))
            check_eq(m.partition, chosen[m.key], "%s: partition of key %r" % (distribution, m.key))
            per_key[m.key] += 1
        check_eq(len(per_key), keys, "%s: every key used" % distribution)
        if distribution == "sequential":
            check_eq(set(per_key.values()), {count // keys}, "sequential: each key equally often")
        print("  ok   %s: %d messages on their keys' murmur2 partitions" % (distribution, count))
    broker.stop()


def case_zipf_over_advertised_shards(ctx):
    broker = ctx.broker(shards=2, advertise_shards=True)
    keys, count = 300, 6000
    produced, messages = keyed_run(ctx, broker, "bench-keys-zipf", "zipf:1.2", keys, count)
    check_eq(produced["key_distribution"], "zipf:1.2", "key_distribution in the JSON")
    check_eq(produced["producer_connections"], 2, "both shards' connections share the keys")
    per_key = collections.Counter()
    for m in messages:
        check_eq(m.partition, kw.murmur2_partition(m.key, 8), "zipf: partition of key %r" % m.key)
        per_key[m.key] += 1
    top, top_count = per_key.most_common(1)[0]
    check_eq(top, b"key-0000000000", "zipf's most frequent key (%d of %d)" % (top_count, count))
    # zipf:1.2 over 300 keys gives key 0 about 1/zeta-ish = 0.22 of the draws; far above 1/300.
    check(top_count > count // 10, "zipf's first key is hot: %d of %d" % (top_count, count))
    print("  ok   zipf:1.2: key 0 has %d of %d messages; every record on its murmur2 partition" % (top_count, count))
    broker.stop()


CASES = [
    ("every_codec", case_every_codec),
    ("e2e_zstd", case_e2e_zstd),
    ("keys_choose_the_partition", case_keys_choose_the_partition),
    ("zipf_over_advertised_shards", case_zipf_over_advertised_shards),
]

if __name__ == "__main__":
    if not os.access(RINGLOG, os.X_OK):
        print("RINGLOG_CLI is not an executable: %r" % RINGLOG)
        sys.exit(2)
    sys.exit(harness.run_cases(CASES, __doc__))
