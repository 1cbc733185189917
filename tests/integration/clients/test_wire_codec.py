#!/usr/bin/python3
"""Checks the raw-frame encoders and decoders in kafka_wire.py (used by test_bad_input.py)
against the recorded frames of real clients in shared/kafka-protocol/captures/, and the
hashes against published vectors. Needs no broker.

- Every captured request of an (API, version) that kafka_wire covers is decoded and encoded
  again, and must come out byte for byte the same.
- Every batch in a captured Produce has magic 2 and a CRC-32C that matches ours; an
  uncompressed batch rebuilt from its parsed records is byte for byte the original, and a
  compressed one rebuilt around its compressed payload too. gzip payloads are unpacked and their
  records parsed.
- Every captured response of a covered (API, version) decodes with no bytes left over, and
  the batches in Fetch responses pass their CRC.
- CRC-32C against the published check values, murmur2 against the Java client's test vectors
  and kafka-python's implementation.

Exits 77 (ctest: skipped) when the captures are not beside the repository.
"""

import json
import os
import random
import struct
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import kafka_wire as kw  # noqa: E402
from harness import CheckFailed, check, check_eq  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CAPTURES = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "shared", "kafka-protocol", "captures"))
CAPTURES = os.environ.get("RINGLOG_CAPTURES_DIR", DEFAULT_CAPTURES)
CLIENTS = ["librdkafka-kcat", "confluent-kafka", "kafka-python", "kafkajs"]

# (api_key) -> (supported versions, request decoder, request encoder from decoded fields, response decoder)
COVERED = {
    kw.API_VERSIONS: (
        range(0, 4),
        kw.decode_api_versions_request,
        lambda v, d: kw.api_versions_request(v, d.get("client_software_name"), d.get("client_software_version")),
        kw.decode_api_versions_response,
    ),
    kw.METADATA: (
        range(0, 5),
        kw.decode_metadata_request,
        lambda v, d: kw.metadata_request(v, d["topics"], d.get("allow_auto_topic_creation", True)),
        kw.decode_metadata_response,
    ),
    kw.PRODUCE: (
        range(3, 8),
        kw.decode_produce_request,
        lambda v, d: kw.produce_request(v, d["acks"], d["timeout_ms"], d["topic_data"], d["transactional_id"]),
        kw.decode_produce_response,
    ),
    kw.LIST_OFFSETS: (
        range(1, 4),
        kw.decode_list_offsets_request,
        lambda v, d: kw.list_offsets_request(v, d["topics"], d["replica_id"], d.get("isolation_level", 0)),
        kw.decode_list_offsets_response,
    ),
    kw.FETCH: (
        range(4, 5),
        kw.decode_fetch_request,
        lambda v, d: kw.fetch_request(
            v, d["topics"], d["max_wait_ms"], d["min_bytes"], d["max_bytes"], d["isolation_level"], d["replica_id"]
        ),
        kw.decode_fetch_response,
    ),
    kw.CREATE_TOPICS: (
        range(0, 5),
        kw.decode_create_topics_request,
        lambda v, d: kw.create_topics_request(
            v,
            [(t["name"], t["num_partitions"], t["replication_factor"], dict(t["configs"])) for t in d["topics"]],
            d["timeout_ms"],
            d.get("validate_only", False),
        ),
        kw.decode_create_topics_response,
    ),
}


def exchanges():
    for client in CLIENTS:
        folder = os.path.join(CAPTURES, client)
        with open(os.path.join(folder, "index.json")) as f:
            index = json.load(f)
        for e in index["exchanges"]:
            yield client, folder, e


def read(folder, name):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return f.read()


