// libFuzzer entry point for the Kafka request decoder (built with clang only; see
// scripts/fuzz.sh). The work is in request_decoder_target.cc, shared with the replay test.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/request_decoder_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ringlog::fuzz::run_request_decoder({reinterpret_cast<const std::byte*>(data), size});
    return 0;
}
