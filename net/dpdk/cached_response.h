// CachedResponse: a handler's answer as a ServerEndpoint keeps it for retransmissions and pulls,
// counted so that packets still pointing at its bytes keep it alive after the session has moved
// on. Its bytes may be the log's own buffers (a fetch): with DPDK external buffers, frames the
// device has not sent yet reference them, and the last reference, dropped when the driver frees
// the frame, frees the response (and so its io::BufferViews) on the shard that made it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "io/base/assert.h"
#include "net/dpdk/packet_io.h"
#include "net/tcp/connection.h"

namespace ringlog::net::dpdk {

// Contract: made, retained, released and freed on one thread (its endpoint's reactor): the
// count is a plain integer, like io::BufferRef's, whose views it may hold. Made with one
// reference, the cache's own.
class CachedResponse final : public PayloadPin {
public:
    // `response` without its 4-byte size prefix (the datagram header carries the length).
    static CachedResponse* make(tcp::Response response);

    void retain() override { ++references_; }

    void release() override {
        RL_DASSERT(std::this_thread::get_id() == owner_, "CachedResponse released off its thread");
        RL_ASSERT(references_ > 0);
        if (--references_ == 0) {
            delete this;
        }
    }

    std::span<const Bytes> segments() const { return segments_; }

    size_t size_bytes() const { return bytes_; }

private:
    explicit CachedResponse(tcp::Response response);
    ~CachedResponse() = default;

    tcp::Response response_;
    std::vector<Bytes> segments_;
    size_t bytes_ = 0;
    uint32_t references_ = 1;
    std::thread::id owner_ = std::this_thread::get_id();
};

// The cache's reference: released when it is reset or destroyed.
class CachedResponseRef {
public:
    CachedResponseRef() = default;

    explicit CachedResponseRef(CachedResponse* response) : response_(response) {}

    CachedResponseRef(CachedResponseRef&& other) noexcept
        : response_(std::exchange(other.response_, nullptr)) {}

    CachedResponseRef& operator=(CachedResponseRef&& other) noexcept {
        if (this != &other) {
            reset();
            response_ = std::exchange(other.response_, nullptr);
        }
        return *this;
    }

    CachedResponseRef(const CachedResponseRef&) = delete;
    CachedResponseRef& operator=(const CachedResponseRef&) = delete;

    ~CachedResponseRef() { reset(); }

    void reset() {
        if (response_ != nullptr) {
            std::exchange(response_, nullptr)->release();
        }
    }

    CachedResponse* get() const { return response_; }

private:
    CachedResponse* response_ = nullptr;
};

}  // namespace ringlog::net::dpdk
