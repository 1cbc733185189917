#!/usr/bin/env bash
# End-to-end client throughput of ringlogd with real Kafka clients, next to the machine's raw
# limits measured in the same run (../../../shared/LIMITS.md says to quote ratios, not absolutes).
#
#   bench/clients/client_throughput.sh            # about 3-4 minutes on the 2-vCPU dev VM
#
# Measures, medians over REPEATS runs, each on a fresh data folder and a fresh broker:
#   raw:     O_DIRECT 1 MiB writes + fdatasync per MiB into a pre-written file (python probe,
#            and dd oflag=direct,dsync as a cross-check); loopback TCP, 1 stream
#   produce: COUNT x SIZE-byte messages, acks=all and acks=1, topic with PARTITIONS partitions,
#            --shards 2, with and without --advertise-shards; kcat -P -l and confluent-kafka
#            (rdkafka_performance is used if it is on PATH; Debian 12 does not package it)
#   consume: everything back from the beginning: kcat -C -e -f '%o\n' | wc -l, confluent-kafka
#            assign() + consume()
#   profile: perf record -e cpu-clock -g -p ringlogd during one extra acks=all produce run
# and writes bench/results/client_throughput.md (+ the raw TSV and the perf summaries).
#
# Environment: RINGLOGD, WORK (scratch folder; the data dirs and the disk probe live there, so
# it must be on the filesystem under test), PORT, COUNT, SIZE, PARTITIONS, REPEATS, PERF_SECS.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/bench/clients"
RESULTS="$ROOT/bench/results"
RINGLOGD=${RINGLOGD:-$ROOT/build/release/tools/ringlogd}
WORK=${WORK:-/tmp/ringlog-client-bench}
PORT=${PORT:-19192}
COUNT=${COUNT:-600000}
SIZE=${SIZE:-1024}
PARTITIONS=${PARTITIONS:-8}
REPEATS=${REPEATS:-3}
PERF_SECS=${PERF_SECS:-3}
PY=/usr/bin/python3
CK="$PY $HERE/ck_client.py"
KCAT_OPTS=(-X linger.ms=5 -X batch.num.messages=10000 -X queue.buffering.max.messages=1000000
           -X queue.buffering.max.kbytes=2097151 -X compression.codec=none)
TSV="$RESULTS/client_throughput.tsv"
LOG="$RESULTS/client_throughput.log"

for tool in kcat perf; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install kcat linux-perf)" >&2; exit 1; }
done
$PY -c 'import confluent_kafka' || { echo "missing python3-confluent-kafka" >&2; exit 1; }
[[ -x $RINGLOGD ]] || { echo "no broker at $RINGLOGD (build it first)" >&2; exit 1; }
HAVE_RDPERF=0; command -v rdkafka_performance >/dev/null && HAVE_RDPERF=1

mkdir -p "$WORK" "$RESULTS"
# Run a private copy: other sessions may rebuild build/release while this runs.
BIN_INFO="$RINGLOGD, built $(date -r "$RINGLOGD" '+%F %T'), sha256 $(sha256sum "$RINGLOGD" | cut -c1-12); tree $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- core net io tools 2>/dev/null || echo ' (source dirs modified)')"
cp "$RINGLOGD" "$WORK/ringlogd"; RINGLOGD="$WORK/ringlogd"
# The broker's listeners use SO_REUSEPORT, so a second ringlogd on a port another process of this
# user already listens on would silently share it: pick a port pair nobody listens on.
port_busy() { [[ -n $(ss -Htln "( sport = :$1 or sport = :$(($1 + 1)) )") ]]; }
while port_busy "$PORT"; do PORT=$((PORT + 7)); done
: >"$LOG"
printf 'op\tmode\tacks\tclient\trep\tmsgs\tbytes\tsecs\tclient_cpu\tbroker_cpu\tmax_gap_ms\terrors\tforeign_cpu\tsteal\n' >"$TSV"
T_START=$(date +%s)
BROKER_PID=
log() { echo "[$(($(date +%s) - T_START))s] $*" | tee -a "$LOG" >&2; }
now() { date +%s.%N; }
cleanup() { stop_broker; rm -rf "$WORK"; }
trap cleanup EXIT

