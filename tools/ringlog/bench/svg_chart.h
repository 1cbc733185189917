// A line chart written as SVG by hand (no plotting dependency): axes with round-number ticks,
// labels, a legend, one polyline per series. Enough for the two plots of a bench run: latency
// by percentile (an x axis in "nines": 90 %, 99 %, 99.9 %...) and throughput over time.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ringlog::tools::bench {

struct ChartSeries {
    std::string name;
    std::vector<std::pair<double, double>> points;  // (x, y)
};

struct Chart {
    std::string title;
    std::string x_label;
    std::string y_label;
    // x values are nines: x = -log10(1 - quantile), labelled as percentiles.
    bool x_nines = false;
    std::vector<ChartSeries> series;
};

std::string render_svg(const Chart& chart);

}  // namespace ringlog::tools::bench
