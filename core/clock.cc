#include "core/clock.h"

#include <chrono>

namespace ringlog::core {

namespace {

class SystemClock final : public Clock {
public:
    int64_t now_ms() const override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

}  // namespace

const Clock& Clock::system() {
    static const SystemClock clock;
    return clock;
}

}  // namespace ringlog::core
