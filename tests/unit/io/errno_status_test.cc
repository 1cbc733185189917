// errno_to_status: each errno class maps to the code that carries the caller's decision, and
// the message keeps the context and the system's description.
#include "io/base/errno_status.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace ringlog::io {
namespace {

using absl::StatusCode;

TEST(ErrnoToStatus, MapsErrnoToTheDecidingCode) {
    const struct {
        int err;
        StatusCode code;
    } cases[] = {
        {ENOSPC, StatusCode::kResourceExhausted}, {EDQUOT, StatusCode::kResourceExhausted},
        {EMFILE, StatusCode::kResourceExhausted}, {EIO, StatusCode::kDataLoss},
        {ENOENT, StatusCode::kNotFound},          {EEXIST, StatusCode::kAlreadyExists},
        {EINVAL, StatusCode::kInvalidArgument},   {EBADF, StatusCode::kInvalidArgument},
        {EACCES, StatusCode::kPermissionDenied},  {EROFS, StatusCode::kPermissionDenied},
        {EAGAIN, StatusCode::kUnavailable},       {ECONNRESET, StatusCode::kUnavailable},
        {ECANCELED, StatusCode::kUnavailable},    {ENOTEMPTY, StatusCode::kInternal},
    };

    for (const auto& c : cases) {
        EXPECT_EQ(errno_to_status(c.err, "x").code(), c.code) << "errno " << c.err;
    }
}

TEST(ErrnoToStatus, MessageCarriesTheContextAndTheErrnoText) {
    const absl::Status status = errno_to_status(ENOSPC, "append to 00000000000000000042.log");
    EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
    EXPECT_EQ(status.message(), "append to 00000000000000000042.log: No space left on device");
    EXPECT_EQ(errno_to_status(ENOENT, "open /d/f").message(),
              "open /d/f: No such file or directory");
    EXPECT_EQ(errno_to_status(EIO, "read /d/f").message(), "read /d/f: Input/output error");
}

}  // namespace
}  // namespace ringlog::io