# ---------------------------------------------------------------------------------- raw limits
disk_probe() {  # prints MB/s of 1 MiB O_DIRECT writes + fdatasync each, over a pre-written file
    $PY - "$1" <<'EOF'
import mmap, os, sys, time
path, mib = sys.argv[1], 1024
buf = mmap.mmap(-1, 1 << 20)          # page-aligned, as O_DIRECT needs
buf.write(b"\xab" * (1 << 20))
fd = os.open(path, os.O_WRONLY | os.O_DIRECT)
t0 = time.perf_counter()
for i in range(mib):
    os.pwrite(fd, buf, i << 20)
    os.fdatasync(fd)
t1 = time.perf_counter()
os.close(fd)
print(f"{mib * (1 << 20) / (t1 - t0) / 1e6:.1f}")
EOF
}

loopback_probe() {  # prints MB/s of one TCP stream over 127.0.0.1 (python sender -> receiver)
    $PY - <<'EOF'
import os, socket, time
secs, chunk = 1.5, 1 << 20
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(1)
port = ls.getsockname()[1]
r, w = os.pipe()
if os.fork() == 0:                      # receiver
    os.close(r)
    c, _ = ls.accept()
    buf = bytearray(chunk); mv = memoryview(buf); n = 0
    t0 = None
    while True:
        k = c.recv_into(mv)
        if not k:
            break
        if t0 is None:
            t0 = time.perf_counter()
        n += k
    t1 = time.perf_counter()
    os.write(w, f"{n / (t1 - t0) / 1e6:.1f}".encode()); os._exit(0)
os.close(w)
s = socket.create_connection(("127.0.0.1", port))
data = memoryview(b"\0" * chunk)
end = time.perf_counter() + secs
while time.perf_counter() < end:
    s.sendall(data)
s.close()
print(os.read(r, 100).decode()); os.wait()
EOF
}

