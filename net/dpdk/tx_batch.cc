#include "net/dpdk/tx_batch.h"

#include <cstring>

#include "io/base/assert.h"

namespace ringlog::net::dpdk {

TxBatch::TxBatch(PacketIo& io) : io_(io), scratch_(packets_max * io.datagram_bytes_max()) {}

TxBatch::~TxBatch() {
    // Whatever was never flushed is dropped (the client retransmits); its pins go back.
    for (size_t index = 0; index < count_; ++index) {
        if (packets_[index].pin != nullptr) {
            packets_[index].pin->release();
        }
    }
}

void TxBatch::add(Endpoint target, const PacketHeader& header, std::span<const Bytes> message,
                  size_t offset, size_t length, PayloadPin* pin) {
    RL_ASSERT(PacketHeader::wire_bytes + length <= io_.datagram_bytes_max());
    if (count_ == packets_max) {
        flush();
    }
    const size_t index = count_++;
    header.encode(headers_[index].data());
    std::array<Bytes, pieces_max>& pieces = pieces_[index];
    size_t piece_count = 0;
    bool copied = false;
    size_t skip = offset;
    size_t left = length;
    for (const Bytes segment : message) {
        if (left == 0) {
            break;
        }
        if (skip >= segment.size()) {
            skip -= segment.size();
            continue;
        }
        const size_t take = std::min(left, segment.size() - skip);
        if (piece_count == pieces_max) {
            copied = true;
            break;
        }
        pieces[piece_count++] = segment.subspan(skip, take);
        skip = 0;
        left -= take;
    }
    if (copied) {
        // A fragment of many small segments (a fetch of many tiny batches): one copy.
        std::byte* out = scratch_.data() + index * io_.datagram_bytes_max();
        size_t written = 0;
        skip = offset;
        for (const Bytes segment : message) {
            if (written == length) {
                break;
            }
            if (skip >= segment.size()) {
                skip -= segment.size();
                continue;
            }
            const size_t take = std::min(length - written, segment.size() - skip);
            std::memcpy(out + written, segment.data() + skip, take);
            written += take;
            skip = 0;
        }
        pieces[0] = Bytes(out, length);
        piece_count = 1;
        pin = nullptr;  // the bytes are ours now, valid until flush()
    } else {
        RL_ASSERT(left == 0, "message shorter than the fragment");
    }
    if (pin != nullptr && length == 0) {
        pin = nullptr;  // nothing to keep valid
    }
    if (pin != nullptr) {
        pin->retain();
    }
    packets_[index] = OutgoingPacket{.target = target,
                                     .header = Bytes(headers_[index]),
                                     .payload = std::span<const Bytes>(pieces.data(), piece_count),
                                     .pin = pin};
}

void TxBatch::flush() {
    if (count_ == 0) {
        return;
    }
    const size_t sent = io_.transmit(std::span<const OutgoingPacket>(packets_.data(), count_));
    dropped_ += count_ - sent;
    // The PacketIo holds its own references to what it still sends in place.
    for (size_t index = 0; index < count_; ++index) {
        if (packets_[index].pin != nullptr) {
            packets_[index].pin->release();
            packets_[index].pin = nullptr;
        }
    }
    count_ = 0;
}

}  // namespace ringlog::net::dpdk
