// One sync for many files, measured: N pre-written files, and per round one O_DIRECT write of W
// bytes to each (all in flight at once through io_uring), then either an fdatasync per file
// (all in flight at once) or a single syncfs(2). Prints the round time and the bytes made
// durable per second. The figures behind core/group_sync.h (bench/README.md, "One sync for many
// partitions"). Build and run, on the file system to measure:
//   g++ -O2 -std=c++20 -o /tmp/syncfs_probe scripts/bench/syncfs_probe.cc -luring
//   /tmp/syncfs_probe 500 fdatasync /var/tmp/probe-dir 16384 40
//   /tmp/syncfs_probe 500 syncfs /var/tmp/probe-dir 16384 40
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <liburing.h>

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s FILES fdatasync|syncfs DIR [WRITE_BYTES [ROUNDS]]\n",
                     argv[0]);
        return 2;
    }
    const int files = std::atoi(argv[1]);
    const std::string mode = argv[2];
    const std::string dir = argv[3];
    const size_t write_bytes = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 16384;
    const int rounds = argc > 5 ? std::atoi(argv[5]) : 100;
    const size_t file_bytes = write_bytes * rounds;
    constexpr size_t chunk = 1 << 20;
    void* buffer = nullptr;
    if (posix_memalign(&buffer, 4096, std::max(chunk, write_bytes)) != 0) {
        return 1;
    }
    std::memset(buffer, 'x', std::max(chunk, write_bytes));
    std::vector<int> fds;
    for (int i = 0; i < files; ++i) {
        const std::string path = dir + "/f" + std::to_string(i);
        const int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_DIRECT, 0644);
        if (fd < 0) {
            std::perror(path.c_str());
            return 1;
        }
        for (size_t at = 0; at < file_bytes; at += chunk) {  // pre-written, as segments are
            if (::pwrite(fd, buffer, std::min(chunk, file_bytes - at), static_cast<off_t>(at))
                < 0) {
                std::perror("pwrite");
                return 1;
            }
        }
        fds.push_back(fd);
    }
    ::sync();
    io_uring ring;
    if (io_uring_queue_init(4096, &ring, 0) != 0) {
        return 1;
    }
    auto reap = [&ring](int count, int expect) {
        for (int i = 0; i < count; ++i) {
            io_uring_cqe* cqe = nullptr;
            io_uring_wait_cqe(&ring, &cqe);
            if (expect >= 0 && cqe->res != expect) {
                std::fprintf(stderr, "operation failed: %d\n", cqe->res);
                std::exit(1);
            }
            io_uring_cqe_seen(&ring, cqe);
        }
    };
    std::vector<double> round_us;
    const auto begin = std::chrono::steady_clock::now();
    for (int round = 0; round < rounds; ++round) {
        const auto started = std::chrono::steady_clock::now();
        for (int fd : fds) {
            io_uring_prep_write(io_uring_get_sqe(&ring), fd, buffer,
                                static_cast<unsigned>(write_bytes),
                                static_cast<off_t>(round * write_bytes));
        }
        io_uring_submit(&ring);
        reap(files, static_cast<int>(write_bytes));
        if (mode == "fdatasync") {
            for (int fd : fds) {
                io_uring_prep_fsync(io_uring_get_sqe(&ring), fd, IORING_FSYNC_DATASYNC);
            }
            io_uring_submit(&ring);
            reap(files, 0);
        } else if (::syncfs(fds.front()) != 0) {
            std::perror("syncfs");
            return 1;
        }
        round_us.push_back(
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started)
                .count());
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    std::sort(round_us.begin(), round_us.end());
    std::printf(
        "%s, %d files x %zu B per round: round p50 %.0f us, p90 %.0f us, max %.0f us; %.1f MB/s "
        "durable\n",
        mode.c_str(), files, write_bytes, round_us[round_us.size() / 2],
        round_us[round_us.size() * 9 / 10], round_us.back(),
        static_cast<double>(files) * write_bytes * rounds / seconds / 1e6);
    for (int i = 0; i < files; ++i) {
        ::close(fds[i]);
        ::unlink((dir + "/f" + std::to_string(i)).c_str());
    }
    return 0;
}
