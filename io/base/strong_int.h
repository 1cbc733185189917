// A strongly typed integer: Offset and FilePosition are both int64 but mixing them is a bug.
// Arithmetic is allowed between values of the same type and with plain integers as deltas.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>

namespace ringlog::base {

template <typename Tag, typename T>
class StrongInt {
public:
    using value_type = T;

    constexpr StrongInt() = default;

    constexpr explicit StrongInt(T value) : value_(value) {}

    constexpr T value() const { return value_; }

    constexpr auto operator<=>(const StrongInt&) const = default;

    constexpr StrongInt operator+(T delta) const { return StrongInt(value_ + delta); }

    constexpr StrongInt operator-(T delta) const { return StrongInt(value_ - delta); }

    constexpr T operator-(StrongInt other) const { return value_ - other.value_; }

    constexpr StrongInt& operator+=(T delta) {
        value_ += delta;
        return *this;
    }

    constexpr StrongInt& operator++() {
        ++value_;
        return *this;
    }

    template <typename H>
    friend H AbslHashValue(H h, StrongInt v) {
        return H::combine(std::move(h), v.value_);
    }

    friend std::ostream& operator<<(std::ostream& out, StrongInt v) { return out << v.value_; }

    template <typename Sink>
    friend void AbslStringify(Sink& sink, StrongInt v) {
        sink.Append(std::to_string(v.value_));
    }

private:
    T value_{};
};

}  // namespace ringlog::base

template <typename Tag, typename T>
struct std::hash<ringlog::base::StrongInt<Tag, T>> {
    size_t operator()(ringlog::base::StrongInt<Tag, T> v) const noexcept {
        return std::hash<T>{}(v.value());
    }
};
