#include "net/dpdk/udp_packet_io.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include <absl/strings/str_cat.h>

#include "io/base/assert.h"
#include "io/base/errno_status.h"
#include "io/reactor.h"
#include "net/dpdk/tx_batch.h"

namespace ringlog::net::dpdk {
namespace {

constexpr size_t burst_max = 32;
constexpr size_t iovs_per_packet = 1 + TxBatch::pieces_max;

sockaddr_in to_sockaddr(Endpoint endpoint) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(endpoint.port);
    address.sin_addr.s_addr = htonl(endpoint.ipv4);
    return address;
}

}  // namespace

// Lives on the heap from arming to its CQE, whichever of the socket and the poll ends first.
class UdpPacketIo::Wakeup final : public io::Completion {
public:
    explicit Wakeup(UdpPacketIo* owner) : io::Completion(&on_complete), owner_(owner) {}

    void detach() { owner_ = nullptr; }

private:
    static void on_complete(io::Completion* self, int32_t result, uint32_t flags) {
        (void)result;  // POLLIN, or -ECANCELED after detach: either way the wait has ended
        (void)flags;
        auto* wakeup = static_cast<Wakeup*>(self);
        if (wakeup->owner_ != nullptr) {
            wakeup->owner_->wakeup_ = nullptr;
        }
        delete wakeup;
    }

    UdpPacketIo* owner_;
};

void UdpPacketIo::arm_wakeup(io::Reactor& reactor) {
    if (wakeup_ != nullptr) {
        return;
    }
    wakeup_ = new Wakeup(this);
    wakeup_reactor_ = &reactor;
    reactor.prepare(wakeup_,
                    [this](io_uring_sqe* sqe) { io_uring_prep_poll_add(sqe, fd_, POLLIN); });
}

absl::StatusOr<std::unique_ptr<UdpPacketIo>> UdpPacketIo::open(UdpOptions options) {
    RL_ASSERT(options.slots > 0 && options.datagram_bytes_max <= 65'507);
    absl::StatusOr<uint32_t> ipv4 = parse_ipv4(options.host);
    if (!ipv4.ok()) {
        return ipv4.status();
    }
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return io::errno_to_status(errno, "open a UDP socket");
    }
    // Bigger socket buffers than the default 208 KiB: a burst of fragments of a large request
    // should not overflow while the shard is busy elsewhere. Best effort (capped by rmem_max).
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &options.socket_buffer_bytes, sizeof(int));
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &options.socket_buffer_bytes, sizeof(int));
    const sockaddr_in address = to_sockaddr(Endpoint{.ipv4 = *ipv4, .port = options.port});
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        const int error = errno;
        ::close(fd);
        return io::errno_to_status(error,
                                   absl::StrCat("bind UDP ", options.host, ":", options.port));
    }
    sockaddr_in bound{};
    socklen_t length = sizeof(bound);
    (void)::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
    const Endpoint local{.ipv4 = *ipv4, .port = ntohs(bound.sin_port)};
    return std::unique_ptr<UdpPacketIo>(new UdpPacketIo(std::move(options), fd, local));
}

UdpPacketIo::UdpPacketIo(UdpOptions options, int fd, Endpoint local)
    : options_(std::move(options)),
      fd_(fd),
      local_(local),
      slot_bytes_(options_.datagram_bytes_max + 1),
      buffers_(options_.slots * slot_bytes_) {
    free_slots_.reserve(options_.slots);
    for (size_t slot = options_.slots; slot > 0; --slot) {
        free_slots_.push_back(static_cast<uint32_t>(slot - 1));
    }
}

UdpPacketIo::~UdpPacketIo() {
    RL_ASSERT(free_slots_.size() == options_.slots, "UdpPacketIo destroyed with packets held");
    if (wakeup_ != nullptr) {
        Wakeup* const wakeup = wakeup_;
        wakeup->detach();
        wakeup_reactor_->prepare(nullptr, [wakeup](io_uring_sqe* sqe) {
            io_uring_prep_poll_remove(sqe, reinterpret_cast<__u64>(wakeup));
        });
    }
    ::close(fd_);
}

