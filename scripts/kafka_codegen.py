#!/usr/bin/python3
"""Generates the Kafka protocol codec (net/kafka/generated/) from Kafka's message JSON specs.

Reads shared/kafka-protocol/message/*.json (JSON with // comments; the field grammar is
described in shared/kafka-protocol/README.md) and writes, for every API in SUPPORTED_APIS, one
header and source with the request and response structs, their decoders and encoders, plus
the request/response headers, the consumer-protocol data structs, the API key and error code
tables, a decode dispatcher for tools and the fuzzer, and deterministic example values for the
round-trip tests. Every file is run through clang-format, so a rerun reproduces the committed
files byte for byte; tests/fuzz/CMakeLists.txt has a test that fails on any difference.

Python 3 standard library only. Usage:
    scripts/kafka_codegen.py [--spec DIR] [--out DIR] [--clang-format PATH]

Model: Redpanda's src/v/kafka/protocol/schemata/generator.py (read, not copied). What it does
not support (nullable structs, arrays of bytes or nullable strings, fields that are tagged in
some versions and positional in others) is rejected with an error, not guessed at.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

# The broker's planned support: API name (the spec file's name without Request/Response) and
# the inclusive version range. ApiVersions advertises exactly this table. To add versions,
# widen a range here and rerun; the generated code covers precisely these ranges.
SUPPORTED_APIS = [
    ("Produce", 0, 9),
    ("Fetch", 4, 12),
    ("ListOffsets", 1, 7),
    ("Metadata", 0, 12),
    ("OffsetCommit", 0, 8),
    ("OffsetFetch", 0, 8),
    ("FindCoordinator", 0, 4),
    ("JoinGroup", 0, 9),
    ("Heartbeat", 0, 4),
    ("LeaveGroup", 0, 5),
    ("SyncGroup", 0, 5),
    ("DescribeGroups", 0, 5),
    ("ListGroups", 0, 4),
    ("ApiVersions", 0, 3),
    ("CreateTopics", 2, 7),
    ("DeleteTopics", 1, 6),
    ("InitProducerId", 0, 4),
    ("DescribeConfigs", 0, 4),
    ("CreatePartitions", 0, 3),
    ("DeleteGroups", 0, 2),
    ("OffsetDelete", 0, 0),
]

# Standalone structs: (spec name, output file stem). All their valid versions are generated.
HEADER_SPECS = ["RequestHeader", "ResponseHeader"]
DATA_SPECS = ["ConsumerProtocolSubscription", "ConsumerProtocolAssignment"]

# Kafka's error codes (org.apache.kafka.common.protocol.Errors; there is no JSON for them).
ERROR_CODES = [
    (-1, "UNKNOWN_SERVER_ERROR"),
    (0, "NONE"),
    (1, "OFFSET_OUT_OF_RANGE"),
    (2, "CORRUPT_MESSAGE"),
    (3, "UNKNOWN_TOPIC_OR_PARTITION"),
    (4, "INVALID_FETCH_SIZE"),
    (5, "LEADER_NOT_AVAILABLE"),
    (6, "NOT_LEADER_OR_FOLLOWER"),
    (7, "REQUEST_TIMED_OUT"),
    (8, "BROKER_NOT_AVAILABLE"),
    (9, "REPLICA_NOT_AVAILABLE"),
    (10, "MESSAGE_TOO_LARGE"),
    (11, "STALE_CONTROLLER_EPOCH"),
    (12, "OFFSET_METADATA_TOO_LARGE"),
    (13, "NETWORK_EXCEPTION"),
    (14, "COORDINATOR_LOAD_IN_PROGRESS"),
    (15, "COORDINATOR_NOT_AVAILABLE"),
    (16, "NOT_COORDINATOR"),
    (17, "INVALID_TOPIC_EXCEPTION"),
    (18, "RECORD_LIST_TOO_LARGE"),
    (19, "NOT_ENOUGH_REPLICAS"),
    (20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND"),
    (21, "INVALID_REQUIRED_ACKS"),
    (22, "ILLEGAL_GENERATION"),
    (23, "INCONSISTENT_GROUP_PROTOCOL"),
    (24, "INVALID_GROUP_ID"),
    (25, "UNKNOWN_MEMBER_ID"),
    (26, "INVALID_SESSION_TIMEOUT"),
    (27, "REBALANCE_IN_PROGRESS"),
    (28, "INVALID_COMMIT_OFFSET_SIZE"),
    (29, "TOPIC_AUTHORIZATION_FAILED"),
    (30, "GROUP_AUTHORIZATION_FAILED"),
    (31, "CLUSTER_AUTHORIZATION_FAILED"),
    (32, "INVALID_TIMESTAMP"),
    (33, "UNSUPPORTED_SASL_MECHANISM"),
    (34, "ILLEGAL_SASL_STATE"),
    (35, "UNSUPPORTED_VERSION"),
    (36, "TOPIC_ALREADY_EXISTS"),
    (37, "INVALID_PARTITIONS"),
    (38, "INVALID_REPLICATION_FACTOR"),
    (39, "INVALID_REPLICA_ASSIGNMENT"),
    (40, "INVALID_CONFIG"),
    (41, "NOT_CONTROLLER"),
    (42, "INVALID_REQUEST"),
    (43, "UNSUPPORTED_FOR_MESSAGE_FORMAT"),
    (44, "POLICY_VIOLATION"),
    (45, "OUT_OF_ORDER_SEQUENCE_NUMBER"),
    (46, "DUPLICATE_SEQUENCE_NUMBER"),
    (47, "INVALID_PRODUCER_EPOCH"),
    (48, "INVALID_TXN_STATE"),
    (49, "INVALID_PRODUCER_ID_MAPPING"),
    (50, "INVALID_TRANSACTION_TIMEOUT"),
    (51, "CONCURRENT_TRANSACTIONS"),
    (52, "TRANSACTION_COORDINATOR_FENCED"),
    (53, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED"),
    (54, "SECURITY_DISABLED"),
    (55, "OPERATION_NOT_ATTEMPTED"),
    (56, "KAFKA_STORAGE_ERROR"),
    (57, "LOG_DIR_NOT_FOUND"),
    (58, "SASL_AUTHENTICATION_FAILED"),
    (59, "UNKNOWN_PRODUCER_ID"),
    (60, "REASSIGNMENT_IN_PROGRESS"),
    (61, "DELEGATION_TOKEN_AUTH_DISABLED"),
    (62, "DELEGATION_TOKEN_NOT_FOUND"),
    (63, "DELEGATION_TOKEN_OWNER_MISMATCH"),
    (64, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED"),
    (65, "DELEGATION_TOKEN_AUTHORIZATION_FAILED"),
    (66, "DELEGATION_TOKEN_EXPIRED"),
    (67, "INVALID_PRINCIPAL_TYPE"),
    (68, "NON_EMPTY_GROUP"),
    (69, "GROUP_ID_NOT_FOUND"),
    (70, "FETCH_SESSION_ID_NOT_FOUND"),
    (71, "INVALID_FETCH_SESSION_EPOCH"),
    (72, "LISTENER_NOT_FOUND"),
    (73, "TOPIC_DELETION_DISABLED"),
    (74, "FENCED_LEADER_EPOCH"),
    (75, "UNKNOWN_LEADER_EPOCH"),
    (76, "UNSUPPORTED_COMPRESSION_TYPE"),
    (77, "STALE_BROKER_EPOCH"),
    (78, "OFFSET_NOT_AVAILABLE"),
    (79, "MEMBER_ID_REQUIRED"),
    (80, "PREFERRED_LEADER_NOT_AVAILABLE"),
    (81, "GROUP_MAX_SIZE_REACHED"),
    (82, "FENCED_INSTANCE_ID"),
    (83, "ELIGIBLE_LEADERS_NOT_AVAILABLE"),
    (84, "ELECTION_NOT_NEEDED"),
    (85, "NO_REASSIGNMENT_IN_PROGRESS"),
    (86, "GROUP_SUBSCRIBED_TO_TOPIC"),
    (87, "INVALID_RECORD"),
    (88, "UNSTABLE_OFFSET_COMMIT"),
    (89, "THROTTLING_QUOTA_EXCEEDED"),
    (90, "PRODUCER_FENCED"),
    (91, "RESOURCE_NOT_FOUND"),
    (92, "DUPLICATE_RESOURCE"),
    (93, "UNACCEPTABLE_CREDENTIAL"),
    (94, "INCONSISTENT_VOTER_SET"),
    (95, "INVALID_UPDATE_VERSION"),
    (96, "FEATURE_UPDATE_FAILED"),
    (97, "PRINCIPAL_DESERIALIZATION_FAILURE"),
    (98, "SNAPSHOT_NOT_FOUND"),
    (99, "POSITION_OUT_OF_RANGE"),
    (100, "UNKNOWN_TOPIC_ID"),
    (101, "DUPLICATE_BROKER_REGISTRATION"),
    (102, "BROKER_ID_NOT_REGISTERED"),
    (103, "INCONSISTENT_TOPIC_ID"),
    (104, "INCONSISTENT_CLUSTER_ID"),
    (105, "TRANSACTIONAL_ID_NOT_FOUND"),
    (106, "FETCH_SESSION_TOPIC_ID_ERROR"),
    (107, "INELIGIBLE_REPLICA"),
    (108, "NEW_LEADER_ELECTED"),
    (109, "OFFSET_MOVED_TO_TIERED_STORAGE"),
    (110, "FENCED_MEMBER_EPOCH"),
    (111, "UNRELEASED_INSTANCE_ID"),
    (112, "UNSUPPORTED_ASSIGNOR"),
    (113, "STALE_MEMBER_EPOCH"),
    (114, "MISMATCHED_ENDPOINT_TYPE"),
    (115, "UNSUPPORTED_ENDPOINT_TYPE"),
    (116, "UNKNOWN_CONTROLLER_ID"),
    (117, "UNKNOWN_SUBSCRIPTION_ID"),
    (118, "TELEMETRY_TOO_LARGE"),
    (119, "INVALID_REGISTRATION"),
    (120, "TRANSACTION_ABORTABLE"),
    (121, "INVALID_RECORD_STATE"),
    (122, "SHARE_SESSION_NOT_FOUND"),
    (123, "INVALID_SHARE_SESSION_EPOCH"),
    (124, "FENCED_STATE_EPOCH"),
    (125, "INVALID_VOTER_KEY"),
    (126, "DUPLICATE_VOTER"),
    (127, "VOTER_NOT_FOUND"),
]

# Spec type -> (C++ type, Reader/Writer suffix, minimum wire bytes) for fixed-size scalars.
SCALARS = {
    "bool": ("bool", "bool", 1),
    "int8": ("int8_t", "int8", 1),
    "int16": ("int16_t", "int16", 2),
    "int32": ("int32_t", "int32", 4),
    "int64": ("int64_t", "int64", 8),
    "uint16": ("uint16_t", "uint16", 2),
    "uint32": ("uint32_t", "uint32", 4),
    "float64": ("double", "float64", 8),
    "uuid": ("Uuid", "uuid", 16),
}

INT_LIMITS = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
}

# Names the generated code uses for its own locals and types; a spec name that maps onto one
# of them would shadow it, so the generator refuses rather than emit subtly wrong code.
RESERVED_MEMBERS = {"reader", "writer", "version", "flexible", "array_count", "element",
                    "tag", "tag_count", "tag_index", "tag_end", "mark", "other"}
RESERVED_TYPES = {"Reader", "Writer", "Records", "Uuid", "ByteView", "Mark"}
CPP_KEYWORDS = {"default", "operator", "class", "namespace", "register", "delete", "new",
                "template", "typename", "union", "private", "public", "protected", "this",
                "switch", "case", "do", "for", "while", "if", "else", "return", "int", "char",
                "bool", "auto", "const", "static", "struct", "enum", "long", "short"}

VERSION_MAX = 0x7FFF


class SpecError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Spec reading


def strip_comments(text):
    """Removes // comments outside string literals, keeping line structure."""
    out = []
    for line in text.split("\n"):
        kept = []
        in_string = False
        i = 0
        while i < len(line):
            c = line[i]
            if in_string:
                kept.append(c)
                if c == "\\" and i + 1 < len(line):
                    kept.append(line[i + 1])
                    i += 1
                elif c == '"':
                    in_string = False
            elif c == '"':
                in_string = True
                kept.append(c)
            elif line.startswith("//", i):
                break
            else:
                kept.append(c)
            i += 1
        out.append("".join(kept))
    return "\n".join(out)


