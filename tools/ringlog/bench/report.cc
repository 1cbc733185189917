// Summary, JSON and plots: see report.h.
#include "tools/ringlog/bench/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>

#include "tools/ringlog/bench/svg_chart.h"

namespace ringlog::tools::bench {

namespace {

constexpr double spectrum[] = {0.0,  0.1,   0.25,  0.5,    0.75,   0.9,     0.95,
                               0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99999, 1.0};

double us(uint64_t ns) {
    return static_cast<double>(ns) / 1e3;
}

bool consuming(const BenchOptions& options) {
    return options.mode == Mode::consume;
}

uint64_t measured_messages(const BenchResult& result) {
    return consuming(result.options) ? result.measured.consumed : result.measured.produced;
}

uint64_t measured_bytes(const BenchResult& result) {
    return consuming(result.options) ? result.measured.consumed_bytes
                                     : result.measured.produced_bytes;
}

// The batches as they crossed the wire: headers and (compressed) records.
uint64_t measured_wire_bytes(const BenchResult& result) {
    return consuming(result.options) ? result.measured.consumed_wire_bytes
                                     : result.measured.produced_wire_bytes;
}

std::string value_entropy_name(const BenchOptions& options) {
    return options.value_entropy_bits == value_entropy_fixed
               ? std::string("fixed")
               : absl::StrCat(options.value_entropy_bits);
}

std::string latency_json(const Histogram& h) {
    return absl::StrFormat(
        "{\"count\": %lu, \"min\": %.3f, \"mean\": %.3f, \"p50\": %.3f, \"p90\": %.3f, "
        "\"p99\": %.3f, \"p999\": %.3f, \"p9999\": %.3f, \"max\": %.3f}",
        static_cast<unsigned long>(h.count()), us(h.min()), h.mean() / 1e3, us(h.quantile(0.5)),
        us(h.quantile(0.9)), us(h.quantile(0.99)), us(h.quantile(0.999)), us(h.quantile(0.9999)),
        us(h.max()));
}

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            absl::StrAppend(&out, absl::StrFormat("\\u%04x", c));
        } else {
            out += c;
        }
    }
    return out + "\"";
}

}  // namespace

const Histogram& primary_latency(const BenchResult& result) {
    switch (result.options.mode) {
        case Mode::produce:
            return result.measured.produce_latency;
        case Mode::consume:
            return result.measured.fetch_latency;
        case Mode::e2e:
            return result.measured.e2e_latency;
    }
    return result.measured.produce_latency;
}

void print_summary(const BenchResult& result) {
    const BenchOptions& o = result.options;
    const double seconds = result.measured_s;
    std::printf(
        "\n%s: topic %s, %zu partitions, %zu B messages, acks=%d, %s, %d+%d %s connections\n",
        mode_name(o.mode), o.topic.c_str(), result.cluster.leaders.size(), o.msg_bytes, o.acks,
        o.rate > 0 ? absl::StrFormat("rate %.0f msg/s", o.rate).c_str() : "max rate",
        result.producer_connections, result.consumer_connections, o.transport.c_str());
    if (o.mode != Mode::consume) {
        std::printf("compression %s, values %s, keys %d%s\n", compression_name(o.compression),
                    value_entropy_name(o).c_str(), o.keys,
                    o.keys > 0 ? absl::StrCat(" (", key_distribution_name(o), ")").c_str() : "");
    }
    const uint64_t payload = measured_bytes(result);
    const uint64_t wire = measured_wire_bytes(result);
    std::printf(
        "measured %.2f s: %.0f msg/s, %.1f MB/s of values, %.1f MB/s on the wire (%.2fx) "
        "(%lu messages)\n",
        seconds, static_cast<double>(measured_messages(result)) / seconds,
        static_cast<double>(payload) / 1e6 / seconds, static_cast<double>(wire) / 1e6 / seconds,
        wire > 0 ? static_cast<double>(payload) / static_cast<double>(wire) : 0.0,
        static_cast<unsigned long>(measured_messages(result)));
    std::printf("totals: sent %lu, acknowledged %lu, failed %lu, consumed %lu\n",
                static_cast<unsigned long>(result.sent), static_cast<unsigned long>(result.acked),
                static_cast<unsigned long>(result.failed),
                static_cast<unsigned long>(result.consumed));
    auto print_spectrum = [](const char* name, const Histogram& h) {
        if (h.count() == 0) {
            return;
        }
        std::printf("%s latency (us), %lu samples, mean %.1f:\n", name,
                    static_cast<unsigned long>(h.count()), h.mean() / 1e3);
        for (double q : spectrum) {
            std::printf("  %9.5f%%  %12.1f\n", q * 100, us(h.quantile(q)));
        }
    };
    print_spectrum("send (intended send -> request on the socket)", result.measured.send_latency);
    print_spectrum("produce (intended send -> ack)", result.measured.produce_latency);
    print_spectrum("end-to-end (intended send -> fetched)", result.measured.e2e_latency);
    print_spectrum("fetch round trip", result.measured.fetch_latency);
    for (const std::string& error : result.errors) {
        std::printf("error: %s\n", error.c_str());
    }
}

