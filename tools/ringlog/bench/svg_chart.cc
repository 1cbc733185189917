// render_svg: see svg_chart.h.
#include "tools/ringlog/bench/svg_chart.h"

#include <algorithm>
#include <cmath>

#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>

namespace ringlog::tools::bench {

namespace {

constexpr double width = 800;
constexpr double height = 480;
constexpr double left = 80;
constexpr double right = 30;
constexpr double top = 50;
constexpr double bottom = 60;
constexpr const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"};

// A tick step of 1, 2 or 5 times a power of ten giving about `count` ticks over `span`.
double nice_step(double span, int count) {
    if (span <= 0) {
        return 1;
    }
    const double raw = span / count;
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    const double fraction = raw / power;
    const double nice = fraction < 1.5 ? 1 : fraction < 3.5 ? 2 : fraction < 7.5 ? 5 : 10;
    return nice * power;
}

std::string escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '&':
                out += "&amp;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string tick_label(double value) {
    if (value == std::floor(value) && std::fabs(value) < 1e15) {
        return absl::StrFormat("%.0f", value);
    }
    return absl::StrFormat("%g", value);
}

std::string nines_label(double x) {
    // x = 1 -> 90 %, 2 -> 99 %, 3 -> 99.9 %; x = 0.301 -> 50 %.
    const double percent = 100.0 * (1.0 - std::pow(10.0, -x));
    if (x < 2) {
        return absl::StrFormat("%.0f%%", percent);
    }
    return absl::StrFormat("%.*f%%", static_cast<int>(std::lround(x)) - 2, percent);
}

}  // namespace

std::string render_svg(const Chart& chart) {
    double x_min = 0;
    double x_max = 1;
    double y_max = 1;
    bool first = true;
    for (const ChartSeries& series : chart.series) {
        for (const auto& [x, y] : series.points) {
            if (first) {
                x_min = x;
                x_max = x;
                first = false;
            }
            x_min = std::min(x_min, x);
            x_max = std::max(x_max, x);
            y_max = std::max(y_max, y);
        }
    }
    if (chart.x_nines) {
        x_min = 0;
        x_max = std::max(1.0, std::ceil(x_max));
    }
    if (x_max <= x_min) {
        x_max = x_min + 1;
    }
    const double y_step = nice_step(y_max, 6);
    y_max = std::ceil(y_max / y_step) * y_step;
    const double plot_w = width - left - right;
    const double plot_h = height - top - bottom;
    auto px = [&](double x) { return left + (x - x_min) / (x_max - x_min) * plot_w; };
    auto py = [&](double y) { return top + plot_h - y / y_max * plot_h; };

    std::string svg = absl::StrFormat(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
        "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
        "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
        width, height, width, height);
    absl::StrAppend(&svg, absl::StrFormat("<text x=\"%.0f\" y=\"28\" font-size=\"16\" "
                                          "text-anchor=\"middle\">%s</text>\n",
                                          width / 2, escape(chart.title)));
    // Grid and ticks.
    for (double y = 0; y <= y_max + y_step / 2; y += y_step) {
        absl::StrAppend(
            &svg,
            absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                            "stroke=\"#ddd\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
                            "text-anchor=\"end\">%s</text>\n",
                            left, py(y), left + plot_w, py(y), left - 6, py(y) + 4, tick_label(y)));
    }
    if (chart.x_nines) {
        for (double x = 0; x <= x_max + 0.01; x += 1) {
            absl::StrAppend(
                &svg, absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                                      "stroke=\"#ddd\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
                                      "text-anchor=\"middle\">%s</text>\n",
                                      px(x), top, px(x), top + plot_h, px(x), top + plot_h + 18,
                                      x == 0 ? std::string("0%") : nines_label(x)));
        }
    } else {
        const double x_step = nice_step(x_max - x_min, 8);
        for (double x = std::ceil(x_min / x_step) * x_step; x <= x_max + x_step / 100;
             x += x_step) {
            absl::StrAppend(
                &svg, absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                                      "stroke=\"#ddd\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
                                      "text-anchor=\"middle\">%s</text>\n",
                                      px(x), top, px(x), top + plot_h, px(x), top + plot_h + 18,
                                      tick_label(x)));
        }
    }
    absl::StrAppend(&svg, absl::StrFormat("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                                          "height=\"%.1f\" fill=\"none\" stroke=\"black\"/>\n",
                                          left, top, plot_w, plot_h));
    absl::StrAppend(&svg, absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
                                          "%s</text>\n",
                                          left + plot_w / 2, height - 15, escape(chart.x_label)));
    absl::StrAppend(&svg,
                    absl::StrFormat("<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" "
                                    "transform=\"rotate(-90 18 %.1f)\">%s</text>\n",
                                    top + plot_h / 2, top + plot_h / 2, escape(chart.y_label)));
    // Series and legend.
    for (size_t i = 0; i < chart.series.size(); ++i) {
        const ChartSeries& series = chart.series[i];
        const char* color = colors[i % std::size(colors)];
        std::string points;
        for (const auto& [x, y] : series.points) {
            absl::StrAppend(&points, absl::StrFormat("%.1f,%.1f ", px(x), py(y)));
        }
        absl::StrAppend(&svg, absl::StrFormat("<polyline fill=\"none\" stroke=\"%s\" "
                                              "stroke-width=\"2\" points=\"%s\"/>\n",
                                              color, points));
        const double legend_y = top + 16 + 18 * static_cast<double>(i);
        absl::StrAppend(&svg, absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                                              "y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>\n"
                                              "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                                              left + 12, legend_y, left + 36, legend_y, color,
                                              left + 42, legend_y + 4, escape(series.name)));
    }
    absl::StrAppend(&svg, "</svg>\n");
    return svg;
}

}  // namespace ringlog::tools::bench
