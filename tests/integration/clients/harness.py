"""Runs ringlogd for the client integration tests, and runs the tests.

Broker: starts ringlogd on free loopback ports with a fresh data folder, waits for
`ringlogd: ready` on stderr (with a deadline; fails with the broker's stderr), stops it with
SIGTERM (and checks it exits 0) or kills it with SIGKILL, and restarts it on the same folder
and ports. The broker dies with the test process (PR_SET_PDEATHSIG), and the data folder is
removed at the end unless --keep is given.

Cases: each test script lists its cases; run_cases() runs them one after another, prints what
differed for each failure together with the tail of every broker's stderr, and exits 1 if any
case failed. Nothing waits by sleeping for a fixed time: wait_until() polls a condition up to
a deadline.
"""

import argparse
import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree

READY_LINE = "ringlogd: ready"
LOOPBACK = "127.0.0.1"


class CheckFailed(AssertionError):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def check_eq(got, want, what):
    if got != want:
        raise CheckFailed("%s: expected %r, got %r" % (what, want, got))


def wait_until(predicate, timeout, what, interval=0.02):
    """Polls predicate() until it returns something truthy (returned) or the deadline passes
    (CheckFailed naming what was awaited and the last value seen)."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise CheckFailed("timed out after %.1f s waiting for %s (last: %r)" % (timeout, what, last))
        time.sleep(interval)  # a polling interval, not a wait for the condition itself


class Mismatches:
    """Collects differences in a large comparison and reports the first few plus the count."""

    def __init__(self, what, limit=15):
        self.what = what
        self.limit = limit
        self.count = 0
        self.examples = []

    def add(self, message):
        self.count += 1
        if len(self.examples) < self.limit:
            self.examples.append(message)

    def raise_if_any(self):
        if self.count:
            more = "\n  ... and %d more" % (self.count - len(self.examples)) if self.count > len(self.examples) else ""
            raise CheckFailed("%s: %d difference(s):\n  %s%s" % (self.what, self.count, "\n  ".join(self.examples), more))


# --- Ports --------------------------------------------------------------------------------


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
            return low, high
    except OSError:
        return 32768, 60999


def _port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port_block(count):
    """count consecutive free loopback ports, chosen at random below the kernel's ephemeral
    range so that no outgoing connection (of this or another test) holds one of them. Another
    process can still take one before the broker binds it: Broker.start() retries then."""
    low, _ = _ephemeral_range()
    top = min(low, 65536) - count
    bottom = 20000 if top > 21000 else 1024
    for _ in range(200):
        base = random.randrange(bottom, top)
        if all(_port_is_free(base + i) for i in range(count)):
            return base
    raise CheckFailed("found no %d consecutive free ports in %d..%d" % (count, bottom, top))


# --- The broker process -------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the child only calls it


def _die_with_parent():
    _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


class Broker:
    def __init__(
        self,
        ringlogd,
        shards=1,
        advertise_shards=False,
        default_partitions=None,
        auto_create_topics=None,
        extra_args=(),
        data_dir=None,
        name="broker",
        ready_timeout=60.0,
        keep=False,
    ):
        self.ringlogd = ringlogd
        self.shards = shards
        self.advertise_shards = advertise_shards
        self.default_partitions = default_partitions
        self.auto_create_topics = auto_create_topics
        self.extra_args = list(extra_args)
        self.name = name
        self.ready_timeout = ready_timeout
        self.keep = keep
        self._own_data_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="ringlog-itest-")
        self.port = None
        self.process = None
        self.starts = 0
        self.lines = []  # every stderr line of every run, prefixed by the run number
        self._lock = threading.Condition()
        self._ready = False
        self._reader = None

    # Addresses.

    @property
    def port_count(self):
        return self.shards if self.advertise_shards else 1

    @property
    def ports(self):
        return [self.port + i for i in range(self.port_count)]

    @property
    def bootstrap(self):
        return "%s:%d" % (LOOPBACK, self.port)

    def command(self):
        cmd = [
            self.ringlogd,
            "--data-dir",
            self.data_dir,
            "--port",
            str(self.port),
            "--listen-host",
            LOOPBACK,
            "--advertised-host",
            LOOPBACK,
            "--shards",
            str(self.shards),
        ]
        if self.advertise_shards:
            cmd.append("--advertise-shards")
        if self.default_partitions is not None:
            cmd += ["--default-partitions", str(self.default_partitions)]
        if self.auto_create_topics is not None:
            cmd += ["--auto-create-topics", "true" if self.auto_create_topics else "false"]
        if "--metrics-port" not in self.extra_args:
            cmd += ["--metrics-port", "0"]  # never the fixed default: brokers may run side by side
        return cmd + self.extra_args

    # Life cycle.

    def start(self):
        """Starts the broker (the first time on fresh free ports; later on the same ones) and
        returns once it printed the ready line and accepts connections on every port."""
        if self.process is not None and self.process.poll() is None:
            raise CheckFailed("%s: start() while it is running" % self.name)
        first = self.port is None
        for attempt in range(5):
            if first:
                self.port = free_port_block(self.port_count)
            outcome = self._spawn_and_wait()
            if outcome == "ready":
                return self
            if outcome == "port-taken" and first:
                continue  # another process took a port between our check and the bind
            break
        raise CheckFailed(
            "%s did not become ready (%s); command: %s\n%s"
            % (self.name, outcome, " ".join(self.command()), self.stderr_tail())
        )

    def _spawn_and_wait(self):
        self.starts += 1
        with self._lock:
            self._ready = False
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )
        self._reader = threading.Thread(target=self._read_stderr, args=(self.process, self.starts), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.ready_timeout
        with self._lock:
            while not self._ready:
                if self.process.poll() is not None:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(min(left, 0.05))
            ready = self._ready
        if not ready:
            rc = self.process.poll()
            if rc is None:
                self._kill_quietly()
                return "no '%s' line within %.0f s" % (READY_LINE, self.ready_timeout)
            self._reader.join(5)
            text = "\n".join(self.lines[-20:]).lower()
            if "in use" in text or "eaddrinuse" in text:
                return "port-taken"
            return "exited with %s before it was ready" % describe_returncode(rc)
        for port in self.ports:
            wait_until(lambda: _can_connect(port), max(1.0, deadline - time.monotonic()), "%s to accept on port %d" % (self.name, port))
        return "ready"

    def _read_stderr(self, process, run):
        for raw in process.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            with self._lock:
                self.lines.append("[%s run %d] %s" % (self.name, run, line))
                if READY_LINE in line:
                    self._ready = True
                    self._lock.notify_all()
        process.stderr.close()

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=60.0):
        """SIGTERM; the broker must exit 0 within timeout."""
        check(self.running(), "%s: stop() but it is not running (%s)" % (self.name, self._exit_text()))
        self.process.send_signal(signal.SIGTERM)
        try:
            rc = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill_quietly()
            raise CheckFailed("%s did not exit within %.0f s of SIGTERM\n%s" % (self.name, timeout, self.stderr_tail()))
        self._reader.join(10)
        check(rc == 0, "%s exited with %s after SIGTERM, expected 0\n%s" % (self.name, describe_returncode(rc), self.stderr_tail()))

    def kill(self):
        """SIGKILL, as a crash."""
        check(self.running(), "%s: kill() but it is not running (%s)" % (self.name, self._exit_text()))
        self.process.kill()
        self.process.wait(30)
        self._reader.join(10)

    def restart(self):
        return self.start()

    def check_alive(self, what):
        if not self.running():
            raise CheckFailed("%s: the broker died (%s)\n%s" % (what, self._exit_text(), self.stderr_tail()))

    def _exit_text(self):
        if self.process is None:
            return "never started"
        rc = self.process.poll()
        return "running" if rc is None else "exited with %s" % describe_returncode(rc)

    def _kill_quietly(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                pass
        if self._reader is not None:
            self._reader.join(5)

    def close(self):
        """Kills the broker if it still runs and removes the data folder (unless keep)."""
        self._kill_quietly()
        if self._own_data_dir and not self.keep:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def stderr_tail(self, count=60):
        with self._lock:
            lines = self.lines[-count:]
        header = "--- %s stderr (last %d of %d lines; data %s) ---" % (self.name, len(lines), len(self.lines), self.data_dir)
        return "\n".join([header] + lines + ["--- end of %s stderr ---" % self.name])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _can_connect(port):
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1.0):
            return True
    except OSError:
        return False


def describe_returncode(rc):
    if rc is None:
        return "nothing (still running)"
    if rc < 0:
        try:
            return "signal %s" % signal.Signals(-rc).name
        except ValueError:
            return "signal %d" % -rc
    return "code %d" % rc


# --- Running other programs -----------------------------------------------------------------


def run(cmd, what, input_bytes=None, timeout=60.0, check_rc=True):
    """Runs a client program; fails with its stderr if it times out or (check_rc) exits non-zero."""
    try:
        done = subprocess.run(cmd, input=input_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise CheckFailed(
            "%s: timed out after %.0f s: %s\nstderr:\n%s" % (what, timeout, " ".join(cmd), tail_text(e.stderr))
        )
    if check_rc and done.returncode != 0:
        raise CheckFailed(
            "%s: %s exited with %s\nstderr:\n%s"
            % (what, " ".join(cmd), describe_returncode(done.returncode), tail_text(done.stderr))
        )
    return done


def tail_text(data, count=40):
    if not data:
        return "(empty)"
    text = data.decode(errors="replace") if isinstance(data, bytes) else data
    lines = text.rstrip("\n").split("\n")
    return "\n".join(lines[-count:])


# --- Cases ----------------------------------------------------------------------------------


class Context:
    """What a case gets: the options, and a factory for brokers that are cleaned up after it."""

    def __init__(self, args, case_name):
        self.args = args
        self.ringlogd = args.ringlogd
        self.case_name = case_name
        self.brokers = []
        self.scratch = tempfile.mkdtemp(prefix="ringlog-itest-scratch-")

    def broker(self, **kwargs):
        if not self.ringlogd:
            raise CheckFailed("this case needs --ringlogd PATH")
        kwargs.setdefault("keep", self.args.keep)
        kwargs.setdefault("name", "ringlogd#%d" % (len(self.brokers) + 1))
        b = Broker(self.ringlogd, **kwargs)
        self.brokers.append(b)
        return b.start()

    def close(self):
        for b in self.brokers:
            b.close()
        if not self.args.keep:
            shutil.rmtree(self.scratch, ignore_errors=True)


def run_cases(cases, description, needs_broker=True):
    """cases: [(name, function(ctx))]. Returns the process exit code."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--ringlogd", required=needs_broker, help="path of the ringlogd binary")
    parser.add_argument("--keep", action="store_true", help="keep data folders and scratch files")
    parser.add_argument("--case", action="append", help="run only this case (repeatable)")
    args = parser.parse_args()
    if args.ringlogd and not os.access(args.ringlogd, os.X_OK):
        print("not an executable: %s" % args.ringlogd)
        return 2
    selected = [(n, f) for n, f in cases if not args.case or n in args.case]
    if not selected:
        print("no case matches %s; cases: %s" % (args.case, ", ".join(n for n, _ in cases)))
        return 2
    script = os.path.basename(sys.argv[0])
    failed = []
    started = time.monotonic()
    for name, function in selected:
        ctx = Context(args, name)
        case_started = time.monotonic()
        print("== %s: %s" % (script, name), flush=True)
        try:
            function(ctx)
        except Exception as e:  # every failure is reported, then the next case runs
            failed.append(name)
            print("FAIL %s (%.1f s)" % (name, time.monotonic() - case_started))
            if isinstance(e, CheckFailed):
                print(str(e))
            else:
                traceback.print_exc(file=sys.stdout)
            for b in ctx.brokers:
                print(b.stderr_tail())
        else:
            print("ok   %s (%.1f s)" % (name, time.monotonic() - case_started))
        finally:
            ctx.close()
        sys.stdout.flush()
    total = time.monotonic() - started
    print(
        "%s: %d passed, %d failed in %.1f s%s"
        % (script, len(selected) - len(failed), len(failed), total, (" (failed: %s)" % ", ".join(failed)) if failed else "")
    )
    return 1 if failed else 0
