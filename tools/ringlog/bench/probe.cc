// run_probe: see probe.h. Disk: io_uring from one thread (the broker's way). Network: blocking
// sockets in two threads, as iperf3 and LIMITS.md's pingpong measured, because this is the
// kernel's loopback path, which io_uring does not shorten at queue depth 1 (LIMITS.md N4).
#include "tools/ringlog/bench/probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include <absl/strings/numbers.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>

#include "io/base/absl_compat.h"
#include "io/base/errno_status.h"
#include "io/base/status_macros.h"
#include "io/reactor.h"
#include "io/task_group.h"
#include "tools/ringlog/bench/aligned_buffer.h"
#include "tools/ringlog/bench/durable_append.h"
#include "tools/ringlog/bench/run_context.h"

namespace ringlog::tools::bench {

const char* const probe_usage =
    "usage: ringlog probe [flags]\n"
    "  --dir PATH          where the test file goes (/var/tmp)\n"
    "  --file-mib N        size of the file written (1024)\n"
    "  --passes N          timed write passes, median reported (2)\n"
    "  --sync-count N      4 KiB write + fdatasync rounds (3000)\n"
    "  --tcp-seconds S     loopback stream duration (2)\n"
    "  --pingpong N        loopback round trips (20000)\n"
    "  --durable-files N   files of the durable-append pass, a sync after each block (8)\n"
    "  --durable-block-kib N  bytes per write + fdatasync of one file, KiB, 4 KiB multiple (1024)\n"
    "  --json PATH         write the results as JSON\n";

namespace {

constexpr size_t block_bytes = 1024 * 1024;
constexpr size_t sync_bytes = 4096;

double median(std::vector<double> values) {
    if (values.empty()) {
        return 0;
    }
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

// One writer of `depth`: takes the next block until the file is covered.
io::Task<void> write_blocks(io::Reactor& reactor, int fd, const std::byte* buffer,
                            size_t block_count, size_t& next, absl::Status& status) {
    while (next < block_count && status.ok()) {
        const size_t block = next++;
        const int written = co_await reactor.op([&](io_uring_sqe* sqe) {
            io_uring_prep_write(sqe, fd, buffer, block_bytes, block * block_bytes);
        });
        if (written != static_cast<int>(block_bytes)) {
            status = written < 0 ? io::errno_to_status(-written, "O_DIRECT write")
                                 : absl::DataLossError("short O_DIRECT write");
        }
    }
}

io::Task<absl::Status> write_pass(io::Reactor& reactor, int fd, const std::byte* buffer,
                                  size_t block_count, int depth) {
    size_t next = 0;
    absl::Status status;
    io::TaskGroup group;
    for (int i = 0; i < depth; ++i) {
        group.spawn(write_blocks(reactor, fd, buffer, block_count, next, status));
    }
    co_await group.wait_idle();
    co_return status;
}

io::Task<absl::Status> sync_rounds(io::Reactor& reactor, int fd, const std::byte* buffer, int count,
                                   Histogram& latency) {
    for (int i = 0; i < count; ++i) {
        const int64_t start = steady_now_ns();
        const int written = co_await reactor.op([&](io_uring_sqe* sqe) {
            io_uring_prep_write(sqe, fd, buffer, sync_bytes, static_cast<uint64_t>(i) * sync_bytes);
        });
        if (written != static_cast<int>(sync_bytes)) {
            co_return written < 0 ? io::errno_to_status(-written, "O_DIRECT write")
                                  : absl::DataLossError("short O_DIRECT write");
        }
        const int synced = co_await reactor.op(
            [&](io_uring_sqe* sqe) { io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC); });
        if (synced < 0) {
            co_return io::errno_to_status(-synced, "fdatasync");
        }
        latency.record(static_cast<uint64_t>(steady_now_ns() - start));
    }
    co_return absl::OkStatus();
}

absl::Status probe_disk(const ProbeOptions& options, ProbeResult& result) {
    const std::string path = absl::StrCat(options.dir, "/ringlog-probe-", ::getpid(), ".dat");
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return io::errno_to_status(errno, absl::StrCat("open ", path));
    }
    ::unlink(path.c_str());  // gone when closed, whatever happens
    const size_t block_count = options.file_mib * 1024 * 1024 / block_bytes;
    AlignedBuffer buffer = aligned_buffer(block_bytes);
    RL_ASSIGN_OR_RETURN(std::unique_ptr<io::Reactor> reactor, io::Reactor::create());
    // The untimed first pass writes every block once: overwriting written blocks is what the
    // broker's pre-written segments do (LIMITS.md D9: unwritten extents cost twice).
    absl::Status status =
        reactor->block_on(write_pass(*reactor, fd, buffer.get(), block_count, options.queue_depth));
    ::fdatasync(fd);
    for (int pass = 0; pass < options.passes && status.ok(); ++pass) {
        const int64_t start = steady_now_ns();
        status = reactor->block_on(
            write_pass(*reactor, fd, buffer.get(), block_count, options.queue_depth));
        const double seconds = static_cast<double>(steady_now_ns() - start) / 1e9;
        result.disk_write_passes.push_back(static_cast<double>(block_count * block_bytes) / 1e6
                                           / seconds);
    }
    if (status.ok()) {
        status = reactor->block_on(
            sync_rounds(*reactor, fd, buffer.get(), options.sync_count, result.sync_write_ns));
    }
    ::close(fd);
    result.disk_write_mb_per_sec = median(result.disk_write_passes);
    return status;
}

// After probe_disk, whose file is closed by then: the disk holds one probe's bytes at a time.
absl::Status probe_durable(const ProbeOptions& options, ProbeResult& result) {
    RL_ASSIGN_OR_RETURN(std::unique_ptr<io::Reactor> reactor, io::Reactor::create());
    DurableAppendOptions durable;
    durable.dir = options.dir;
    durable.files = options.durable_files;
    durable.block_bytes = options.durable_block_kib * 1024;
    durable.total_bytes = options.file_mib * 1024 * 1024;
    result.durable_files = options.durable_files;
    result.durable_block_kib = options.durable_block_kib;
    for (int pass = 0; pass < options.passes; ++pass) {
        durable.prewritten = true;
        RL_ASSIGN_OR_RETURN(const double prewritten, durable_append_mb_per_sec(*reactor, durable));
        result.durable_prewritten_passes.push_back(prewritten);
        durable.prewritten = false;
        RL_ASSIGN_OR_RETURN(const double fresh, durable_append_mb_per_sec(*reactor, durable));
        result.durable_fresh_passes.push_back(fresh);
    }
    result.durable_prewritten_mb_per_sec = median(result.durable_prewritten_passes);
    result.durable_fresh_mb_per_sec = median(result.durable_fresh_passes);
    return absl::OkStatus();
}

absl::StatusOr<int> listen_loopback(uint16_t& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return io::errno_to_status(errno, "socket");
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0
        || ::listen(fd, 4) != 0
        || ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        const int error = errno;
        ::close(fd);
        return io::errno_to_status(error, "listen on loopback");
    }
    port = ntohs(address.sin_port);
    return fd;
}

