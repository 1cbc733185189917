// Listener: a listening TCP socket whose connections arrive through one multishot accept
// (io_uring_prep_multishot_accept(3)): one SQE, one CQE per accepted socket, re-armed when the
// kernel ends it (a CQE without IORING_CQE_F_MORE). It hands out sockets; serving them is the
// caller's (see Connection).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "io/event.h"
#include "io/reactor.h"
#include "io/task.h"

namespace ringlog::net::tcp {

// Contract: created, used and destroyed on its reactor's thread. accept() yields accepted
// sockets in arrival order; the caller owns each fd. close() cancels the accept, waits for its
// last CQE (so none arrives for a destroyed listener), closes sockets accepted but never
// taken, then the listening socket; accept() then fails with kCancelled. Destroy it only
// after close() returned and every accept() finished (asserted).
class Listener {
public:
    // Binds `host` (an IPv4 address such as "127.0.0.1" or "0.0.0.0") and `port` (0: an
    // ephemeral port, see port()) and listens. With reuse_port (SO_REUSEPORT, socket(7)) every
    // shard can bind its own listener to the same host and port, and the kernel spreads new
    // connections over them by a hash of the peer's address; each listener must set it, and
    // the one that fixed an ephemeral port hands port() to the others.
    [[nodiscard]] static absl::StatusOr<std::unique_ptr<Listener>> bind(io::Reactor& reactor,
                                                                        std::string_view host,
                                                                        uint16_t port,
                                                                        int backlog = 1024,
                                                                        bool reuse_port = false);

    // Fails with kAlreadyExists if something already listens on host:port. Listeners that
    // share a port (reuse_port) would otherwise join another process's group without a word
    // and take half its connections; check first, once, before binding them.
    [[nodiscard]] static absl::Status check_port_unused(std::string_view host, uint16_t port);

    ~Listener();

    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    // The bound port, the kernel's choice when bind() was given 0.
    uint16_t port() const { return port_; }

    // The next accepted socket. A failed accept (EMFILE, say) is returned as a status and the
    // next call re-arms; kCancelled once close() has begun.
    [[nodiscard]] io::Task<absl::StatusOr<int>> accept();

    [[nodiscard]] io::Task<void> close();

    // Times the multishot accept was (re-)armed.
    uint64_t arm_count() const { return arm_count_; }

private:
    // The multishot accept's user_data; it lives in the listener, which outlives the SQE.
    struct AcceptCompletion : io::Completion {
        explicit AcceptCompletion(Listener& owner) : Completion(&on_cqe), listener(owner) {}

        static void on_cqe(Completion* self, int32_t result, uint32_t flags);

        Listener& listener;
    };

    Listener(io::Reactor& reactor, int fd, uint16_t port);

    void arm();

    io::Reactor& reactor_;
    int fd_;
    uint16_t port_;
    AcceptCompletion completion_{*this};
    bool armed_ = false;
    bool closing_ = false;
    uint64_t arm_count_ = 0;
    // Accepted sockets (>= 0) and failures (-errno), in CQE order, until accept() takes them.
    std::deque<int> results_;
    io::Notify changed_;
};

}  // namespace ringlog::net::tcp
