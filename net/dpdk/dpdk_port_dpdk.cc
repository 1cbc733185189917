// The DPDK PacketIo: one rx and one tx queue of an rte_eth port, polled by one thread. Frames
// are Ethernet II / IPv4 (no options, no fragments) / UDP. Receive parses in place: the
// payload handed up points into the mbuf, which is freed on release(). Transmit writes the
// headers into a fresh mbuf per datagram and either copies the payload after them (one
// segment of at most 1514 bytes) or, for a packet with a PayloadPin, chains external-buffer
// mbufs that point at the payload where it lies (the log's buffers, for a fetch), each
// holding the pin until the driver frees it.
#include <sched.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_split.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "io/base/absl_compat.h"
#include "io/base/assert.h"
#include "net/dpdk/dpdk_port.h"

namespace ringlog::net::dpdk {
namespace {

constexpr size_t headers_bytes =
    sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr);  // 14 + 20 + 8
constexpr size_t frame_bytes_max = 1514;                                 // without the FCS
constexpr size_t burst_max = 32;
static_assert(headers_bytes == 42);
static_assert(frame_bytes_max - headers_bytes == dpdk_datagram_bytes_max);

// Each external segment's shared info (free callback, its argument, a reference count) lives in
// its own mbuf's private area: attaching needs no allocation and no room in the log's buffer.
constexpr uint16_t external_priv_bytes =
    RTE_ALIGN_CEIL(sizeof(rte_mbuf_ext_shared_info), RTE_MBUF_PRIV_ALIGN);

bool eal_ready = false;

// Runs when the driver frees an external segment: inside rte_eth_tx_burst for a copying driver
// (memif copies and frees at once), in a later burst or at rte_eth_dev_stop for a NIC. Either
// way on the port's polling thread, the only one that calls them, so the pin's plain count is
// safe.
void release_pin(void* /*address*/, void* opaque) {
    static_cast<PayloadPin*>(opaque)->release();
}

class DpdkPacketIo final : public PacketIo {
public:
    DpdkPacketIo(DpdkPortOptions options, rte_mempool* pool, rte_mempool* external_pool,
                 rte_ether_addr mac)
        : options_(options), pool_(pool), external_pool_(external_pool), mac_(mac) {}

    ~DpdkPacketIo() override {
        (void)rte_eth_dev_stop(options_.port_id);
        // The pool stays: EAL memory is released when the process ends, and a port may be
        // reopened by a restarted shard.
    }

    size_t receive(std::span<ReceivedPacket> packets) override {
        std::array<rte_mbuf*, burst_max> mbufs;
        const uint16_t want = static_cast<uint16_t>(std::min(packets.size(), burst_max));
        const uint16_t received = rte_eth_rx_burst(options_.port_id, 0, mbufs.data(), want);
        size_t count = 0;
        for (uint16_t index = 0; index < received; ++index) {
            rte_mbuf* mbuf = mbufs[index];
            if (!parse(mbuf, packets[count])) {
                ++stats_.dropped_malformed;
                rte_pktmbuf_free(mbuf);
                continue;
            }
            ++stats_.received;
            stats_.receive_bytes += packets[count].payload.size();
            ++count;
        }
        return count;
    }

    void release(const ReceivedPacket& packet) override {
        rte_pktmbuf_free(reinterpret_cast<rte_mbuf*>(packet.token));
    }

    size_t transmit(std::span<const OutgoingPacket> packets) override {
        size_t sent_total = 0;
        while (sent_total < packets.size()) {
            const size_t count = std::min(burst_max, packets.size() - sent_total);
            std::array<rte_mbuf*, burst_max> mbufs;
            if (rte_pktmbuf_alloc_bulk(pool_, mbufs.data(), static_cast<unsigned>(count)) != 0) {
                stats_.transmit_full += packets.size() - sent_total;
                break;  // the pool is spent: back-pressure, the protocol retransmits
            }
            size_t built = 0;
            while (built < count && build(packets[sent_total + built], mbufs[built])) {
                ++built;
            }
            const uint16_t sent =
                rte_eth_tx_burst(options_.port_id, 0, mbufs.data(), static_cast<uint16_t>(built));
            // Unsent (and the unbuilt rest): freeing a chain releases its external segments' pins.
            for (size_t index = sent; index < count; ++index) {
                rte_pktmbuf_free(mbufs[index]);
            }
            stats_.transmitted += sent;
            sent_total += sent;
            if (sent < count) {
                stats_.transmit_full += packets.size() - sent_total;
                break;
            }
        }
        return sent_total;
    }

