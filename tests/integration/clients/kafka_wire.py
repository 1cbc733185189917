"""Hand-encoded Kafka frames for the integration tests: just enough of the protocol to talk
to a broker on a raw socket, byte by byte, without a client library in between.

Covered (request encoder, request decoder, response decoder):
  ApiVersions v0-v3, Metadata v0-v4, Produce v3-v7, ListOffsets v1-v3, Fetch v4,
  CreateTopics v0-v4.
Plus RecordBatch v2 (build and parse), CRC-32C, and the two key partitioners librdkafka
offers that matter here (CRC-32 "consistent" and Java-compatible murmur2).

Field layouts follow shared/kafka-protocol/message/*.json and RECORD-BATCH.md. The codec test
(test_wire_codec.py) checks every encoder and decoder here against real client frames.
"""

import socket
import struct
import zlib

# --- API keys and error codes used by the tests -------------------------------------------

PRODUCE = 0
FETCH = 1
LIST_OFFSETS = 2
METADATA = 3
API_VERSIONS = 18
CREATE_TOPICS = 19

NONE = 0
OFFSET_OUT_OF_RANGE = 1
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
UNSUPPORTED_VERSION = 35
TOPIC_ALREADY_EXISTS = 36
INVALID_REQUEST = 42

ERROR_NAMES = {
    0: "NONE",
    1: "OFFSET_OUT_OF_RANGE",
    2: "CORRUPT_MESSAGE",
    3: "UNKNOWN_TOPIC_OR_PARTITION",
    4: "INVALID_FETCH_SIZE",
    6: "NOT_LEADER_OR_FOLLOWER",
    7: "REQUEST_TIMED_OUT",
    10: "MESSAGE_TOO_LARGE",
    17: "INVALID_TOPIC_EXCEPTION",
    35: "UNSUPPORTED_VERSION",
    36: "TOPIC_ALREADY_EXISTS",
    37: "INVALID_PARTITIONS",
    42: "INVALID_REQUEST",
    43: "UNSUPPORTED_FOR_MESSAGE_FORMAT",
    87: "INVALID_RECORD",
}


def error_name(code):
    return "%d %s" % (code, ERROR_NAMES.get(code, "?"))


# First flexible version per API (request header v2 from there on), from message/*.json.
FIRST_FLEXIBLE = {PRODUCE: 9, FETCH: 12, LIST_OFFSETS: 6, METADATA: 9, API_VERSIONS: 3, CREATE_TOPICS: 5}


def request_header_version(api_key, api_version):
    first = FIRST_FLEXIBLE.get(api_key)
    return 2 if first is not None and api_version >= first else 1


LATEST_TIMESTAMP = -1  # ListOffsets: the log end offset
EARLIEST_TIMESTAMP = -2  # ListOffsets: the log start offset

# --- CRC-32C (Castagnoli), reflected polynomial 0x82F63B78 -------------------------------


def _crc32c_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    table = _CRC32C_TABLE
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# --- Partitioners --------------------------------------------------------------------------


def murmur2(data):
    """Kafka's Utils.murmur2 (the Java producer's key hash), as an unsigned 32-bit value."""
    m = 0x5BD1E995
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    whole = length - length % 4
    for i in range(0, whole, 4):
        k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    tail = length % 4
    if tail == 3:
        h ^= data[whole + 2] << 16
    if tail >= 2:
        h ^= data[whole + 1] << 8
    if tail >= 1:
        h ^= data[whole]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def murmur2_partition(key, partition_count):
    """librdkafka murmur2/murmur2_random and the Java default partitioner, for a non-null key."""
    return (murmur2(key) & 0x7FFFFFFF) % partition_count


def crc32_partition(key, partition_count):
    """librdkafka consistent/consistent_random (its default), for a non-empty key."""
    return zlib.crc32(key) % partition_count


# --- Primitive encoding ---------------------------------------------------------------------


