// CRC-32C: a portable slicing-by-8 loop and an SSE4.2 one that runs three independent CRC
// chains and joins them with carry-less multiplication (after Mark Adler's crc32c.c and
// Intel's "Fast CRC Computation for iSCSI Polynomial Using CRC32 Instruction").
#include "net/kafka/crc32c.h"

#include <immintrin.h>

#include <array>
#include <bit>
#include <cstring>

namespace ringlog::net::kafka {

namespace {

// The Castagnoli polynomial 0x1EDC6F41, bit-reversed: bit i holds the coefficient of x^(31-i).
constexpr uint32_t polynomial = 0x82F63B78;

uint64_t load_u64(const std::byte* p) {
    // The CRC consumes bytes in order, lowest bits first: a little-endian load.
    uint64_t value;
    std::memcpy(&value, p, sizeof(value));
    if constexpr (std::endian::native == std::endian::big) {
        value = __builtin_bswap64(value);
    }
    return value;
}

// tables[0] is the byte-at-a-time table; tables[k][b] is the CRC of byte b followed by k zero
// bytes, so eight table lookups consume eight bytes at once.
constexpr std::array<std::array<uint32_t, 256>, 8> make_tables() {
    std::array<std::array<uint32_t, 256>, 8> tables{};
    for (uint32_t byte = 0; byte < 256; ++byte) {
        uint32_t crc = byte;
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc >> 1) ^ ((crc & 1) != 0 ? polynomial : 0);
        }
        tables[0][byte] = crc;
    }
    for (size_t k = 1; k < 8; ++k) {
        for (uint32_t byte = 0; byte < 256; ++byte) {
            const uint32_t previous = tables[k - 1][byte];
            tables[k][byte] = (previous >> 8) ^ tables[0][previous & 0xff];
        }
    }
    return tables;
}

constexpr auto tables = make_tables();

// The raw CRC state (no inversions) after `data`.
uint32_t portable_state(uint32_t state, const std::byte* p, size_t size) {
    while (size >= 8) {
        const uint64_t word = load_u64(p) ^ state;
        state = tables[7][word & 0xff] ^ tables[6][(word >> 8) & 0xff]
                ^ tables[5][(word >> 16) & 0xff] ^ tables[4][(word >> 24) & 0xff]
                ^ tables[3][(word >> 32) & 0xff] ^ tables[2][(word >> 40) & 0xff]
                ^ tables[1][(word >> 48) & 0xff] ^ tables[0][word >> 56];
        p += 8;
        size -= 8;
    }
    while (size > 0) {
        state = (state >> 8) ^ tables[0][(state ^ static_cast<uint32_t>(*p)) & 0xff];
        ++p;
        --size;
    }
    return state;
}

// x^k mod P in the reflected representation (x^0 is bit 31). Multiplying by x moves every
// coefficient one bit right; the x^31 coefficient leaving bit 0 wraps around as P's low terms.
constexpr uint32_t x_power_mod(uint64_t k) {
    uint32_t value = 0x80000000;
    for (uint64_t i = 0; i < k; ++i) {
        value = (value >> 1) ^ ((value & 1) != 0 ? polynomial : 0);
    }
    return value;
}

// Bytes per chain per round. Long rounds amortise the join; short rounds serve inputs between
// 768 bytes and 24 KiB and the remainders of longer ones.
constexpr size_t long_lane_bytes = 8192;
constexpr size_t short_lane_bytes = 256;

// Moving a CRC state over n zero bytes multiplies it by x^(8n) mod P. A carry-less product of
// two reflected 32-bit values is their polynomial product times x (the product's bit k holds
// x^(62-k), read as a reflected 64-bit value whose bit k is x^(63-k)), and crc32 of a 64-bit
// value V with a zero state is V * x^32 mod P. So crc32(0, clmul(state, x^(8n-33) mod P)) is
// state * x^(8n) mod P. Example: for n = 256 the constant is x^2015 mod P.
template <size_t bytes>
constexpr uint32_t shift_constant = x_power_mod(8 * bytes - 33);

__attribute__((target("sse4.2,pclmul"))) uint32_t shift(uint32_t state, uint32_t constant) {
    const __m128i product = _mm_clmulepi64_si128(_mm_cvtsi32_si128(static_cast<int>(state)),
                                                 _mm_cvtsi32_si128(static_cast<int>(constant)), 0);
    return static_cast<uint32_t>(
        _mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(product))));
}

__attribute__((target("sse4.2"))) uint32_t one_chain(uint32_t state, const std::byte* p,
                                                     size_t size) {
    uint64_t crc = state;
    while (size >= 8) {
        crc = _mm_crc32_u64(crc, load_u64(p));
        p += 8;
        size -= 8;
    }
    auto narrow = static_cast<uint32_t>(crc);
    while (size > 0) {
        narrow = _mm_crc32_u8(narrow, static_cast<uint8_t>(*p));
        ++p;
        --size;
    }
    return narrow;
}

// Three chains over consecutive lanes of `lane` bytes: the crc32 instruction has a latency of
// three cycles and a throughput of one, so three independent chains keep it busy.
template <size_t lane>
__attribute__((target("sse4.2,pclmul"))) uint32_t three_chains(uint32_t state, const std::byte*& p,
                                                               size_t& size) {
    while (size >= 3 * lane) {
        uint64_t a = state;
        uint64_t b = 0;
        uint64_t c = 0;
        for (size_t i = 0; i < lane; i += 8) {
            a = _mm_crc32_u64(a, load_u64(p + i));
            b = _mm_crc32_u64(b, load_u64(p + lane + i));
            c = _mm_crc32_u64(c, load_u64(p + 2 * lane + i));
        }
        state = shift(static_cast<uint32_t>(a), shift_constant<2 * lane>)
                ^ shift(static_cast<uint32_t>(b), shift_constant<lane>) ^ static_cast<uint32_t>(c);
        p += 3 * lane;
        size -= 3 * lane;
    }
    return state;
}

bool has_pclmul() {
    static const bool supported = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("pclmul");
    }();
    return supported;
}

using Crc32cFunction = uint32_t (*)(std::span<const std::byte>, uint32_t);

Crc32cFunction choose() {
    return crc32c_hardware_supported() ? crc32c_hardware : crc32c_portable;
}

}  // namespace

bool crc32c_hardware_supported() {
    static const bool supported = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("sse4.2");
    }();
    return supported;
}

uint32_t crc32c_portable(std::span<const std::byte> data, uint32_t crc) {
    return ~portable_state(~crc, data.data(), data.size());
}

uint32_t crc32c_hardware(std::span<const std::byte> data, uint32_t crc) {
    const std::byte* p = data.data();
    size_t size = data.size();
    uint32_t state = ~crc;
    if (size >= 3 * short_lane_bytes && has_pclmul()) {
        state = three_chains<long_lane_bytes>(state, p, size);
        state = three_chains<short_lane_bytes>(state, p, size);
    }
    return ~one_chain(state, p, size);
}

uint32_t crc32c(std::span<const std::byte> data, uint32_t crc) {
    static const Crc32cFunction chosen = choose();
    return chosen(data, crc);
}

}  // namespace ringlog::net::kafka