def load_spec(spec_dir, name):
    path = os.path.join(spec_dir, name + ".json")
    with open(path, encoding="utf-8") as f:
        return json.loads(strip_comments(f.read()))


class Versions:
    """An inclusive version range; empty when lo > hi. Open-ended ranges end at VERSION_MAX."""

    def __init__(self, lo, hi):
        self.lo = lo
        self.hi = hi

    @staticmethod
    def parse(text):
        text = text.strip()
        if text == "none":
            return Versions(1, 0)
        if text.endswith("+"):
            return Versions(int(text[:-1]), VERSION_MAX)
        if "-" in text:
            lo, hi = text.split("-")
            return Versions(int(lo), int(hi))
        return Versions(int(text), int(text))

    def empty(self):
        return self.lo > self.hi

    def intersect(self, other):
        return Versions(max(self.lo, other.lo), min(self.hi, other.hi))

    def hull(self, other):
        if self.empty():
            return other
        if other.empty():
            return self
        return Versions(min(self.lo, other.lo), max(self.hi, other.hi))

    def contains(self, other):
        return other.empty() or (self.lo <= other.lo and other.hi <= self.hi)

    def __contains__(self, version):
        return self.lo <= version <= self.hi

    def __eq__(self, other):
        return (self.empty() and other.empty()) or (self.lo, self.hi) == (other.lo, other.hi)

    def __str__(self):
        if self.empty():
            return "none"
        if self.hi == VERSION_MAX:
            return "%d+" % self.lo
        if self.lo == self.hi:
            return str(self.lo)
        return "%d-%d" % (self.lo, self.hi)


def version_condition(present, context):
    """A C++ condition on `version` that is true for versions in `present` within `context`,
    or None when it always holds there. `present` must be a non-empty part of `context`."""
    present = present.intersect(context)
    assert not present.empty()
    parts = []
    if present.lo > context.lo:
        parts.append("version >= %d" % present.lo)
    if present.hi < context.hi:
        parts.append("version <= %d" % present.hi)
    return " && ".join(parts) if parts else None


def snake_case(name):
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.lower()