size_t UdpPacketIo::receive(std::span<ReceivedPacket> packets) {
    const size_t want = std::min({packets.size(), free_slots_.size(), burst_max});
    if (want == 0) {
        return 0;
    }
    std::array<mmsghdr, burst_max> messages{};
    std::array<iovec, burst_max> iovs{};
    std::array<sockaddr_in, burst_max> sources{};
    for (size_t index = 0; index < want; ++index) {
        const uint32_t slot = free_slots_[free_slots_.size() - 1 - index];
        iovs[index] =
            iovec{.iov_base = buffers_.data() + slot * slot_bytes_, .iov_len = slot_bytes_};
        messages[index].msg_hdr.msg_iov = &iovs[index];
        messages[index].msg_hdr.msg_iovlen = 1;
        messages[index].msg_hdr.msg_name = &sources[index];
        messages[index].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    }
    const int received =
        ::recvmmsg(fd_, messages.data(), static_cast<unsigned>(want), MSG_DONTWAIT, nullptr);
    if (received <= 0) {
        return 0;  // EAGAIN: nothing there; anything else is retried on the next poll
    }
    size_t count = 0;
    for (int index = 0; index < received; ++index) {
        const uint32_t slot = free_slots_.back();
        free_slots_.pop_back();
        const size_t bytes = messages[static_cast<size_t>(index)].msg_len;
        if ((messages[static_cast<size_t>(index)].msg_hdr.msg_flags & MSG_TRUNC) != 0
            || bytes > options_.datagram_bytes_max) {
            ++stats_.dropped_malformed;
            free_slots_.push_back(slot);
            continue;
        }
        const sockaddr_in& source = sources[static_cast<size_t>(index)];
        packets[count++] =
            ReceivedPacket{.source = Endpoint{.ipv4 = ntohl(source.sin_addr.s_addr),
                                              .port = ntohs(source.sin_port)},
                           .payload = Bytes(buffers_.data() + slot * slot_bytes_, bytes),
                           .token = slot,
                           .link = 0};
        ++stats_.received;
        stats_.receive_bytes += bytes;
    }
    return count;
}

void UdpPacketIo::release(const ReceivedPacket& packet) {
    RL_DASSERT(packet.token < options_.slots);
    RL_DASSERT(free_slots_.size() < options_.slots);
    free_slots_.push_back(static_cast<uint32_t>(packet.token));
}

size_t UdpPacketIo::transmit(std::span<const OutgoingPacket> packets) {
    size_t sent_total = 0;
    while (sent_total < packets.size()) {
        const size_t count = std::min(burst_max, packets.size() - sent_total);
        std::array<mmsghdr, burst_max> messages{};
        std::array<std::array<iovec, iovs_per_packet>, burst_max> iovs{};
        std::array<sockaddr_in, burst_max> targets{};
        for (size_t index = 0; index < count; ++index) {
            const OutgoingPacket& packet = packets[sent_total + index];
            RL_ASSERT(packet.payload.size() < iovs_per_packet);
            size_t iov_count = 0;
            iovs[index][iov_count++] =
                iovec{.iov_base = const_cast<std::byte*>(packet.header.data()),
                      .iov_len = packet.header.size()};
            size_t bytes = packet.header.size();
            for (const Bytes piece : packet.payload) {
                iovs[index][iov_count++] = iovec{.iov_base = const_cast<std::byte*>(piece.data()),
                                                 .iov_len = piece.size()};
                bytes += piece.size();
            }
            stats_.transmit_bytes += bytes;
            targets[index] = to_sockaddr(packet.target);
            messages[index].msg_hdr.msg_iov = iovs[index].data();
            messages[index].msg_hdr.msg_iovlen = iov_count;
            messages[index].msg_hdr.msg_name = &targets[index];
            messages[index].msg_hdr.msg_namelen = sizeof(sockaddr_in);
        }
        const int sent =
            ::sendmmsg(fd_, messages.data(), static_cast<unsigned>(count), MSG_DONTWAIT);
        if (sent <= 0) {
            stats_.transmit_full += packets.size() - sent_total;
            break;  // EAGAIN (a full socket buffer): the rest is dropped, and retransmitted
        }
        sent_total += static_cast<size_t>(sent);
        stats_.transmitted += static_cast<uint64_t>(sent);
        if (static_cast<size_t>(sent) < count) {
            stats_.transmit_full += packets.size() - sent_total;
            break;
        }
    }
    return sent_total;
}

}  // namespace ringlog::net::dpdk