std::string results_json(const BenchResult& result) {
    const BenchOptions& o = result.options;
    const double seconds = result.measured_s;
    const Histogram& latency = primary_latency(result);
    std::string json = "{\n";
    absl::StrAppend(&json, "  \"mode\": ", json_string(mode_name(o.mode)), ",\n");
    absl::StrAppend(&json, "  \"topic\": ", json_string(o.topic), ",\n");
    absl::StrAppend(&json, "  \"partitions\": ", result.cluster.leaders.size(), ",\n");
    absl::StrAppend(&json, "  \"msg_size\": ", o.msg_bytes, ",\n");
    absl::StrAppend(&json, "  \"batch_size\": ", o.batch_bytes, ",\n");
    absl::StrAppend(&json, "  \"acks\": ", o.acks, ",\n");
    absl::StrAppend(&json, "  \"transport\": ", json_string(o.transport), ",\n");
    absl::StrAppend(&json, "  \"compression\": ", json_string(compression_name(o.compression)),
                    ",\n");
    absl::StrAppend(&json, "  \"value_entropy\": ", json_string(value_entropy_name(o)), ",\n");
    absl::StrAppend(&json, "  \"keys\": ", o.keys, ",\n");
    absl::StrAppend(&json, "  \"key_distribution\": ",
                    json_string(o.keys > 0 ? key_distribution_name(o) : "none"), ",\n");
    absl::StrAppend(&json, "  \"rate\": ", o.rate, ",\n");
    absl::StrAppend(&json, "  \"threads\": ", o.threads, ",\n");
    absl::StrAppend(&json, "  \"producer_connections\": ", result.producer_connections, ",\n");
    absl::StrAppend(&json, "  \"consumer_connections\": ", result.consumer_connections, ",\n");
    absl::StrAppend(&json, "  \"inflight\": ", o.inflight, ",\n");
    absl::StrAppend(&json, "  \"warmup_s\": ", o.warmup_s, ",\n");
    absl::StrAppend(&json, "  \"measured_s\": ", absl::StrFormat("%.3f", seconds), ",\n");
    absl::StrAppend(&json, "  \"messages\": ", measured_messages(result), ",\n");
    absl::StrAppend(
        &json, "  \"messages_per_sec\": ",
        absl::StrFormat("%.1f", static_cast<double>(measured_messages(result)) / seconds), ",\n");
    absl::StrAppend(
        &json, "  \"mb_per_sec\": ",
        absl::StrFormat("%.3f", static_cast<double>(measured_bytes(result)) / 1e6 / seconds),
        ",\n");
    // mb_per_sec counts values (uncompressed); these count the batches as sent or fetched.
    absl::StrAppend(&json, "  \"wire_bytes\": ", measured_wire_bytes(result), ",\n");
    absl::StrAppend(
        &json, "  \"wire_mb_per_sec\": ",
        absl::StrFormat("%.3f", static_cast<double>(measured_wire_bytes(result)) / 1e6 / seconds),
        ",\n");
    absl::StrAppend(&json, "  \"sent\": ", result.sent, ",\n");
    absl::StrAppend(&json, "  \"acked\": ", result.acked, ",\n");
    absl::StrAppend(&json, "  \"failed\": ", result.failed, ",\n");
    absl::StrAppend(&json, "  \"consumed\": ", result.consumed, ",\n");
    absl::StrAppend(&json, "  \"latency_us\": ", latency_json(latency), ",\n");
    absl::StrAppend(
        &json, "  \"produce_latency_us\": ", latency_json(result.measured.produce_latency), ",\n");
    absl::StrAppend(&json, "  \"send_latency_us\": ", latency_json(result.measured.send_latency),
                    ",\n");
    absl::StrAppend(&json, "  \"e2e_latency_us\": ", latency_json(result.measured.e2e_latency),
                    ",\n");
    absl::StrAppend(&json, "  \"fetch_latency_us\": ", latency_json(result.measured.fetch_latency),
                    ",\n");
    absl::StrAppend(&json, "  \"percentiles_us\": [");
    for (size_t i = 0; i < std::size(spectrum); ++i) {
        absl::StrAppend(
            &json, i == 0 ? "" : ", ",
            absl::StrFormat("[%.5f, %.3f]", spectrum[i] * 100, us(latency.quantile(spectrum[i]))));
    }
    absl::StrAppend(&json, "],\n  \"seconds\": [");
    for (size_t i = 0; i < result.seconds.size(); ++i) {
        const Interval& s = result.seconds[i];
        const Histogram& h = o.mode == Mode::e2e       ? s.e2e_latency
                             : o.mode == Mode::consume ? s.fetch_latency
                                                       : s.produce_latency;
        const uint64_t messages = consuming(o) ? s.consumed : s.produced;
        const uint64_t bytes = consuming(o) ? s.consumed_bytes : s.produced_bytes;
        const uint64_t wire = consuming(o) ? s.consumed_wire_bytes : s.produced_wire_bytes;
        absl::StrAppend(
            &json, i == 0 ? "\n    " : ",\n    ",
            absl::StrFormat("{\"t\": %zu, \"messages\": %lu, \"mb\": %.3f, \"wire_mb\": %.3f, "
                            "\"failed\": %lu, \"p50_us\": %.3f, \"p99_us\": %.3f, "
                            "\"p999_us\": %.3f}",
                            i + 1, static_cast<unsigned long>(messages),
                            static_cast<double>(bytes) / 1e6, static_cast<double>(wire) / 1e6,
                            static_cast<unsigned long>(s.failed), us(h.quantile(0.5)),
                            us(h.quantile(0.99)), us(h.quantile(0.999))));
    }
    absl::StrAppend(&json, "\n  ],\n  \"errors\": [");
    for (size_t i = 0; i < result.errors.size(); ++i) {
        absl::StrAppend(&json, i == 0 ? "" : ", ", json_string(result.errors[i]));
    }
    absl::StrAppend(&json, "]\n}\n");
    return json;
}

