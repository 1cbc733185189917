#include "io/base/errno_status.h"

#include <errno.h>
#include <string.h>

#include <absl/strings/str_cat.h>

namespace ringlog::io {

namespace {

// Codes carry the decision the caller has to make: retry (kUnavailable), give up on this
// request (kInvalidArgument), slow down (kResourceExhausted), or treat storage as failed
// (kDataLoss / kInternal).
absl::StatusCode code_for(int err) {
    switch (err) {
        case ENOSPC:
        case EDQUOT:
        case ENOMEM:
        case ENOBUFS:
        case EMFILE:
        case ENFILE:
        case EFBIG:
            return absl::StatusCode::kResourceExhausted;
        case EAGAIN:
        case EINTR:
        case EBUSY:
        case ECONNRESET:
        case ECONNREFUSED:
        case ECONNABORTED:
        case EPIPE:
        case ETIMEDOUT:
        case ENOTCONN:
        case ECANCELED:
        case EHOSTUNREACH:
        case ENETUNREACH:
            return absl::StatusCode::kUnavailable;
        case ENOENT:
            return absl::StatusCode::kNotFound;
        case EEXIST:
            return absl::StatusCode::kAlreadyExists;
        case EACCES:
        case EPERM:
        case EROFS:
            return absl::StatusCode::kPermissionDenied;
        case EINVAL:
        case EBADF:
        case ENOTDIR:
        case EISDIR:
        case ENAMETOOLONG:
        case EOPNOTSUPP:
            return absl::StatusCode::kInvalidArgument;
        case EIO:
        case EUCLEAN:
            return absl::StatusCode::kDataLoss;
        default:
            return absl::StatusCode::kInternal;
    }
}

}  // namespace

absl::Status errno_to_status(int err, std::string_view context) {
    char buffer[128];
    const char* text = strerror_r(err, buffer, sizeof(buffer));
    // Debian's Abseil has its own string_view, so std::string_view needs converting.
    return absl::Status(
        code_for(err), absl::StrCat(absl::string_view(context.data(), context.size()), ": ", text));
}

}  // namespace ringlog::io
