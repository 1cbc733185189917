// ringlogd: the broker process. It opens (and so recovers) every partition log under
// --data-dir, enforces retention on a timer, and on SIGTERM or SIGINT syncs and closes every
// log before it exits. The Kafka listener, the shards and the request handlers are the next
// piece of work (TODO(#3)); until then the process holds and maintains the logs.
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/broker_config.h"
#include "core/log.h"
#include "io/base/status_macros.h"
#include "io/event.h"
#include "io/reactor.h"
#include "io/task_group.h"
#include "io/uring_file_system.h"

namespace ringlog {
namespace {

// "<topic>-<partition>", as Kafka names partition folders.
bool is_partition_dir(const std::string& name) {
    const size_t dash = name.rfind('-');
    if (dash == std::string::npos || dash == 0 || dash + 1 == name.size()) {
        return false;
    }
    return name.find_first_not_of("0123456789", dash + 1) == std::string::npos;
}

class Daemon {
public:
    Daemon(core::BrokerConfig config, io::Reactor& reactor)
        : config_(std::move(config)), reactor_(reactor), fs_(reactor) {}

    io::Task<absl::Status> run() {
        RL_CO_RETURN_IF_ERROR(fs_.make_dirs(config_.data_dir));
        RL_CO_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.list_dir(config_.data_dir));
        for (const std::string& name : names) {
            if (!is_partition_dir(name)) {
                continue;
            }
            auto log = co_await core::Log::open(fs_, config_.data_dir + "/" + name, config_.log);
            if (!log.ok()) {
                co_return absl::Status(log.status().code(),
                                       absl::StrCat("open ", name, ": ", log.status().message()));
            }
            std::fprintf(stderr, "ringlogd: %s: offsets [%ld, %ld), %zu segments\n", name.c_str(),
                         static_cast<long>((*log)->log_start_offset().value()),
                         static_cast<long>((*log)->log_end_offset().value()),
                         (*log)->segment_count());
            logs_.push_back(*std::move(log));
        }
        std::fprintf(stderr, "ringlogd: data in %s, %zu partitions recovered; port %d\n",
                     config_.data_dir.c_str(), logs_.size(), config_.port);

        background_.spawn(watch_signals());
        const auto interval = std::chrono::milliseconds(config_.retention_check_interval_ms);
        while (!stopping_) {
            if (co_await stop_.wait_for(interval)) {
                break;
            }
            for (auto& log : logs_) {
                absl::Status status = co_await log->enforce_retention();
                if (!status.ok()) {
                    std::fprintf(stderr, "ringlogd: retention in %s: %s\n", log->dir().c_str(),
                                 std::string(status.message()).c_str());
                }
            }
        }
        absl::Status result;
        for (auto& log : logs_) {
            absl::Status status = co_await log->close();
            if (!status.ok() && result.ok()) {
                result = status;
            }
        }
        co_await background_.wait_idle();
        std::fprintf(stderr, "ringlogd: stopped cleanly\n");
        co_return result;
    }

private:
    // SIGTERM and SIGINT arrive through a signalfd read on the ring, so shutdown is just
    // another completion on the loop.
    io::Task<void> watch_signals() {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        const int fd = signalfd(-1, &mask, SFD_CLOEXEC);
        signalfd_siginfo info{};
        const int result = co_await reactor_.op(
            [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fd, &info, sizeof(info), 0); });
        close(fd);
        std::fprintf(
            stderr, "ringlogd: %s, stopping\n",
            result == sizeof(info) ? strsignal(static_cast<int>(info.ssi_signo)) : "signal");
        stopping_ = true;
        stop_.notify_all();
    }

    core::BrokerConfig config_;
    io::Reactor& reactor_;
    io::UringFileSystem fs_;
    std::vector<std::unique_ptr<core::Log>> logs_;
    io::Notify stop_;
    io::TaskGroup background_;
    bool stopping_ = false;
};

}  // namespace
}  // namespace ringlog

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    for (std::string_view arg : args) {
        if (arg == "--help" || arg == "-h") {
            std::fputs(ringlog::core::broker_usage().c_str(), stdout);
            return 0;
        }
    }
    auto config = ringlog::core::parse_broker_config(args);
    if (!config.ok()) {
        std::fprintf(stderr, "ringlogd: %s\n%s", std::string(config.status().message()).c_str(),
                     ringlog::core::broker_usage().c_str());
        return 2;
    }
    // Block the stop signals before any thread exists, so only the signalfd sees them.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);

    auto reactor = ringlog::io::Reactor::create();
    if (!reactor.ok()) {
        std::fprintf(stderr, "ringlogd: %s\n", std::string(reactor.status().message()).c_str());
        return 1;
    }
    ringlog::Daemon daemon(*std::move(config), **reactor);
    const absl::Status status = (*reactor)->block_on(daemon.run());
    if (!status.ok()) {
        std::fprintf(stderr, "ringlogd: %s\n", std::string(status.message()).c_str());
        return 1;
    }
    return 0;
}