class Writer:
    def __init__(self):
        self._parts = []

    def getvalue(self):
        return b"".join(self._parts)

    def raw(self, data):
        self._parts.append(bytes(data))
        return self

    def int8(self, v):
        return self.raw(struct.pack(">b", v))

    def int16(self, v):
        return self.raw(struct.pack(">h", v))

    def int32(self, v):
        return self.raw(struct.pack(">i", v))

    def uint32(self, v):
        return self.raw(struct.pack(">I", v))

    def int64(self, v):
        return self.raw(struct.pack(">q", v))

    def boolean(self, v):
        return self.int8(1 if v else 0)

    def string(self, s):
        if s is None:
            return self.int16(-1)
        data = s.encode() if isinstance(s, str) else bytes(s)
        return self.int16(len(data)).raw(data)

    def bytes_(self, b):
        if b is None:
            return self.int32(-1)
        return self.int32(len(b)).raw(b)

    def array(self, items, write_item):
        if items is None:
            return self.int32(-1)
        self.int32(len(items))
        for item in items:
            write_item(self, item)
        return self

    def uvarint(self, v):
        assert v >= 0
        out = bytearray()
        while True:
            byte = v & 0x7F
            v >>= 7
            if v:
                out.append(byte | 0x80)
            else:
                out.append(byte)
                return self.raw(out)

    def varint(self, v):
        """Signed zig-zag varint (also used for varlong: Python ints have no width)."""
        return self.uvarint((v << 1) ^ (v >> 63) if v < 0 else v << 1)

    def compact_string(self, s):
        if s is None:
            return self.uvarint(0)
        data = s.encode()
        return self.uvarint(len(data) + 1).raw(data)

    def tagged_fields(self):
        return self.uvarint(0)


class DecodeError(Exception):
    pass


class Reader:
    def __init__(self, data, pos=0):
        self.data = bytes(data)
        self.pos = pos

    def remaining(self):
        return len(self.data) - self.pos

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise DecodeError("need %d bytes at %d, have %d" % (n, self.pos, self.remaining()))
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def _unpack(self, fmt, size):
        return struct.unpack(fmt, self.take(size))[0]

    def int8(self):
        return self._unpack(">b", 1)

    def int16(self):
        return self._unpack(">h", 2)

    def int32(self):
        return self._unpack(">i", 4)

    def uint32(self):
        return self._unpack(">I", 4)

    def int64(self):
        return self._unpack(">q", 8)

    def boolean(self):
        return self.int8() != 0

    def string(self):
        n = self.int16()
        if n < 0:
            return None
        return self.take(n).decode()

    def bytes_(self):
        n = self.int32()
        if n < 0:
            return None
        return self.take(n)

    def array(self, read_item):
        n = self.int32()
        if n < 0:
            return None
        return [read_item(self) for _ in range(n)]

    def uvarint(self):
        shift = 0
        value = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > 63:
                raise DecodeError("varint too long")

    def varint(self):
        v = self.uvarint()
        return (v >> 1) ^ -(v & 1)

    def compact_string(self):
        n = self.uvarint()
        if n == 0:
            return None
        return self.take(n - 1).decode()

    def compact_array(self, read_item):
        n = self.uvarint()
        if n == 0:
            return None
        return [read_item(self) for _ in range(n - 1)]

    def tagged_fields(self):
        fields = {}
        for _ in range(self.uvarint()):
            tag = self.uvarint()
            fields[tag] = self.take(self.uvarint())
        return fields

    def expect_end(self, what):
        if self.remaining():
            raise DecodeError("%s: %d bytes left over at %d" % (what, self.remaining(), self.pos))


# --- Request and response headers -----------------------------------------------------------


def request(api_key, api_version, correlation_id, body, client_id="ringlog-itest", header_version=1):
    """A request frame without its size prefix. Header v1, or v2 (tagged fields) for flexible."""
    w = Writer().int16(api_key).int16(api_version).int32(correlation_id).string(client_id)
    if header_version >= 2:
        w.tagged_fields()
    return w.getvalue() + body