median() { $PY -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

log "broker: $BIN_INFO"
log "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); other ringlogd processes: $(pgrep -c ringlogd || true); port $PORT"
log "raw limits: disk probe file in $WORK ($(df --output=source,fstype "$WORK" | tail -1 | xargs))"
PROBE="$WORK/probe.bin"
dd if=/dev/zero of="$PROBE" bs=1M count=1024 oflag=direct conv=fdatasync status=none  # pre-write
DISK_PY=(); DISK_DD=(); NET=()
for r in $(seq "$REPEATS"); do
    DISK_PY+=("$(disk_probe "$PROBE")")
    # dd's own figure, O_DSYNC per 1 MiB write (same cost as write + fdatasync, LIMITS.md D7)
    DISK_DD+=("$(dd if=/dev/zero of="$PROBE" bs=1M count=1024 oflag=direct,dsync conv=notrunc 2>&1 |
                 awk '/copied/ {print $(NF-1) * ($NF == "GB/s" ? 1000 : 1)}')")
    if command -v iperf3 >/dev/null; then
        iperf3 -s -1 -p $((PORT + 50)) >/dev/null 2>&1 & sleep 0.3
        NET+=("$(iperf3 -c 127.0.0.1 -p $((PORT + 50)) -t 2 -J | $PY -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/8e6)')")
        wait
    else
        NET+=("$(loopback_probe)")
    fi
done
rm -f "$PROBE"
DISK=$(median "${DISK_PY[@]}"); DISKDD=$(median "${DISK_DD[@]}"); LOOP=$(median "${NET[@]}")
log "disk write+fdatasync/MiB: python ${DISK_PY[*]} -> $DISK MB/s; dd ${DISK_DD[*]} -> $DISKDD MB/s"
log "loopback TCP 1 stream: ${NET[*]} -> $LOOP MB/s"

# ------------------------------------------------------------------------------------- broker
start_broker() {  # $1 = adv|noadv; fresh data folder every time
    local mode=$1 extra=()
    [[ $mode == adv ]] && extra=(--advertise-shards)
    DATA="$WORK/data"
    port_busy "$PORT" && { echo "port $PORT or $((PORT + 1)) taken by another process" >&2; exit 1; }
    rm -rf "$DATA"; mkdir -p "$DATA"
    "$RINGLOGD" --data-dir "$DATA" --port "$PORT" --advertised-host 127.0.0.1 \
        --listen-host 127.0.0.1 --shards 2 --default-partitions "$PARTITIONS" "${extra[@]}" \
        2>"$WORK/broker.err" >/dev/null &
    BROKER_PID=$!
    for _ in $(seq 200); do
        grep -q 'ringlogd: ready' "$WORK/broker.err" 2>/dev/null && return 0
        kill -0 "$BROKER_PID" 2>/dev/null || break
        sleep 0.05
    done
    cat "$WORK/broker.err" >&2; echo "broker did not start" >&2; exit 1
}
stop_broker() {
    [[ -n ${BROKER_PID:-} ]] || return 0
    kill -TERM "$BROKER_PID" 2>/dev/null || true
    for _ in $(seq 200); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$BROKER_PID" 2>/dev/null && { log "broker did not stop in 10 s: SIGKILL"; kill -KILL "$BROKER_PID"; }
    wait "$BROKER_PID" 2>/dev/null || true
    if grep -qiE 'error|fail|abort|assert' "$WORK/broker.err"; then
        log "broker stderr has errors:"; grep -iE 'error|fail|abort|assert' "$WORK/broker.err" | head -5 | tee -a "$LOG" >&2
    fi
    BROKER_PID=
}
broker_ticks() { awk '{print $14 + $15}' "/proc/$BROKER_PID/stat"; }
# The machine is shared: measure what other processes used while each run ran ("foreign" CPU:
# all busy CPU minus the broker's and the client's) and the hypervisor's steal time.
stat_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $9}' /proc/stat; }
mark_start() { read -r ST0 STEAL0 < <(stat_busy); B0=$(broker_ticks); W0=$(now); }
mark_end() { W1=$(now); B1=$(broker_ticks); read -r ST1 STEAL1 < <(stat_busy); }
# Before a run, wait (from a budget of QUIET_BUDGET seconds for the whole script) until the
# machine is idle: less than 0.3 of a core busy over half a second.
QUIET_LEFT=${QUIET_BUDGET:-60}
wait_quiet() {
    local a b busy t0; t0=$(date +%s)
    while :; do
        read -r a _ < <(stat_busy); sleep 0.5; read -r b _ < <(stat_busy)
        busy=$(awk -v a="$a" -v b="$b" -v t="$TICK" 'BEGIN {print (b - a) / t / 0.5 < 0.3}')
        [[ $busy == 1 ]] && break
        (( $(date +%s) - t0 >= QUIET_LEFT )) && break
    done
    QUIET_LEFT=$(( QUIET_LEFT - ($(date +%s) - t0) )); (( QUIET_LEFT < 0 )) && QUIET_LEFT=0
    return 0
}
TICK=$(getconf CLK_TCK)

new_topic() {  # creates $TOPIC and lets the 64 MiB zero-fill ahead of each appender finish
    TOPIC=bench
    $CK create "127.0.0.1:$PORT" "$TOPIC" "$PARTITIONS"
    sleep 1
}

