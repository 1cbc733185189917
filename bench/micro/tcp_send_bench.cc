// Large responses over loopback TCP: IORING_OP_SENDMSG against IORING_OP_SENDMSG_ZC, through
// the same SendOp the connection uses, to decide Connection's zero_copy_send_bytes_min. Each
// response is a gather list of four segments (a header and three slices of a batch, as a fetch
// response would be) sent until every byte is out; a zero-copy send counts as done only at its
// notification, as in the connection. A thread drains the other end with blocking recv(2).
// `copied` is the fraction of zero-copy sends the kernel reported it copied anyway
// (IORING_SEND_ZC_REPORT_USAGE); on loopback expect 1.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "io/base/assert.h"
#include "io/reactor.h"
#include "net/tcp/send_op.h"

namespace ringlog::net::tcp {
namespace {

// A connected loopback pair: `sender` on this thread, the other end drained by a thread.
class LoopbackPair {
public:
    LoopbackPair() {
        const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof(address);
        RL_ASSERT(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
        RL_ASSERT(::listen(listener, 1) == 0);
        RL_ASSERT(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);
        receiver_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        RL_ASSERT(::connect(receiver_, reinterpret_cast<sockaddr*>(&address), sizeof(address))
                  == 0);
        sender = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        RL_ASSERT(sender >= 0);
        ::close(listener);
        const int one = 1;
        ::setsockopt(sender, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        drainer_ = std::thread([fd = receiver_] {
            std::vector<std::byte> sink(1024 * 1024);
            while (::recv(fd, sink.data(), sink.size(), 0) > 0) {
            }
        });
    }

    ~LoopbackPair() {
        ::shutdown(sender, SHUT_WR);
        drainer_.join();
        ::close(sender);
        ::close(receiver_);
    }

    int sender = -1;

private:
    int receiver_ = -1;
    std::thread drainer_;
};

struct Totals {
    uint64_t sends = 0;
    uint64_t copied = 0;
};

// Sends `bytes` (four segments) until all of it is out, then again per iteration.
io::Task<void> send_responses(benchmark::State& state, io::Reactor& reactor, int fd,
                              const std::vector<std::byte>& source, bool zero_copy,
                              Totals& totals) {
    const size_t bytes = source.size();
    const size_t header = std::min<size_t>(64, bytes / 4);
    const size_t slice = (bytes - header) / 3;
    for (auto _ : state) {
        std::array<iovec, 4> iovecs = {
            iovec{const_cast<std::byte*>(source.data()), header},
            iovec{const_cast<std::byte*>(source.data()) + header, slice},
            iovec{const_cast<std::byte*>(source.data()) + header + slice, slice},
            iovec{const_cast<std::byte*>(source.data()) + header + 2 * slice,
                  bytes - header - 2 * slice},
        };
        size_t first = 0;
        size_t left = bytes;
        while (left > 0) {
            msghdr message{};
            message.msg_iov = iovecs.data() + first;
            message.msg_iovlen = iovecs.size() - first;
            SendOp op(reactor, fd, &message, zero_copy, /*report_usage=*/zero_copy);
            const int result = co_await op;
            RL_ASSERT(result > 0, "send: %d", result);
            ++totals.sends;
            totals.copied += op.copied() ? 1 : 0;
            left -= static_cast<size_t>(result);
            // Step over what went out: whole segments, then into the next one.
            size_t sent = static_cast<size_t>(result);
            while (sent > 0 && sent >= iovecs[first].iov_len) {
                sent -= iovecs[first].iov_len;
                ++first;
            }
            if (sent > 0) {
                iovecs[first].iov_base = static_cast<std::byte*>(iovecs[first].iov_base) + sent;
                iovecs[first].iov_len -= sent;
            }
        }
    }
}

void run(benchmark::State& state, bool zero_copy) {
    auto created = io::Reactor::create();
    RL_ASSERT(created.ok());
    io::Reactor& reactor = **created;
    if (zero_copy && !reactor.supports(IORING_OP_SENDMSG_ZC)) {
        state.SkipWithError("kernel without IORING_OP_SENDMSG_ZC");
        return;
    }
    std::vector<std::byte> source(static_cast<size_t>(state.range(0)));
    for (size_t i = 0; i < source.size(); ++i) {
        source[i] = static_cast<std::byte>(i * 131 + 7);
    }
    Totals totals;
    {
        LoopbackPair pair;
        reactor.block_on(send_responses(state, reactor, pair.sender, source, zero_copy, totals));
    }
    state.SetBytesProcessed(state.iterations() * state.range(0));
    state.counters["sends_per_response"] =
        static_cast<double>(totals.sends) / static_cast<double>(state.iterations());
    if (zero_copy) {
        state.counters["copied"] =
            static_cast<double>(totals.copied) / static_cast<double>(totals.sends);
    }
}

void BM_TcpSend_SendMsg(benchmark::State& state) {
    run(state, false);
}

void BM_TcpSend_SendMsgZc(benchmark::State& state) {
    run(state, true);
}

BENCHMARK(BM_TcpSend_SendMsg)->RangeMultiplier(4)->Range(16 << 10, 4 << 20)->UseRealTime();
BENCHMARK(BM_TcpSend_SendMsgZc)->RangeMultiplier(4)->Range(16 << 10, 4 << 20)->UseRealTime();

}  // namespace
}  // namespace ringlog::net::tcp

BENCHMARK_MAIN();
