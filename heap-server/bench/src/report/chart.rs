//! `Chart`: a line chart as a hand-written SVG document: log x axis (client counts), linear or
//! log y axis, one polyline with point markers per series, a legend on the right.

use std::fmt::Write;

pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub dashed: bool,
    /// (x, y) points in x order; x > 0 (log axis), and on a log y axis y > 0 (others are skipped).
    pub points: Vec<(f64, f64)>,
}

pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub y_log: bool,
    pub series: Vec<Series>,
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 560.0;
const PLOT_LEFT: f64 = 80.0;
const PLOT_RIGHT: f64 = 680.0;
const PLOT_TOP: f64 = 50.0;
const PLOT_BOTTOM: f64 = 490.0;
const LEGEND_LEFT: f64 = 700.0;
const LEGEND_ROW_HEIGHT: f64 = 20.0;
/// Divisions of a linear y axis.
const LINEAR_TICKS: usize = 5;

/// Text for an SVG text node or attribute.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Round steps for an axis maximum: `NICE_STEPS x 10^k`.
const NICE_STEPS: [f64; 10] = [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0];

/// The smallest round number (`NICE_STEPS x 10^k`) that is at least `value` (> 0).
fn nice_ceiling(value: f64) -> f64 {
    if !value.is_finite() || value <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(value.log10().floor());
    let fraction = value / magnitude;
    let step = NICE_STEPS.iter().copied().find(|step| fraction <= *step + 1e-9).unwrap_or(10.0);
    step * magnitude
}

/// A tick label without needless digits: 1200, 2.5, 0.05.
fn tick_label(value: f64) -> String {
    if value == 0.0 || value.abs() >= 1.0 {
        format!("{}", (value * 100.0).round() / 100.0)
    } else {
        let text = format!("{value:.6}");
        text.trim_end_matches('0').to_string()
    }
}

/// Maps data values onto pixels; `log` maps log10 of the value.
struct Axis {
    low: f64,
    high: f64,
    log: bool,
    pixel_low: f64,
    pixel_high: f64,
}

impl Axis {
    fn pixel(&self, value: f64) -> f64 {
        let (v, lo, hi) =
            if self.log { (value.log10(), self.low.log10(), self.high.log10()) } else { (value, self.low, self.high) };
        let span = if hi > lo { hi - lo } else { 1.0 };
        self.pixel_low + (v - lo) / span * (self.pixel_high - self.pixel_low)
    }
}

impl Chart {
    /// Whether `(x, y)` has a place on the axes: x > 0 and finite, y finite (and > 0 on a log y
    /// axis).
    fn plotted(&self, (x, y): (f64, f64)) -> bool {
        x > 0.0 && x.is_finite() && y.is_finite() && (!self.y_log || y > 0.0)
    }