# Record one result line. Args: op mode acks client rep msgs bytes secs client_cpu b0 b1 gap errors
record() {
    local bcpu ccpu_total foreign steal
    bcpu=$(awk -v a="${10}" -v b="${11}" -v t="$TICK" -v s="$8" 'BEGIN {printf "%.2f", (b - a) / t / s}')
    ccpu_total=$(awk '{print $1 + $2}' "$WORK/time")
    foreign=$(awk -v s0="$ST0" -v s1="$ST1" -v b0="$B0" -v b1="$B1" -v c="$ccpu_total" -v t="$TICK" \
        -v w0="$W0" -v w1="$W1" 'BEGIN {f = ((s1 - s0) - (b1 - b0) - c * t) / t / (w1 - w0); printf "%.2f", f < 0 ? 0 : f}')
    steal=$(awk -v a="$STEAL0" -v b="$STEAL1" -v t="$TICK" -v w0="$W0" -v w1="$W1" 'BEGIN {printf "%.2f", (b - a) / t / (w1 - w0)}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.3f\t%.2f\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" \
        "$8" "$9" "$bcpu" "${12}" "${13}" "$foreign" "$steal" >>"$TSV"
    log "$1 $2 acks=$3 $4 rep$5: $6 msgs in $(printf %.2f "$8") s = $(awk -v m="$6" -v s="$8" 'BEGIN{printf "%.0f", m/s}') msg/s, $(awk -v b="$7" -v s="$8" 'BEGIN{printf "%.0f", b/s/1e6}') MB/s; client cpu $(awk -v c="$9" -v s="$8" 'BEGIN{printf "%.2f", c/s}') broker cpu $bcpu cores; gap ${12} ms; errors ${13}; other processes $foreign cores, steal $steal"
}

MSGFILE="$WORK/msgs.txt"
$PY -c "import sys; sys.stdout.buffer.write((b'x' * $SIZE + b'\n') * $COUNT)" >"$MSGFILE"

json_field() { $PY -c 'import json,sys; d=json.loads(sys.argv[1]); print(d[sys.argv[2]])' "$1" "$2"; }

produce_kcat() {  # mode acks rep
    local t0 t1 b0 b1 cpu stored errs
    mark_start; b0=$B0; t0=$(now)
    /usr/bin/time -f '%U %S' -o "$WORK/time" \
        kcat -b "127.0.0.1:$PORT" -P -t "$TOPIC" -X acks="$2" "${KCAT_OPTS[@]}" -l "$MSGFILE" \
        2>"$WORK/kcat.err" || true
    t1=$(now); mark_end; b1=$B1
    cpu=$(awk '{print $1 + $2}' "$WORK/time")
    errs=$(grep -ciE 'error|fail' "$WORK/kcat.err" || true)
    [[ $errs == 0 ]] || { log "kcat produce errors:"; head -3 "$WORK/kcat.err" | tee -a "$LOG" >&2; }
    stored=$($CK offsets "127.0.0.1:$PORT" "$TOPIC" "$PARTITIONS")
    [[ $stored == "$COUNT" ]] || { log "kcat produce: broker holds $stored of $COUNT"; errs=$((errs + 1)); }
    record produce "$1" "$2" kcat "$3" "$stored" $((stored * SIZE)) \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')" "$cpu" "$b0" "$b1" - "$errs"
}

produce_ck() {  # mode acks rep
    local out b0 b1 stored errs
    mark_start; b0=$B0
    out=$(/usr/bin/time -f '%U %S' -o "$WORK/time" $CK produce "127.0.0.1:$PORT" "$TOPIC" "$COUNT" "$SIZE" "$2")
    mark_end; b1=$B1
    stored=$($CK offsets "127.0.0.1:$PORT" "$TOPIC" "$PARTITIONS")
    errs=$(( $(json_field "$out" errors) + $(json_field "$out" unflushed) ))
    [[ $stored == "$COUNT" ]] || { log "ck produce: broker holds $stored of $COUNT"; errs=$((errs + 1)); }
    # broker cpu is over the whole process lifetime here (a little longer than secs)
    record produce "$1" "$2" confluent-kafka "$3" "$(json_field "$out" msgs)" "$(json_field "$out" bytes)" \
        "$(json_field "$out" secs)" "$(json_field "$out" cpu)" "$b0" "$b1" "$(json_field "$out" max_gap_ms)" "$errs"
}

produce_rdperf() {  # mode acks rep
    local t0 t1 b0 b1 cpu
    mark_start; b0=$B0; t0=$(now)
    /usr/bin/time -f '%U %S' -o "$WORK/time" rdkafka_performance -P -t "$TOPIC" -b "127.0.0.1:$PORT" \
        -s "$SIZE" -c "$COUNT" -X acks="$2" "${KCAT_OPTS[@]}" >"$WORK/rdperf.out" 2>&1 || true
    t1=$(now); mark_end; b1=$B1
    cpu=$(awk '{print $1 + $2}' "$WORK/time")
    record produce "$1" "$2" rdkafka_performance "$3" "$COUNT" $((COUNT * SIZE)) \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')" "$cpu" "$b0" "$b1" - 0
}

consume_kcat() {  # mode rep
    local t0 t1 b0 b1 n cpu errs
    mark_start; b0=$B0; t0=$(now)
    n=$( { /usr/bin/time -f '%U %S' -o "$WORK/time" kcat -b "127.0.0.1:$PORT" -C -t "$TOPIC" -e -q \
            -o beginning -f '%o\n' -X fetch.wait.max.ms=100 2>"$WORK/kcat.err" || true; } | wc -l)
    t1=$(now); mark_end; b1=$B1
    cpu=$(awk '{print $1 + $2}' "$WORK/time")
    errs=$(grep -ciE 'error|fail' "$WORK/kcat.err" || true)
    [[ $n == "$COUNT" ]] || { log "kcat consume: got $n of $COUNT"; errs=$((errs + 1)); }
    record consume "$1" - kcat "$2" "$n" $((n * SIZE)) \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')" "$cpu" "$b0" "$b1" - "$errs"
}

consume_ck() {  # mode rep
    local out b0 b1 errs
    mark_start; b0=$B0
    out=$(/usr/bin/time -f '%U %S' -o "$WORK/time" $CK consume "127.0.0.1:$PORT" "$TOPIC" "$PARTITIONS" "$COUNT")
    mark_end; b1=$B1
    errs=$(json_field "$out" errors)
    [[ $(json_field "$out" msgs) == "$COUNT" ]] || { log "ck consume: got $(json_field "$out" msgs) of $COUNT"; errs=$((errs + 1)); }
    record consume "$1" - confluent-kafka "$2" "$(json_field "$out" msgs)" "$(json_field "$out" bytes)" \
        "$(json_field "$out" secs)" "$(json_field "$out" cpu)" "$b0" "$b1" "$(json_field "$out" max_gap_ms)" "$errs"
}

# --------------------------------------------------------------------------------- the matrix
CLIENTS=(kcat ck); [[ $HAVE_RDPERF == 1 ]] && CLIENTS+=(rdperf)
log "produce/consume: $COUNT x $SIZE B, $PARTITIONS partitions, --shards 2, $REPEATS repeats; clients ${CLIENTS[*]}"
for rep in $(seq "$REPEATS"); do
    for mode in noadv adv; do
        for client in "${CLIENTS[@]}"; do
            for acks in all 1; do
                start_broker "$mode"; new_topic
                wait_quiet
                "produce_$client" "$mode" "$acks" "$rep"
                if [[ $client == kcat && $acks == all ]]; then
                    # consume what this run wrote, on the same broker (mostly from disk: the
                    # in-memory tail keeps 8 MiB per partition)
                    wait_quiet; consume_kcat "$mode" "$rep"
                    wait_quiet; consume_ck "$mode" "$rep"
                fi
                stop_broker
            done
        done
    done
done

# ------------------------------------------------------------------------------------ profile
BEST_ALL=$($PY - "$TSV" <<'EOF'
import csv, statistics, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t")
        if r["op"] == "produce" and r["acks"] == "all" and r["mode"] == "noadv"]
by = {}
for r in rows:
    by.setdefault(r["client"], []).append(float(r["msgs"]) / float(r["secs"]))
print(max(by, key=lambda c: statistics.median(by[c])))
EOF
)
case $BEST_ALL in confluent-kafka) PCLIENT=ck ;; rdkafka_performance) PCLIENT=rdperf ;; *) PCLIENT=kcat ;; esac
log "profile: perf record -e cpu-clock -g -p ringlogd for ${PERF_SECS}s during an acks=all produce ($BEST_ALL, noadv, 3x COUNT)"
start_broker noadv; new_topic
COUNT0=$COUNT; COUNT=$((COUNT * 3))  # long enough to outlast the recording
$PY -c "import sys; sys.stdout.buffer.write((b'x' * $SIZE + b'\n') * $COUNT)" >"$MSGFILE"
perf record -e cpu-clock -g -p "$BROKER_PID" -o "$WORK/perf.data" -- sleep "$PERF_SECS" \
    >"$WORK/perf.out" 2>&1 &
