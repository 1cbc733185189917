// render_svg: a well-formed document with the title, the labels and one polyline per series.
#include "tools/ringlog/bench/svg_chart.h"

#include <gtest/gtest.h>

namespace ringlog::tools::bench {
namespace {

size_t occurrences(const std::string& text, const std::string& what) {
    size_t count = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++count;
    }
    return count;
}

TEST(SvgChart, RendersSeriesAxesAndLabels) {
    Chart chart;
    chart.title = "latency <by> percentile";
    chart.x_label = "percentile";
    chart.y_label = "us";
    chart.x_nines = true;
    chart.series.push_back({"a", {{0, 1}, {1, 2}, {3, 40}}});
    chart.series.push_back({"b", {{0, 2}, {2, 5}}});
    const std::string svg = render_svg(chart);
    EXPECT_EQ(svg.rfind("<svg", 0), 0u);
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
    EXPECT_EQ(occurrences(svg, "<polyline"), 2u);
    EXPECT_NE(svg.find("latency &lt;by&gt; percentile"), std::string::npos);
    EXPECT_NE(svg.find(">99%<"), std::string::npos);
    EXPECT_NE(svg.find(">99.9%<"), std::string::npos);
}

TEST(SvgChart, EmptyChartStillRenders) {
    const std::string svg = render_svg(Chart{});
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

}  // namespace
}  // namespace ringlog::tools::bench
