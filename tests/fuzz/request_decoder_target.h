// The body of the request-decoder fuzz target, shared by the libFuzzer binary (clang only) and
// by fuzz_corpus_replay, which runs the seed corpus through it as an ordinary test.
#pragma once

#include <cstddef>
#include <span>

namespace ringlog::fuzz {

// Decodes `input` as a request frame (header and body, any API key and version) and, with the
// key and version of its first four bytes, the rest as a response body. Whatever decodes is
// encoded again and must decode to an equal value and re-encode to the same bytes; a
// violation aborts. Malformed input must only ever produce an error.
void run_request_decoder(std::span<const std::byte> input);

}  // namespace ringlog::fuzz
