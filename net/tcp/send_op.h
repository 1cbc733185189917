// SendOp: one vectored send of a msghdr, as IORING_OP_SENDMSG or, for large responses where it
// pays, IORING_OP_SENDMSG_ZC. A zero-copy send posts two CQEs (io_uring_prep_send_zc(3)): the
// result, with IORING_CQE_F_MORE, and later a notification (IORING_CQE_F_NOTIF) once the kernel
// no longer reads the pages. The awaiting coroutine resumes only after the last CQE, so the
// bytes a send points at stay alive and untouched until the kernel is done with them.
#pragma once

#include <sys/socket.h>

#include <coroutine>
#include <cstdint>

#include "io/liburing_compat.h"
#include "io/reactor.h"

namespace ringlog::net::tcp {

// Contract: co_await it once; it yields the send's cqe->res (bytes sent, or a negative errno).
// It lives in the awaiting frame until then, like every io::Completion. With report_usage (a
// zero-copy send on kernel 6.2+), copied() says whether the kernel copied the bytes after all.
class SendOp : public io::Completion {
public:
    SendOp(io::Reactor& reactor, int fd, const msghdr* message, bool zero_copy,
           bool report_usage = false)
        : Completion(&on_cqe),
          reactor_(reactor),
          fd_(fd),
          message_(message),
          zero_copy_(zero_copy),
          report_usage_(report_usage) {}

    bool await_ready() const noexcept { return false; }

    void await_suspend(std::coroutine_handle<> handle) {
        handle_ = handle;
        reactor_.prepare(this, [this](io_uring_sqe* sqe) {
            if (zero_copy_) {
                io_uring_prep_sendmsg_zc(sqe, fd_, message_, MSG_NOSIGNAL);
                if (report_usage_) {
                    sqe->ioprio |= IORING_SEND_ZC_REPORT_USAGE;
                }
            } else {
                io_uring_prep_sendmsg(sqe, fd_, message_, MSG_NOSIGNAL);
            }
        });
    }

    int32_t await_resume() const noexcept { return result_; }

    bool copied() const { return copied_; }

private:
    static void on_cqe(Completion* self, int32_t result, uint32_t flags) {
        auto* op = static_cast<SendOp*>(self);
        if ((flags & IORING_CQE_F_NOTIF) != 0) {
            op->copied_ = (static_cast<uint32_t>(result) & IORING_NOTIF_USAGE_ZC_COPIED) != 0;
        } else {
            op->result_ = result;
        }
        // Without F_MORE no notification follows (the send failed, or it was not zero-copy).
        if ((flags & IORING_CQE_F_MORE) == 0) {
            op->reactor_.schedule(op->handle_);
        }
    }

    io::Reactor& reactor_;
    int fd_;
    const msghdr* message_;
    bool zero_copy_;
    bool report_usage_;
    std::coroutine_handle<> handle_;
    int32_t result_ = 0;
    bool copied_ = false;
};

}  // namespace ringlog::net::tcp