PERF_JOB=$!
sleep 0.5  # let perf attach to every thread before the load starts
"produce_$PCLIENT" noadv all perf
wait "$PERF_JOB" || true
stop_broker
COUNT=$COUNT0
PERF_TOP="$RESULTS/client_throughput.perf-top.txt"
set +e +o pipefail  # a failing report section must not lose the results
{
    echo "# perf record -e cpu-clock -g -p <ringlogd> -- sleep $PERF_SECS, during acks=all produce ($BEST_ALL, no --advertise-shards, --shards 2)"
    echo "# perf report --stdio --no-children --sort symbol -g none (top 15), then by thread and by dso"
    perf report -i "$WORK/perf.data" --stdio --no-children --sort symbol -g none 2>/dev/null |
        grep -E '^ +[0-9.]+%' | sed -E 's/[ -]+$//' | head -15
    echo
    perf report -i "$WORK/perf.data" --stdio --no-children --sort comm,pid -g none 2>/dev/null |
        grep -E '^ +[0-9.]+%' | sed -E 's/[ -]+$//' | head -10
    echo
    perf report -i "$WORK/perf.data" --stdio --no-children --sort dso -g none 2>/dev/null |
        grep -E '^ +[0-9.]+%' | sed -E 's/[ -]+$//' | head -10
} >"$PERF_TOP"
perf report -i "$WORK/perf.data" --stdio --no-children -G 2>/dev/null | head -400 \
    >"$RESULTS/client_throughput.perf-callgraph.txt" || true
