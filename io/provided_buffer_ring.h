// ProvidedBufferRing: a shard's pool of receive buffers handed to the kernel as a provided
// buffer ring (IORING_REGISTER_PBUF_RING, kernel 5.19; io_uring_register_buf_ring(3)). A
// receive that selects from it (IOSQE_BUFFER_SELECT) does not name a buffer: the kernel takes
// the next one from the ring, and the CQE says which (IORING_CQE_F_BUFFER, the id in
// cqe->flags >> IORING_CQE_BUFFER_SHIFT). One ring serves every connection of a shard, so idle
// connections cost no receive memory. It is only the pool; receiving is the connection's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "io/base/assert.h"
#include "io/event.h"
#include "io/liburing_compat.h"
#include "io/reactor.h"

namespace ringlog::io {

struct ProvidedBufferRingOptions {
    // The buffer group id receives name in sqe->buf_group; unique per ring (io_uring).
    uint16_t group_id = 0;
    // A power of two, at most 32768 (the kernel's limit for one ring).
    uint32_t buffer_count = 256;
    // One receive fills at most one buffer.
    uint32_t buffer_bytes = 16 * 1024;
};

// Counters for tests and metrics; they only grow.
struct ProvidedBufferRingStats {
    uint64_t consumed = 0;  // buffers CQEs handed to us
    uint64_t returned = 0;  // buffers given back to the kernel
};

// Contract:
// - create() on the reactor's thread, at start-up: it maps the ring and the buffers, fills the
//   ring with every buffer and registers it. A kernel without buffer rings (< 5.19) fails the
//   registration (kInvalidArgument, from EINVAL) and the caller falls back to plain receives
//   into buffers of its own; a group id already in use fails with kAlreadyExists.
// - Every buffer is either in the kernel's ring (available()) or held by whoever received its
//   CQE. The holder calls consumed(id) when it reaps that CQE and give_back(id) once nothing
//   points into the bytes any more; both are asserted to alternate, per buffer.
// - returned() is notified on every give_back(), so a receiver that saw ENOBUFS (the ring ran
//   dry) can wait for a buffer before re-arming.
// - Destroy it on its thread, before the reactor, once no receive that selects from it is in
//   flight and every buffer has been given back (asserted).
class ProvidedBufferRing {
public:
    [[nodiscard]] static absl::StatusOr<std::unique_ptr<ProvidedBufferRing>> create(
        Reactor& reactor, ProvidedBufferRingOptions options = {});

    ~ProvidedBufferRing();

    ProvidedBufferRing(const ProvidedBufferRing&) = delete;
    ProvidedBufferRing& operator=(const ProvidedBufferRing&) = delete;

    uint16_t group_id() const { return options_.group_id; }

    size_t buffer_count() const { return options_.buffer_count; }

    size_t buffer_bytes() const { return options_.buffer_bytes; }

    // Makes `sqe` take its buffer from this ring.
    void select(io_uring_sqe* sqe) const { compat::select_buffer(sqe, options_.group_id); }

    // The bytes of buffer `id`.
    std::span<std::byte> buffer(uint16_t id) const {
        RL_DASSERT(id < options_.buffer_count);
        return {buffers_ + size_t{id} * options_.buffer_bytes, options_.buffer_bytes};
    }

    // A CQE handed buffer `id` to the caller, who now holds it.
    void consumed(uint16_t id) {
        RL_ASSERT(id < options_.buffer_count);
        RL_ASSERT(!held_[id], "buffer %d consumed twice", int(id));
        held_[id] = true;
        --available_;
        ++stats_.consumed;
    }

    // Puts buffer `id` back at the ring's tail, for the kernel to fill again.
    void give_back(uint16_t id);

    // Buffers in the kernel's ring, as far as the CQEs reaped so far tell: the kernel may have
    // filled some whose CQEs are still on their way.
    size_t available() const { return available_; }

    Notify& returned() { return returned_; }

    const ProvidedBufferRingStats& stats() const { return stats_; }

private:
    ProvidedBufferRing(Reactor& reactor, ProvidedBufferRingOptions options)
        : reactor_(reactor), options_(options) {}

    Reactor& reactor_;
    ProvidedBufferRingOptions options_;
    // The ring the kernel reads (io_uring_buf entries, its tail overlaid on the first entry)
    // and the buffers, each its own page-aligned anonymous mapping.
    io_uring_buf_ring* ring_ = nullptr;
    size_t ring_bytes_ = 0;
    std::byte* buffers_ = nullptr;
    size_t buffers_bytes_ = 0;
    bool registered_ = false;
    std::vector<bool> held_;
    size_t available_ = 0;
    Notify returned_;
    ProvidedBufferRingStats stats_;
};

}  // namespace ringlog::io