def check_batch_rebuilds(batch, where):
    check(batch.crc_ok, "%s: CRC-32C mismatch: stored %08x, computed %08x" % (where, batch.crc, kw.crc32c(batch.raw[21:])))
    kwargs = dict(
        base_offset=batch.base_offset,
        partition_leader_epoch=batch.partition_leader_epoch,
        attributes=batch.attributes,
        producer_id=batch.producer_id,
        producer_epoch=batch.producer_epoch,
        base_sequence=batch.base_sequence,
        base_timestamp=batch.base_timestamp,
        max_timestamp=batch.max_timestamp,
        record_count=batch.record_count,
        last_offset_delta=batch.last_offset_delta,
    )
    around_payload = kw.build_batch([], payload=batch.payload, **kwargs)
    check_eq(around_payload.hex(), batch.raw.hex(), "%s rebuilt around its payload" % where)
    if batch.records is not None:
        check_eq(len(batch.records), batch.record_count, "%s record count" % where)
        if batch.records:
            check_eq(batch.records[-1].offset, batch.last_offset, "%s last record offset" % where)
    if batch.codec == 0:
        records = [r.as_tuple() for r in batch.records]
        rebuilt = kw.build_batch(records, **kwargs)
        check_eq(rebuilt.hex(), batch.raw.hex(), "%s rebuilt from its records" % where)


def case_primitives(ctx):
    check_eq(kw.crc32c(b"123456789"), 0xE3069283, "crc32c('123456789')")
    check_eq(kw.crc32c(bytes(32)), 0x8A9136AA, "crc32c(32 zero bytes)")
    check_eq(kw.crc32c(b"\xff" * 32), 0x62A8AB43, "crc32c(32 0xff bytes)")
    check_eq(kw.crc32c(bytes(range(32))), 0x46DD794E, "crc32c(0..31)")
    # Kafka's UtilsTest.testMurmur2 (signed 32-bit results of Utils.murmur2).
    java = {
        b"21": -973932308,
        b"foobar": -790332482,
        b"a-little-bit-long-string": -985981536,
        b"a-little-bit-longer-string": -1486304829,
        b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
        b"abc": 479470107,
    }
    for key, want in java.items():
        got = struct.unpack(">i", struct.pack(">I", kw.murmur2(key)))[0]
        check_eq(got, want, "murmur2(%r)" % key)
    from kafka.partitioner.default import murmur2 as kafka_python_murmur2

    rng = random.Random(7)
    for _ in range(500):
        key = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 40)))
        check_eq(kw.murmur2(key), kafka_python_murmur2(key) & 0xFFFFFFFF, "murmur2(%r) against kafka-python" % key)
    w = kw.Writer()
    values = [0, 1, -1, 63, -64, 64, 300, -300, 2**31 - 1, -(2**31), 2**62, -(2**63)]
    for v in values:
        w.varint(v)
    r = kw.Reader(w.getvalue())
    check_eq([r.varint() for _ in values], values, "varint round trip")


def case_requests(ctx):
    counts = {}
    for client, folder, e in exchanges():
        key, version = e["api_key"], e["api_version"]
        if key not in COVERED or version not in COVERED[key][0]:
            continue
        _, decode, encode, _ = COVERED[key]
        where = "%s/%s.req" % (client, e["file"])
        frame = read(folder, e["file"] + ".req")
        header, r = kw.decode_request_header(frame, e["request_header_version"])
        check_eq((header["api_key"], header["api_version"]), (key, version), where + " header")
        check_eq(header["correlation_id"], e["correlation_id"], where + " correlation id")
        check_eq(header["client_id"], e["client_id"], where + " client id")
        check_eq(r.pos, e["request_body_offset"], where + " body offset")
        try:
            fields = decode(r, version)
        except kw.DecodeError as err:
            raise CheckFailed("%s: %s" % (where, err))
        body = encode(version, fields)
        again = kw.request(key, version, header["correlation_id"], body, header["client_id"], e["request_header_version"])
        if again != frame:
            raise CheckFailed("%s re-encoded differs:\n  recorded %s\n  encoded  %s" % (where, frame.hex(), again.hex()))
        if key == kw.PRODUCE:
            for topic, partitions in fields["topic_data"]:
                for partition, records in partitions:
                    batches, partial = kw.parse_batches(records)
                    check_eq(partial, 0, "%s %s/%d trailing bytes" % (where, topic, partition))
                    check(batches, "%s %s/%d: no batch" % (where, topic, partition))
                    for i, batch in enumerate(batches):
                        check_batch_rebuilds(batch, "%s %s/%d batch %d" % (where, topic, partition, i))
                        counts["codec " + kw.CODEC_NAMES[batch.codec]] = counts.get("codec " + kw.CODEC_NAMES[batch.codec], 0) + 1
        counts[(key, version)] = counts.get((key, version), 0) + 1
    print("requests re-encoded: %s" % sorted((k, v) for k, v in counts.items() if isinstance(k, tuple)))
    print("produce batches checked: %s" % {k: v for k, v in counts.items() if isinstance(k, str)})
    for needed in [(18, 0), (18, 3), (3, 0), (3, 1), (3, 2), (0, 7), (2, 1), (2, 2), (1, 4), (19, 3), (19, 4)]:
        check(counts.get(needed, 0) > 0, "no captured request of (api %d, v%d) was checked" % needed)
    for codec in kw.CODEC_NAMES.values():
        check(counts.get("codec " + codec, 0) > 0, "no captured produce batch with codec %s" % codec)