def size_prefixed(frame):
    return struct.pack(">i", len(frame)) + frame


def decode_request_header(frame, header_version=1):
    r = Reader(frame)
    header = {
        "api_key": r.int16(),
        "api_version": r.int16(),
        "correlation_id": r.int32(),
        "client_id": r.string(),
    }
    if header_version >= 2:
        header["tagged_fields"] = r.tagged_fields()
    return header, r


def decode_response_header(frame, header_version=0):
    r = Reader(frame)
    correlation_id = r.int32()
    if header_version >= 1:
        r.tagged_fields()
    return correlation_id, r


# --- ApiVersions (18) -----------------------------------------------------------------------


def api_versions_request(version, software_name="ringlog-itest", software_version="1.0"):
    if version >= 3:
        return Writer().compact_string(software_name).compact_string(software_version).tagged_fields().getvalue()
    return b""


def decode_api_versions_request(r, version):
    out = {}
    if version >= 3:
        out["client_software_name"] = r.compact_string()
        out["client_software_version"] = r.compact_string()
        r.tagged_fields()
    r.expect_end("ApiVersions request")
    return out


def decode_api_versions_response(r, version):
    """Returns {'error_code', 'api_keys': {key: (min, max)}, 'throttle_time_ms'}.

    An error response (for example 35 to an unsupported version) always has the v0 layout, so
    pass version 0 for it."""
    out = {"error_code": r.int16()}
    if version >= 3:
        entries = r.compact_array(lambda r: _api_version_entry(r, tagged=True))
    else:
        entries = r.array(lambda r: _api_version_entry(r, tagged=False))
    out["api_keys"] = {key: (lo, hi) for key, lo, hi in entries or []}
    out["api_keys_order"] = [key for key, _, _ in entries or []]
    if version >= 1:
        out["throttle_time_ms"] = r.int32()
    if version >= 3:
        out["tagged_fields"] = r.tagged_fields()
    r.expect_end("ApiVersions v%d response" % version)
    return out


def _api_version_entry(r, tagged):
    entry = (r.int16(), r.int16(), r.int16())
    if tagged:
        r.tagged_fields()
    return entry


# --- Metadata (3) ---------------------------------------------------------------------------


def metadata_request(version, topics, allow_auto_topic_creation=True):
    """topics None = all topics (v0 sends an empty array for that)."""
    assert 0 <= version <= 4
    w = Writer()
    if topics is None and version == 0:
        topics = []
    w.array(topics, lambda w, t: w.string(t))
    if version >= 4:
        w.boolean(allow_auto_topic_creation)
    return w.getvalue()


def decode_metadata_request(r, version):
    out = {"topics": r.array(lambda r: r.string())}
    if version >= 4:
        out["allow_auto_topic_creation"] = r.boolean()
    r.expect_end("Metadata request")
    return out


def decode_metadata_response(r, version):
    assert 0 <= version <= 4
    out = {}
    if version >= 3:
        out["throttle_time_ms"] = r.int32()

    def broker(r):
        b = {"node_id": r.int32(), "host": r.string(), "port": r.int32()}
        if version >= 1:
            b["rack"] = r.string()
        return b

    out["brokers"] = r.array(broker)
    if version >= 2:
        out["cluster_id"] = r.string()
    if version >= 1:
        out["controller_id"] = r.int32()

    def partition(r):
        return {
            "error_code": r.int16(),
            "partition": r.int32(),
            "leader": r.int32(),
            "replicas": r.array(lambda r: r.int32()),
            "isr": r.array(lambda r: r.int32()),
        }

    def topic(r):
        t = {"error_code": r.int16(), "name": r.string()}
        if version >= 1:
            t["is_internal"] = r.boolean()
        t["partitions"] = r.array(partition)
        return t

    out["topics"] = r.array(topic)
    r.expect_end("Metadata v%d response" % version)
    return out


# --- Produce (0) ----------------------------------------------------------------------------