def cpp_string_literal(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------------------------------
# Model


class FieldType:
    """kind: a SCALARS key, 'string', 'bytes', 'records', 'struct' or 'array'."""

    def __init__(self, kind, element=None, struct=None):
        self.kind = kind
        self.element = element
        self.struct = struct


class Field:
    def __init__(self, spec, owner):
        self.name = spec["name"]
        self.member = snake_case(self.name)
        if self.member in RESERVED_MEMBERS or self.member in CPP_KEYWORDS:
            raise SpecError("%s.%s: field name %s collides with generated code"
                            % (owner.name, self.name, self.member))
        self.type_text = spec["type"]
        self.versions = Versions.parse(spec["versions"])
        self.nullable = Versions.parse(spec.get("nullableVersions", "none"))
        self.tag = spec.get("tag")
        self.tagged = Versions.parse(spec["taggedVersions"]) if "taggedVersions" in spec \
            else Versions(1, 0)
        self.flexible_override = Versions.parse(spec["flexibleVersions"]) \
            if "flexibleVersions" in spec else None
        self.default = spec.get("default")
        self.about = spec.get("about", "")
        self.ignorable = spec.get("ignorable", False)
        self.type = None  # resolved by Message
        if self.tag is not None and not (self.tagged == self.versions):
            raise SpecError("%s.%s: fields tagged in only some of their versions are not "
                            "supported" % (owner.name, self.name))


class Struct:
    def __init__(self, name, field_specs, message):
        if name in RESERVED_TYPES:
            raise SpecError("%s: struct name %s collides with codec types" % (message, name))
        self.name = name
        self.field_specs = field_specs
        self.fields = []
        self.context = Versions(1, 0)  # the versions in which this struct is on the wire
        self.qualified = name


class Message:
    """One spec file: its top-level struct and all nested structs, versions pruned to
    `supported`."""

    def __init__(self, spec, supported):
        self.spec = spec
        self.name = spec["name"]
        self.kind = spec["type"]
        self.api_key = spec.get("apiKey")
        self.valid = Versions.parse(spec["validVersions"])
        self.flexible = Versions.parse(spec.get("flexibleVersions", "none"))
        if not self.valid.contains(supported):
            raise SpecError("%s: supported versions %s outside valid %s"
                            % (self.name, supported, self.valid))
        self.supported = supported
        self.structs = {}  # name -> Struct, nested ones only
        self.order = []  # nested structs, each after the structs it uses
        self.common = {c["name"]: c for c in spec.get("commonStructs", [])}
        self.top = Struct(self.name, spec["fields"], self.name)
        self.top.context = supported
        self.build_fields(self.top)
        self.top.qualified = self.name
        for struct in self.order:
            struct.qualified = self.name + "::" + struct.name

    def resolve_type(self, text, spec, owner):
        if text.startswith("[]"):
            element = self.resolve_type(text[2:], spec, owner)
            if element.kind in ("bytes", "records", "array", "bool"):
                raise SpecError("%s: arrays of %s are not supported" % (owner.name, text[2:]))
            return FieldType("array", element=element)
        if text in SCALARS or text in ("string", "bytes", "records"):
            return FieldType(text)
        if not text[:1].isupper():
            raise SpecError("%s: unknown type %s" % (owner.name, text))
        if text in self.structs:
            struct = self.structs[text]
            if "fields" in spec and spec["fields"] is not struct.field_specs:
                raise SpecError("%s: struct %s defined twice" % (self.name, text))
            return FieldType("struct", struct=struct)
        if "fields" in spec:
            fields = spec["fields"]
        elif text in self.common:
            fields = self.common[text]["fields"]
        else:
            raise SpecError("%s: struct %s has no definition" % (self.name, text))
        struct = Struct(text, fields, self.name)
        self.structs[text] = struct
        return FieldType("struct", struct=struct)

    def build_fields(self, struct):
        """Resolves `struct`'s fields present in its context and recurses into new structs."""
        fields = []
        for spec in struct.field_specs:
            field = Field(spec, struct)
            present = field.versions.intersect(struct.context)
            if present.empty():
                continue
            field.type = self.resolve_type(field.type_text, spec, struct)
            inner = field.type.element if field.type.kind == "array" else field.type
            if field.type.kind == "struct" and not field.nullable.intersect(present).empty():
                raise SpecError("%s.%s: nullable structs are not supported"
                                % (struct.name, field.name))
            if field.type.kind == "array" and inner.kind == "string" \
                    and not field.nullable.empty():
                pass  # the array itself may be nullable; its strings may not
            fields.append(field)
            if inner.kind == "struct":
                child = inner.struct
                first_visit = child.context.empty()
                child.context = child.context.hull(present)
                if first_visit:
                    self.build_fields(child)
                    self.order.append(child)
                elif not child.context.contains(present):
                    raise SpecError("%s: struct %s used in versions it was not built for"
                                    % (self.name, child.name))
        struct.fields = fields

    # Flexibility -----------------------------------------------------------------------------

    def field_flexible(self, field):
        return field.flexible_override if field.flexible_override is not None else self.flexible

    def flexible_at(self, version):
        return version in self.flexible

    # Wire sizes ------------------------------------------------------------------------------

    def type_min_bytes(self, field_type, flexible, version):
        kind = field_type.kind
        if kind in SCALARS:
            return SCALARS[kind][2]
        if kind == "string":
            return 1 if flexible else 2
        if kind in ("bytes", "records", "array"):
            return 1 if flexible else 4
        if kind == "struct":
            return self.struct_min_bytes(field_type.struct, version)
        raise AssertionError(kind)

    def struct_min_bytes(self, struct, version):
        total = 1 if self.flexible_at(version) else 0
        for field in struct.fields:
            if version not in field.versions or version in field.tagged:
                continue
            flexible = version in self.field_flexible(field)
            total += self.type_min_bytes(field.type, flexible, version)
        return total

    def element_min_bytes(self, field, context):
        """The fewest bytes one element of array `field` takes in any version of `context`."""
        element = field.type.element
        present = field.versions.intersect(context)
        sizes = []
        for version in range(present.lo, present.hi + 1):
            flexible = version in self.field_flexible(field)
            sizes.append(self.type_min_bytes(element, flexible, version))
        return min(sizes)


# ---------------------------------------------------------------------------------------------
# C++ emission helpers


def wrap_comment(text, indent, width=100):
    words = text.split()
    lines = []
    line = indent + "//"
    for word in words:
        if len(line) + 1 + len(word) > width and line != indent + "//":
            lines.append(line)
            line = indent + "//"
        line += " " + word
    if line != indent + "//":
        lines.append(line)
    return lines


def is_nullable_anywhere(field, context):
    return not field.nullable.intersect(field.versions).intersect(context).empty()


def cpp_type(field, context):
    ftype = field.type
    nullable = is_nullable_anywhere(field, context)
    if ftype.kind in SCALARS:
        return SCALARS[ftype.kind][0]
    if ftype.kind == "string":
        return "std::optional<std::string_view>" if nullable else "std::string_view"
    if ftype.kind == "bytes":
        return "std::optional<ByteView>" if nullable else "ByteView"
    if ftype.kind == "records":
        return "Records"
    if ftype.kind == "struct":
        return ftype.struct.name
    if ftype.kind == "array":
        element = ftype.element
        if element.kind in SCALARS:
            inner = SCALARS[element.kind][0]
        elif element.kind == "string":
            inner = "std::string_view"
        else:
            inner = element.struct.name
        vector = "std::vector<%s>" % inner
        return "std::optional<%s>" % vector if nullable else vector
    raise AssertionError(ftype.kind)


def int_literal(kind, value):
    lo, hi = INT_LIMITS[kind]
    if not lo <= value <= hi:
        raise SpecError("default %d out of range for %s" % (value, kind))
    if value == lo and lo != 0:
        return "std::numeric_limits<%s>::min()" % SCALARS[kind][0]
    if kind == "int64":
        return "int64_t{%d}" % value
    return str(value)


def default_value(field, context):
    """The C++ expression for the field's default, or None for a value-initialised member."""
    kind = field.type.kind
    default = field.default
    if default is None:
        return None
    if kind in INT_LIMITS:
        text = str(default).strip()
        value = int(text, 16) if text.lower().startswith(("0x", "-0x")) else int(text)
        return None if value == 0 else int_literal(kind, value)
    if kind == "bool":
        if default not in ("true", "false"):
            raise SpecError("%s: bad bool default %s" % (field.name, default))
        return "true" if default == "true" else None
    if kind in ("string", "bytes", "records", "array", "struct"):
        if default == "null":
            if kind != "records" and not is_nullable_anywhere(field, context):
                raise SpecError("%s: null default on a non-nullable field" % field.name)
            return None
        if kind == "string":
            return None if default == "" else cpp_string_literal(default)
        raise SpecError("%s: unsupported default %r" % (field.name, default))
    if kind == "float64":
        return None if float(default) == 0 else repr(float(default))
    raise SpecError("%s: unsupported default %r for %s" % (field.name, default, kind))


def non_default_condition(field, context):
    """A C++ condition that holds when the member does not hold its default (tagged fields
    with their default value are not written)."""
    member = field.member
    kind = field.type.kind
    nullable = is_nullable_anywhere(field, context)
    default = default_value(field, context)
    if kind in SCALARS:
        if kind == "uuid":
            return "%s != Uuid{}" % member
        if kind == "bool":
            return "!%s" % member if default == "true" else member
        return "%s != %s" % (member, default if default is not None else "0")
    if kind == "string":
        if nullable:
            if field.default == "null":
                return "%s.has_value()" % member
            return "%s != std::optional<std::string_view>(%s)" % (
                member, default if default is not None else '""')
        return "%s != %s" % (member, default) if default is not None else "!%s.empty()" % member
    if kind == "bytes":
        return "%s.has_value()" % member if nullable else "!%s.empty()" % member
    if kind == "records":
        return "!%s.is_null()" % member
    if kind == "array":
        return "%s.has_value()" % member if nullable else "!%s.empty()" % member
    if kind == "struct":
        return "!(%s == %s{})" % (member, field.type.struct.name)
    raise AssertionError(kind)


class Body:
    """Lines of a function body with a flexible placeholder, resolved once the body is done."""

    FLEX = "@flexible@"

    def __init__(self):
        self.lines = []

    def add(self, line):
        self.lines.append(line)

    def extend(self, lines):
        self.lines.extend(lines)

    def text(self, flexible_expression):
        text = "\n".join(self.lines)
        prelude = ""
        if self.FLEX in text:
            if flexible_expression in ("true", "false"):
                text = text.replace(self.FLEX, flexible_expression)
            else:
                prelude = "    const bool flexible = %s;\n" % flexible_expression
                text = text.replace(self.FLEX, "flexible")
        return prelude + text


# ---------------------------------------------------------------------------------------------
# Per-struct code


class StructEmitter:
    def __init__(self, message, struct):
        self.message = message
        self.struct = struct
        self.context = struct.context
        flexible = message.flexible.intersect(self.context)
        if flexible.empty():
            self.flexible_expression = "false"
        elif flexible == self.context:
            self.flexible_expression = "true"
        else:
            self.flexible_expression = "version >= %d" % flexible.lo
        self.flexible_context = flexible

    def positional(self):
        return [f for f in self.struct.fields if f.tag is None]

    def tagged(self):
        fields = [f for f in self.struct.fields
                  if f.tag is not None and not f.tagged.intersect(self.flexible_context).empty()]
        return sorted(fields, key=lambda f: f.tag)

    def field_flex(self, field):
        """The flexible expression (placeholder or literal) for a positional field."""
        if field.flexible_override is not None:
            override = field.flexible_override.intersect(self.context)
            if override.empty():
                return "false"
            if override == self.context:
                return "true"
            return "(version >= %d)" % override.lo
        return Body.FLEX

    def nullable_condition(self, field, present):
        """'always', 'never', or a C++ condition, for null being allowed on the wire."""
        nullable = field.nullable.intersect(present)
        if nullable.empty():
            return "never"
        if nullable == present:
            return "always"
        return version_condition(nullable, present)

    # Declaration -----------------------------------------------------------------------------

    def declaration(self, indent):
        pad = " " * indent
        lines = []
        for field in self.struct.fields:
            notes = "Versions %s" % field.versions
            if not field.nullable.empty():
                notes += ", nullable %s" % field.nullable
            if field.tag is not None:
                notes += ", tag %d" % field.tag
            about = field.about.strip()
            if about and not about.endswith("."):
                about += "."
            lines.extend(wrap_comment("%s (%s.)" % (about, notes) if about else notes + ".",
                                      pad))
            default = default_value(field, self.context)
            ctype = cpp_type(field, self.context)
            if default is not None:
                lines.append("%s%s %s = %s;" % (pad, ctype, field.member, default))
            elif field.type.kind in SCALARS:
                lines.append("%s%s %s{};" % (pad, ctype, field.member))
            else:
                lines.append("%s%s %s;" % (pad, ctype, field.member))
            lines.append("")
        lines.append("%s// Reads or writes the fields of `version`, which the enclosing message has "
                     "checked." % pad)
        lines.append("%svoid read(Reader& reader, int16_t version);" % pad)
        lines.append("")
        lines.append("%svoid write(Writer& writer, int16_t version) const;" % pad)
        lines.append("")
        lines.append("%sbool operator==(const %s& other) const;" % (pad, self.struct.name))
        return lines

    # Reading ---------------------------------------------------------------------------------

    def read_value(self, field, target, flex, present, indent, bare=False):
        """Lines reading one value of the field's type into `target`. `bare`: the lines go in
        a block of their own, so an array's locals need no extra braces."""
        pad = " " * indent
        kind = field.type.kind
        if kind in SCALARS:
            return ["%s%s = reader.read_%s();" % (pad, target, SCALARS[kind][1])]
        if kind == "struct":
            return ["%s%s.read(reader, version);" % (pad, target)]
        nullable = self.nullable_condition(field, present)
        if kind in ("string", "bytes"):
            plain = "reader.read_%s(%s)" % (kind, flex)
            null = "reader.read_nullable_%s(%s)" % (kind, flex)
            if nullable == "never":
                return ["%s%s = %s;" % (pad, target, plain)]
            if nullable == "always":
                return ["%s%s = %s;" % (pad, target, null)]
            return ["%sif (%s) {" % (pad, nullable), "%s    %s = %s;" % (pad, target, null),
                    "%s} else {" % pad, "%s    %s = %s;" % (pad, target, plain), "%s}" % pad]
        if kind == "records":
            return ["%s%s = reader.read_records(%s);" % (pad, target, flex)]
        if kind == "array":
            lines = self.read_array(field, target, flex, present, nullable, indent)
            if bare:
                lines = [line[4:] for line in lines[1:-1]]
            return lines
        raise AssertionError(kind)

    def read_element(self, element, flex, indent):
        pad = " " * indent
        if element.kind in SCALARS:
            return "%selement = reader.read_%s();" % (pad, SCALARS[element.kind][1])
        if element.kind == "string":
            return "%selement = reader.read_string(%s);" % (pad, flex)
        return "%selement.read(reader, version);" % pad

    def read_array(self, field, target, flex, present, nullable, indent):
        pad = " " * indent
        element = field.type.element
        min_bytes = self.message.element_min_bytes(field, present)
        element_type = cpp_type(field, self.context)
        element_type = re.sub(r"^(std::optional<)?std::vector<(.*?)>>?$", r"\2", element_type)
        lines = ["%s{" % pad]
        if nullable == "never":
            lines.append("%s    const int32_t array_count = reader.read_array_count(%s, %d);"
                         % (pad, flex, min_bytes))
        elif nullable == "always":
            lines.append("%s    const int32_t array_count = reader.read_nullable_array_count(%s, %d);"
                         % (pad, flex, min_bytes))
        else:
            lines.append("%s    const int32_t array_count = (%s) ? "
                         "reader.read_nullable_array_count(%s, %d) : "
                         "reader.read_array_count(%s, %d);"
                         % (pad, nullable, flex, min_bytes, flex, min_bytes))
        if nullable == "never":
            lines.append("%s    %s.resize(static_cast<size_t>(array_count));" % (pad, target))
            lines.append("%s    for (%s& element : %s) {" % (pad, element_type, target))
            lines.append(self.read_element(element, flex, len(pad) + 8))
            lines.append("%s    }" % pad)
        else:
            lines.append("%s    if (array_count < 0) {" % pad)
            lines.append("%s        %s.reset();" % (pad, target))
            lines.append("%s    } else {" % pad)
            lines.append("%s        %s.emplace(static_cast<size_t>(array_count));" % (pad, target))
            lines.append("%s        for (%s& element : *%s) {" % (pad, element_type, target))
            lines.append(self.read_element(element, flex, len(pad) + 12))
            lines.append("%s        }" % pad)
            lines.append("%s    }" % pad)
        lines.append("%s}" % pad)
        return lines

    def read_body(self):
        body = Body()
        for field in self.positional():
            present = field.versions.intersect(self.context)
            condition = version_condition(present, self.context)
            flex = self.field_flex(field)
            if condition:
                body.add("    if (%s) {" % condition)
                body.extend(self.read_value(field, field.member, flex, present, 8, bare=True))
                body.add("    }")
            else:
                body.extend(self.read_value(field, field.member, flex, present, 4))
        if self.flexible_expression != "false":
            lines = self.read_tagged_section()
            if self.flexible_expression == "true":
                body.extend(lines)
            else:
                body.add("    if (%s) {" % Body.FLEX)
                body.extend("    " + line for line in lines)
                body.add("    }")
        return body

    def read_tagged_section(self):
        tagged = self.tagged()
        if not tagged:
            return ["    reader.skip_tagged_fields();"]
        lines = [
            "    const uint32_t tag_count = reader.read_uvarint();",
            "    for (uint32_t tag_index = 0; tag_index < tag_count && reader.ok(); ++tag_index) {",
            "        uint32_t tag = 0;",
            "        const size_t tag_end = reader.begin_tagged_field(tag);",
        ]
        keyword = "if"
        for field in tagged:
            present = field.tagged.intersect(field.versions).intersect(self.flexible_context)
            condition = version_condition(present, self.flexible_context)
            test = "tag == %d" % field.tag
            if condition:
                test += " && %s" % condition
            lines.append("        %s (%s) {" % (keyword, test))
            lines.extend(self.read_value(field, field.member, "true", present, 12, bare=True))
            keyword = "} else if"
        lines.append("        } else {")
        lines.append("            reader.skip_to(tag_end);")
        lines.append("        }")
        lines.append("        reader.end_tagged_field(tag_end);")
        lines.append("    }")
        return lines

    # Writing ---------------------------------------------------------------------------------

    def write_element(self, element, flex, indent):
        pad = " " * indent
        if element.kind in SCALARS:
            return "%swriter.write_%s(element);" % (pad, SCALARS[element.kind][1])
        if element.kind == "string":
            return "%swriter.write_string(element, %s);" % (pad, flex)
        return "%selement.write(writer, version);" % pad

    def write_value(self, field, flex, present, indent):
        pad = " " * indent
        kind = field.type.kind
        member = field.member
        if kind in SCALARS:
            return ["%swriter.write_%s(%s);" % (pad, SCALARS[kind][1], member)]
        if kind == "struct":
            return ["%s%s.write(writer, version);" % (pad, member)]
        if kind == "records":
            return ["%swriter.write_records(%s, %s);" % (pad, member, flex)]
        nullable = self.nullable_condition(field, present)
        optional = is_nullable_anywhere(field, self.context)
        if kind in ("string", "bytes"):
            if not optional:
                return ["%swriter.write_%s(%s, %s);" % (pad, kind, member, flex)]
            # A null in a version where the field is not nullable goes out empty: Metadata v0,
            # for one, means "all topics" by an empty array where later versions use null.
            empty = "std::string_view{}" if kind == "string" else "ByteView{}"
            plain = "writer.write_%s(%s.value_or(%s), %s);" % (kind, member, empty, flex)
            null = "writer.write_nullable_%s(%s, %s);" % (kind, member, flex)
            if nullable == "always":
                return [pad + null]
            if nullable == "never":
                return [pad + plain]
            return ["%sif (%s) {" % (pad, nullable), "%s    %s" % (pad, null), "%s} else {" % pad,
                    "%s    %s" % (pad, plain), "%s}" % pad]
        if kind == "array":
            element = field.type.element
            element_type = re.sub(r"^(std::optional<)?std::vector<(.*?)>>?$", r"\2",
                                  cpp_type(field, self.context))
            loop_type = "const %s&" % element_type if element.kind == "struct" else element_type
            if not optional:
                return ["%swriter.write_array_count(%s.size(), %s);" % (pad, member, flex),
                        "%sfor (%s element : %s) {" % (pad, loop_type, member),
                        self.write_element(element, flex, indent + 4), "%s}" % pad]
            lines = ["%sif (%s.has_value()) {" % (pad, member),
                     "%s    writer.write_array_count(%s->size(), %s);" % (pad, member, flex),
                     "%s    for (%s element : *%s) {" % (pad, loop_type, member),
                     self.write_element(element, flex, indent + 8), "%s    }" % pad]
            if nullable == "always":
                lines += ["%s} else {" % pad, "%s    writer.write_null_array(%s);" % (pad, flex)]
            elif nullable == "never":
                lines += ["%s} else {" % pad,
                          "%s    writer.write_array_count(0, %s);" % (pad, flex)]
            else:
                lines += ["%s} else if (%s) {" % (pad, nullable),
                          "%s    writer.write_null_array(%s);" % (pad, flex),
                          "%s} else {" % pad,
                          "%s    writer.write_array_count(0, %s);" % (pad, flex)]
            lines.append("%s}" % pad)
            return lines
        raise AssertionError(kind)

    def write_body(self):
        body = Body()
        for field in self.positional():
            present = field.versions.intersect(self.context)
            condition = version_condition(present, self.context)
            flex = self.field_flex(field)
            if condition:
                body.add("    if (%s) {" % condition)
                body.extend(self.write_value(field, flex, present, 8))
                body.add("    }")
            else:
                body.extend(self.write_value(field, flex, present, 4))
        if self.flexible_expression != "false":
            lines = self.write_tagged_section()
            if self.flexible_expression == "true":
                body.extend(lines)
            else:
                body.add("    if (%s) {" % Body.FLEX)
                body.extend("    " + line for line in lines)
                body.add("    }")
        return body

    def write_tagged_section(self):
        tagged = self.tagged()
        if not tagged:
            return ["    writer.write_uvarint(0);"]
        lines = []
        flags = []
        for field in tagged:
            present = field.tagged.intersect(field.versions).intersect(self.flexible_context)
            condition = version_condition(present, self.flexible_context)
            test = non_default_condition(field, self.context)
            if condition:
                test = "%s && %s" % (condition, test)
            flag = "tag_%d_present" % field.tag
            flags.append(flag)
            lines.append("    const bool %s = %s;" % (flag, test))
        lines.append("    writer.write_uvarint(%s);"
                     % " + ".join("uint32_t{%s}" % flag for flag in flags))
        for field, flag in zip(tagged, flags):
            present = field.tagged.intersect(field.versions).intersect(self.flexible_context)
            lines.append("    if (%s) {" % flag)
            lines.append("        writer.write_uvarint(%d);" % field.tag)
            lines.append("        const Writer::Mark mark = writer.begin_uvarint_size();")
            lines.extend(self.write_value(field, "true", present, 8))
            lines.append("        writer.end_uvarint_size(mark);")
            lines.append("    }")
        return lines

    # Equality and definitions ----------------------------------------------------------------

    def equality_body(self):
        terms = []
        for field in self.struct.fields:
            if field.type.kind == "bytes":
                terms.append("bytes_equal(%s, other.%s)" % (field.member, field.member))
            else:
                terms.append("%s == other.%s" % (field.member, field.member))
        if not terms:
            return "    return true;"
        return "    return " + "\n        && ".join(terms) + ";"

    def definitions(self):
        qualified = self.struct.qualified
        out = []
        read = self.read_body().text(self.flexible_expression)
        write = self.write_body().text(self.flexible_expression)
        for signature, body in (
                ("void %s::read(Reader& reader, int16_t version)" % qualified, read),
                ("void %s::write(Writer& writer, int16_t version) const" % qualified, write)):
            if not re.search(r"\bversion\b", body):
                signature = signature.replace("int16_t version", "int16_t /*version*/")
            if not re.search(r"\breader\b", body):
                signature = signature.replace("Reader& reader", "Reader& /*reader*/")
            if not re.search(r"\bwriter\b", body):
                signature = signature.replace("Writer& writer", "Writer& /*writer*/")
            out.append(signature + " {")
            if body.strip():
                out.append(body)
            out.append("}")
            out.append("")
        other = "other" if self.struct.fields else "/*other*/"
        out.append("bool %s::operator==(const %s& %s) const {"
                   % (qualified, self.struct.name, other))
        out.append(self.equality_body())
        out.append("}")
        out.append("")
        return out

    # Examples (test support) -----------------------------------------------------------------

    def example_value(self, kind, salt, avoid, element=None):
        if kind in INT_LIMITS:
            ctype = SCALARS[kind][0]
            return "example_int<%s>(seed, %d, %s)" % (ctype, salt, avoid or "0")
        if kind == "bool":
            return "true" if avoid != "true" else "false"
        if kind == "float64":
            return "example_float(seed, %d)" % salt
        if kind == "uuid":
            return "example_uuid(seed, %d)" % salt
        if kind == "string":
            return "example_string(seed, %d)" % salt
        if kind == "bytes":
            return "example_bytes(seed, %d)" % salt
        if kind == "records":
            return "example_records(seed, %d)" % salt
        raise AssertionError(kind)

    def example_body(self):
        lines = []
        for salt, field in enumerate(self.struct.fields, start=1):
            present = field.versions.intersect(self.context)
            if field.tag is not None:
                present = present.intersect(field.tagged).intersect(self.flexible_context)
                if present.empty():
                    continue
            condition = version_condition(present, self.context)
            inner = []
            kind = field.type.kind
            member = "value." + field.member
            nullable = self.nullable_condition(field, present)
            if kind == "array":
                element = field.type.element
                target = "(*%s)" % member if is_nullable_anywhere(field, self.context) else member
                fill = ["%s.emplace();" % member] if target != member else []
                fill.append("%s.resize(2);" % target)
                fill.append("for (size_t index = 0; index < 2; ++index) {")
                if element.kind == "struct":
                    fill.append("    fill_example(%s[index], version, "
                                "example_seed(seed, %d, index));" % (target, salt))
                else:
                    value = self.example_value(element.kind, salt, None)
                    value = value.replace("(seed,", "(example_seed(seed, %d, index)," % salt)
                    fill.append("    %s[index] = %s;" % (target, value))
                fill.append("}")
            elif kind == "struct":
                fill = ["fill_example(%s, version, example_seed(seed, %d, 0));" % (member, salt)]
            else:
                default = default_value(field, self.context)
                fill = ["%s = %s;" % (member, self.example_value(kind, salt, default))]
            if nullable != "never":
                null_test = "example_null(seed, %d)" % salt
                if nullable != "always":
                    null_test = "(%s) && %s" % (nullable, null_test)
                reset = "%s.reset();" % member
                inner.append("if (%s) {" % null_test)
                inner.append("    " + reset)
                inner.append("} else {")
                inner.extend("    " + line for line in fill)
                inner.append("}")
            else:
                inner.extend(fill)
            if condition:
                lines.append("    if (%s) {" % condition)
                lines.extend("        " + line for line in inner)
                lines.append("    }")
            else:
                lines.extend("    " + line for line in inner)
        return lines

    def example_function(self):
        qualified = self.struct.qualified
        body = self.example_body()
        text = "\n".join(body)
        params = ["%s& %s" % (qualified, "value" if re.search(r"\bvalue\b", text) else "/*value*/"),
                  "int16_t version" if re.search(r"\bversion\b", text)
                  else "int16_t /*version*/",
                  "uint32_t seed" if re.search(r"\bseed\b", text) else "uint32_t /*seed*/"]
        out = ["inline void fill_example(%s) {" % ", ".join(params)]
        out.extend(body)
        out.append("}")
        out.append("")
        return out


# ---------------------------------------------------------------------------------------------
# Files

BANNER = ("// generated by scripts/kafka_codegen.py from shared/kafka-protocol/message/{sources};"
          " do not edit.")


def banner(sources, purpose):
    lines = [BANNER.format(sources=", ".join(s + ".json" for s in sources))]
    lines.extend(wrap_comment(purpose, ""))
    return lines


def message_declaration(message, extra_members):
    """The top-level struct with its nested structs declared inside it."""
    lines = []
    top = message.top
    if message.kind in ("request", "response"):
        lines.append("struct %s {" % top.name)
        lines.append("    static constexpr ApiKey api_key = ApiKey::%s;"
                     % snake_case(message.name[: -len("Request")]
                                  if message.kind == "request" else
                                  message.name[: -len("Response")]))
    else:
        lines.append("struct %s {" % top.name)
    lines.append("    static constexpr int16_t min_version = %d;" % message.supported.lo)
    lines.append("    static constexpr int16_t max_version = %d;" % message.supported.hi)
    flexible = message.flexible.intersect(message.supported)
    lines.append("    // The first flexible (KIP-482) version, or -1 when none is supported.")
    lines.append("    static constexpr int16_t first_flexible_version = %d;"
                 % (flexible.lo if not flexible.empty() else -1))
    lines.append("")
    for struct in message.order:
        lines.append("    struct %s {" % struct.name)
        lines.extend(StructEmitter(message, struct).declaration(8))
        lines.append("    };")
        lines.append("")
    lines.extend(StructEmitter(message, top).declaration(4))
    lines.append("")
    lines.append("    // Decodes `version` from `reader`: kUnimplemented for a version outside "
                 "min_version..max_version, kInvalidArgument for malformed bytes. Strings and "
                 "bytes are views into the reader's frame. Trailing bytes are left unread.")
    lines.append("    [[nodiscard]] absl::Status decode(Reader& reader, int16_t version);")
    lines.append("")
    lines.append("    // Encodes `version`, which must be in min_version..max_version. Fields "
                 "that `version` lacks are left out even when they hold a value.")
    lines.append("    void encode(Writer& writer, int16_t version) const;")
    lines.extend(extra_members)
    lines.append("};")
    lines.append("")
    return lines


def message_definitions(message):
    lines = []
    for struct in message.order + [message.top]:
        lines.extend(StructEmitter(message, struct).definitions())
    name = message.name
    lines.append("absl::Status %s::decode(Reader& reader, int16_t version) {" % name)
    lines.append("    if (version < min_version || version > max_version) {")
    lines.append("        return unsupported_version(%s, version);" % cpp_string_literal(name))
    lines.append("    }")
    lines.append("    read(reader, version);")
    lines.append("    return decode_result(reader, %s, version);" % cpp_string_literal(name))
    lines.append("}")
    lines.append("")
    lines.append("void %s::encode(Writer& writer, int16_t version) const {" % name)
    lines.append("    assert_encodable_version(%s, version, min_version, max_version);"
                 % cpp_string_literal(name))
    lines.append("    write(writer, version);")
    lines.append("}")
    lines.append("")
    return lines


HEADER_INCLUDES = [
    "#include <cstddef>",
    "#include <cstdint>",
    "#include <limits>",
    "#include <optional>",
    "#include <string_view>",
    "#include <vector>",
    "",
    "#include <absl/status/status.h>",
    "",
    '#include "net/kafka/generated/api_keys.h"',
    '#include "net/kafka/protocol/reader.h"',
    '#include "net/kafka/protocol/types.h"',
    '#include "net/kafka/protocol/writer.h"',
]


def header_file(sources, purpose, messages, extra_decls=None, extra_members=None):
    lines = banner(sources, purpose)
    lines.append("#pragma once")
    lines.append("")
    lines.extend(HEADER_INCLUDES)
    lines.append("")
    lines.append("namespace ringlog::net::kafka {")
    lines.append("")
    for message in messages:
        lines.extend(message_declaration(message, (extra_members or {}).get(message.name, [])))
    if extra_decls:
        lines.extend(extra_decls)
    lines.append("}  // namespace ringlog::net::kafka")
    return lines


def source_file(sources, stem, messages, extra_defs=None):
    lines = banner(sources, "Decoders and encoders declared in %s.h." % stem)
    lines.append('#include "net/kafka/generated/%s.h"' % stem)
    lines.append("")
    lines.append("namespace ringlog::net::kafka {")
    lines.append("")
    for message in messages:
        lines.extend(message_definitions(message))
    if extra_defs:
        lines.extend(extra_defs)
    lines.append("}  // namespace ringlog::net::kafka")
    return lines


def api_keys_files(all_specs):
    """api_keys.h/.cc: every API key in the spec, the supported ranges, the error codes."""
    keys = sorted({(s["apiKey"], s["name"][: -len("Request")]) for s in all_specs
                   if s.get("type") == "request"})
    flexible = {}
    for spec in all_specs:
        if spec.get("type") == "request":
            versions = Versions.parse(spec.get("flexibleVersions", "none"))
            flexible[spec["apiKey"]] = -1 if versions.empty() else versions.lo
    supported = sorted(((dict((n, k) for k, n in keys)[name], name, lo, hi)
                        for name, lo, hi in SUPPORTED_APIS))
    h = banner(["*Request"], "Kafka API keys, the API versions this broker supports (what "
               "ApiVersions advertises), the protocol's flexible-version thresholds, and "
               "Kafka's error codes (org.apache.kafka.common.protocol.Errors, written out by "
               "hand in the generator: there is no JSON for them).")
    h += ["#pragma once", "", "#include <array>", "#include <cstdint>", "#include <string_view>",
          "", "namespace ringlog::net::kafka {", ""]
    h.append("// Every API key the spec defines (also the unsupported ones, so that logs can "
             "name them).")
    h.append("enum class ApiKey : int16_t {")
    for key, name in keys:
        h.append("    %s = %d," % (snake_case(name), key))
    h.append("};")
    h.append("")
    h.append("inline constexpr int16_t api_key_max = %d;" % max(k for k, _ in keys))
    h.append("")
    h.append("struct ApiVersionRange {")
    h.append("    ApiKey api_key;")
    h.append("    int16_t min_version;")
    h.append("    int16_t max_version;")
    h.append("};")
    h.append("")
    h.append("// The APIs and versions the generated codec covers and the broker advertises, "
             "sorted by key.")
    h.append("inline constexpr std::array<ApiVersionRange, %d> supported_api_versions{{"
             % len(supported))
    for key, name, lo, hi in supported:
        h.append("    {ApiKey::%s, %d, %d}," % (snake_case(name), lo, hi))
    h.append("}};")
    h.append("")
    h.append("// The supported range of `api_key`, or nullptr when the API is not supported.")
    h.append("const ApiVersionRange* find_supported_api(int16_t api_key);")
    h.append("")
    h.append("bool is_supported_api_version(int16_t api_key, int16_t api_version);")
    h.append("")
    h.append("// Whether (api_key, api_version) uses the flexible (KIP-482) encoding, per the "
             "spec; false for unknown keys.")
    h.append("bool is_flexible_version(int16_t api_key, int16_t api_version);")
    h.append("")
    h.append('// "Produce", "ApiVersions", ...; "Unknown" for a key the spec does not define.')
    h.append("std::string_view api_key_name(int16_t api_key);")
    h.append("")
    h.append("// Kafka's error codes, as sent in the int16 ErrorCode fields.")
    h.append("enum class ErrorCode : int16_t {")
    for code, name in ERROR_CODES:
        h.append("    %s = %d," % (name.lower(), code))
    h.append("};")
    h.append("")
    h.append('// "OFFSET_OUT_OF_RANGE", ...: Kafka\'s own spelling, for logs; "UNKNOWN" for a '
             "code not in the table.")
    h.append("std::string_view error_code_name(ErrorCode code);")
    h.append("")
    h.append("}  // namespace ringlog::net::kafka")

    c = banner(["*Request"], "Tables behind api_keys.h.")
    c += ['#include "net/kafka/generated/api_keys.h"', "", "namespace ringlog::net::kafka {", ""]
    c.append("namespace {")
    c.append("")
    c.append("struct ApiInfo {")
    c.append("    std::string_view name;")
    c.append("    int16_t first_flexible_version;  // -1: never flexible")
    c.append("};")
    c.append("")
    max_key = max(k for k, _ in keys)
    names = dict(keys)
    c.append("constexpr std::array<ApiInfo, %d> api_infos{{" % (max_key + 1))
    for key in range(max_key + 1):
        if key in names:
            c.append('    {"%s", %d},' % (names[key], flexible[key]))
        else:
            c.append('    {"Unknown", -1},')
    c.append("}};")
    c.append("")
    c.append("}  // namespace")
    c.append("")
    c.append("const ApiVersionRange* find_supported_api(int16_t api_key) {")
    c.append("    for (const ApiVersionRange& range : supported_api_versions) {")
    c.append("        if (static_cast<int16_t>(range.api_key) == api_key) {")
    c.append("            return &range;")
    c.append("        }")
    c.append("    }")
    c.append("    return nullptr;")
    c.append("}")
    c.append("")
    c.append("bool is_supported_api_version(int16_t api_key, int16_t api_version) {")
    c.append("    const ApiVersionRange* range = find_supported_api(api_key);")
    c.append("    return range != nullptr && api_version >= range->min_version")
    c.append("        && api_version <= range->max_version;")
    c.append("}")
    c.append("")
    c.append("bool is_flexible_version(int16_t api_key, int16_t api_version) {")
    c.append("    if (api_key < 0 || api_key > api_key_max) {")
    c.append("        return false;")
    c.append("    }")
    c.append("    const int16_t first = api_infos[static_cast<size_t>(api_key)]"
             ".first_flexible_version;")
    c.append("    return first >= 0 && api_version >= first;")
    c.append("}")
    c.append("")
    c.append("std::string_view api_key_name(int16_t api_key) {")
    c.append("    if (api_key < 0 || api_key > api_key_max) {")
    c.append('        return "Unknown";')
    c.append("    }")
    c.append("    return api_infos[static_cast<size_t>(api_key)].name;")
    c.append("}")
    c.append("")
    c.append("std::string_view error_code_name(ErrorCode code) {")
    c.append("    switch (code) {")
    for code, name in ERROR_CODES:
        c.append("        case ErrorCode::%s:" % name.lower())
        c.append('            return "%s";' % name)
    c.append("    }")
    c.append('    return "UNKNOWN";')
    c.append("}")
    c.append("")
    c.append("}  // namespace ringlog::net::kafka")
    return h, c


HEADER_FUNCTIONS_DECL = """
// The request header version for an API version: v2 (tagged fields) for flexible versions,
// v0 for ControlledShutdown v0 alone, otherwise v1. Unknown keys get v1.
int16_t request_header_version(int16_t api_key, int16_t api_version);

// The response header version: v1 for flexible versions, except that ApiVersions responses
// always use v0 (KIP-511), so a client can read the error before it knows our versions.
int16_t response_header_version(int16_t api_key, int16_t api_version);

// Decodes a request header, choosing its version from the api_key and api_version it starts
// with; sets `header_version`. Works for any API key, supported or not, so that the broker can
// answer an unsupported request.
[[nodiscard]] absl::Status decode_request_header(Reader& reader, RequestHeader& header,
                                                 int16_t& header_version);
"""

HEADER_FUNCTIONS_DEF = """
int16_t request_header_version(int16_t api_key, int16_t api_version) {
    if (is_flexible_version(api_key, api_version)) {
        return 2;
    }
    if (api_key == static_cast<int16_t>(ApiKey::controlled_shutdown) && api_version == 0) {
        return 0;
    }
    return 1;
}

int16_t response_header_version(int16_t api_key, int16_t api_version) {
    if (api_key == static_cast<int16_t>(ApiKey::api_versions)) {
        return 0;
    }
    return is_flexible_version(api_key, api_version) ? 1 : 0;
}

absl::Status decode_request_header(Reader& reader, RequestHeader& header,
                                   int16_t& header_version) {
    // The key and version come first in every header version; peek at them on a copy.
    Reader peek = reader;
    const int16_t api_key = peek.read_int16();
    const int16_t api_version = peek.read_int16();
    if (!peek.ok()) {
        return decode_result(peek, "RequestHeader", 0);
    }
    header_version = request_header_version(api_key, api_version);
    return header.decode(reader, header_version);
}
"""


def dispatch_files(messages):
    requests = [m for m in messages if m.kind == "request"]
    responses = [m for m in messages if m.kind == "response"]
    stems = sorted({snake_case(m.name[: -len("Request")]) for m in requests})
    h = banner(["*Request", "*Response"],
               "Decoding of any supported request or response body into a variant, for tools, "
               "tests and the fuzzer. The broker's handlers decode their own request types.")
    h += ["#pragma once", "", "#include <cstdint>", "#include <variant>", "",
          "#include <absl/status/status.h>", ""]
    h += ['#include "net/kafka/generated/%s.h"' % stem for stem in stems]
    h += ['#include "net/kafka/protocol/reader.h"', '#include "net/kafka/protocol/writer.h"', "",
          "namespace ringlog::net::kafka {", ""]
    for kind, group in (("Request", requests), ("Response", responses)):
        h.append("using Any%s = std::variant<std::monostate, %s>;"
                 % (kind, ", ".join(m.name for m in group)))
        h.append("")
        h.append("// Decodes a %s body of (api_key, api_version) into `message`. kUnimplemented "
                 "when the API or version is not supported." % kind.lower())
        h.append("[[nodiscard]] absl::Status decode_%s_body(int16_t api_key, int16_t api_version, "
                 "Reader& reader, Any%s& message);" % (kind.lower(), kind))
        h.append("")
        h.append("// Encodes `message` (not monostate) at `api_version`.")
        h.append("void encode_%s_body(const Any%s& message, int16_t api_version, Writer& writer);"
                 % (kind.lower(), kind))
        h.append("")
    h.append("}  // namespace ringlog::net::kafka")

    c = banner(["*Request", "*Response"], "Dispatch tables behind dispatch.h.")
    c += ['#include "net/kafka/generated/dispatch.h"', "", "#include <type_traits>", "",
          '#include "io/base/assert.h"', "", "namespace ringlog::net::kafka {", ""]
    for kind, group in (("Request", requests), ("Response", responses)):
        c.append("absl::Status decode_%s_body(int16_t api_key, int16_t api_version, "
                 "Reader& reader, Any%s& message) {" % (kind.lower(), kind))
        c.append("    switch (api_key) {")
        for m in sorted(group, key=lambda m: m.api_key):
            c.append("        case %d:" % m.api_key)
            c.append("            return message.emplace<%s>().decode(reader, api_version);"
                     % m.name)
        c.append("        default:")
        c.append('            return unsupported_version(api_key_name(api_key), api_version);')
        c.append("    }")
        c.append("}")
        c.append("")
        c.append("void encode_%s_body(const Any%s& message, int16_t api_version, Writer& writer) {"
                 % (kind.lower(), kind))
        c.append("    std::visit(")
        c.append("        [&](const auto& body) {")
        c.append("            if constexpr (std::is_same_v<std::decay_t<decltype(body)>, "
                 "std::monostate>) {")
        c.append('                RL_ASSERT(false, "encoding an empty %s");' % kind.lower())
        c.append("            } else {")
        c.append("                body.encode(writer, api_version);")
        c.append("            }")
        c.append("        },")
        c.append("        message);")
        c.append("}")
        c.append("")
    c.append("}  // namespace ringlog::net::kafka")
    return h, c


EXAMPLES_PRELUDE = """
namespace ringlog::net::kafka::examples {

// splitmix64: a well-mixed 64-bit value from a seed and a per-field salt.
inline uint64_t example_mix(uint32_t seed, uint32_t salt) {
    uint64_t z = (uint64_t{seed} << 32 | salt) + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// The seed of element `index` of the field with `salt`.
inline uint32_t example_seed(uint32_t seed, uint32_t salt, size_t index) {
    return static_cast<uint32_t>(example_mix(seed, salt * 16 + static_cast<uint32_t>(index)));
}

// An integer other than `avoid` (the field's default, so that tagged fields are written), of
// varying magnitude so that every byte of the encoding is exercised.
template <typename T>
T example_int(uint32_t seed, uint32_t salt, T avoid) {
    const uint64_t mixed = example_mix(seed, salt);
    const auto value = static_cast<T>(mixed >> (mixed & 63));
    return value == avoid ? static_cast<T>(value + 1) : value;
}

inline double example_float(uint32_t seed, uint32_t salt) {
    return static_cast<double>(example_mix(seed, salt) % 1000000) / 8.0 + 0.5;
}

// Null for about a third of the fields that may be null.
inline bool example_null(uint32_t seed, uint32_t salt) { return example_mix(seed, salt) % 3 == 0; }

inline const std::array<std::byte, 512>& example_storage() {
    static const std::array<std::byte, 512> storage = [] {
        std::array<std::byte, 512> bytes{};
        for (size_t index = 0; index < bytes.size(); ++index) {
            bytes[index] = static_cast<std::byte>('a' + index % 26);
        }
        return bytes;
    }();
    return storage;
}

// A non-empty view of 1 to 300 bytes, so that compact lengths take one or two varint bytes.
inline ByteView example_bytes(uint32_t seed, uint32_t salt) {
    const uint64_t mixed = example_mix(seed, salt);
    const size_t size = (mixed & 1) != 0 ? 1 + mixed % 20 : 1 + mixed % 300;
    return ByteView(example_storage()).subspan((mixed >> 32) % 100, size);
}

inline std::string_view example_string(uint32_t seed, uint32_t salt) {
    const ByteView bytes = example_bytes(seed, salt);
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Records in two segments, so that encoding them exercises external segments.
inline Records example_records(uint32_t seed, uint32_t salt) {
    Records records(example_bytes(seed, salt));
    records.append(example_bytes(seed, salt + 1000));
    return records;
}

inline Uuid example_uuid(uint32_t seed, uint32_t salt) {
    Uuid uuid{};
    for (size_t index = 0; index < uuid.size(); ++index) {
        uuid[index] = static_cast<std::byte>(example_mix(seed, salt) >> (index % 8 * 8));
    }
    return uuid;
}
"""


def examples_file(messages, stems):
    lines = banner(["*"], "Test support, included only by tests: fill_example(value, version, "
                   "seed) gives every field that `version` has a deterministic non-default "
                   "value (arrays get two elements, nullable fields are sometimes null), and "
                   "for_each_message visits every generated top-level type. Not compiled into "
                   "the broker.")
    lines += ["#pragma once", "", "#include <array>", "#include <cstddef>", "#include <cstdint>",
              "#include <string_view>", "#include <type_traits>", ""]
    lines += ['#include "net/kafka/generated/%s.h"' % stem for stem in stems]
    lines.append(EXAMPLES_PRELUDE)
    for message in messages:
        for struct in message.order + [message.top]:
            lines.extend(StructEmitter(message, struct).example_function())
    lines.append("// Calls visitor(std::type_identity<T>{}, \"T\") for every top-level type.")
    lines.append("template <typename Visitor>")
    lines.append("void for_each_message(Visitor&& visitor) {")
    for message in messages:
        lines.append('    visitor(std::type_identity<%s>{}, "%s");' % (message.name, message.name))
    lines.append("}")
    lines.append("")
    lines.append("}  // namespace ringlog::net::kafka::examples")
    return lines


# ---------------------------------------------------------------------------------------------
# Driver


def find_clang_format(explicit):
    if explicit:
        return explicit
    for name in ("clang-format-14", "clang-format"):
        path = shutil.which(name)
        if path:
            return path
    raise SpecError("clang-format not found (Debian: apt-get install clang-format); the "
                    "generated files are committed formatted")


def format_cpp(clang_format, text, assume_path):
    result = subprocess.run([clang_format, "--style=file", "--assume-filename=" + assume_path],
                            input=text.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            check=False)
    if result.returncode != 0:
        raise SpecError("clang-format failed: " + result.stderr.decode())
    return result.stdout.decode()


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spec", default=os.path.join(repo, "..", "shared", "kafka-protocol",
                                                       "message"),
                        help="the folder of Kafka message JSON files")
    parser.add_argument("--out", default=os.path.join(repo, "net", "kafka", "generated"),
                        help="where to write the generated files")
    parser.add_argument("--clang-format", default=None, help="clang-format binary")
    args = parser.parse_args()

    try:
        clang_format = find_clang_format(args.clang_format)
        all_specs = []
        for entry in sorted(os.listdir(args.spec)):
            if entry.endswith(".json"):
                all_specs.append(load_spec(args.spec, entry[:-5]))

        files = {}
        all_messages = []
        stems = []
        for api, lo, hi in SUPPORTED_APIS:
            supported = Versions(lo, hi)
            pair = [Message(load_spec(args.spec, api + suffix), supported)
                    for suffix in ("Request", "Response")]
            stem = snake_case(api)
            stems.append(stem)
            all_messages.extend(pair)
            sources = [m.name for m in pair]
            files[stem + ".h"] = header_file(
                sources, "The %s API (key %d), versions %d-%d: request and response structs "
                "with their decoders and encoders." % (api, pair[0].api_key, lo, hi), pair)
            files[stem + ".cc"] = source_file(sources, stem, pair)

        headers = []
        for name in HEADER_SPECS:
            spec = load_spec(args.spec, name)
            headers.append(Message(spec, Versions.parse(spec["validVersions"])))
        files["headers.h"] = header_file(
            HEADER_SPECS, "Request and response headers (their `version` is the header version, "
            "not the API version) and the rules that pick the header version.", headers,
            extra_decls=HEADER_FUNCTIONS_DECL.strip("\n").split("\n") + [""])
        files["headers.cc"] = source_file(HEADER_SPECS, "headers", headers,
                                          extra_defs=HEADER_FUNCTIONS_DEF.strip("\n").split("\n")
                                          + [""])

        data = []
        for name in DATA_SPECS:
            spec = load_spec(args.spec, name)
            data.append(Message(spec, Versions.parse(spec["validVersions"])))
        files["consumer_protocol.h"] = header_file(
            DATA_SPECS, "The consumer protocol's embedded structs: the bytes a consumer puts "
            "in JoinGroup's protocol metadata (subscription) and SyncGroup's assignment. On "
            "the wire each is preceded by its int16 version, which the caller reads first.",
            data)
        files["consumer_protocol.cc"] = source_file(DATA_SPECS, "consumer_protocol", data)

        files["api_keys.h"], files["api_keys.cc"] = api_keys_files(all_specs)
        files["dispatch.h"], files["dispatch.cc"] = dispatch_files(all_messages)
        files["examples.h"] = examples_file(headers + all_messages + data,
                                            ["headers"] + stems + ["consumer_protocol"])
    except SpecError as error:
        print("kafka_codegen: %s" % error, file=sys.stderr)
        return 1

    os.makedirs(args.out, exist_ok=True)
    assume_dir = os.path.join(repo, "net", "kafka", "generated")
    for name, lines in sorted(files.items()):
        text = format_cpp(clang_format, "\n".join(lines) + "\n", os.path.join(assume_dir, name))
        path = os.path.join(args.out, name)
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                old = f.read()
        if old != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    stale = sorted(set(n for n in os.listdir(args.out) if n.endswith((".h", ".cc")))
                   - set(files))
    for name in stale:
        os.remove(os.path.join(args.out, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