    size_t datagram_bytes_max() const override { return frame_bytes_max - headers_bytes; }

    Endpoint local_endpoint() const override { return options_.local; }

    std::string hardware_address() const override {
        return std::string(reinterpret_cast<const char*>(mac_.addr_bytes), RTE_ETHER_ADDR_LEN);
    }

    const PacketIoStats& stats() const override { return stats_; }

private:
    bool parse(rte_mbuf* mbuf, ReceivedPacket& out) {
        if (mbuf->nb_segs != 1 || rte_pktmbuf_data_len(mbuf) < headers_bytes) {
            return false;
        }
        const auto* ethernet = rte_pktmbuf_mtod(mbuf, const rte_ether_hdr*);
        if (ethernet->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
            return false;
        }
        const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(ethernet + 1);
        const bool fragment = (rte_be_to_cpu_16(ip->fragment_offset)
                               & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
                              != 0;
        if (ip->version_ihl != RTE_IPV4_VHL_DEF || ip->next_proto_id != IPPROTO_UDP || fragment
            || rte_be_to_cpu_32(ip->dst_addr) != options_.local.ipv4) {
            return false;
        }
        const auto* udp = reinterpret_cast<const rte_udp_hdr*>(ip + 1);
        const size_t udp_bytes = rte_be_to_cpu_16(udp->dgram_len);
        if (rte_be_to_cpu_16(udp->dst_port) != options_.local.port || udp_bytes < sizeof(*udp)
            || sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + udp_bytes
                   > rte_pktmbuf_data_len(mbuf)) {
            return false;
        }
        const uint32_t source = rte_be_to_cpu_32(ip->src_addr);
        // Static ARP, learned: answers go back to the Ethernet address the request came from.
        if (const auto known = peers_.find(source);
            known == peers_.end() || !rte_is_same_ether_addr(&known->second, &ethernet->src_addr)) {
            peers_[source] = ethernet->src_addr;
        }
        out.source = Endpoint{.ipv4 = source, .port = rte_be_to_cpu_16(udp->src_port)};
        out.payload = Bytes(reinterpret_cast<const std::byte*>(udp + 1), udp_bytes - sizeof(*udp));
        out.token = reinterpret_cast<uintptr_t>(mbuf);
        return true;
    }

    // Fills `head` with the frame of `packet`; false if the pools ran dry (the caller frees
    // `head` with whatever was chained to it, and the protocol retransmits).
    bool build(const OutgoingPacket& packet, rte_mbuf* head) {
        size_t payload_bytes = packet.header.size();
        for (const Bytes piece : packet.payload) {
            payload_bytes += piece.size();
        }
        RL_ASSERT(headers_bytes + payload_bytes <= frame_bytes_max);
        const bool external =
            packet.pin != nullptr && options_.external_buffers && external_pool_ != nullptr;
        const size_t head_bytes = headers_bytes + (external ? packet.header.size() : payload_bytes);
        auto* frame =
            reinterpret_cast<uint8_t*>(rte_pktmbuf_append(head, static_cast<uint16_t>(head_bytes)));
        RL_ASSERT(frame != nullptr, "mbuf data room below one frame");
        auto* out = write_headers(frame, packet.target, payload_bytes);
        std::memcpy(out, packet.header.data(), packet.header.size());
        out += packet.header.size();
        stats_.transmit_bytes += payload_bytes;
        if (!external) {
            // The one copy on the way out.
            for (const Bytes piece : packet.payload) {
                std::memcpy(out, piece.data(), piece.size());
                out += piece.size();
            }
            stats_.transmit_copied_bytes += payload_bytes - packet.header.size();
            return true;
        }
        for (const Bytes piece : packet.payload) {
            if (piece.empty()) {
                continue;
            }
            if (piece.size() < options_.external_bytes_min) {
                if (!append_copy(head, piece)) {
                    return false;
                }
                continue;
            }
            rte_mbuf* segment = rte_pktmbuf_alloc(external_pool_);
            if (segment == nullptr) {
                ++stats_.transmit_full;
                return false;
            }
            auto* shared = reinterpret_cast<rte_mbuf_ext_shared_info*>(rte_mbuf_to_priv(segment));
            shared->free_cb = release_pin;
            shared->fcb_opaque = packet.pin;
            rte_mbuf_ext_refcnt_set(shared, 1);
            void* address = const_cast<std::byte*>(piece.data());  // the device only reads it
            const rte_iova_t iova =
                rte_eal_iova_mode() == RTE_IOVA_VA
                    ? static_cast<rte_iova_t>(reinterpret_cast<uintptr_t>(address))
                    : RTE_BAD_IOVA;
            rte_pktmbuf_attach_extbuf(segment, address, iova, static_cast<uint16_t>(piece.size()),
                                      shared);
            segment->data_len = static_cast<uint16_t>(piece.size());
            segment->pkt_len = static_cast<uint32_t>(piece.size());
            packet.pin->retain();  // from here, freeing the segment releases it
            if (rte_pktmbuf_chain(head, segment) != 0) {
                rte_pktmbuf_free(segment);
                return false;
            }
            ++stats_.transmit_external_segments;
        }
        return true;
    }

    // Copies a small piece after the last segment of `head`: into it if it is ours and has
    // room, else into a fresh one chained after it.
    bool append_copy(rte_mbuf* head, Bytes piece) {
        auto* at = reinterpret_cast<std::byte*>(
            rte_pktmbuf_append(head, static_cast<uint16_t>(piece.size())));
        if (at == nullptr || RTE_MBUF_HAS_EXTBUF(rte_pktmbuf_lastseg(head))) {
            if (at != nullptr) {
                (void)rte_pktmbuf_trim(head, static_cast<uint16_t>(piece.size()));
            }
            rte_mbuf* segment = rte_pktmbuf_alloc(pool_);
            if (segment == nullptr) {
                ++stats_.transmit_full;
                return false;
            }
            at = reinterpret_cast<std::byte*>(
                rte_pktmbuf_append(segment, static_cast<uint16_t>(piece.size())));
            if (rte_pktmbuf_chain(head, segment) != 0) {
                rte_pktmbuf_free(segment);
                return false;
            }
        }
        std::memcpy(at, piece.data(), piece.size());
        stats_.transmit_copied_bytes += piece.size();
        return true;
    }

    // Ethernet, IPv4 and UDP headers for a UDP payload of `payload_bytes`; returns where the
    // payload goes.
    std::byte* write_headers(uint8_t* frame, Endpoint target, size_t payload_bytes) {
        auto* ethernet = reinterpret_cast<rte_ether_hdr*>(frame);
        rte_ether_addr_copy(&mac_, &ethernet->src_addr);
        if (const auto known = peers_.find(target.ipv4); known != peers_.end()) {
            rte_ether_addr_copy(&known->second, &ethernet->dst_addr);
        } else if (options_.peer_mac.has_value()) {
            std::memcpy(ethernet->dst_addr.addr_bytes, options_.peer_mac->data(), 6);
        } else {
            std::memset(ethernet->dst_addr.addr_bytes, 0xff, 6);
        }
        ethernet->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
        auto* ip = reinterpret_cast<rte_ipv4_hdr*>(ethernet + 1);
        std::memset(ip, 0, sizeof(*ip));
        ip->version_ihl = RTE_IPV4_VHL_DEF;
        ip->total_length = rte_cpu_to_be_16(
            static_cast<uint16_t>(sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr) + payload_bytes));
        ip->packet_id = rte_cpu_to_be_16(next_ip_id_++);
        ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
        ip->time_to_live = 64;
        ip->next_proto_id = IPPROTO_UDP;
        ip->src_addr = rte_cpu_to_be_32(options_.local.ipv4);
        ip->dst_addr = rte_cpu_to_be_32(target.ipv4);
        ip->hdr_checksum = rte_ipv4_cksum(ip);
        auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
        udp->src_port = rte_cpu_to_be_16(options_.local.port);
        udp->dst_port = rte_cpu_to_be_16(target.port);
        udp->dgram_len =
            rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_udp_hdr) + payload_bytes));
        udp->dgram_cksum = 0;  // optional over IPv4 (RFC 768); Ethernet's FCS covers the link
        return reinterpret_cast<std::byte*>(udp + 1);
    }

    DpdkPortOptions options_;
    rte_mempool* pool_;
    rte_mempool* external_pool_;  // data-less mbufs for external segments; null when off
    rte_ether_addr mac_;
    absl::flat_hash_map<uint32_t, rte_ether_addr> peers_;
    uint16_t next_ip_id_ = 1;
    PacketIoStats stats_;
};

}  // namespace

