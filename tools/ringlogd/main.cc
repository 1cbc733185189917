// ringlogd: the broker process. Parses the flags (core/broker_config.h), starts the broker
// (shards, partitions recovered, listeners), prints "ringlogd: ready", and on SIGTERM or
// SIGINT stops it in order: no new connections, in-flight requests finished, every log synced
// and closed. A second signal while stopping is ignored: stopping is already as fast as a
// clean sync allows.
#include <signal.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/broker.h"
#include "core/broker_config.h"
#include "io/allocator_tuning.h"

int main(int argc, char** argv) {
    ringlog::io::keep_freed_memory_for_reuse();
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
    // Block the stop signals before any thread exists, so the shards inherit the mask and only
    // sigwait below sees them.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    signal(SIGPIPE, SIG_IGN);

    ringlog::core::Broker broker(*std::move(config));
    const absl::Status started = broker.start();
    if (!started.ok()) {
        std::fprintf(stderr, "ringlogd: %s\n", std::string(started.message()).c_str());
        return 1;
    }
    std::fprintf(stderr, "ringlogd: ready\n");
    int signal_number = 0;
    sigwait(&mask, &signal_number);
    std::fprintf(stderr, "ringlogd: %s, stopping\n", strsignal(signal_number));
    const absl::Status stopped = broker.stop();
    if (!stopped.ok()) {
        std::fprintf(stderr, "ringlogd: %s\n", std::string(stopped.message()).c_str());
        return 1;
    }
    std::fprintf(stderr, "ringlogd: stopped cleanly\n");
    return 0;
}