absl::Status write_json(const BenchResult& result, const std::string& path) {
    std::ofstream out(path);
    out << results_json(result);
    out.close();
    if (!out) {
        return absl::UnavailableError(absl::StrCat("cannot write ", path));
    }
    return absl::OkStatus();
}

absl::Status write_plots(const BenchResult& result, const std::string& prefix) {
    const BenchOptions& o = result.options;
    Chart latency;
    latency.title = absl::StrFormat(
        "%s latency by percentile (%zu B, acks=%d, %s)", mode_name(o.mode), o.msg_bytes, o.acks,
        o.rate > 0 ? absl::StrFormat("%.0f msg/s", o.rate) : "max rate");
    latency.x_label = "percentile";
    latency.y_label = "latency (us)";
    latency.x_nines = true;
    auto add_latency = [&](const char* name, const Histogram& h) {
        if (h.count() == 0) {
            return;
        }
        ChartSeries series;
        series.name = name;
        // Up to the resolution the sample count allows: 10,000 samples reach 99.99 %.
        const double x_max = std::min(6.0, std::log10(static_cast<double>(h.count())));
        for (double x = 0; x <= x_max + 1e-9; x += 0.05) {
            series.points.emplace_back(x, us(h.quantile(1.0 - std::pow(10.0, -x))));
        }
        latency.series.push_back(std::move(series));
    };
    add_latency("produce: intended send -> ack", result.measured.produce_latency);
    add_latency("end-to-end: intended send -> fetched", result.measured.e2e_latency);
    if (o.mode == Mode::consume) {
        add_latency("fetch round trip", result.measured.fetch_latency);
    }
    Chart throughput;
    throughput.title =
        absl::StrFormat("%s throughput over time (%zu B messages)", mode_name(o.mode), o.msg_bytes);
    throughput.x_label = "seconds since start (warm-up included)";
    throughput.y_label = "MB/s";
    ChartSeries produced{"produced (acknowledged) MB/s", {}};
    ChartSeries consumed{"consumed MB/s", {}};
    // Whole seconds of the run only: the last, partial one (the drain) would look like a drop.
    const auto whole = static_cast<size_t>(o.warmup_s + result.measured_s + 1e-6);
    for (size_t i = 0; i < result.seconds.size() && i < std::max<size_t>(whole, 1); ++i) {
        const double t = static_cast<double>(i + 1);
        produced.points.emplace_back(t,
                                     static_cast<double>(result.seconds[i].produced_bytes) / 1e6);
        consumed.points.emplace_back(t,
                                     static_cast<double>(result.seconds[i].consumed_bytes) / 1e6);
    }
    if (o.mode != Mode::consume) {
        throughput.series.push_back(std::move(produced));
    }
    if (o.mode != Mode::produce) {
        throughput.series.push_back(std::move(consumed));
    }
    for (const auto& [name, chart] : {std::pair<const char*, const Chart*>{"latency.svg", &latency},
                                      {"throughput.svg", &throughput}}) {
        const std::string path = prefix + name;
        std::ofstream out(path);
        out << render_svg(*chart);
        out.close();
        if (!out) {
            return absl::UnavailableError(absl::StrCat("cannot write ", path));
        }
    }
    return absl::OkStatus();
}

}  // namespace ringlog::tools::bench
