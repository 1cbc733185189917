#!/usr/bin/python3
"""The datagram transport (net/dpdk/README.md) against a real ringlogd, with the project's own
client (`ringlog datagram-check`):

- kernel UDP, 2 shards: 20,000 messages produced over 4 partitions through datagram sessions
  on both shards, then fetched back through them: every message comes back exactly once;
- the control request: ApiVersions over TCP never advertises its private key 10000; a broker
  without a datagram transport answers it with an error (the client says so and exits 1), and
  its TCP connection stays usable;
- DPDK (skipped where ringlog was built without it): the broker (2 shards, one memif port
  each) as memif server, the client as memif client in another process, over shared-memory
  sockets, without hugepages; 20,000 messages produced and fetched back.
"""

import os
import struct
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import kafka_wire as kw  # noqa: E402
from harness import LOOPBACK, CheckFailed, check, check_eq  # noqa: E402

RINGLOG = os.environ.get("RINGLOG_CLI", "")
EAL = "--no-huge -m 256 --no-pci --no-shconf --no-telemetry"
MESSAGES = 20_000
# Small segments: the default 1 GiB is preallocated (and zero-filled) per partition.
SMALL = ["--durability", "none", "--segment-bytes", str(8 << 20)]


def datagram_check(broker, *flags, timeout=120.0):
    if not RINGLOG:
        raise CheckFailed("RINGLOG_CLI is not set")
    cmd = [RINGLOG, "datagram-check", "--bootstrap", broker.bootstrap] + list(flags)
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return done.returncode, done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")


def expect_all_back(rc, output, what):
    check(rc == 0 and "every message came back" in output, "%s: rc %d, output:\n%s" % (what, rc, output))
    summary = [line for line in output.splitlines() if line.startswith("datagram-check:")]
    print("  ok   %s: %s" % (what, summary[-1] if summary else ""))


def case_udp(ctx):
    udp_port = harness.free_port_block(2)
    broker = ctx.broker(shards=2, extra_args=["--udp-port", str(udp_port)] + SMALL)
    rc, output = datagram_check(broker, "--transport", "udp", "--messages", str(MESSAGES), "--partitions", "4",
                                "--topic", "over-udp")
    expect_all_back(rc, output, "kernel UDP, 2 shards")
    # The same topic over TCP: what the datagram path wrote is the same log.
    with kw.Connection(LOOPBACK, broker.port, 10.0) as c:
        fetched = c.fetch([("over-udp", [(0, 0, 1 << 20)])], max_wait_ms=0)
        batches, _ = kw.parse_batches(fetched["responses"][0]["partitions"][0]["records"])
        check(len(batches) > 0, "the datagram-produced partition 0 is empty over TCP")
        check(batches[0].records[0].value.startswith(b"m-"), "a record of datagram-check")
    print("  ok   the datagram-produced records read back over TCP")
    broker.stop()


def case_control_request(ctx):
    broker = ctx.broker(shards=1, extra_args=SMALL)  # no datagram transport
    with kw.Connection(LOOPBACK, broker.port, 10.0) as c:
        keys = c.api_versions(0)["api_keys"]
        check(10000 not in keys, "ApiVersions advertises the private key 10000")
        body = struct.pack(">ii", -1, 1472)
        r = c.call(10000, 0, body)
        check_eq(r.int16(), 35, "the control request's error without a datagram transport")
        check_eq(c.api_versions(0)["error_code"], 0, "ApiVersions after the control request")
    print("  ok   key 10000 unadvertised; without a datagram transport it answers error 35")
    rc, output = datagram_check(broker, "--transport", "udp", "--messages", "10")
    check(rc == 1 and "no datagram transport" in output, "datagram-check without the transport: %d %s" % (rc, output))
    print("  ok   the client says the broker has no datagram transport")
    broker.stop()


def dpdk_built():
    done = subprocess.run([RINGLOG, "datagram-check", "--dpdk-available"], stdout=subprocess.PIPE, timeout=60)
    return done.stdout.decode().strip() == "dpdk: yes"


def case_dpdk_memif(ctx):
    if not dpdk_built():
        print("  skip ringlog was built without DPDK")
        return
    # One DPDK port per shard: memif i joins the broker's shard i and the client's port i.
    sockets = [os.path.join(ctx.scratch, "memif%d.sock" % i) for i in range(2)]
    server_vdevs = " ".join("--vdev=net_memif%d,role=server,socket=%s" % (i, p) for i, p in enumerate(sockets))
    client_vdevs = " ".join("--vdev=net_memif%d,role=client,socket=%s" % (i, p) for i, p in enumerate(sockets))
    broker = ctx.broker(shards=2, extra_args=SMALL + [
        "--datagram-host", "127.0.1.1", "--dpdk", "%s %s" % (EAL, server_vdevs)])
    rc, output = datagram_check(broker, "--transport", "dpdk", "--local-ip", "127.0.1.2",
                                "--dpdk", "%s %s" % (EAL, client_vdevs),
                                "--messages", str(MESSAGES), "--partitions", "4", "--topic", "over-memif")
    expect_all_back(rc, output, "DPDK memif, 2 shards, broker and client in two processes")
    broker.stop()


CASES = [("udp", case_udp), ("control_request", case_control_request), ("dpdk_memif", case_dpdk_memif)]

if __name__ == "__main__":
    sys.exit(harness.run_cases(CASES, __doc__))