cat "$WORK/perf.out" >>"$LOG"
set -e -o pipefail

# ------------------------------------------------------------------------------------- report
T_TOTAL=$(($(date +%s) - T_START))
$PY - "$TSV" "$DISK" "$DISKDD" "$LOOP" "$COUNT" "$SIZE" "$PARTITIONS" "$REPEATS" "$PERF_TOP" \
    "$T_TOTAL" "${DISK_PY[*]}" "${NET[*]}" "$HAVE_RDPERF" "$RESULTS/client_throughput.md" "$BIN_INFO" <<'EOF'
import csv, statistics, sys, datetime, platform
(tsv, disk, diskdd, loop, count, size, parts, reps, perf_top, total, disk_all, net_all, rdperf,
 out, bin_info) = sys.argv[1:]
disk, diskdd, loop = float(disk), float(diskdd), float(loop)
rows = [r for r in csv.DictReader(open(tsv), delimiter="\t") if r["rep"] != "perf"]
groups = {}
for r in rows:
    groups.setdefault((r["op"], r["acks"], r["client"], r["mode"]), []).append(r)

def stats(rs):
    mps = [float(r["msgs"]) / float(r["secs"]) for r in rs]
    mbs = [float(r["bytes"]) / float(r["secs"]) / 1e6 for r in rs]
    ccpu = [float(r["client_cpu"]) / float(r["secs"]) for r in rs]
    bcpu = [float(r["broker_cpu"]) for r in rs]
    gaps = [float(r["max_gap_ms"]) for r in rs if r["max_gap_ms"] != "-"]
    errs = sum(int(r["errors"]) for r in rs)
    foreign = [float(r["foreign_cpu"]) for r in rs]
    steal = [float(r["steal"]) for r in rs]
    return dict(foreign=statistics.median(foreign), foreign_max=max(foreign), steal=max(steal),
                mps=statistics.median(mps), mbs=statistics.median(mbs), lo=min(mbs), hi=max(mbs),
                ccpu=statistics.median(ccpu), bcpu=statistics.median(bcpu),
                gap=max(gaps) if gaps else None, errs=errs, n=len(rs))

order = []
for op, acks in (("produce", "all"), ("produce", "1"), ("consume", "-")):
    for client in ("kcat", "confluent-kafka", "rdkafka_performance"):
        for mode in ("noadv", "adv"):
            if (op, acks, client, mode) in groups:
                order.append((op, acks, client, mode))
