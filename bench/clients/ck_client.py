#!/usr/bin/python3
"""confluent-kafka helpers for client_throughput.sh.

  ck_client.py create    BOOTSTRAP TOPIC PARTITIONS
  ck_client.py produce   BOOTSTRAP TOPIC COUNT SIZE ACKS
  ck_client.py consume   BOOTSTRAP TOPIC PARTITIONS EXPECTED
  ck_client.py wait      BOOTSTRAP TOPIC PARTITIONS   (until every leader is known)
  ck_client.py offsets   BOOTSTRAP TOPIC PARTITIONS   (prints the number of stored messages)

produce/consume print one JSON line: {"msgs":..,"bytes":..,"secs":..,"cpu":..}
where secs is the wall time from the first produce()/assign() to the last delivery/message
(connection set-up and metadata are excluded) and cpu is the process's user+sys seconds
over the same interval; max_gap_ms is the longest time without a delivery report (produce)
or without a message (consume), a stall detector.
"""
import json
import os
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def cpu():
    t = os.times()
    return t.user + t.system


def create(bootstrap, topic, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    fs = admin.create_topics([NewTopic(topic, num_partitions=int(partitions), replication_factor=1)])
    for _, f in fs.items():
        try:
            f.result(10)
        except KafkaException as e:
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    wait(bootstrap, topic, partitions)


def wait(bootstrap, topic, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    deadline = time.time() + 15
    while time.time() < deadline:
        md = admin.list_topics(topic, timeout=5)
        t = md.topics.get(topic)
        if t is not None and t.error is None and len(t.partitions) == int(partitions) and all(
            p.leader >= 0 for p in t.partitions.values()
        ):
            return
        time.sleep(0.1)
    raise SystemExit(f"topic {topic} not ready")


def produce(bootstrap, topic, count, size, acks):
    count, size = int(count), int(size)
    errors = [0]
    delivered = [0]

    last = [0.0]
    gap = [0.0]

    def on_delivery(err, msg):
        if err is not None:
            errors[0] += 1
        else:
            delivered[0] += 1
        now = time.perf_counter()
        if now - last[0] > gap[0]:
            gap[0] = now - last[0]
        last[0] = now

    p = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": acks,
            "linger.ms": 5,
            "batch.num.messages": 10000,
            "batch.size": 1000000,
            "queue.buffering.max.messages": 1000000,
            "queue.buffering.max.kbytes": 2097151,
            "compression.type": "none",
            "enable.idempotence": False,
        }
    )
    p.list_topics(topic, timeout=10)  # connect and learn the leaders before the clock starts
    value = b"x" * size
    c0, t0 = cpu(), time.perf_counter()
    last[0] = t0
    prod, poll = p.produce, p.poll
    i = 0
    while i < count:
        try:
            prod(topic, value, on_delivery=on_delivery)
            i += 1
        except BufferError:
            poll(0.001)
            continue
        poll(0)
    left = p.flush(120)
    t1, c1 = time.perf_counter(), cpu()
    print(json.dumps({"msgs": delivered[0], "bytes": delivered[0] * size, "secs": t1 - t0,
                      "cpu": c1 - c0, "errors": errors[0], "unflushed": left,
                      "max_gap_ms": round(gap[0] * 1000, 1)}))


def consume(bootstrap, topic, partitions, expected):
    partitions, expected = int(partitions), int(expected)
    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "bench-ck",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "fetch.max.bytes": 52428800,
            "max.partition.fetch.bytes": 4194304,
            "queued.max.messages.kbytes": 262144,
            "fetch.wait.max.ms": 100,
        }
    )
    c.list_topics(topic, timeout=10)
    c0, t0 = cpu(), time.perf_counter()
    c.assign([TopicPartition(topic, p, -2) for p in range(partitions)])  # OFFSET_BEGINNING
    msgs = nbytes = 0
    eof = set()
    errors = 0
    deadline = time.time() + 120
    last, gap = t0, 0.0
    while len(eof) < partitions and msgs < expected and time.time() < deadline:
        # consume() waits for the whole batch or the timeout: keep the timeout short, or the
        # last partial batch costs a full timeout
        batch = c.consume(num_messages=10000, timeout=0.05)
        now = time.perf_counter()
        if batch:
            gap = max(gap, now - last)
            last = now
        for m in batch:
            e = m.error()
            if e is None:
                msgs += 1
                nbytes += len(m.value())
            elif e.code() == KafkaError._PARTITION_EOF:
                eof.add(m.partition())
            else:
                errors += 1
    t1, c1 = time.perf_counter(), cpu()
    c.close()
    print(json.dumps({"msgs": msgs, "bytes": nbytes, "secs": t1 - t0, "cpu": c1 - c0,
                      "errors": errors, "max_gap_ms": round(gap * 1000, 1)}))


def offsets(bootstrap, topic, partitions):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-hw"})
    total = 0
    for p in range(int(partitions)):
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        total += hi - lo
    c.close()
    print(total)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"create": create, "produce": produce, "consume": consume, "wait": wait,
     "offsets": offsets}[cmd](*args)
