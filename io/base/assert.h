// Always-on assertions for invariants the program itself guarantees. A failed assertion means
// our own code is wrong, so the process stops before it can write anything further. Bytes from
// a socket or a file are validated (Status), never asserted.
#pragma once

#include <cstdio>
#include <cstdlib>

#include <absl/strings/str_format.h>

namespace ringlog::base::detail {

[[noreturn]] inline void assert_fail(const char* file, int line, const char* expression,
                                     const std::string& context) {
    std::fprintf(stderr, "%s:%d: assertion failed: %s%s%s\n", file, line, expression,
                 context.empty() ? "" : ": ", context.c_str());
    std::fflush(stderr);
    std::abort();
}

inline std::string assert_context() {
    return {};
}

template <typename... Args>
std::string assert_context(const absl::FormatSpec<Args...>& format, const Args&... args) {
    return absl::StrFormat(format, args...);
}

}  // namespace ringlog::base::detail

// RL_ASSERT(cond) or RL_ASSERT(cond, "format", args...).
#define RL_ASSERT(cond, ...)                                                                      \
    do {                                                                                          \
        if (__builtin_expect(!(cond), 0)) {                                                       \
            ::ringlog::base::detail::assert_fail(                                                 \
                __FILE__, __LINE__, #cond, ::ringlog::base::detail::assert_context(__VA_ARGS__)); \
        }                                                                                         \
    } while (0)

// For checks too costly for release hot paths: on in debug and sanitizer builds.
#if !defined(NDEBUG) || defined(RINGLOG_SANITIZE)
#define RL_DASSERT(cond, ...) RL_ASSERT(cond, ##__VA_ARGS__)
#else
#define RL_DASSERT(cond, ...) \
    do {                      \
    } while (0)
#endif