def produce_request(version, acks, timeout_ms, topic_data, transactional_id=None):
    """topic_data: [(topic, [(partition, records_bytes)])]."""
    assert 3 <= version <= 7
    w = Writer().string(transactional_id).int16(acks).int32(timeout_ms)

    def partition(w, p):
        w.int32(p[0]).bytes_(p[1])

    w.array(topic_data, lambda w, t: (w.string(t[0]), w.array(t[1], partition)))
    return w.getvalue()


def decode_produce_request(r, version):
    assert 3 <= version <= 7
    out = {"transactional_id": r.string(), "acks": r.int16(), "timeout_ms": r.int32()}
    out["topic_data"] = r.array(lambda r: (r.string(), r.array(lambda r: (r.int32(), r.bytes_()))))
    r.expect_end("Produce request")
    return out


def decode_produce_response(r, version):
    assert 3 <= version <= 7

    def partition(r):
        p = {"partition": r.int32(), "error_code": r.int16(), "base_offset": r.int64()}
        p["log_append_time_ms"] = r.int64()
        if version >= 5:
            p["log_start_offset"] = r.int64()
        return p

    out = {"responses": r.array(lambda r: {"name": r.string(), "partitions": r.array(partition)})}
    out["throttle_time_ms"] = r.int32()
    r.expect_end("Produce v%d response" % version)
    return out


# --- ListOffsets (2) ------------------------------------------------------------------------


def list_offsets_request(version, topics, replica_id=-1, isolation_level=0):
    """topics: [(topic, [(partition, timestamp)])]."""
    assert 1 <= version <= 3
    w = Writer().int32(replica_id)
    if version >= 2:
        w.int8(isolation_level)

    def partition(w, p):
        w.int32(p[0]).int64(p[1])

    w.array(topics, lambda w, t: (w.string(t[0]), w.array(t[1], partition)))
    return w.getvalue()


def decode_list_offsets_request(r, version):
    assert 1 <= version <= 3
    out = {"replica_id": r.int32()}
    if version >= 2:
        out["isolation_level"] = r.int8()
    out["topics"] = r.array(lambda r: (r.string(), r.array(lambda r: (r.int32(), r.int64()))))
    r.expect_end("ListOffsets request")
    return out


def decode_list_offsets_response(r, version):
    assert 1 <= version <= 3
    out = {}
    if version >= 2:
        out["throttle_time_ms"] = r.int32()

    def partition(r):
        return {"partition": r.int32(), "error_code": r.int16(), "timestamp": r.int64(), "offset": r.int64()}

    out["topics"] = r.array(lambda r: {"name": r.string(), "partitions": r.array(partition)})
    r.expect_end("ListOffsets v%d response" % version)
    return out


# --- Fetch (1), v4 only -----------------------------------------------------------------------


def fetch_request(version, topics, max_wait_ms=0, min_bytes=1, max_bytes=64 << 20, isolation_level=0, replica_id=-1):
    """topics: [(topic, [(partition, fetch_offset, partition_max_bytes)])]."""
    assert version == 4
    w = Writer().int32(replica_id).int32(max_wait_ms).int32(min_bytes).int32(max_bytes).int8(isolation_level)

    def partition(w, p):
        w.int32(p[0]).int64(p[1]).int32(p[2])

    w.array(topics, lambda w, t: (w.string(t[0]), w.array(t[1], partition)))
    return w.getvalue()


def decode_fetch_request(r, version):
    assert version == 4
    out = {
        "replica_id": r.int32(),
        "max_wait_ms": r.int32(),
        "min_bytes": r.int32(),
        "max_bytes": r.int32(),
        "isolation_level": r.int8(),
    }
    out["topics"] = r.array(lambda r: (r.string(), r.array(lambda r: (r.int32(), r.int64(), r.int32()))))
    r.expect_end("Fetch request")
    return out


