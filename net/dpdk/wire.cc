#include "net/dpdk/wire.h"

namespace ringlog::net::dpdk {
namespace {

template <typename T>
void put(std::byte*& out, T value) {
    for (size_t index = 0; index < sizeof(T); ++index) {
        out[index] = static_cast<std::byte>((value >> (8 * index)) & 0xff);
    }
    out += sizeof(T);
}

template <typename T>
T get(const std::byte*& in) {
    T value = 0;
    for (size_t index = 0; index < sizeof(T); ++index) {
        value = static_cast<T>(value | (static_cast<T>(in[index]) << (8 * index)));
    }
    in += sizeof(T);
    return value;
}

}  // namespace

void PacketHeader::encode(std::byte* out) const {
    put<uint16_t>(out, magic_value);
    put<uint8_t>(out, version_value);
    put<uint8_t>(out, static_cast<uint8_t>(type));
    put<uint32_t>(out, session_id);
    put<uint64_t>(out, sequence);
    put<uint32_t>(out, message_bytes);
    put<uint16_t>(out, fragment_index);
    put<uint16_t>(out, fragment_count);
    put<uint32_t>(out, fragment_offset);
}

std::optional<PacketHeader> PacketHeader::decode(std::span<const std::byte> packet) {
    if (packet.size() < wire_bytes) {
        return std::nullopt;
    }
    const std::byte* in = packet.data();
    if (get<uint16_t>(in) != magic_value || get<uint8_t>(in) != version_value) {
        return std::nullopt;
    }
    PacketHeader header;
    const uint8_t type = get<uint8_t>(in);
    if (type < 1 || type > 4) {
        return std::nullopt;
    }
    header.type = static_cast<PacketType>(type);
    header.session_id = get<uint32_t>(in);
    header.sequence = get<uint64_t>(in);
    header.message_bytes = get<uint32_t>(in);
    header.fragment_index = get<uint16_t>(in);
    header.fragment_count = get<uint16_t>(in);
    header.fragment_offset = get<uint32_t>(in);
    const size_t payload_bytes = packet.size() - wire_bytes;
    if (header.fragment_count == 0 || header.fragment_index >= header.fragment_count) {
        return std::nullopt;
    }
    const bool carries = header.type == PacketType::request || header.type == PacketType::response;
    if (!carries && payload_bytes != 0) {
        return std::nullopt;
    }
    if (carries && uint64_t{header.fragment_offset} + payload_bytes > header.message_bytes) {
        return std::nullopt;
    }
    return header;
}

}  // namespace ringlog::net::dpdk