S = {k: stats(groups[k]) for k in order}
modename = {"noadv": "shared port (forwarding)", "adv": "--advertise-shards"}
L = []
L.append("# ringlogd client throughput (real Kafka clients)\n")
L.append(f"Produced by `bench/clients/client_throughput.sh` on {datetime.datetime.now():%Y-%m-%d %H:%M} "
         f"({platform.node()}, {platform.release()}), total run time {total} s. "
         f"{count} messages x {size} B per run, topic with {parts} partitions, `--shards 2`, "
         f"durability `always` (default), medians over {reps} repeats, each a fresh data folder and a "
         f"fresh broker. MB = 10^6 bytes of message values. Broker: {bin_info}.\n")
L.append("## Raw limits (same run)\n")
L.append(f"- Disk: O_DIRECT 1 MiB `pwrite` + `fdatasync` per MiB, over a pre-written 1 GiB file in the data dir's filesystem "
         f"(python probe): **{disk:.0f} MB/s** (runs: {disk_all}); `dd bs=1M count=1024 oflag=direct,dsync`: {diskdd:.0f} MB/s")
L.append(f"- Loopback TCP, 1 stream: **{loop:.0f} MB/s** (runs: {net_all})\n")
L.append("## Results\n")
L.append("| op | acks | client | listeners | msg/s | MB/s (min-max) | / disk | / loopback | client CPU (cores) | broker CPU (cores) | other procs CPU, median / max | max gap ms | errors |")
L.append("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for k in order:
    s = S[k]
    op, acks, client, mode = k
    gap = "-" if s["gap"] is None else f"{s['gap']:.0f}"
    L.append(f"| {op} | {acks} | {client} | {modename[mode]} | {s['mps']:,.0f} | **{s['mbs']:.0f}** ({s['lo']:.0f}-{s['hi']:.0f}) | "
             f"{s['mbs']/disk:.2f} | {s['mbs']/loop:.2f} | {s['ccpu']:.2f} | {s['bcpu']:.2f} | "
             f"{s['foreign']:.2f} / {s['foreign_max']:.2f} | {gap} | {s['errs']} |")
L.append("")
L.append("## Best client per case, and --advertise-shards vs the shared port\n")
L.append("| op | acks | best client (shared port) | MB/s | best client (--advertise-shards) | MB/s | adv / shared |")
L.append("|---|---|---|---:|---|---:|---:|")
for op, acks in (("produce", "all"), ("produce", "1"), ("consume", "-")):
    best = {}
    for mode in ("noadv", "adv"):
        c = [(S[k]["mbs"], k[2]) for k in order if k[0] == op and k[1] == acks and k[3] == mode]
        best[mode] = max(c) if c else (0, "-")
    ratio = best["adv"][0] / best["noadv"][0] if best["noadv"][0] else 0
    L.append(f"| {op} | {acks} | {best['noadv'][1]} | {best['noadv'][0]:.0f} | {best['adv'][1]} | {best['adv'][0]:.0f} | {ratio:.2f} |")
L.append("")
L.append("Columns: client CPU is the client process's user+sys time over the measured interval (1.0 = one "
         "full core; the VM has 2); broker CPU is ringlogd's over the same interval; max gap is the longest "
         "time without a delivery report (produce) or a message (consume), confluent-kafka only; other procs CPU "
         "is what the rest of the machine used during the run (all busy CPU from /proc/stat minus broker and "
         "client): the machine is shared, and a run with more than a few tenths of a core there was contended. "
         "kcat times "
         "are wall-clock of the whole process (start-up and metadata included, tens of ms); confluent-kafka "
         "times start after metadata. Consume runs read back the kcat acks=all run's data on the same broker, "
         "mostly from the segment files (the in-memory tail keeps 8 MiB per partition)."
         + ("" if rdperf == "1" else " rdkafka_performance is not packaged in Debian 12 (librdkafka-dev ships no "
            "examples), so it was not run."))
L.append("\n## Profile\n")
L.append("```")
L.append(open(perf_top).read().rstrip())
L.append("```")
L.append("\nRaw data: `client_throughput.tsv`; log: `client_throughput.log`; call graphs: "
         "`client_throughput.perf-callgraph.txt`.")
text = "\n".join(L) + "\n"
open(out, "w").write(text)
print(text)
EOF
log "done in $(($(date +%s) - T_START)) s; wrote $RESULTS/client_throughput.md"