def decode_fetch_response(r, version):
    assert version == 4

    def partition(r):
        return {
            "partition": r.int32(),
            "error_code": r.int16(),
            "high_watermark": r.int64(),
            "last_stable_offset": r.int64(),
            "aborted_transactions": r.array(lambda r: (r.int64(), r.int64())),
            "records": r.bytes_(),
        }

    out = {"throttle_time_ms": r.int32()}
    out["responses"] = r.array(lambda r: {"topic": r.string(), "partitions": r.array(partition)})
    r.expect_end("Fetch v%d response" % version)
    return out


# --- CreateTopics (19), v0-v4 -----------------------------------------------------------------


def create_topics_request(version, topics, timeout_ms=10000, validate_only=False):
    """topics: [(name, num_partitions, replication_factor, {config: value})]."""
    assert 0 <= version <= 4

    def topic(w, t):
        name, partitions, replication, configs = t
        w.string(name).int32(partitions).int16(replication)
        w.array([], None)  # no manual assignments
        w.array(sorted(configs.items()), lambda w, c: (w.string(c[0]), w.string(c[1])))

    w = Writer().array(topics, topic).int32(timeout_ms)
    if version >= 1:
        w.boolean(validate_only)
    return w.getvalue()


def decode_create_topics_request(r, version):
    assert 0 <= version <= 4

    def topic(r):
        t = {"name": r.string(), "num_partitions": r.int32(), "replication_factor": r.int16()}
        t["assignments"] = r.array(lambda r: (r.int32(), r.array(lambda r: r.int32())))
        t["configs"] = r.array(lambda r: (r.string(), r.string()))
        return t

    out = {"topics": r.array(topic), "timeout_ms": r.int32()}
    if version >= 1:
        out["validate_only"] = r.boolean()
    r.expect_end("CreateTopics request")
    return out


def decode_create_topics_response(r, version):
    assert 0 <= version <= 4
    out = {}
    if version >= 2:
        out["throttle_time_ms"] = r.int32()

    def topic(r):
        t = {"name": r.string(), "error_code": r.int16()}
        if version >= 1:
            t["error_message"] = r.string()
        return t

    out["topics"] = r.array(topic)
    r.expect_end("CreateTopics v%d response" % version)
    return out


# --- RecordBatch v2 ---------------------------------------------------------------------------

BATCH_HEADER_BYTES = 61
CODEC_NAMES = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}


def encode_records(records, base_timestamp):
    """records: [(key, value, headers, timestamp)] with headers [(name str, value bytes|None)]."""
    out = bytearray()
    for delta, (key, value, headers, timestamp) in enumerate(records):
        body = Writer().int8(0).varint(timestamp - base_timestamp).varint(delta)
        for field in (key, value):
            if field is None:
                body.varint(-1)
            else:
                body.varint(len(field)).raw(field)
        body.varint(len(headers))
        for name, hvalue in headers:
            name_bytes = name.encode()
            body.varint(len(name_bytes)).raw(name_bytes)
            if hvalue is None:
                body.varint(-1)
            else:
                body.varint(len(hvalue)).raw(hvalue)
        body = body.getvalue()
        out += Writer().varint(len(body)).getvalue() + body
    return bytes(out)


def build_batch(
    records,
    base_offset=0,
    partition_leader_epoch=-1,
    attributes=0,
    producer_id=-1,
    producer_epoch=-1,
    base_sequence=-1,
    base_timestamp=None,
    max_timestamp=None,
    payload=None,
    record_count=None,
    last_offset_delta=None,
):
    """A RecordBatch v2. records as in encode_records. payload replaces the encoded records
    (for example an already compressed stream); then pass record_count and the timestamps."""
    if base_timestamp is None:
        base_timestamp = records[0][3] if records else -1
    if max_timestamp is None:
        max_timestamp = max(r[3] for r in records) if records else -1
    if record_count is None:
        record_count = len(records)
    if last_offset_delta is None:
        last_offset_delta = record_count - 1
    if payload is None:
        payload = encode_records(records, base_timestamp)
    after_crc = (
        Writer()
        .int16(attributes)
        .int32(last_offset_delta)
        .int64(base_timestamp)
        .int64(max_timestamp)
        .int64(producer_id)
        .int16(producer_epoch)
        .int32(base_sequence)
        .int32(record_count)
        .getvalue()
        + payload
    )
    batch_length = 4 + 1 + 4 + len(after_crc)  # partitionLeaderEpoch, magic, crc, rest
    head = Writer().int64(base_offset).int32(batch_length).int32(partition_leader_epoch).int8(2)
    return head.uint32(crc32c(after_crc)).getvalue() + after_crc


