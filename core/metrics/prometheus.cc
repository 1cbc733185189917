#include "core/metrics/prometheus.h"

#include <map>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>

namespace ringlog::core::metrics {
namespace {

std::string escape(const std::string& value) {
    std::string out;
    for (const char c : value) {
        if (c == '\\' || c == '"') {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string label_text(const Labels& labels, const std::string& extra_name = {},
                       const std::string& extra_value = {}) {
    if (labels.empty() && extra_name.empty()) {
        return {};
    }
    std::string text = "{";
    bool first = true;
    for (const auto& [name, value] : labels) {
        absl::StrAppend(&text, first ? "" : ",", name, "=\"", escape(value), "\"");
        first = false;
    }
    if (!extra_name.empty()) {
        absl::StrAppend(&text, first ? "" : ",", extra_name, "=\"", extra_value, "\"");
    }
    return text + "}";
}

std::string number(double value) {
    // Counters are integers and bucket bounds short decimals: %.15g prints both exactly.
    return absl::StrFormat("%.15g", value);
}

const char* type_name(MetricType type) {
    switch (type) {
        case MetricType::counter:
            return "counter";
        case MetricType::gauge:
            return "gauge";
        case MetricType::histogram:
            return "histogram";
    }
    return "untyped";
}

}  // namespace

void SampleSet::add(Sample sample) {
    std::string text;
    if (sample.type == MetricType::histogram) {
        const LatencyBuckets& buckets = *sample.buckets;
        for (size_t i = 0; i < LatencyBuckets::bounds_us.size(); ++i) {
            absl::StrAppend(
                &text, sample.family, "_bucket",
                label_text(sample.labels, "le",
                           number(static_cast<double>(LatencyBuckets::bounds_us[i]) / 1e6)),
                " ", buckets.cumulative(i), "\n");
        }
        absl::StrAppend(&text, sample.family, "_bucket", label_text(sample.labels, "le", "+Inf"),
                        " ", buckets.count(), "\n");
        absl::StrAppend(&text, sample.family, "_sum", label_text(sample.labels), " ",
                        number(static_cast<double>(buckets.sum_us()) / 1e6), "\n");
        absl::StrAppend(&text, sample.family, "_count", label_text(sample.labels), " ",
                        buckets.count(), "\n");
    } else {
        absl::StrAppend(&text, sample.family, label_text(sample.labels), " ", number(sample.value),
                        "\n");
    }
    lines_.push_back(
        {std::move(sample.family), std::move(sample.help), sample.type, std::move(text)});
}

void SampleSet::append(SampleSet other) {
    for (Line& line : other.lines_) {
        lines_.push_back(std::move(line));
    }
}

std::string SampleSet::text() const {
    std::vector<std::string> order;
    std::map<std::string, std::pair<const Line*, std::string>> families;
    for (const Line& line : lines_) {
        auto [it, inserted] = families.try_emplace(line.family, &line, std::string());
        if (inserted) {
            order.push_back(line.family);
        }
        it->second.second += line.text;
    }
    std::string out;
    for (const std::string& family : order) {
        const auto& [first, samples] = families.at(family);
        absl::StrAppend(&out, "# HELP ", family, " ", first->help, "\n# TYPE ", family, " ",
                        type_name(first->type), "\n", samples);
    }
    return out;
}

}  // namespace ringlog::core::metrics
