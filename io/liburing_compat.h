// What Debian 12's liburing 2.3 lacks but the kernel we run on (6.x) has: a few constants and
// two small helpers, written against the kernel's uapi (include/uapi/linux/io_uring.h) and
// liburing's later versions. Only what ringlog uses today; not a general backport.
#pragma once

#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include <liburing.h>

#ifndef IORING_SETUP_SUBMIT_ALL
#define IORING_SETUP_SUBMIT_ALL (1U << 7)
#endif
#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN (1U << 8)
#endif
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif
#ifndef IORING_ENTER_GETEVENTS
#define IORING_ENTER_GETEVENTS (1U << 0)
#endif
// preadv2(2): per-write O_DSYNC, honoured by IORING_OP_WRITE(_FIXED) through sqe->rw_flags.
#ifndef RWF_DSYNC
#define RWF_DSYNC 0x00000002
#endif
// io_uring_prep_send_zc(3) (kernel 6.2): ask the notification CQE to say whether the kernel
// copied the bytes after all (it does on loopback), in the high bit of its cqe->res.
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

namespace ringlog::io::compat {

// IORING_OP_FTRUNCATE (kernel 6.9) is an enum value in the uapi header, so it cannot be
// #ifndef-guarded; its number is kernel ABI and never changes. After SENDMSG_ZC (48), the last
// op liburing 2.3 knows, come READ_MULTISHOT, WAITID, FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAITV and
// FIXED_FD_INSTALL (49..54), then FTRUNCATE.
inline constexpr int op_ftruncate = 55;
static_assert(IORING_OP_SENDMSG_ZC == 48);

// liburing 2.6's io_uring_prep_ftruncate(): the new length travels in sqe->off.
inline void prep_ftruncate(io_uring_sqe* sqe, int fd, uint64_t length) {
    io_uring_prep_rw(op_ftruncate, sqe, fd, nullptr, 0, length);
}

// liburing 2.4's io_uring_submit_and_get_events(): submit what is queued and, in the same
// io_uring_enter(2), run pending task work so completions get posted, without waiting for any.
// With IORING_SETUP_DEFER_TASKRUN a plain io_uring_submit() does not do the second part, and a
// loop that always has ready work would never see its completions.
//
// The first half is liburing's internal __io_uring_flush_sq(): publish the SQEs we filled
// (sqe_head..sqe_tail) to the kernel's tail. We never use SQPOLL, so a plain store suffices.
inline int submit_and_get_events(io_uring* ring) {
    io_uring_sq* sq = &ring->sq;
    const unsigned tail = sq->sqe_tail;
    if (sq->sqe_head != tail) {
        sq->sqe_head = tail;
        IO_URING_WRITE_ONCE(*sq->ktail, tail);
    }
    const unsigned to_submit = tail - *sq->khead;
    const long result = syscall(__NR_io_uring_enter, ring->ring_fd, to_submit, 0,
                                IORING_ENTER_GETEVENTS, nullptr, _NSIG / 8);
    return result < 0 ? -errno : static_cast<int>(result);
}

// Provided buffer rings (kernel 5.19). liburing 2.3 registers one (io_uring_register_buf_ring)
// but cannot allocate it: io_uring_setup_buf_ring() came in 2.4. Its io_uring_buf_reg also
// calls the flags field `pad` (later `flags`); 0 there means "the ring memory is ours", which is
// the only mode we use, so the field is only ever zeroed. These two set and read what a
// buffer-selecting SQE and its CQE carry.
inline void select_buffer(io_uring_sqe* sqe, uint16_t group_id) {
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = group_id;
}

// The buffer id a CQE consumed; only meaningful with IORING_CQE_F_BUFFER set.
inline uint16_t cqe_buffer_id(uint32_t cqe_flags) {
    return static_cast<uint16_t>(cqe_flags >> IORING_CQE_BUFFER_SHIFT);
}

}  // namespace ringlog::io::compat
