// ringlog probe without timing: option parsing (the durable-append flags, refusals), the
// JSON fields the bench suite reads, and that a small durable-append pass runs and leaves no
// files behind.
#include "tools/ringlog/bench/probe.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tools/ringlog/bench/durable_append.h"

namespace ringlog::tools::bench {
namespace {

absl::StatusOr<ProbeOptions> parse(std::vector<std::string_view> args) {
    return parse_probe_options(args);
}

TEST(ProbeOptions, DurableDefaults) {
    auto options = parse({});
    ASSERT_TRUE(options.ok()) << options.status();
    EXPECT_EQ(options->durable_files, 8);
    EXPECT_EQ(options->durable_block_kib, 1024u);
    EXPECT_EQ(options->file_mib, 1024u);
}

TEST(ProbeOptions, ParsesDurableFlags) {
    auto options =
        parse({"--durable-files", "3", "--durable-block-kib", "256", "--file-mib", "64"});
    ASSERT_TRUE(options.ok()) << options.status();
    EXPECT_EQ(options->durable_files, 3);
    EXPECT_EQ(options->durable_block_kib, 256u);
    EXPECT_EQ(options->file_mib, 64u);
}

TEST(ProbeOptions, RefusesBadDurableValues) {
    EXPECT_FALSE(parse({"--durable-files", "0"}).ok());
    EXPECT_FALSE(parse({"--durable-files", "x"}).ok());
    EXPECT_FALSE(parse({"--durable-block-kib", "6"}).ok());  // not a 4 KiB multiple
    EXPECT_FALSE(parse({"--durable-block-kib", "-4"}).ok());
    EXPECT_FALSE(parse({"--durable-block-kib"}).ok());
    EXPECT_FALSE(parse({"--no-such-flag", "1"}).ok());
}

ProbeResult sample_result() {
    ProbeResult result;
    result.disk_write_mb_per_sec = 3100;
    result.disk_write_passes = {3050, 3100};
    result.durable_prewritten_mb_per_sec = 2200.25;
    result.durable_prewritten_passes = {2200.25, 2100};
    result.durable_fresh_mb_per_sec = 1500;
    result.durable_fresh_passes = {1500, 1400};
    result.durable_files = 8;
    result.durable_block_kib = 1024;
    result.tcp_mb_per_sec = 5000;
    result.sync_write_ns.record(40000);
    result.tcp_round_trip_ns.record(20000);
    return result;
}

TEST(ProbeJson, HoldsTheDurableCeilingsBesideTheExistingFields) {
    const std::string json = probe_json(sample_result());
    for (const char* field :
         {"\"disk_write_mb_per_sec\": 3100.0", "\"disk_write_passes_mb_per_sec\": [3050.0, 3100.0]",
          "\"durable_prewritten_mb_per_sec\": 2200.2",
          "\"durable_prewritten_passes_mb_per_sec\": [2200.2, 2100.0]",
          "\"durable_fresh_mb_per_sec\": 1500.0",
          "\"durable_fresh_passes_mb_per_sec\": [1500.0, 1400.0]", "\"durable_files\": 8",
          "\"durable_block_kib\": 1024", "\"sync_write_latency_us\": {",
          "\"tcp_mb_per_sec\": 5000.0", "\"tcp_round_trip_us\": {"}) {
        EXPECT_NE(json.find(field), std::string::npos) << field << " in\n" << json;
    }
    EXPECT_EQ(json.front(), '{');
    EXPECT_EQ(json.substr(json.size() - 2), "}\n");
}

TEST(ProbeSummary, NamesBothCeilings) {
    const std::string text = probe_summary(sample_result());
    EXPECT_NE(text.find("8 files x (1024 KiB write + fdatasync)"), std::string::npos) << text;
    EXPECT_NE(text.find("pre-written"), std::string::npos) << text;
    EXPECT_NE(text.find("fresh"), std::string::npos) << text;
    EXPECT_NE(text.find("2200.2 MB/s"), std::string::npos) << text;
    EXPECT_NE(text.find("1500.0 MB/s"), std::string::npos) << text;
}

int entries(const std::string& dir) {
    int count = 0;
    DIR* d = ::opendir(dir.c_str());
    while (dirent* e = ::readdir(d)) {
        count += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
    }
    ::closedir(d);
    return count;
}

// A few MiB through both variants: it completes, reports a rate, removes its files. The rate
// itself is not checked (no timing thresholds in tests).
TEST(DurableAppend, RunsBothVariantsAndLeavesNothing) {
    char pattern[] = "/var/tmp/ringlog-probe-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    const std::string dir = pattern;
    auto reactor = io::Reactor::create();
    ASSERT_TRUE(reactor.ok()) << reactor.status();
    DurableAppendOptions options;
    options.dir = dir;
    options.files = 3;
    options.block_bytes = 64 * 1024;
    options.total_bytes = 3 * 4 * 64 * 1024;
    for (bool prewritten : {true, false}) {
        options.prewritten = prewritten;
        absl::StatusOr<double> rate = durable_append_mb_per_sec(**reactor, options);
        if (!rate.ok() && absl::IsInvalidArgument(rate.status())) {
            ::rmdir(dir.c_str());
            GTEST_SKIP() << "no O_DIRECT in " << dir << ": " << rate.status();
        }
        ASSERT_TRUE(rate.ok()) << rate.status();
        EXPECT_GT(*rate, 0);
        EXPECT_EQ(entries(dir), 0);
    }
    options.block_bytes = 1000;  // not 4 KiB-aligned
    EXPECT_FALSE(durable_append_mb_per_sec(**reactor, options).ok());
    ASSERT_EQ(::rmdir(dir.c_str()), 0);
}

}  // namespace
}  // namespace ringlog::tools::bench
