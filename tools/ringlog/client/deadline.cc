// Deadline: see deadline.h. The message is formatted before the timer is armed, so the signal
// handler only calls write(2) and _exit(2), which are async-signal-safe.
#include "tools/ringlog/client/deadline.h"

#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "io/base/assert.h"

namespace ringlog::tools::client {

namespace {

char message[512];
size_t message_bytes = 0;
bool armed = false;

void on_alarm(int) {
    ssize_t written = ::write(STDERR_FILENO, message, message_bytes);
    (void)written;
    ::_exit(1);
}

void set_timer(std::chrono::milliseconds timeout) {
    itimerval timer{};
    timer.it_value.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    timer.it_value.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
    ::setitimer(ITIMER_REAL, &timer, nullptr);
}

}  // namespace

Deadline::Deadline(std::chrono::milliseconds timeout, std::string_view what) {
    RL_ASSERT(!armed, "a Deadline is already running");
    RL_ASSERT(timeout.count() > 0);
    const int length = std::snprintf(
        message, sizeof(message), "ringlog: %.*s: no answer within %ld ms\n",
        static_cast<int>(what.size()), what.data(), static_cast<long>(timeout.count()));
    message_bytes = length < 0 ? 0 : std::min(static_cast<size_t>(length), sizeof(message) - 1);

    struct sigaction action {};

    action.sa_handler = on_alarm;
    ::sigaction(SIGALRM, &action, nullptr);
    armed = true;
    set_timer(timeout);
}

Deadline::~Deadline() {
    set_timer(std::chrono::milliseconds(0));
    armed = false;
}

}  // namespace ringlog::tools::client
