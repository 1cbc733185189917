// Replays fuzz seeds through the request-decoder target without libFuzzer, as a ctest test:
// every file under the given paths (the recorded client captures), plus an example frame of
// every supported request at every version, built in memory from examples.h. With
// --write-examples DIR it writes those example frames to DIR instead, as extra fuzzer seeds
// (the captures hold almost no flexible versions).
//
// Usage: fuzz_corpus_replay [--write-examples DIR] [PATH...]
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <absl/strings/str_format.h>

#include "net/kafka/generated/examples.h"
#include "net/kafka/generated/headers.h"
#include "tests/fuzz/request_decoder_target.h"

namespace {

namespace fs = std::filesystem;
using namespace ringlog::net::kafka;

struct Example {
    std::string name;
    std::vector<std::byte> frame;
};

// A header and body for every version of every request type, seeds 0 and 1.
std::vector<Example> example_frames() {
    std::vector<Example> frames;
    examples::for_each_message([&]<typename T>(std::type_identity<T>, const char* name) {
        if constexpr (requires { T::api_key; }) {
            if (!std::string_view(name).ends_with("Request")) {
                return;
            }
            const auto api_key = static_cast<int16_t>(T::api_key);
            for (int16_t version = T::min_version; version <= T::max_version; ++version) {
                for (uint32_t seed = 0; seed < 2; ++seed) {
                    RequestHeader header;
                    header.request_api_key = api_key;
                    header.request_api_version = version;
                    header.correlation_id = static_cast<int32_t>(seed + 1);
                    header.client_id = "fuzz";
                    T body;
                    examples::fill_example(body, version, seed);
                    Writer writer;
                    header.encode(writer, request_header_version(api_key, version));
                    body.encode(writer, version);
                    frames.push_back(
                        {absl::StrFormat("%s-v%d-%d", name, version, seed), writer.flatten()});
                }
            }
        }
    });
    return frames;
}

std::vector<std::byte> read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto* data = reinterpret_cast<const std::byte*>(text.data());
    return {data, data + text.size()};
}

int write_examples(const fs::path& dir) {
    fs::create_directories(dir);
    const std::vector<Example> frames = example_frames();
    for (const Example& example : frames) {
        std::ofstream out(dir / example.name, std::ios::binary);
        out.write(reinterpret_cast<const char*>(example.frame.data()),
                  static_cast<std::streamsize>(example.frame.size()));
    }
    std::printf("wrote %zu example frames to %s\n", frames.size(), dir.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "--write-examples") == 0) {
        return write_examples(argv[2]);
    }
    size_t files = 0;
    for (int index = 1; index < argc; ++index) {
        const fs::path path = argv[index];
        if (!fs::exists(path)) {
            std::printf("skipping %s: not found (clone shared/ beside the repository)\n",
                        path.c_str());
            continue;
        }
        std::vector<fs::path> paths;
        if (fs::is_directory(path)) {
            for (const auto& entry : fs::recursive_directory_iterator(path)) {
                if (entry.is_regular_file()) {
                    paths.push_back(entry.path());
                }
            }
        } else {
            paths.push_back(path);
        }
        for (const fs::path& file : paths) {
            const std::vector<std::byte> bytes = read_file(file);
            ringlog::fuzz::run_request_decoder(bytes);
            ++files;
        }
    }
    const std::vector<Example> frames = example_frames();
    for (const Example& example : frames) {
        ringlog::fuzz::run_request_decoder(example.frame);
    }
    std::printf("replayed %zu files and %zu example frames\n", files, frames.size());
    return 0;
}
