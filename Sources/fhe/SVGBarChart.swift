import Foundation

/// A horizontal bar chart as a self-contained SVG document: one group of bars per row label,
/// one bar per series, each bar with an optional spread (a whisker from its low to its high
/// value). No script, no external file, no font download: a browser, an image viewer or a
/// Markdown renderer shows it as it is.
struct SVGBarChart {
    struct Bar {
        let series: String
        let value: Double
        /// The lowest and highest of the runs, if there were several.
        let spread: ClosedRange<Double>?
    }

    struct Group {
        let label: String
        let bars: [Bar]
    }

    let title: String
    let unit: String
    let groups: [Group]
    /// Bars on a log₁₀ axis (for values spanning several orders of magnitude).
    var logarithmic = false

    /// Colour of each series, in order of first appearance (a palette that reads in grey too).
    private static let palette = ["#1f4e79", "#c55a11", "#548235", "#7f6000", "#7030a0", "#2e75b6"]

    func render() -> String {
        let series = groups.flatMap { $0.bars.map(\.series) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let labelWidth = 170.0, plotWidth = 520.0, barHeight = 14.0, groupGap = 10.0, top = 48.0
        let legendHeight = Double(series.count) * 16 + 10
        let barsHeight = groups.reduce(0.0) { $0 + Double($1.bars.count) * barHeight + groupGap }
        let height = top + barsHeight + 30 + legendHeight
        let width = labelWidth + plotWidth + 90
        let maximum = groups.flatMap { $0.bars.map { $0.spread?.upperBound ?? $0.value } }.max() ?? 1
        let positive = groups.flatMap { $0.bars.map(\.value) }.filter { $0 > 0 }
        let logLow = floor(log10(positive.min() ?? 1)), logHigh = ceil(log10(max(maximum, 1e-12)))
        func x(_ v: Double) -> Double {
            if logarithmic {
                let span = max(logHigh - logLow, 1)
                return labelWidth + plotWidth * max(0, (log10(max(v, 1e-300)) - logLow)) / span
            }
            return labelWidth + plotWidth * v / (maximum > 0 ? maximum : 1)
        }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
        viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="10" y="20" font-size="14" font-weight="bold">\(escape(title))</text>
        <text x="10" y="36" fill="#555">\(escape(unit))\(logarithmic ? " (log scale)" : "")</text>

        """
        var y = top
        for group in groups {
            svg += "<text x=\"\(fmt(labelWidth - 6))\" y=\"\(fmt(y + Double(group.bars.count) * barHeight / 2 + 4))\" text-anchor=\"end\">\(escape(group.label))</text>\n"
            for bar in group.bars {
                let colour = Self.palette[(series.firstIndex(of: bar.series) ?? 0) % Self.palette.count]
                svg += "<rect x=\"\(fmt(labelWidth))\" y=\"\(fmt(y + 1))\" width=\"\(fmt(max(0.5, x(bar.value) - labelWidth)))\" height=\"\(fmt(barHeight - 2))\" fill=\"\(colour)\"><title>\(escape(bar.series)): \(escape(number(bar.value)))</title></rect>\n"
                if let spread = bar.spread, spread.upperBound > spread.lowerBound {
                    let middle = y + barHeight / 2
                    svg += "<line x1=\"\(fmt(x(spread.lowerBound)))\" y1=\"\(fmt(middle))\" x2=\"\(fmt(x(spread.upperBound)))\" y2=\"\(fmt(middle))\" stroke=\"black\"/>\n"
                    for end in [spread.lowerBound, spread.upperBound] {
                        svg += "<line x1=\"\(fmt(x(end)))\" y1=\"\(fmt(middle - 4))\" x2=\"\(fmt(x(end)))\" y2=\"\(fmt(middle + 4))\" stroke=\"black\"/>\n"
                    }
                }
                svg += "<text x=\"\(fmt(max(x(bar.value), x(bar.spread?.upperBound ?? 0)) + 4))\" y=\"\(fmt(y + barHeight - 3))\">\(escape(number(bar.value)))</text>\n"
                y += barHeight
            }
            y += groupGap
        }
        svg += "<line x1=\"\(fmt(labelWidth))\" y1=\"\(fmt(top - 4))\" x2=\"\(fmt(labelWidth))\" y2=\"\(fmt(y))\" stroke=\"#999\"/>\n"
        y += 20
        for (index, name) in series.enumerated() {
            let colour = Self.palette[index % Self.palette.count]
            svg += "<rect x=\"\(fmt(labelWidth))\" y=\"\(fmt(y - 9))\" width=\"10\" height=\"10\" fill=\"\(colour)\"/>"
            svg += "<text x=\"\(fmt(labelWidth + 16))\" y=\"\(fmt(y))\">\(escape(name))</text>\n"
            y += 16
        }
        return svg + "</svg>\n"
    }

    private func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    private func number(_ v: Double) -> String {
        v >= 100 || v == v.rounded() ? String(format: "%.0f", v) : v >= 10 ? String(format: "%.1f", v) : String(format: "%.2f", v)
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
