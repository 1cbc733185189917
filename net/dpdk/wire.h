// The datagram protocol's packet header (after the UDP header), in the manner of eRPC (NSDI
// '19). Four packet types: request fragments (client to server), response fragments (server
// to client), acks of non-final request fragments (server to client: a credit back) and pulls
// of response fragments after the first (client to server). Every server packet answers a
// client packet, so the client alone keeps timers. Fields are little-endian.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

namespace ringlog::net::dpdk {

enum class PacketType : uint8_t {
    request = 1,   // a fragment of request `sequence`
    response = 2,  // a fragment of the response to `sequence`
    ack = 3,       // the server holds request fragment `fragment_index` (not the last)
    pull = 4,      // the client wants response fragment `fragment_index` (not the first)
};

struct PacketHeader {
    static constexpr uint16_t magic_value = 0x4c52;  // "RL"
    static constexpr uint8_t version_value = 1;
    static constexpr size_t wire_bytes = 28;

    PacketType type = PacketType::request;
    uint32_t session_id = 0;
    uint64_t sequence = 0;
    uint32_t message_bytes = 0;    // the whole request or response
    uint16_t fragment_index = 0;   // of fragment_count
    uint16_t fragment_count = 1;   // at least 1 (an empty message is one empty fragment)
    uint32_t fragment_offset = 0;  // where this fragment's payload goes in the message

    // Writes wire_bytes bytes at `out`.
    void encode(std::byte* out) const;

    // nullopt for a packet that is too short, of another protocol or version, or whose fields
    // contradict each other or the payload size.
    static std::optional<PacketHeader> decode(std::span<const std::byte> packet);
};

// Fragments of `payload_bytes_max` bytes for a message of `message_bytes`: 1 for an empty one.
inline uint32_t fragment_count_for(size_t message_bytes, size_t payload_bytes_max) {
    if (message_bytes == 0) {
        return 1;
    }
    return static_cast<uint32_t>((message_bytes + payload_bytes_max - 1) / payload_bytes_max);
}

}  // namespace ringlog::net::dpdk