    /// Every plotted point of every series.
    fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.series.iter().flat_map(|s| s.points.iter().copied()).filter(|point| self.plotted(*point))
    }

    /// The log x axis, spanning the client counts, and its ticks (each count once).
    fn x_axis(&self) -> (Axis, Vec<f64>) {
        let mut ticks: Vec<f64> = self.points().map(|(x, _)| x).collect();
        ticks.sort_by(f64::total_cmp);
        ticks.dedup();
        let (mut low, mut high) = (ticks.first().copied().unwrap_or(1.0), ticks.last().copied().unwrap_or(10.0));
        if high <= low {
            low /= 2.0;
            high *= 2.0;
        }
        (Axis { low, high, log: true, pixel_low: PLOT_LEFT, pixel_high: PLOT_RIGHT }, ticks)
    }

    /// The y axis and its ticks: whole decades on a log axis, `LINEAR_TICKS` divisions from 0 to
    /// a round ceiling on a linear one.
    fn y_axis(&self) -> (Axis, Vec<f64>) {
        let ys: Vec<f64> = self.points().map(|(_, y)| y).collect();
        let max = ys.iter().copied().fold(0.0, f64::max);
        if self.y_log {
            let min = ys.iter().copied().fold(f64::INFINITY, f64::min);
            let low_exp = if min.is_finite() { min.log10().floor() as i32 } else { 0 };
            let mut high_exp = if max > 0.0 { max.log10().ceil() as i32 } else { 1 };
            if high_exp <= low_exp {
                high_exp = low_exp + 1;
            }
            let ticks = (low_exp..=high_exp).map(|e| 10f64.powi(e)).collect();
            let axis = Axis {
                low: 10f64.powi(low_exp),
                high: 10f64.powi(high_exp),
                log: true,
                pixel_low: PLOT_BOTTOM,
                pixel_high: PLOT_TOP,
            };
            (axis, ticks)
        } else {
            let high = nice_ceiling(max * 1.05);
            let ticks = (0..=LINEAR_TICKS).map(|i| high * i as f64 / LINEAR_TICKS as f64).collect();
            (Axis { low: 0.0, high, log: false, pixel_low: PLOT_BOTTOM, pixel_high: PLOT_TOP }, ticks)
        }
    }

    /// The whole SVG document: header, grid, frame and axis labels, then each series with its
    /// legend entry.
    pub fn render(&self) -> String {
        let (x, x_ticks) = self.x_axis();
        let (y, y_ticks) = self.y_axis();
        let mut svg = String::new();
        self.write_header(&mut svg);
        write_x_grid(&mut svg, &x, &x_ticks);
        write_y_grid(&mut svg, &y, &y_ticks);
        self.write_frame(&mut svg);
        for (row, series) in self.series.iter().enumerate() {
            self.write_series(&mut svg, series, &x, &y);
            write_legend_entry(&mut svg, row, series);
        }
        svg.push_str("</svg>\n");
        svg
    }

    /// The `<svg>` element's opening tag, the white background and the title.
    fn write_header(&self, svg: &mut String) {
        // Writing to a String cannot fail (here and in every writer below).
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(svg, r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="28" text-anchor="middle" font-size="16">{}</text>"#,
            (PLOT_LEFT + PLOT_RIGHT) / 2.0,
            escape(&self.title)
        );
    }

    /// The plot area's frame, the x axis label below it and the y axis label (rotated) left of it.
    fn write_frame(&self, svg: &mut String) {
        let _ = writeln!(
            svg,
            r#"<rect x="{PLOT_LEFT}" y="{PLOT_TOP}" width="{}" height="{}" fill="none" stroke="black"/>"#,
            PLOT_RIGHT - PLOT_LEFT,
            PLOT_BOTTOM - PLOT_TOP
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            (PLOT_LEFT + PLOT_RIGHT) / 2.0,
            PLOT_BOTTOM + 42.0,
            escape(&self.x_label)
        );
        let (label_x, label_y) = (22.0, (PLOT_TOP + PLOT_BOTTOM) / 2.0);
        let _ = writeln!(
            svg,
            r#"<text x="{label_x}" y="{label_y}" text-anchor="middle" transform="rotate(-90 {label_x} {label_y})">{}</text>"#,
            escape(&self.y_label)
        );
    }

    /// One series' polyline (named by its `<title>`) and a marker at each point; nothing when
    /// none of its points is plotted.
    fn write_series(&self, svg: &mut String, series: &Series, x: &Axis, y: &Axis) {
        let points: Vec<(f64, f64)> = series
            .points
            .iter()
            .copied()
            .filter(|point| self.plotted(*point))
            .map(|(px, py)| (x.pixel(px), y.pixel(py)))
            .collect();
        if points.is_empty() {
            return;
        }
        let list: Vec<String> = points.iter().map(|(px, py)| format!("{px:.1},{py:.1}")).collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{}" stroke-width="2"{} points="{}"><title>{}</title></polyline>"#,
            series.color,
            dash(series),
            list.join(" "),
            escape(&series.name)
        );
        for (px, py) in &points {
            let _ = writeln!(svg, r#"<circle cx="{px:.1}" cy="{py:.1}" r="3" fill="{}"/>"#, series.color);
        }
    }
}

/// The stroke-dasharray attribute of a dashed series (with its leading space), else nothing.
fn dash(series: &Series) -> &'static str {
    if series.dashed {
        r#" stroke-dasharray="6 4""#
    } else {
        ""
    }
}

