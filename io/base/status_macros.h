// Early-return helpers for absl::Status / absl::StatusOr, which Abseil does not ship publicly.
// The RL_CO_ twins are for coroutines, which must co_return.
#pragma once

#include <utility>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#define RL_CONCAT_INNER(a, b) a##b
#define RL_CONCAT(a, b) RL_CONCAT_INNER(a, b)

#define RL_RETURN_IF_ERROR(expr)                     \
    do {                                             \
        ::absl::Status rl_status_ = (expr);          \
        if (__builtin_expect(!rl_status_.ok(), 0)) { \
            return rl_status_;                       \
        }                                            \
    } while (0)

#define RL_CO_RETURN_IF_ERROR(expr)                  \
    do {                                             \
        ::absl::Status rl_status_ = (expr);          \
        if (__builtin_expect(!rl_status_.ok(), 0)) { \
            co_return rl_status_;                    \
        }                                            \
    } while (0)

#define RL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr, ret) \
    auto tmp = (expr);                                \
    if (__builtin_expect(!tmp.ok(), 0)) {             \
        ret std::move(tmp).status();                  \
    }                                                 \
    lhs = std::move(tmp).value()

// RL_ASSIGN_OR_RETURN(auto x, f()); evaluates f() once; returns its status if not ok.
#define RL_ASSIGN_OR_RETURN(lhs, expr) \
    RL_ASSIGN_OR_RETURN_IMPL(RL_CONCAT(rl_statusor_, __LINE__), lhs, expr, return )

#define RL_CO_ASSIGN_OR_RETURN(lhs, expr) \
    RL_ASSIGN_OR_RETURN_IMPL(RL_CONCAT(rl_statusor_, __LINE__), lhs, expr, co_return )
