// parse_bench_options: the flag names the issue fixes, defaults, and refusals.
#include "tools/ringlog/bench/options.h"

#include <vector>

#include <gtest/gtest.h>

namespace ringlog::tools::bench {
namespace {

absl::StatusOr<BenchOptions> parse(std::vector<std::string_view> args) {
    return parse_bench_options(args);
}

TEST(BenchOptions, ParsesTheNamedFlags) {
    auto options = parse({"e2e", "--bootstrap", "10.0.0.1:9093", "--topic", "t", "--partitions",
                          "8", "--msg-size", "100", "--acks", "all", "--rate", "5000", "--duration",
                          "2.5", "--json", "/tmp/x.json"});
    ASSERT_TRUE(options.ok()) << options.status();
    EXPECT_EQ(options->mode, Mode::e2e);
    EXPECT_EQ(options->bootstrap_host, "10.0.0.1");
    EXPECT_EQ(options->bootstrap_port, 9093);
    EXPECT_EQ(options->topic, "t");
    EXPECT_EQ(options->partitions, 8);
    EXPECT_EQ(options->msg_bytes, 100u);
    EXPECT_EQ(options->acks, -1);
    EXPECT_DOUBLE_EQ(options->rate, 5000);
    EXPECT_DOUBLE_EQ(options->duration_s, 2.5);
    EXPECT_EQ(options->json_path, "/tmp/x.json");
    EXPECT_EQ(options->batch_messages(), 64 * 1024 / 100);
}

TEST(BenchOptions, DefaultsToProduce) {
    auto options = parse({"--acks=1"});
    ASSERT_TRUE(options.ok()) << options.status();
    EXPECT_EQ(options->mode, Mode::produce);
    EXPECT_EQ(options->acks, 1);
}

TEST(BenchOptions, RefusesBadInput) {
    EXPECT_FALSE(parse({"sideways"}).ok());
    EXPECT_FALSE(parse({"--acks", "2"}).ok());
    EXPECT_FALSE(parse({"--bootstrap", "nohost"}).ok());
    EXPECT_FALSE(parse({"--partitions", "0"}).ok());
    EXPECT_FALSE(parse({"--frobnicate", "1"}).ok());
    EXPECT_FALSE(parse({"--topic"}).ok());
    EXPECT_FALSE(parse({"e2e", "--msg-size", "8"}).ok());
    EXPECT_FALSE(parse({"--compression", "zstd"}).ok());
}

}  // namespace
}  // namespace ringlog::tools::bench