class Batch:
    """One parsed RecordBatch v2. records is None when the payload is compressed with a codec
    the standard library cannot read (snappy, lz4, zstd)."""

    def __init__(self, data, offset_in_buffer):
        r = Reader(data)
        self.position = offset_in_buffer
        self.raw = bytes(data)
        self.base_offset = r.int64()
        self.batch_length = r.int32()
        self.partition_leader_epoch = r.int32()
        self.magic = r.int8()
        self.crc = r.uint32()
        if self.magic != 2:
            raise DecodeError("batch at %d: magic %d, expected 2" % (offset_in_buffer, self.magic))
        self.crc_ok = crc32c(data[21:]) == self.crc
        self.attributes = r.int16()
        self.codec = self.attributes & 7
        self.last_offset_delta = r.int32()
        self.base_timestamp = r.int64()
        self.max_timestamp = r.int64()
        self.producer_id = r.int64()
        self.producer_epoch = r.int16()
        self.base_sequence = r.int32()
        self.record_count = r.int32()
        self.payload = r.take(r.remaining())
        self.records = None
        plain = None
        if self.codec == 0:
            plain = self.payload
        elif self.codec == 1:
            plain = zlib.decompress(self.payload, 16 + zlib.MAX_WBITS)
        if plain is not None:
            self.records = decode_records(plain, self.record_count, self.base_offset, self.base_timestamp)

    @property
    def last_offset(self):
        return self.base_offset + self.last_offset_delta


class Record:
    __slots__ = ("offset", "timestamp", "key", "value", "headers")

    def __init__(self, offset, timestamp, key, value, headers):
        self.offset, self.timestamp, self.key, self.value, self.headers = offset, timestamp, key, value, headers

    def as_tuple(self):
        return (self.key, self.value, self.headers, self.timestamp)


def decode_records(plain, count, base_offset, base_timestamp):
    r = Reader(plain)
    out = []
    for _ in range(count):
        length = r.varint()
        rr = Reader(r.take(length))
        rr.int8()  # attributes
        timestamp = base_timestamp + rr.varint()
        offset = base_offset + rr.varint()
        fields = []
        for _ in range(2):
            n = rr.varint()
            fields.append(None if n < 0 else rr.take(n))
        headers = []
        for _ in range(rr.varint()):
            name = rr.take(rr.varint()).decode()
            n = rr.varint()
            headers.append((name, None if n < 0 else rr.take(n)))
        rr.expect_end("record")
        out.append(Record(offset, timestamp, fields[0], fields[1], headers))
    r.expect_end("records")
    return out


def parse_batches(data):
    """Splits a records field into batches. A partial batch at the end (allowed in Fetch) is
    left out; the number of bytes it had is returned as the second value."""
    batches = []
    pos = 0
    data = bytes(data or b"")
    while len(data) - pos >= 12:
        (length,) = struct.unpack_from(">i", data, pos + 8)
        end = pos + 12 + length
        if length < BATCH_HEADER_BYTES - 12:
            raise DecodeError("batch at %d: length %d is below the header size" % (pos, length))
        if end > len(data):
            break
        batches.append(Batch(data[pos:end], pos))
        pos = end
    return batches, len(data) - pos


# --- A blocking connection ----------------------------------------------------------------------


class ConnectionClosed(Exception):
    pass


class NoAnswer(Exception):
    pass


