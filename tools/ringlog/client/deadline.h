// Deadline: the bound on anything the CLI's clients wait for from a broker (a connect, an
// answer). ClientConnection has no timeouts of its own, so while a Deadline is alive a process
// timer (setitimer, SIGALRM) runs, and if it fires the process prints the Deadline's one-line
// message and exits 1: a one-shot command has nothing left to do once its broker stopped
// answering. Not for the broker or the load generator, which must outlive a slow peer.
#pragma once

#include <chrono>
#include <string_view>

namespace ringlog::tools::client {

// Contract: one alive at a time (asserted), on the main thread; destroying it disarms the timer.
class Deadline {
public:
    // `what` is printed as "<what>: no answer within N ms" when the time runs out.
    Deadline(std::chrono::milliseconds timeout, std::string_view what);
    ~Deadline();

    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;
};

}  // namespace ringlog::tools::client