absl::StatusOr<int> connect_loopback(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        const int error = errno;
        if (fd >= 0) {
            ::close(fd);
        }
        return io::errno_to_status(error, "connect to loopback");
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

bool read_exact(int fd, std::byte* data, size_t size) {
    while (size > 0) {
        const ssize_t n = ::recv(fd, data, size, 0);
        if (n <= 0) {
            return false;
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

bool write_all(int fd, const std::byte* data, size_t size) {
    while (size > 0) {
        const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

absl::Status probe_tcp(const ProbeOptions& options, ProbeResult& result) {
    uint16_t port = 0;
    RL_ASSIGN_OR_RETURN(const int listener, listen_loopback(port));
    // Stream: the receiver counts bytes from the first to EOF.
    std::atomic<uint64_t> received{0};
    std::atomic<int64_t> first_ns{0};
    std::atomic<int64_t> last_ns{0};
    std::thread sink([&] {
        const int fd = ::accept(listener, nullptr, nullptr);
        if (fd < 0) {
            return;
        }
        std::vector<std::byte> buffer(block_bytes);
        for (;;) {
            const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
            if (n <= 0) {
                break;
            }
            if (first_ns.load() == 0) {
                first_ns.store(steady_now_ns());
            }
            received.fetch_add(static_cast<uint64_t>(n));
        }
        last_ns.store(steady_now_ns());
        ::close(fd);
    });
    absl::StatusOr<int> sender = connect_loopback(port);
    if (sender.ok()) {
        std::vector<std::byte> buffer(block_bytes, std::byte{0x5a});
        const int64_t end = steady_now_ns() + static_cast<int64_t>(options.tcp_seconds * 1e9);
        while (steady_now_ns() < end && write_all(*sender, buffer.data(), buffer.size())) {
        }
        ::shutdown(*sender, SHUT_WR);
    }
    sink.join();
    if (sender.ok()) {
        ::close(*sender);
    }
    if (!sender.ok()) {
        ::close(listener);
        return sender.status();
    }
    // Bytes per ns x 1e3 = MB/s.
    result.tcp_mb_per_sec = static_cast<double>(received.load()) * 1e3
                            / static_cast<double>(std::max<int64_t>(1, last_ns - first_ns));
    // Ping-pong: 64 B each way, the echo on another thread (so on another CPU when one is free).
    constexpr size_t message_bytes = 64;
    std::thread echo([&] {
        const int fd = ::accept(listener, nullptr, nullptr);
        if (fd < 0) {
            return;
        }
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        std::byte message[message_bytes];
        while (read_exact(fd, message, message_bytes) && write_all(fd, message, message_bytes)) {
        }
        ::close(fd);
    });
    absl::StatusOr<int> client = connect_loopback(port);
    if (client.ok()) {
        std::byte message[message_bytes] = {};
        for (int i = 0; i < options.pingpong_count; ++i) {
            const int64_t start = steady_now_ns();
            if (!write_all(*client, message, message_bytes)
                || !read_exact(*client, message, message_bytes)) {
                break;
            }
            result.tcp_round_trip_ns.record(static_cast<uint64_t>(steady_now_ns() - start));
        }
        ::shutdown(*client, SHUT_WR);
    }
    echo.join();
    if (client.ok()) {
        ::close(*client);
    }
    ::close(listener);
    return client.status();
}

std::string latency_json(const Histogram& h) {
    return absl::StrFormat(
        "{\"count\": %lu, \"mean\": %.3f, \"p50\": %.3f, \"p99\": %.3f, \"p999\": %.3f, "
        "\"max\": %.3f}",
        static_cast<unsigned long>(h.count()), h.mean() / 1e3,
        static_cast<double>(h.quantile(0.5)) / 1e3, static_cast<double>(h.quantile(0.99)) / 1e3,
        static_cast<double>(h.quantile(0.999)) / 1e3, static_cast<double>(h.max()) / 1e3);
}

std::string passes_json(const std::vector<double>& passes) {
    std::string text;
    for (double pass : passes) {
        absl::StrAppend(&text, text.empty() ? "" : ", ", absl::StrFormat("%.1f", pass));
    }
    return text;
}

}  // namespace

absl::StatusOr<ProbeOptions> parse_probe_options(std::span<const std::string_view> args) {
    ProbeOptions options;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string_view flag = args[i];
        if (i + 1 >= args.size()) {
            return absl::InvalidArgumentError(absl::StrCat(base::to_absl(flag), " needs a value"));
        }
        const absl::string_view value = base::to_absl(args[++i]);
        bool ok = true;
        int64_t number = 0;
        if (flag == "--dir") {
            options.dir = std::string(value);
        } else if (flag == "--json") {
            options.json_path = std::string(value);
        } else if (flag == "--tcp-seconds") {
            ok = absl::SimpleAtod(value, &options.tcp_seconds) && options.tcp_seconds > 0;
        } else if (absl::SimpleAtoi(value, &number) && number > 0) {
            if (flag == "--file-mib") {
                options.file_mib = static_cast<size_t>(number);
            } else if (flag == "--passes") {
                options.passes = static_cast<int>(number);
            } else if (flag == "--sync-count") {
                options.sync_count = static_cast<int>(number);
            } else if (flag == "--pingpong") {
                options.pingpong_count = static_cast<int>(number);
            } else if (flag == "--durable-files") {
                options.durable_files = static_cast<int>(number);
            } else if (flag == "--durable-block-kib") {
                // O_DIRECT needs 4 KiB-aligned lengths.
                ok = number % 4 == 0;
                options.durable_block_kib = static_cast<size_t>(number);
            } else {
                return absl::InvalidArgumentError(
                    absl::StrCat("unknown flag '", base::to_absl(flag), "'"));
            }
        } else {
            ok = false;
        }
        if (!ok) {
            return absl::InvalidArgumentError(
                absl::StrCat("bad value for ", base::to_absl(flag), ": '", value, "'"));
        }
    }
    return options;
}

absl::StatusOr<ProbeResult> run_probe(const ProbeOptions& options) {
    ProbeResult result;
    RL_RETURN_IF_ERROR(probe_disk(options, result));
    RL_RETURN_IF_ERROR(probe_durable(options, result));
    RL_RETURN_IF_ERROR(probe_tcp(options, result));
    return result;
}

std::string probe_json(const ProbeResult& result) {
    return absl::StrFormat(
        "{\n  \"disk_write_mb_per_sec\": %.1f,\n  \"disk_write_passes_mb_per_sec\": [%s],\n"
        "  \"durable_prewritten_mb_per_sec\": %.1f,\n"
        "  \"durable_prewritten_passes_mb_per_sec\": [%s],\n"
        "  \"durable_fresh_mb_per_sec\": %.1f,\n"
        "  \"durable_fresh_passes_mb_per_sec\": [%s],\n"
        "  \"durable_files\": %d,\n  \"durable_block_kib\": %lu,\n"
        "  \"sync_write_latency_us\": %s,\n  \"tcp_mb_per_sec\": %.1f,\n"
        "  \"tcp_round_trip_us\": %s\n}\n",
        result.disk_write_mb_per_sec, passes_json(result.disk_write_passes),
        result.durable_prewritten_mb_per_sec, passes_json(result.durable_prewritten_passes),
        result.durable_fresh_mb_per_sec, passes_json(result.durable_fresh_passes),
        result.durable_files, static_cast<unsigned long>(result.durable_block_kib),
        latency_json(result.sync_write_ns), result.tcp_mb_per_sec,
        latency_json(result.tcp_round_trip_ns));
}

std::string probe_summary(const ProbeResult& result) {
    const Histogram& sync = result.sync_write_ns;
    const Histogram& rtt = result.tcp_round_trip_ns;
    const auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1e3; };
    return absl::StrCat(
        absl::StrFormat("%-50s%8.1f MB/s\n", "raw O_DIRECT overwrite, 1 MiB blocks, no sync:",
                        result.disk_write_mb_per_sec),
        absl::StrFormat("durable append, %d files x (%lu KiB write + fdatasync)\n",
                        result.durable_files, static_cast<unsigned long>(result.durable_block_kib)),
        absl::StrFormat("%-50s%8.1f MB/s\n", "  into pre-written files (recycled segments):",
                        result.durable_prewritten_mb_per_sec),
        absl::StrFormat("%-50s%8.1f MB/s\n",
                        "  into fresh files (new segments):", result.durable_fresh_mb_per_sec),
        absl::StrFormat("%-50sp50 %.1f us, p99 %.1f us\n", "4 KiB O_DIRECT write + fdatasync:",
                        us(sync.quantile(0.5)), us(sync.quantile(0.99))),
        absl::StrFormat("%-50s%8.1f MB/s\n", "loopback TCP stream:", result.tcp_mb_per_sec),
        absl::StrFormat("%-50sp50 %.1f us, p99 %.1f us\n", "loopback TCP round trip, 64 B:",
                        us(rtt.quantile(0.5)), us(rtt.quantile(0.99))));
}

}  // namespace ringlog::tools::bench
