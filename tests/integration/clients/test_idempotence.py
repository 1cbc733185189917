#!/usr/bin/python3
"""Idempotent producers: retries are stored once, also across a broker crash.

The client talks to ringlogd through kafka_proxy.KafkaProxy on 127.0.0.1:P, which forwards to
the broker on 127.0.0.2:P (advertised as 127.0.0.1:P, so clients stay on the proxy).

- dropped_responses: a confluent-kafka producer with enable.idempotence=true sends 3,000
  messages in small batches while the proxy cuts the connection instead of passing on every
  third Produce response (40 times): the broker had stored those batches, librdkafka resends
  them (and whatever was in flight behind them). Every delivery succeeds, and a consumer
  (assign) finds every message exactly once, in order, at the offset its delivery report
  gave; every stored batch carries the producer id.
- sigkill_between_produce_and_retry: the proxy holds one Produce response (the batch is
  durable: acks=all under `always`); the broker is SIGKILLed and restarted on the same folder,
  then the proxy cuts the connection; librdkafka resends the batch to the new broker process,
  which knows it from its recovered producer table (replayed from the log, no snapshot written
  by a clean close): stored once, in order, and the producer goes on.
- raw_errors: on raw sockets, InitProducerId v0 and v4 give distinct ids with epoch 0, and a
  transactional id gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53); a resent batch gets its
  original base offset and is not stored; a gap gets OUT_OF_ORDER_SEQUENCE_NUMBER (45), an
  older epoch INVALID_PRODUCER_EPOCH (47), a batch older than the last five
  DUPLICATE_SEQUENCE_NUMBER (46); ids keep growing after a restart.
"""

import os
import struct
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka import Producer  # noqa: E402

import client_util as cu  # noqa: E402
import harness  # noqa: E402
import kafka_wire as kw  # noqa: E402
from harness import LOOPBACK, CheckFailed, Mismatches, check, check_eq, wait_until  # noqa: E402
from kafka_proxy import KafkaProxy  # noqa: E402

BROKER_HOST = "127.0.0.2"
INIT_PRODUCER_ID = 22


def broker_behind_proxy(ctx, **kwargs):
    """(broker, proxy): the proxy on 127.0.0.1:P, the broker on 127.0.0.2:P advertising
    127.0.0.1:P."""
    for _ in range(5):
        port = harness.free_port_block(1)
        try:
            proxy = KafkaProxy((LOOPBACK, port), (BROKER_HOST, port))
            break
        except OSError:
            continue  # taken between the check and the bind
    else:
        raise CheckFailed("no free port for the proxy")
    ctx.proxies.append(proxy)
    broker = harness.Broker(ctx.ringlogd, extra_args=["--listen-host", BROKER_HOST], keep=ctx.args.keep, name="ringlogd#%d" % (len(ctx.brokers) + 1), **kwargs)
    broker.port = port
    ctx.brokers.append(broker)
    broker.start()
    return broker, proxy


def idempotent_producer(bootstrap, reports):
    p = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 2,
            "batch.num.messages": 25,
            "max.in.flight.requests.per.connection": 5,
            "message.timeout.ms": 120000,
            "request.timeout.ms": 60000,
            "retry.backoff.ms": 20,
            "reconnect.backoff.ms": 20,
            "reconnect.backoff.max.ms": 200,
            **cu.QUIET,
        }
    )

    def on_delivery(err, msg):
        reports.append((err, msg.value(), msg.offset()))

    return p, on_delivery


def produce_values(p, on_delivery, topic, values):
    for v in values:
        while True:
            try:
                p.produce(topic, value=v, partition=0, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)


