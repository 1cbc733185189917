// Wall-clock milliseconds for timestamps, segment age and retention, behind an interface so that
// tests can move time by hand instead of sleeping.
#pragma once

#include <cstdint>

namespace ringlog::core {

class Clock {
public:
    virtual ~Clock() = default;

    virtual int64_t now_ms() const = 0;

    // The process-wide real clock (CLOCK_REALTIME in milliseconds).
    static const Clock& system();
};

class ManualClock final : public Clock {
public:
    explicit ManualClock(int64_t start_ms) : now_ms_(start_ms) {}

    int64_t now_ms() const override { return now_ms_; }

    void advance_ms(int64_t delta_ms) { now_ms_ += delta_ms; }

private:
    int64_t now_ms_;
};

}  // namespace ringlog::core