bool dpdk_available() {
    return true;
}

absl::Status init_eal(const std::string& args) {
    if (eal_ready) {
        return absl::FailedPreconditionError("EAL started twice");
    }
    std::vector<std::string> words = {"ringlog"};
    for (const absl::string_view word :
         absl::StrSplit(base::to_absl(args), ' ', absl::SkipEmpty())) {
        words.emplace_back(word);
    }
    std::vector<char*> argv;
    for (std::string& word : words) {
        argv.push_back(word.data());
    }
    argv.push_back(nullptr);
    cpu_set_t affinity;
    const bool saved = sched_getaffinity(0, sizeof(affinity), &affinity) == 0;
    const int result = rte_eal_init(static_cast<int>(words.size()), argv.data());
    if (saved) {
        (void)sched_setaffinity(0, sizeof(affinity), &affinity);
    }
    if (result < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("DPDK EAL init with '", args, "': ", rte_strerror(rte_errno)));
    }
    eal_ready = true;
    return absl::OkStatus();
}

bool eal_started() {
    return eal_ready;
}

uint16_t dpdk_port_count() {
    return eal_ready ? rte_eth_dev_count_avail() : 0;
}

absl::StatusOr<std::unique_ptr<PacketIo>> open_dpdk_port(DpdkPortOptions options) {
    if (!eal_ready) {
        return absl::FailedPreconditionError("DPDK EAL not started");
    }
    if (!rte_eth_dev_is_valid_port(options.port_id)) {
        return absl::NotFoundError(absl::StrCat("no DPDK port ", options.port_id, " (EAL has ",
                                                rte_eth_dev_count_avail(), ")"));
    }
    // A shard thread is not an EAL lcore; registered, it gets an lcore id and so the
    // mempool's per-lcore cache. Without a free lcore slot it still works, uncached.
    if (rte_lcore_id() == LCORE_ID_ANY) {
        (void)rte_thread_register();
    }
    const std::string pool_name = absl::StrCat("ringlog_port", options.port_id);
    rte_mempool* pool = rte_mempool_lookup(pool_name.c_str());
    if (pool == nullptr) {
        pool = rte_pktmbuf_pool_create(pool_name.c_str(), options.mbuf_count, 256, 0,
                                       RTE_MBUF_DEFAULT_BUF_SIZE,
                                       static_cast<int>(rte_eth_dev_socket_id(options.port_id)));
    }
    if (pool == nullptr) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "DPDK mbuf pool for port ", options.port_id, ": ", rte_strerror(rte_errno)));
    }
    rte_mempool* external_pool = nullptr;
    if (options.external_buffers) {
        const std::string external_name = absl::StrCat("ringlog_ext", options.port_id);
        external_pool = rte_mempool_lookup(external_name.c_str());
        if (external_pool == nullptr) {
            external_pool = rte_pktmbuf_pool_create(
                external_name.c_str(), options.mbuf_count, 256, external_priv_bytes, 0,
                static_cast<int>(rte_eth_dev_socket_id(options.port_id)));
        }
        if (external_pool == nullptr) {
            return absl::ResourceExhaustedError(
                absl::StrCat("DPDK external-buffer mbuf pool for port ", options.port_id, ": ",
                             rte_strerror(rte_errno)));
        }
    }
    const uint16_t port = options.port_id;
    rte_eth_conf conf;
    std::memset(&conf, 0, sizeof(conf));
    if (options.external_buffers) {
        // Chained frames need the device to gather segments; one that cannot gets copies.
        rte_eth_dev_info info;
        if (rte_eth_dev_info_get(port, &info) == 0
            && (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0) {
            conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
        } else {
            std::fprintf(stderr, "dpdk: port %u cannot send chained mbufs; copying instead\n",
                         port);
            options.external_buffers = false;
            external_pool = nullptr;
        }
    }
    int result = rte_eth_dev_configure(port, 1, 1, &conf);
    const int socket = rte_eth_dev_socket_id(port);
    if (result == 0) {
        result = rte_eth_rx_queue_setup(port, 0, options.ring_entries,
                                        static_cast<unsigned>(socket), nullptr, pool);
    }
    if (result == 0) {
        result = rte_eth_tx_queue_setup(port, 0, options.ring_entries,
                                        static_cast<unsigned>(socket), nullptr);
    }
    if (result == 0) {
        result = rte_eth_dev_start(port);
    }
    if (result != 0) {
        return absl::InternalError(
            absl::StrCat("DPDK port ", port, " set-up: ", rte_strerror(-result)));
    }
    (void)rte_eth_promiscuous_enable(port);
    rte_ether_addr mac;
    (void)rte_eth_macaddr_get(port, &mac);
    return std::unique_ptr<PacketIo>(new DpdkPacketIo(options, pool, external_pool, mac));
}

}  // namespace ringlog::net::dpdk
