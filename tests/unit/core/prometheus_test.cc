// The Prometheus text format: families grouped with one HELP/TYPE each whatever order the
// shards' samples come in, cumulative histogram buckets in seconds, escaped label values.
#include "core/metrics/prometheus.h"

#include <gtest/gtest.h>

namespace ringlog::core::metrics {
namespace {

Sample counter(const char* family, std::string shard, double value) {
    Sample sample;
    sample.family = family;
    sample.help = "help text";
    sample.type = MetricType::counter;
    sample.labels = {{"shard", std::move(shard)}};
    sample.value = value;
    return sample;
}

TEST(Prometheus, GroupsEachFamilyUnderOneHeader) {
    SampleSet shard0;
    shard0.add(counter("a_total", "0", 1));
    shard0.add(counter("b_total", "0", 2));
    SampleSet shard1;
    shard1.add(counter("a_total", "1", 3));
    shard0.append(std::move(shard1));
    EXPECT_EQ(shard0.text(),
              "# HELP a_total help text\n# TYPE a_total counter\n"
              "a_total{shard=\"0\"} 1\na_total{shard=\"1\"} 3\n"
              "# HELP b_total help text\n# TYPE b_total counter\nb_total{shard=\"0\"} 2\n");
}

TEST(Prometheus, HistogramBucketsAreCumulativeInSeconds) {
    LatencyBuckets buckets;
    buckets.record(40);      // <= 50 us
    buckets.record(700);     // <= 1 ms
    buckets.record(20'000);  // <= 25 ms
    Sample sample;
    sample.family = "lat_seconds";
    sample.help = "h";
    sample.type = MetricType::histogram;
    sample.buckets = &buckets;
    SampleSet set;
    set.add(std::move(sample));
    const std::string text = set.text();
    EXPECT_NE(text.find("# TYPE lat_seconds histogram\n"), std::string::npos);
    EXPECT_NE(text.find("lat_seconds_bucket{le=\"5e-05\"} 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("lat_seconds_bucket{le=\"0.001\"} 2\n"), std::string::npos) << text;
    EXPECT_NE(text.find("lat_seconds_bucket{le=\"0.025\"} 3\n"), std::string::npos) << text;
    EXPECT_NE(text.find("lat_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << text;
    EXPECT_NE(text.find("lat_seconds_count 3\n"), std::string::npos) << text;
    EXPECT_NE(text.find("lat_seconds_sum 0.02074\n"), std::string::npos) << text;
}

TEST(Prometheus, EscapesLabelValues) {
    SampleSet set;
    Sample sample = counter("c_total", "0", 1);
    sample.labels = {{"topic", "a\"b\\c\nd"}};
    set.add(std::move(sample));
    EXPECT_NE(set.text().find("c_total{topic=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos)
        << set.text();
}

}  // namespace
}  // namespace ringlog::core::metrics
