#!/usr/bin/python3
"""/metrics against ringlogd with 2 shards: the endpoint answers in Prometheus's text format
(every sample line belongs to a family announced by # TYPE, histograms have cumulative
buckets ending in +Inf that equal _count), other paths get 404, and the counters move with
traffic: after producing N records to a topic and fetching them back, the partitions' records_in
add up to N, bytes_in and bytes_out grow, the log end offsets add up to N, Produce and Fetch
request counts grow, and connections are counted; a group that committed 10 behind each
partition's end shows those committed offsets and a consumer lag of 10 per partition.
"""

import os
import re
import sys
import urllib.error
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import client_util as cu  # noqa: E402
import harness  # noqa: E402
from harness import LOOPBACK, check, check_eq  # noqa: E402

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def scrape(port):
    with urllib.request.urlopen("http://%s:%d/metrics" % (LOOPBACK, port), timeout=10) as r:
        check_eq(r.status, 200, "GET /metrics status")
        check("text/plain" in r.headers.get("Content-Type", ""), "content type %r" % r.headers.get("Content-Type"))
        return r.read().decode()


def parse(text):
    """[(name, labels dict, value)]; checks every sample's family was announced."""
    typed = {}
    samples = []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(" ", 3)
            check(family not in typed, "family %s announced twice" % family)
            typed[family] = kind
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        check(m is not None, "not a sample line: %r" % line)
        name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in typed else name
        check(family in typed, "sample %s before or without its # TYPE" % name)
        samples.append((name, dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels)), value))
    return samples


def total(samples, name, **labels):
    return sum(v for n, l, v in samples if n == name and all(l.get(k) == str(x) for k, x in labels.items()))


def case_metrics(ctx):
    broker = ctx.broker(shards=2, extra_args=["--metrics-port", "0"])
    found = [re.search(r"metrics on http://[^:]+:(\d+)/metrics", line) for line in broker.lines]
    found = [m for m in found if m]
    check(found, "the broker printed its metrics port")
    port = int(found[-1].group(1))
    before = parse(scrape(port))
    check(total(before, "ringlog_connections_accepted_total") >= 0, "connections counted")
    try:
        urllib.request.urlopen("http://%s:%d/nothing" % (LOOPBACK, port), timeout=10)
        raise harness.CheckFailed("GET /nothing did not fail")
    except urllib.error.HTTPError as e:
        check_eq(e.code, 404, "GET /nothing")

    topic = "metered"
    cu.create_topic(broker.bootstrap, topic, 4)
    count = 2000
    messages = [{"key": b"k%d" % i, "value": b"v" * 100} for i in range(count)]
    cu.check_deliveries(cu.produce(broker.bootstrap, topic, messages), "produce")
    cu.consume(broker.bootstrap, topic, range(4), expected=count)

    after = parse(scrape(port))
    check_eq(total(after, "ringlog_partition_records_in_total", topic=topic), count, "records_in over the topic")
    check_eq(total(after, "ringlog_log_end_offset", topic=topic), count, "log end offsets over the topic")
    check(total(after, "ringlog_partition_bytes_in_total", topic=topic) >= count * 100, "bytes_in covers the values")
    check(total(after, "ringlog_partition_bytes_out_total", topic=topic) >= count * 100, "bytes_out covers the values")
    for api in ("Produce", "Fetch", "Metadata"):
        check(total(after, "ringlog_requests_total", api=api) > total(before, "ringlog_requests_total", api=api), "%s requests counted" % api)
    check(total(after, "ringlog_connections_accepted_total") > total(before, "ringlog_connections_accepted_total"), "connections accepted grew")
    check(total(after, "ringlog_log_syncs_total", topic=topic) > 0, "acks=all produce synced")
    check(len([1 for n, l, v in after if n == "ringlog_log_recycled_segments_total" and l.get("topic") == topic]) == 4,
          "each partition reports its recycled segments")
    check(len([1 for n, l, v in after if n == "ringlog_log_append_stall_seconds_count" and l.get("topic") == topic]) == 4,
          "each partition reports its append stalls")
    # Histograms: the +Inf bucket equals the count, and buckets never decrease.
    for name, labels, value in after:
        if name == "ringlog_request_latency_seconds_count":
            key = {k: v for k, v in labels.items()}
            buckets = [(l["le"], v) for n, l, v in after if n == "ringlog_request_latency_seconds_bucket" and {k: x for k, x in l.items() if k != "le"} == key]
            check_eq(buckets[-1], ("+Inf", value), "+Inf bucket of %r" % key)
            values = [v for _, v in buckets]
            check(values == sorted(values), "cumulative buckets of %r: %r" % (key, values))
    # Consumer lag: commit (as a simple consumer, generation -1) 10 behind each partition's end.
    import confluent_kafka
    ends = {int(l["partition"]): int(v) for n, l, v in after if n == "ringlog_high_watermark" and l.get("topic") == topic}
    committer = confluent_kafka.Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "lagging", "enable.auto.commit": False})
    committer.commit(offsets=[confluent_kafka.TopicPartition(topic, p, max(0, e - 10)) for p, e in ends.items()], asynchronous=False)
    committer.close()
    lagged = parse(scrape(port))
    for p, end in ends.items():
        check_eq(total(lagged, "ringlog_group_committed_offset", group="lagging", topic=topic, partition=p), max(0, end - 10), "committed offset of %s/%d" % (topic, p))
        check_eq(total(lagged, "ringlog_consumer_group_lag", group="lagging", topic=topic, partition=p), min(10, end), "lag of %s/%d" % (topic, p))
    broker.stop()


CASES = [("metrics", case_metrics)]

if __name__ == "__main__":
    sys.exit(harness.run_cases(CASES, __doc__))