class Connection:
    """One TCP connection speaking size-prefixed frames. Every wait has a deadline."""

    def __init__(self, host, port, timeout=10.0, client_id="ringlog-itest"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.client_id = client_id
        self.next_correlation_id = 1
        self._buffer = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_request(self, api_key, api_version, body, header_version=None, correlation_id=None):
        """header_version None: v2 for flexible versions of the APIs in FIRST_FLEXIBLE, else v1."""
        if header_version is None:
            header_version = request_header_version(api_key, api_version)
        if correlation_id is None:
            correlation_id = self.next_correlation_id
            self.next_correlation_id += 1
        frame = request(api_key, api_version, correlation_id, body, self.client_id, header_version)
        self.send_raw(size_prefixed(frame))
        return correlation_id

    def _fill(self, need, timeout):
        self.sock.settimeout(timeout)
        while len(self._buffer) < need:
            try:
                chunk = self.sock.recv(1 << 20)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise ConnectionClosed("closed by the broker after %d of %d bytes" % (len(self._buffer), need))
            self._buffer += chunk

    def recv_frame(self, timeout=None):
        """The next response frame (without its size prefix). Raises ConnectionClosed if the
        broker closes first, socket.timeout if nothing complete arrives in time."""
        timeout = self.timeout if timeout is None else timeout
        self._fill(4, timeout)
        (size,) = struct.unpack(">i", self._buffer[:4])
        if size < 4 or size > (256 << 20):
            raise DecodeError("response size prefix %d" % size)
        self._fill(4 + size, timeout)
        frame, self._buffer = self._buffer[4 : 4 + size], self._buffer[4 + size :]
        return frame

    def call(self, api_key, api_version, body, header_version=None, response_header_version=0, timeout=None):
        """Sends a request and returns a Reader positioned at the response body."""
        correlation_id = self.send_request(api_key, api_version, body, header_version)
        what = "api key %d v%d (correlation id %d)" % (api_key, api_version, correlation_id)
        try:
            frame = self.recv_frame(timeout)
        except socket.timeout:
            raise NoAnswer("%s: no answer within %.1f s" % (what, self.timeout if timeout is None else timeout))
        except ConnectionClosed as e:
            raise ConnectionClosed("%s: %s" % (what, e))
        got, r = decode_response_header(frame, response_header_version)
        if got != correlation_id:
            raise DecodeError("correlation id %d in the response, expected %d" % (got, correlation_id))
        return r

    def wait_closed(self, timeout):
        """True if the broker closes the connection within timeout (any data it sends first is
        returned in self.trailing), False if it is still open at the deadline."""
        self.sock.settimeout(timeout)
        self.trailing = b""
        try:
            while True:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    return True
                self.trailing += chunk
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    # Convenience wrappers around call().

    def api_versions(self, version=0):
        r = self.call(API_VERSIONS, version, api_versions_request(version))
        return decode_api_versions_response(r, version)

    def metadata(self, version, topics, allow_auto_topic_creation=True):
        r = self.call(METADATA, version, metadata_request(version, topics, allow_auto_topic_creation))
        return decode_metadata_response(r, version)

    def produce(self, version, acks, topic_data, timeout_ms=10000):
        r = self.call(PRODUCE, version, produce_request(version, acks, timeout_ms, topic_data))
        return decode_produce_response(r, version)

    def list_offsets(self, version, topics):
        r = self.call(LIST_OFFSETS, version, list_offsets_request(version, topics))
        return decode_list_offsets_response(r, version)

    def fetch(self, topics, max_wait_ms=0, min_bytes=1, max_bytes=64 << 20):
        r = self.call(FETCH, 4, fetch_request(4, topics, max_wait_ms, min_bytes, max_bytes))
        return decode_fetch_response(r, 4)

    def create_topics(self, version, topics, timeout_ms=10000, validate_only=False):
        r = self.call(CREATE_TOPICS, version, create_topics_request(version, topics, timeout_ms, validate_only))
        return decode_create_topics_response(r, version)
