// ProvidedBufferRing: see provided_buffer_ring.h. What liburing 2.4's io_uring_setup_buf_ring()
// would do, by hand: map the ring ourselves, page-aligned as the kernel requires, and register
// it with liburing 2.3's io_uring_register_buf_ring().
#include "io/provided_buffer_ring.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include <absl/strings/str_cat.h>

#include "io/base/errno_status.h"

namespace ringlog::io {

namespace {

// The kernel indexes the ring with a 16-bit tail and a mask, and refuses more than this.
constexpr uint32_t buffer_count_max = 32768;

size_t page_round_up(size_t bytes) {
    const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    return (bytes + page - 1) / page * page;
}

// Anonymous, private, populated now so the first receives do not page-fault; nullptr on
// failure with errno set.
void* map_bytes(size_t bytes) {
    void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    return memory == MAP_FAILED ? nullptr : memory;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ProvidedBufferRing>> ProvidedBufferRing::create(
    Reactor& reactor, ProvidedBufferRingOptions options) {
    const uint32_t count = options.buffer_count;
    if (count == 0 || count > buffer_count_max || (count & (count - 1)) != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("a buffer ring holds a power of two up to 32768 buffers, not ", count));
    }
    if (options.buffer_bytes == 0) {
        return absl::InvalidArgumentError("a buffer ring's buffers cannot be empty");
    }
    std::unique_ptr<ProvidedBufferRing> ring(new ProvidedBufferRing(reactor, options));
    const std::string context = absl::StrCat("buffer ring ", options.group_id, " of ", count,
                                             " buffers of ", options.buffer_bytes, " bytes");
    ring->ring_bytes_ = page_round_up(sizeof(io_uring_buf) * count);
    ring->ring_ = static_cast<io_uring_buf_ring*>(map_bytes(ring->ring_bytes_));
    if (ring->ring_ == nullptr) {
        ring->ring_bytes_ = 0;
        return errno_to_status(errno, absl::StrCat("map the ", context));
    }
    ring->buffers_bytes_ = page_round_up(size_t{count} * options.buffer_bytes);
    ring->buffers_ = static_cast<std::byte*>(map_bytes(ring->buffers_bytes_));
    if (ring->buffers_ == nullptr) {
        ring->buffers_bytes_ = 0;
        return errno_to_status(errno, absl::StrCat("map the buffers of the ", context));
    }

    // Fill before registering: the kernel reads the tail at its first selection, not here.
    io_uring_buf_ring_init(ring->ring_);
    const int mask = io_uring_buf_ring_mask(count);
    for (uint32_t id = 0; id < count; ++id) {
        io_uring_buf_ring_add(ring->ring_, ring->buffer(static_cast<uint16_t>(id)).data(),
                              options.buffer_bytes, static_cast<uint16_t>(id), mask,
                              static_cast<int>(id));
    }
    io_uring_buf_ring_advance(ring->ring_, static_cast<int>(count));
    ring->held_.assign(count, false);
    ring->available_ = count;

    io_uring_buf_reg registration{};
    registration.ring_addr = reinterpret_cast<uintptr_t>(ring->ring_);
    registration.ring_entries = count;
    registration.bgid = options.group_id;
    registration.pad = 0;  // the flags: 0 = we own the ring memory (no IOU_PBUF_RING_MMAP)
    const int result = io_uring_register_buf_ring(&reactor.ring_, &registration, 0);
    if (result < 0) {
        return errno_to_status(-result, absl::StrCat("register the ", context));
    }
    ring->registered_ = true;
    return ring;
}

ProvidedBufferRing::~ProvidedBufferRing() {
    RL_ASSERT(available_ == options_.buffer_count || !registered_,
              "buffer ring destroyed with %d of %d buffers held",
              int(options_.buffer_count - available_), int(options_.buffer_count));
    if (registered_) {
        (void)io_uring_unregister_buf_ring(&reactor_.ring_, options_.group_id);
    }
    if (buffers_ != nullptr) {
        ::munmap(buffers_, buffers_bytes_);
    }
    if (ring_ != nullptr) {
        ::munmap(ring_, ring_bytes_);
    }
}

void ProvidedBufferRing::give_back(uint16_t id) {
    RL_ASSERT(id < options_.buffer_count);
    RL_ASSERT(held_[id], "buffer %d given back but not held", int(id));
    held_[id] = false;
    // Ids come back in any order (connections finish with them independently); the ring does
    // not care which id sits in which slot, only that the tail moves past filled slots. The
    // release store in advance() publishes the entry before the kernel can see the new tail.
    io_uring_buf_ring_add(ring_, buffer(id).data(), options_.buffer_bytes, id,
                          io_uring_buf_ring_mask(options_.buffer_count), 0);
    io_uring_buf_ring_advance(ring_, 1);
    ++available_;
    ++stats_.returned;
    returned_.notify_all();
}

}  // namespace ringlog::io
