// See request_decoder_target.h.
#include "tests/fuzz/request_decoder_target.h"

#include <cstdint>
#include <vector>

#include "io/base/assert.h"
#include "net/kafka/generated/dispatch.h"
#include "net/kafka/generated/headers.h"

namespace ringlog::fuzz {

namespace {

using namespace ringlog::net::kafka;

// decode(encode(value)) == value, and encoding that again gives the same bytes.
template <typename Any, typename Decode, typename Encode>
void check_stable(const Any& value, int16_t api_key, int16_t api_version, Decode decode,
                  Encode encode) {
    Writer first;
    encode(value, api_version, first);
    const std::vector<std::byte> bytes = first.flatten();
    Reader reader(bytes);
    Any again;
    const absl::Status status = decode(api_key, api_version, reader, again);
    RL_ASSERT(status.ok(), "api %d v%d: %s", api_key, api_version, status.ToString());
    RL_ASSERT(reader.remaining() == 0, "api %d v%d", api_key, api_version);
    RL_ASSERT(again == value, "api %d v%d", api_key, api_version);
    Writer second;
    encode(again, api_version, second);
    RL_ASSERT(second.flatten() == bytes, "api %d v%d", api_key, api_version);
}

void fuzz_request(ByteView input) {
    Reader reader(input);
    RequestHeader header;
    int16_t header_version = -1;
    if (!decode_request_header(reader, header, header_version).ok()) {
        return;
    }
    Writer header_bytes;
    header.encode(header_bytes, header_version);
    const std::vector<std::byte> encoded = header_bytes.flatten();
    Reader header_reader(encoded);
    RequestHeader header_again;
    RL_ASSERT(header_again.decode(header_reader, header_version).ok());
    RL_ASSERT(header_again == header);

    AnyRequest request;
    if (decode_request_body(header.request_api_key, header.request_api_version, reader, request)
            .ok()) {
        check_stable(request, header.request_api_key, header.request_api_version,
                     decode_request_body, encode_request_body);
    }
}

void fuzz_response(ByteView input) {
    Reader prefix(input);
    const int16_t api_key = prefix.read_int16();
    const int16_t api_version = prefix.read_int16();
    if (!prefix.ok()) {
        return;
    }
    Reader reader(input.subspan(prefix.position()));
    AnyResponse response;
    if (decode_response_body(api_key, api_version, reader, response).ok()) {
        check_stable(response, api_key, api_version, decode_response_body, encode_response_body);
    }
}

}  // namespace

void run_request_decoder(std::span<const std::byte> input) {
    fuzz_request(input);
    fuzz_response(input);
}

}  // namespace ringlog::fuzz
