// Connection's receive side: the receive loop, with plain receives or the multishot receive
// over the shard's provided buffer ring, and back-pressure. See connection.h for the contract
// and for when a ring buffer may go back.
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <span>
#include <utility>

#include "io/base/errno_status.h"
#include "net/tcp/connection.h"

namespace ringlog::net::tcp {

void Connection::ReceiveCompletion::on_cqe(Completion* self, int32_t result, uint32_t flags) {
    Connection& connection = static_cast<ReceiveCompletion*>(self)->connection;
    if ((flags & IORING_CQE_F_BUFFER) != 0) {
        connection.ring_->consumed(io::compat::cqe_buffer_id(flags));
    }
    if ((flags & IORING_CQE_F_MORE) == 0) {
        connection.receive_armed_ = false;
    }
    connection.pending_.push_back(ReceiveCqe{result, flags});
    connection.receive_wake_.notify_all();
}

void Connection::arm_receive() {
    RL_ASSERT(multishot_ && !receive_armed_);
    receive_armed_ = true;
    receive_cancelled_ = false;
    ++stats_.receive_arms;
    reactor_.prepare(&receive_completion_, [this](io_uring_sqe* sqe) {
        // Length 0: each CQE fills up to one whole buffer of the ring.
        io_uring_prep_recv_multishot(sqe, fd_, nullptr, 0, 0);
        ring_->select(sqe);
    });
}

void Connection::stop_receiving() {
    if (receive_armed_ && !receive_cancelled_) {
        receive_cancelled_ = true;
        // Its last CQE (-ECANCELED, or data or EOF that won the race) clears receive_armed_.
        reactor_.prepare(nullptr, [this](io_uring_sqe* sqe) {
            io_uring_prep_cancel(sqe, &receive_completion_, 0);
        });
    }
}

void Connection::release_chunk() {
    if (chunk_buffer_id_ >= 0) {
        ring_->give_back(static_cast<uint16_t>(std::exchange(chunk_buffer_id_, -1)));
    }
}

void Connection::release_pending() {
    for (size_t i = pending_head_; i < pending_.size(); ++i) {
        if ((pending_[i].flags & IORING_CQE_F_BUFFER) != 0) {
            ring_->give_back(io::compat::cqe_buffer_id(pending_[i].flags));
        }
    }
    pending_.clear();
    pending_head_ = 0;
}

// Gives back every ring buffer the connection holds, keeping their bytes: the unhandled frames
// of the current chunk move to held_frames_ (frames_ is re-pointed there), received chunks not
// yet fed move to the end of aside_. CQEs without bytes stay queued, in order, after them.
void Connection::copy_aside() {
    if (chunk_buffer_id_ >= 0) {
        const std::span<const std::byte> chunk =
            ring_->buffer(static_cast<uint16_t>(chunk_buffer_id_));
        // An empty frame has no bytes to keep; a spanning one lives in the assembler.
        const auto inside = [&chunk](FrameAssembler::Frame frame) {
            const auto address = reinterpret_cast<uintptr_t>(frame.data());
            const auto begin = reinterpret_cast<uintptr_t>(chunk.data());
            return !frame.empty() && address >= begin && address < begin + chunk.size();
        };
        size_t bytes = 0;
        for (size_t i = next_frame_; i < frames_.size(); ++i) {
            bytes += inside(frames_[i]) ? frames_[i].size() : 0;
        }
        // held_frames_ holds no live frame: those of the last copy were handled before this
        // chunk was taken. Reserving first keeps the copies from moving.
        held_frames_.clear();
        held_frames_.reserve(bytes);
        for (size_t i = next_frame_; i < frames_.size(); ++i) {
            if (inside(frames_[i])) {
                const size_t offset = held_frames_.size();
                held_frames_.insert(held_frames_.end(), frames_[i].begin(), frames_[i].end());
                frames_[i] = std::span(held_frames_).subspan(offset, frames_[i].size());
            }
        }
        release_chunk();
    }
    size_t kept = pending_head_;
    for (size_t i = pending_head_; i < pending_.size(); ++i) {
        ReceiveCqe cqe = pending_[i];
        if ((cqe.flags & IORING_CQE_F_BUFFER) != 0) {
            const uint16_t id = io::compat::cqe_buffer_id(cqe.flags);
            if (cqe.result > 0) {
                RL_ASSERT(kept == pending_head_, "bytes queued after a receive's last CQE");
                const auto bytes = ring_->buffer(id).first(static_cast<size_t>(cqe.result));
                aside_.insert(aside_.end(), bytes.begin(), bytes.end());
                stats_.bytes_received += bytes.size();
                ++stats_.receives;
                ring_->give_back(id);
                continue;
            }
            ring_->give_back(id);
            cqe.flags &= ~IORING_CQE_F_BUFFER;
        }
        pending_[kept++] = cqe;
    }
    pending_.resize(kept);
    if (pending_head_ == pending_.size()) {
        pending_.clear();
        pending_head_ = 0;
    }
}

void Connection::fall_back_to_plain() {
    RL_ASSERT(!receive_armed_ && pending_head_ == pending_.size());
    multishot_ = false;
    receive_buffer_.resize(options_.receive_buffer_bytes);
}

// The next chunk of the stream in multishot mode, or what to wait for. Order: bytes copied
// aside come before any CQE still queued, and a CQE without bytes ends the receive, so a new
// one is armed only once everything before it has been taken.
Connection::Step Connection::next_ring_chunk(std::span<const std::byte>& chunk, absl::Status& end) {
    if (!aside_.empty()) {
        // aside_feeding_'s frames were all handled: the previous chunk is finished.
        aside_feeding_.swap(aside_);
        aside_.clear();
        chunk = aside_feeding_;
        return Step::chunk;
    }
    if (pending_head_ < pending_.size()) {
        const ReceiveCqe cqe = pending_[pending_head_++];
        if (pending_head_ == pending_.size()) {
            pending_.clear();
            pending_head_ = 0;
        }
        const bool has_buffer = (cqe.flags & IORING_CQE_F_BUFFER) != 0;
        const uint16_t id = io::compat::cqe_buffer_id(cqe.flags);
        if (cqe.result > 0) {
            if (!has_buffer) {
                end = absl::InternalError("a multishot receive returned bytes without a buffer");
                return Step::end;
            }
            chunk_buffer_id_ = id;
            chunk = ring_->buffer(id).first(static_cast<size_t>(cqe.result));
            stats_.bytes_received += chunk.size();
            ++stats_.receives;
            return Step::chunk;
        }
        if (has_buffer) {
            ring_->give_back(id);
        }
        switch (cqe.result) {
            case 0:
                end = assembler_.pending_bytes() > 0
                          ? absl::UnavailableError("client closed the connection mid-frame")
                          : absl::OkStatus();
                return Step::end;
            case -ENOBUFS:
                // The shard's ring ran dry and the kernel ended the receive. That is the
                // shard's back-pressure: re-arm once some connection gave a buffer back.
                ++stats_.buffer_waits;
                waiting_for_buffers_ = true;
                return Step::retry;
            case -ECANCELED:  // stop_receiving(), by pause() or drain(); or close()
            case -EINTR:
            case -EAGAIN:
                return Step::retry;
            case -EINVAL:
                if (stats_.receives == 0 && stats_.receive_arms == 1) {
                    // Buffer rings but no multishot receive (kernel 5.19).
                    fall_back_to_plain();
                    return Step::retry;
                }
                break;
            default:
                break;
        }
        end = io::errno_to_status(-cqe.result, "receive from a client");
        return Step::end;
    }
    if (receive_armed_) {
        return Step::wait;
    }
    if (draining_) {
        // Everything the receive delivered up to its last CQE was taken: a drain ends here.
        // A partial frame left in the assembler is dropped unhandled (see connection.h).
        waiting_for_buffers_ = false;
        end = absl::OkStatus();
        return Step::end;
    }
    if (direct_wanted()) {
        // A connection that carries frames this large keeps carrying them (a producer's
        // requests), so it moves to plain receives for good: cancelling and re-arming the
        // multishot receive around each direct receive measured 10-15 % slower than copying
        // out of the ring (bench/README.md, "Large frames").
        waiting_for_buffers_ = false;
        ++stats_.switched_to_plain;
        fall_back_to_plain();
        return Step::retry;
    }
    if (waiting_for_buffers_) {
        if (ring_->available() == 0) {
            return Step::wait_for_buffers;
        }
        waiting_for_buffers_ = false;
    }
    arm_receive();
    return Step::wait;
}

// Waits until the unsent responses drained below the bound. In multishot mode the receive is
// cancelled and whatever it delivers until its last CQE is copied aside, so the paused
// connection holds no ring buffer; the socket's own buffer then fills and TCP stops the peer.
io::Task<void> Connection::pause() {
    ++stats_.reads_paused;
    while (over_bound() && !closing_) {
        if (multishot_) {
            stop_receiving();
            copy_aside();
        }
        co_await receive_wake_.wait();
    }
}

io::Task<Connection::Received> Connection::receive_plain(std::span<std::byte> into, bool wait_all,
                                                         size_t& count, absl::Status& end) {
    // Named, so that drain() can cancel it by its address.
    auto receive = reactor_.op([this, into, wait_all](io_uring_sqe* sqe) {
        io_uring_prep_recv(sqe, fd_, into.data(), into.size(), wait_all ? MSG_WAITALL : 0);
    });
    plain_receive_ = &receive;
    const int result = co_await receive;
    plain_receive_ = nullptr;
    if (closing_) {
        end = absl::OkStatus();
        co_return Received::end;
    }
    if (result > 0) {
        count = static_cast<size_t>(result);
        stats_.bytes_received += count;
        ++stats_.receives;
        co_return Received::bytes;
    }
    if (draining_ && (result == -ECANCELED || result == 0)) {
        // Cancelled by drain(), or the peer's EOF meanwhile; a partial frame is dropped.
        end = absl::OkStatus();
        co_return Received::end;
    }
    if (result == -EINTR || result == -EAGAIN) {
        co_return Received::retry;
    }
    if (result < 0) {
        end = io::errno_to_status(-result, "receive from a client");
    } else if (assembler_.pending_bytes() > 0) {
        end = absl::UnavailableError("client closed the connection mid-frame");
    } else {
        end = absl::OkStatus();
    }
    co_return Received::end;
}

io::Task<absl::Status> Connection::receive_loop() {
    while (!closing_) {
        if (over_bound()) {
            co_await pause();
            continue;
        }
        std::span<const std::byte> chunk;
        bool direct = false;
        if (multishot_) {
            absl::Status end;
            switch (next_ring_chunk(chunk, end)) {
                case Step::chunk:
                    break;
                case Step::wait:
                    co_await receive_wake_.wait();
                    continue;
                case Step::wait_for_buffers:
                    co_await ring_->returned().wait();
                    continue;
                case Step::retry:
                    continue;
                case Step::end:
                    co_return end;
            }
        } else {
            if (draining_) {
                co_return absl::OkStatus();  // a partial frame in the assembler is dropped
            }
            direct = direct_wanted();
        }
        frames_.clear();
        next_frame_ = 0;
        absl::Status fed;
        if (!multishot_) {
            const std::span<std::byte> into =
                direct ? assembler_.receive_space() : std::span<std::byte>(receive_buffer_);
            size_t count = 0;
            absl::Status end;
            const Received received = co_await receive_plain(into, direct, count, end);
            if (received == Received::end) {
                co_return end;
            }
            if (received == Received::retry) {
                continue;
            }
            if (direct) {
                ++stats_.direct_receives;
                stats_.direct_bytes += count;
                assembler_.commit_received(count, frames_);
            } else {
                fed = assembler_.feed(std::span(receive_buffer_).first(count), frames_);
            }
        } else {
            fed = assembler_.feed(chunk, frames_);
        }
        while (next_frame_ < frames_.size()) {
            // A chunk can hold many requests; back-pressure applies between them too. A pause
            // may move the remaining frames (copy_aside), so take the frame only after it.
            if (over_bound()) {
                co_await pause();
            }
            if (closing_) {
                co_return absl::OkStatus();
            }
            const FrameAssembler::Frame frame = frames_[next_frame_++];
            ++stats_.frames_received;
            std::optional<Response> response = co_await handler_.handle(frame);
            if (closing_) {
                co_return absl::OkStatus();
            }
            if (response.has_value() && response->is_deferred()) {
                queue_.push_back(Queued{Response(), false});
                ++deferred_in_flight_;
                ++stats_.deferred;
                deferred_.spawn(complete_deferred(queue_.back(), response->take_completion()));
            } else if (response.has_value()) {
                unsent_bytes_ += response->size_bytes();
                queue_.push_back(Queued{std::move(*response), true});
                send_ready_.notify_all();
            }
        }
        // No frame points into the chunk any more: its buffer can be filled again.
        release_chunk();
        if (!fed.ok()) {
            co_return fed;
        }
        if (multishot_ && direct_wanted()) {
            // The rest of a large frame comes by plain direct receives once the multishot
            // receive has ended (next_ring_chunk); the bytes it delivers before then are fed
            // as usual.
            stop_receiving();
        }
    }
    co_return absl::OkStatus();
}

}  // namespace ringlog::net::tcp