/// A vertical grid line and a label below the plot at each x tick.
fn write_x_grid(svg: &mut String, x: &Axis, ticks: &[f64]) {
    for tick in ticks {
        let px = x.pixel(*tick);
        let _ =
            writeln!(svg, r##"<line x1="{px:.1}" y1="{PLOT_TOP}" x2="{px:.1}" y2="{PLOT_BOTTOM}" stroke="#dddddd"/>"##);
        let _ = writeln!(
            svg,
            r#"<text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"#,
            PLOT_BOTTOM + 18.0,
            escape(&tick_label(*tick))
        );
    }
}

/// A horizontal grid line and a label left of the plot at each y tick.
fn write_y_grid(svg: &mut String, y: &Axis, ticks: &[f64]) {
    for tick in ticks {
        let py = y.pixel(*tick);
        let _ =
            writeln!(svg, r##"<line x1="{PLOT_LEFT}" y1="{py:.1}" x2="{PLOT_RIGHT}" y2="{py:.1}" stroke="#dddddd"/>"##);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            PLOT_LEFT - 6.0,
            py + 4.0,
            escape(&tick_label(*tick))
        );
    }
}

/// Legend row `row`: a line in the series' color and dash, and its name.
fn write_legend_entry(svg: &mut String, row: usize, series: &Series) {
    let ly = PLOT_TOP + 10.0 + row as f64 * LEGEND_ROW_HEIGHT;
    let _ = writeln!(
        svg,
        r#"<line x1="{LEGEND_LEFT}" y1="{ly}" x2="{}" y2="{ly}" stroke="{}" stroke-width="2"{}/>"#,
        LEGEND_LEFT + 28.0,
        series.color,
        dash(series)
    );
    let _ = writeln!(svg, r#"<text x="{}" y="{}">{}</text>"#, LEGEND_LEFT + 34.0, ly + 4.0, escape(&series.name));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(y_log: bool) -> Chart {
        Chart {
            title: "Throughput <test> & more".into(),
            x_label: "clients".into(),
            y_label: "ops/s".into(),
            y_log,
            series: vec![
                Series {
                    name: "sovereign put".into(),
                    color: "#1f77b4",
                    dashed: false,
                    points: vec![(1.0, 700.0), (64.0, 4200.0), (1000.0, 8500.0)],
                },
                Series {
                    name: "etcd put".into(),
                    color: "#ff7f0e",
                    dashed: true,
                    points: vec![(1.0, 0.0), (64.0, 3000.0)],
                },
                Series { name: "empty".into(), color: "#000000", dashed: false, points: Vec::new() },
            ],
        }
    }

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    #[test]
    fn a_document_with_one_polyline_per_series_with_points() {
        let svg = chart(false).render();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>\n"));
        assert_eq!(count(&svg, "<svg"), 1);
        assert_eq!(count(&svg, "<polyline"), 2);
        assert_eq!(count(&svg, "</polyline>"), 2);
        assert_eq!(count(&svg, "<circle"), 5);
        assert_eq!(count(&svg, "<text"), count(&svg, "</text>"));
        assert_eq!(count(&svg, "stroke-dasharray"), 2, "the dashed series and its legend line");
        assert!(svg.contains("Throughput &lt;test&gt; &amp; more"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        // x ticks are the client counts; linear y ticks go from 0 to a round ceiling.
        for label in [">1<", ">64<", ">1000<", ">0<", ">10000<"] {
            assert!(svg.contains(label), "missing tick {label}");
        }
    }

    #[test]
    fn log_y_skips_non_positive_points_and_spans_decades() {
        let svg = chart(true).render();
        assert_eq!(count(&svg, "<polyline"), 2);
        assert_eq!(count(&svg, "<circle"), 4, "the zero point has no place on a log axis");
        for label in [">100<", ">1000<", ">10000<"] {
            assert!(svg.contains(label), "missing decade {label}");
        }
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn a_chart_without_data_is_still_a_document() {
        let svg =
            Chart { title: "t".into(), x_label: "x".into(), y_label: "y".into(), y_log: true, series: Vec::new() }
                .render();
        assert!(svg.ends_with("</svg>\n"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn nice_numbers() {
        let close = |a: f64, b: f64| (a - b).abs() <= b.abs() * 1e-9;
        assert_eq!(nice_ceiling(0.0), 1.0);
        for (value, nice) in
            [(7.3, 8.0), (9.1, 10.0), (1.0, 1.0), (130.0, 150.0), (10_962.0, 12_000.0), (4_100.0, 5_000.0)]
        {
            assert!(close(nice_ceiling(value), nice), "{value} -> {} (want {nice})", nice_ceiling(value));
        }
        assert_eq!(tick_label(2000.0), "2000");
        assert_eq!(tick_label(0.01), "0.01");
        assert_eq!(tick_label(2.5), "2.5");
    }
}