def check_exactly_once(bootstrap, topic, values, reports, what):
    errors = [(v, e) for e, v, _ in reports if e is not None]
    check(not errors, "%s: %d deliveries failed, e.g. %s" % (what, len(errors), errors[:3]))
    check_eq(len(reports), len(values), "%s: delivery reports" % what)
    delivered_at = {v: offset for _, v, offset in reports}
    consumed = cu.consume(bootstrap, topic, [0], expected=len(values))
    bad = Mismatches("%s: the partition against the messages produced" % what)
    if len(consumed) != len(values):
        bad.add("%d messages in the partition, %d produced" % (len(consumed), len(values)))
    for i, m in enumerate(consumed):
        if i < len(values) and (m.value != values[i] or m.offset != i):
            bad.add("position %d: offset %d value %r, expected offset %d value %r" % (i, m.offset, m.value, i, values[i]))
        if delivered_at.get(m.value) != m.offset:
            bad.add("%r at offset %d, its delivery report said %s" % (m.value, m.offset, delivered_at.get(m.value)))
    bad.raise_if_any()
    batches, high_watermark = cu.fetch_all_batches(int(bootstrap.split(":")[1]), topic, 0)
    check_eq(high_watermark, len(values), "%s: high watermark" % what)
    check(all(b.producer_id >= 0 and b.crc_ok for b in batches), "%s: a stored batch without a producer id or with a bad CRC" % what)
    return batches


def case_dropped_responses(ctx):
    broker, proxy = broker_behind_proxy(ctx)
    topic = "idempotent"
    cu.create_topic(broker.bootstrap, topic, 1)
    values = [b"m-%06d" % i for i in range(3000)]
    reports = []
    p, on_delivery = idempotent_producer(broker.bootstrap, reports)
    proxy.cut_responses(every=3, count=40)
    produce_values(p, on_delivery, topic, values)
    left = p.flush(120)
    check_eq(left, 0, "messages still queued after flush")
    proxy.forward()
    check(proxy.cuts >= 10, "the proxy cut only %d connections" % proxy.cuts)
    print("  %d Produce responses, %d cut, %d connections" % (proxy.produce_responses, proxy.cuts, proxy.connections))
    batches = check_exactly_once(broker.bootstrap, topic, values, reports, "after dropped responses")
    check_eq(len({b.producer_id for b in batches}), 1, "producer ids in the partition")
    broker.stop()


def case_sigkill_between_produce_and_retry(ctx):
    broker, proxy = broker_behind_proxy(ctx)
    topic = "idempotent-crash"
    cu.create_topic(broker.bootstrap, topic, 1)
    values = [b"c-%06d" % i for i in range(600)]
    reports = []
    p, on_delivery = idempotent_producer(broker.bootstrap, reports)
    produce_values(p, on_delivery, topic, values[:200])
    check_eq(p.flush(60), 0, "first 200 messages still queued")
    proxy.hold_next()
    produce_values(p, on_delivery, topic, values[200:400])
    if not proxy.held.wait(60):
        raise CheckFailed("no Produce response to hold within 60 s")
    # The held batch is stored and durable; the producer has not heard of it.
    broker.kill()
    broker.restart()
    proxy.release()
    produce_values(p, on_delivery, topic, values[400:])
    check_eq(p.flush(120), 0, "messages still queued after the restart")
    check_exactly_once(broker.bootstrap, topic, values, reports, "after SIGKILL and a retry")
    broker.stop()


# --- Raw sockets ----------------------------------------------------------------------------


def init_producer_id(c, version, transactional_id=None):
    w = kw.Writer()
    if version >= 2:
        w.compact_string(transactional_id).int32(60000)
        if version >= 3:
            w.int64(-1).int16(-1)
        w.tagged_fields()
    else:
        w.string(transactional_id).int32(60000)
    flexible = version >= 2
    r = c.call(INIT_PRODUCER_ID, version, w.getvalue(), header_version=2 if flexible else 1, response_header_version=1 if flexible else 0)
    throttle, error, producer_id, epoch = r.int32(), r.int16(), r.int64(), r.int16()
    if version >= 2:
        r.tagged_fields()
    r.expect_end("InitProducerId v%d response" % version)
    del throttle
    return error, producer_id, epoch