def case_responses(ctx):
    counts = {}
    for client, folder, e in exchanges():
        key, version = e["api_key"], e["api_version"]
        if key not in COVERED or version not in COVERED[key][0]:
            continue
        frame = read(folder, e["file"] + ".resp")
        if frame is None:
            continue
        where = "%s/%s.resp" % (client, e["file"])
        correlation_id, r = kw.decode_response_header(frame, e["response_header_version"])
        check_eq(correlation_id, e["correlation_id"], where + " correlation id")
        if key == kw.API_VERSIONS and frame[4:6] == struct.pack(">h", kw.UNSUPPORTED_VERSION):
            # librdkafka's mock answers v3 with a malformed body (captures/README.md, Surprises).
            counts["apiversions error 35 (mock, malformed)"] = counts.get("apiversions error 35 (mock, malformed)", 0) + 1
            continue
        decode = COVERED[key][3]
        try:
            body = decode(r, version)
        except kw.DecodeError as err:
            raise CheckFailed("%s: %s" % (where, err))
        if key == kw.API_VERSIONS:
            check_eq(body["error_code"], 0, where + " error")
            check(kw.API_VERSIONS in body["api_keys"], where + " lists no ApiVersions range")
        if key == kw.FETCH:
            for topic in body["responses"]:
                for p in topic["partitions"]:
                    batches, _ = kw.parse_batches(p["records"])
                    for i, batch in enumerate(batches):
                        check_batch_rebuilds(batch, "%s %s/%d batch %d" % (where, topic["topic"], p["partition"], i))
                        counts["fetched batches"] = counts.get("fetched batches", 0) + 1
        counts[(key, version)] = counts.get((key, version), 0) + 1
    print("responses decoded: %s" % sorted((k, v) for k, v in counts.items() if isinstance(k, tuple)))
    print("other: %s" % {k: v for k, v in counts.items() if isinstance(k, str)})
    for needed in [(18, 0), (3, 0), (3, 1), (3, 2), (0, 7), (2, 1), (2, 2), (1, 4), (19, 3)]:
        check(counts.get(needed, 0) > 0, "no captured response of (api %d, v%d) was checked" % needed)
    check(counts.get("fetched batches", 0) > 0, "no batch in a captured Fetch v4 response")


def case_built_batch_parses(ctx):
    records = [
        (b"k0", b"v0", [], 1_700_000_000_000),
        (None, b"tombstone-less", [("h", b"1"), ("n", None)], 1_700_000_000_005),
        (b"k2", None, [], 1_699_999_999_999),
        (b"", b"x" * 300, [], 1_700_000_000_100),
    ]
    data = kw.build_batch(records, base_offset=41)
    batches, partial = kw.parse_batches(data + data[:30])
    check_eq((len(batches), partial), (1, 30), "batches and partial bytes")
    b = batches[0]
    check(b.crc_ok, "CRC of a built batch")
    check_eq(b.max_timestamp, 1_700_000_000_100, "max timestamp")
    check_eq([r.as_tuple() for r in b.records], records, "records")
    check_eq([r.offset for r in b.records], [41, 42, 43, 44], "offsets")


CASES = [
    ("primitives", case_primitives),
    ("captured_requests_reencode", case_requests),
    ("captured_responses_decode", case_responses),
    ("built_batch_parses", case_built_batch_parses),
]

if __name__ == "__main__":
    if not os.path.isdir(CAPTURES):
        print("captures not found at %s: skipped" % CAPTURES)
        sys.exit(77)
    sys.exit(harness.run_cases(CASES, __doc__, needs_broker=False))
