// durable_append_mb_per_sec: see durable_append.h. One coroutine per file on one reactor, each
// awaiting its write before its fdatasync and its fdatasync before the next write, as a
// partition's flusher does at its deepest: the files overlap one another, never themselves.
#include "tools/ringlog/bench/durable_append.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include <absl/strings/str_cat.h>

#include "io/base/errno_status.h"
#include "io/base/status_macros.h"
#include "io/task_group.h"
#include "tools/ringlog/bench/aligned_buffer.h"

namespace ringlog::tools::bench {

namespace {

// Closes the probe's files however the measurement ends.
struct OpenFiles {
    std::vector<int> fds;

    ~OpenFiles() {
        for (int fd : fds) {
            ::close(fd);
        }
    }
};

absl::Status open_files(const DurableAppendOptions& options, OpenFiles& files) {
    for (int i = 0; i < options.files; ++i) {
        const std::string path =
            absl::StrCat(options.dir, "/ringlog-probe-", ::getpid(), "-durable-", i, ".dat");
        const int fd =
            ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
        if (fd < 0) {
            return io::errno_to_status(errno, absl::StrCat("open ", path));
        }
        ::unlink(path.c_str());  // gone when closed, whatever happens
        files.fds.push_back(fd);
    }
    return absl::OkStatus();
}

// One file's writer: `block_count` sequential blocks, each followed by an fdatasync when
// `sync` (the untimed pre-write skips them and syncs once at the end).
io::Task<void> append_blocks(io::Reactor& reactor, int fd, const std::byte* buffer,
                             size_t block_bytes, size_t block_count, bool sync,
                             absl::Status& status) {
    for (size_t block = 0; block < block_count && status.ok(); ++block) {
        const int written = co_await reactor.op([&](io_uring_sqe* sqe) {
            io_uring_prep_write(sqe, fd, buffer, static_cast<unsigned>(block_bytes),
                                block * block_bytes);
        });
        if (written != static_cast<int>(block_bytes)) {
            status = written < 0 ? io::errno_to_status(-written, "O_DIRECT write")
                                 : absl::DataLossError("short O_DIRECT write");
            co_return;
        }
        if (!sync) {
            continue;
        }
        const int synced = co_await reactor.op(
            [&](io_uring_sqe* sqe) { io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC); });
        if (synced < 0) {
            status = io::errno_to_status(-synced, "fdatasync");
        }
    }
}

io::Task<absl::Status> append_all(io::Reactor& reactor, const std::vector<int>& fds,
                                  const std::byte* buffer, size_t block_bytes,
                                  size_t blocks_per_file, bool sync) {
    absl::Status status;
    io::TaskGroup group;
    for (int fd : fds) {
        group.spawn(append_blocks(reactor, fd, buffer, block_bytes, blocks_per_file, sync, status));
    }
    co_await group.wait_idle();
    co_return status;
}

}  // namespace

absl::StatusOr<double> durable_append_mb_per_sec(io::Reactor& reactor,
                                                 const DurableAppendOptions& options) {
    if (options.files <= 0 || options.block_bytes == 0 || options.block_bytes % 4096 != 0) {
        return absl::InvalidArgumentError("durable append: files > 0 and 4 KiB-aligned blocks");
    }
    const size_t blocks_per_file = std::max<size_t>(
        1, options.total_bytes / options.block_bytes / static_cast<size_t>(options.files));
    OpenFiles files;
    RL_RETURN_IF_ERROR(open_files(options, files));
    AlignedBuffer buffer = aligned_buffer(options.block_bytes);
    if (options.prewritten) {
        // Every block written and synced once, so the timed pass overwrites allocated,
        // written extents, as a recycled segment does.
        RL_RETURN_IF_ERROR(reactor.block_on(append_all(reactor, files.fds, buffer.get(),
                                                       options.block_bytes, blocks_per_file,
                                                       /*sync=*/false)));
        for (int fd : files.fds) {
            if (::fdatasync(fd) != 0) {
                return io::errno_to_status(errno, "fdatasync");
            }
        }
    }
    const auto start = std::chrono::steady_clock::now();
    RL_RETURN_IF_ERROR(reactor.block_on(append_all(reactor, files.fds, buffer.get(),
                                                   options.block_bytes, blocks_per_file,
                                                   /*sync=*/true)));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double bytes =
        static_cast<double>(blocks_per_file * options.block_bytes * files.fds.size());
    return bytes / 1e6 / seconds;
}

}  // namespace ringlog::tools::bench