def idempotent_batch(producer_id, epoch, sequence, count=2):
    records = [(b"k%d" % (sequence + i), b"v%d" % (sequence + i), [], 1_000 + i) for i in range(count)]
    return kw.build_batch(records, producer_id=producer_id, producer_epoch=epoch, base_sequence=sequence)


def produce_one(c, topic, batch):
    r = c.produce(3, -1, [(topic, [(0, batch)])])
    p = r["responses"][0]["partitions"][0]
    return p["error_code"], p["base_offset"]


def case_raw_errors(ctx):
    broker = ctx.broker(shards=2)
    topic = "idempotent-raw"
    cu.create_topic(broker.bootstrap, topic, 1)
    with kw.Connection(LOOPBACK, broker.port, 10.0) as c:
        error, first_id, epoch = init_producer_id(c, 0)
        check_eq((error, epoch), (0, 0), "InitProducerId v0 error and epoch")
        error, second_id, epoch = init_producer_id(c, 4)
        check_eq((error, epoch), (0, 0), "InitProducerId v4 error and epoch")
        check(second_id > first_id >= 0, "ids %d then %d" % (first_id, second_id))
        check_eq(init_producer_id(c, 4, "txn")[0], 53, "InitProducerId with a transactional id")

        pid = second_id
        check_eq(produce_one(c, topic, idempotent_batch(pid, 0, 0)), (0, 0), "first batch")
        check_eq(produce_one(c, topic, idempotent_batch(pid, 0, 2)), (0, 2), "second batch")
        check_eq(produce_one(c, topic, idempotent_batch(pid, 0, 0)), (0, 0), "the first batch resent")
        check_eq(produce_one(c, topic, idempotent_batch(pid, 0, 7)), (45, -1), "a gap")
        check_eq(produce_one(c, topic, idempotent_batch(pid, 1, 0)), (0, 4), "epoch 1 from sequence 0")
        check_eq(produce_one(c, topic, idempotent_batch(pid, 0, 4)), (47, -1), "the old epoch")
        for s in range(2, 14, 2):
            check_eq(produce_one(c, topic, idempotent_batch(pid, 1, s))[0], 0, "epoch 1 sequence %d" % s)
        check_eq(produce_one(c, topic, idempotent_batch(pid, 1, 0)), (46, -1), "a batch older than the last five")
        check_eq(produce_one(c, topic, idempotent_batch(pid, 1, 12)), (0, 16), "the newest batch resent")
        # A plain batch is never deduplicated.
        plain = kw.build_batch([(b"k", b"v", [], 1_000)])
        check_eq(produce_one(c, topic, plain), (0, 18), "a plain batch")
        check_eq(produce_one(c, topic, plain), (0, 19), "the plain batch again")
    broker.stop()
    broker.start()
    with kw.Connection(LOOPBACK, broker.port, 10.0) as c:
        error, third_id, _ = init_producer_id(c, 1)
        check_eq(error, 0, "InitProducerId after a restart")
        check(third_id > second_id, "id %d after a restart, %d before" % (third_id, second_id))
        check_eq(produce_one(c, topic, idempotent_batch(pid, 1, 12)), (0, 16), "the newest batch resent after a restart")
    broker.stop()


def with_proxies(case):
    """Runs case(ctx) with ctx.proxies, closed when it ends (the brokers close after it)."""

    def run(ctx):
        ctx.proxies = []
        try:
            case(ctx)
        finally:
            for proxy in ctx.proxies:
                proxy.close()

    return run


CASES = [
    ("raw_errors", case_raw_errors),
    ("dropped_responses", with_proxies(case_dropped_responses)),
    ("sigkill_between_produce_and_retry", with_proxies(case_sigkill_between_produce_and_retry)),
]


if __name__ == "__main__":
    sys.exit(harness.run_cases(CASES, __doc__))
