// TopicStore: topic files round-trip, damage is reported rather than guessed at, and partition
// folders without a topic file are adopted.
#include "core/topic_store.h"

#include <gtest/gtest.h>

#include "io/sim_file_system.h"
#include "tests/support/log_test_util.h"

namespace ringlog::core {
namespace {

TopicInfo sample_topic() {
    TopicInfo topic;
    topic.name = "orders";
    topic.id = random_topic_id();
    topic.partitions = 8;
    topic.config = *TopicConfig::parse({{"retention.ms", "60000"}, {"cleanup.policy", "compact"}});
    return topic;
}

TEST(TopicFile, RoundTrips) {
    const TopicInfo topic = sample_topic();
    auto parsed = parse_topic_file("orders", topic_file_text(topic));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->name, "orders");
    EXPECT_EQ(parsed->id, topic.id);
    EXPECT_EQ(parsed->partitions, 8);
    EXPECT_EQ(parsed->config.overrides(), topic.config.overrides());
    EXPECT_EQ(parsed->config.cleanup_policy(), CleanupPolicy::compact);
}

TEST(TopicFile, DamageIsDataLoss) {
    const std::string good = topic_file_text(sample_topic());
    for (const std::string& bad :
         {std::string("partitions=3\n"), std::string("id=zz\npartitions=3\n"), good + "garbage\n",
          good + "config.retention.ms=never\n",
          std::string("id=00112233445566778899aabbccddeeff\npartitions=0\n")}) {
        auto parsed = parse_topic_file("orders", bad);
        ASSERT_FALSE(parsed.ok()) << bad;
        EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
    }
}

TEST(TopicFile, RandomIdsAreVersion4AndDistinct) {
    const auto a = random_topic_id();
    const auto b = random_topic_id();
    EXPECT_NE(a, b);
    EXPECT_EQ(static_cast<uint8_t>(a[6]) >> 4, 4);
    EXPECT_EQ(static_cast<uint8_t>(a[8]) >> 6, 2);
}

class TopicStoreTest : public ::testing::Test {
protected:
    std::unique_ptr<io::Reactor> reactor_ = testing::make_reactor();
    io::SimFileSystem fs_{7};
    TopicStore store_{fs_, "/data"};
};

TEST_F(TopicStoreTest, SavedTopicsLoadBackAndRemovedOnesDoNot) {
    ASSERT_TRUE(fs_.make_dirs("/data").ok());
    const TopicInfo topic = sample_topic();
    ASSERT_TRUE(reactor_->block_on(store_.save(topic)).ok());
    TopicInfo other = sample_topic();
    other.name = "payments";
    other.partitions = 2;
    ASSERT_TRUE(reactor_->block_on(store_.save(other)).ok());

    auto loaded = reactor_->block_on(store_.load());
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    ASSERT_EQ(loaded->size(), 2u);
    EXPECT_EQ((*loaded)[0].name, "orders");
    EXPECT_EQ((*loaded)[0].id, topic.id);
    EXPECT_EQ((*loaded)[1].name, "payments");
    EXPECT_EQ((*loaded)[1].partitions, 2);

    ASSERT_TRUE(reactor_->block_on(store_.remove("orders")).ok());
    loaded = reactor_->block_on(store_.load());
    ASSERT_TRUE(loaded.ok());
    ASSERT_EQ(loaded->size(), 1u);
    EXPECT_EQ((*loaded)[0].name, "payments");
}

TEST_F(TopicStoreTest, PartitionFoldersWithoutAFileAreAdopted) {
    ASSERT_TRUE(fs_.make_dirs("/data/legacy-0").ok());
    ASSERT_TRUE(fs_.make_dirs("/data/legacy-3").ok());
    ASSERT_TRUE(fs_.make_dirs("/data/not a partition").ok());
    auto loaded = reactor_->block_on(store_.load());
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    ASSERT_EQ(loaded->size(), 1u);
    EXPECT_EQ((*loaded)[0].name, "legacy");
    EXPECT_EQ((*loaded)[0].partitions, 4);
}

}  // namespace
}  // namespace ringlog::core
