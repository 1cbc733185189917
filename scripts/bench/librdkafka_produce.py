#!/usr/bin/python3
"""A confluent-kafka (librdkafka) producer loop as fast as it goes, for the bench suite's
comparison: `ringlog bench` must produce at least as fast against the same broker. Prints one
JSON object: messages_per_sec and mb_per_sec over the timed part (warm-up excluded, flush
included), and the counts.

Settings are librdkafka's throughput-minded ones (linger.ms 5, 1 MB batches, a deep queue),
and the value is one pre-built bytes object, so the Python side does as little as it can.
"""

import argparse
import json
import sys
import time

import confluent_kafka


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--msg-size", type=int, default=1024)
    parser.add_argument("--acks", default="1")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--json")
    args = parser.parse_args()

    errors = [0]

    def on_error(err, msg):
        if err is not None:
            errors[0] += 1

    producer = confluent_kafka.Producer({
        "bootstrap.servers": args.bootstrap,
        "acks": args.acks,
        "linger.ms": 5,
        "batch.size": 1000000,
        "batch.num.messages": 100000,
        "queue.buffering.max.messages": 2000000,
        "queue.buffering.max.kbytes": 2097151,
        "compression.type": "none",
        "delivery.report.only.error": True,
        "enable.idempotence": False,
        "max.in.flight.requests.per.connection": 5,
    })
    value = b"x" * args.msg_size
    topic = args.topic
    produce = producer.produce
    poll = producer.poll
    started = time.monotonic()
    measure_from = started + args.warmup
    end = measure_from + args.duration
    sent_before = None
    count = 0
    while True:
        try:
            produce(topic, value, on_delivery=on_error)
        except BufferError:
            poll(0.001)
            continue
        count += 1
        if count & 1023 == 0:
            poll(0)
            now = time.monotonic()
            if sent_before is None and now >= measure_from:
                # Whatever is queued now is delivered in the timed part; close enough.
                producer.flush()
                sent_before = count
                measure_from = time.monotonic()
                end = measure_from + args.duration
            elif now >= end:
                break
    producer.flush()
    elapsed = time.monotonic() - measure_from
    measured = count - (sent_before or 0)
    delivered = measured - errors[0]
    result = {
        "client": "confluent-kafka %s, librdkafka %s" % (confluent_kafka.version()[0], confluent_kafka.libversion()[0]),
        "messages": measured,
        "total_messages": count,
        "errors": errors[0],
        "seconds": round(elapsed, 3),
        "messages_per_sec": round(delivered / elapsed, 1),
        "mb_per_sec": round(delivered * args.msg_size / 1e6 / elapsed, 3),
    }
    text = json.dumps(result)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    return 0 if errors[0] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
