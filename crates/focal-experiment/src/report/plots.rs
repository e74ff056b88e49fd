//! Charts for the reports, drawn with plotters into self-contained SVG strings.
//!
//! SVG text is written as `<text>` elements, so no font files are needed and the charts render in
//! any browser, offline.

use std::fmt::Write as _;

use std::ops::Range;

use plotters::coord::ranged1d::{
    KeyPointHint, LightPoints, NoDefaultFormatting, Ranged, ValueFormatter,
};
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One named line on a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points `(x, y)`; non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
    /// A reference line (chance, perfect calibration) rather than data: drawn dashed and grey,
    /// without dots, and it takes no colour from the palette.
    pub reference: bool,
}

impl Series {
    /// A line of data.
    pub fn data(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            points,
            reference: false,
        }
    }

    /// A reference line (see [`Series::reference`]).
    pub fn reference(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            points,
            reference: true,
        }
    }
}

/// Axis labels, title and size of a line chart.
#[derive(Debug, Clone)]
pub struct LineChart {
    /// Title above the plot.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// Fixed y range; `None` fits the data.
    pub y_range: Option<(f64, f64)>,
    /// Fixed x range; `None` fits the data.
    pub x_range: Option<(f64, f64)>,
    /// Width and height in pixels.
    pub size: (u32, u32),
    /// The x axis counts whole things (epochs): ticks and labels only at integers.
    pub integer_x: bool,
    /// The legend sits in the lower right corner instead of the upper right (curves that
    /// climb to the upper left or along the diagonal, such as ROC and reliability).
    pub legend_lower_right: bool,
}

/// Colour of reference lines.
const REFERENCE: RGBColor = RGBColor(130, 130, 130);

/// The x axis of a line chart: plotters' f64 axis with the tick positions chosen here, so that
/// an axis of epochs never shows 1.5 (plotters' own ticks of 0.96..2.04 are 1.0, 1.1, ...).
struct XAxis {
    inner: RangedCoordf64,
    bold: Vec<f64>,
    light: Vec<f64>,
    integer: bool,
}

impl XAxis {
    fn new(range: Range<f64>, integer: bool) -> Self {
        let inner = RangedCoordf64::from(range.clone());
        let (bold, light) = if integer {
            let ticks = integer_ticks(range.start, range.end);
            (ticks.clone(), ticks)
        } else {
            // What plotters' mesh asks of the axis by default: 10 labels, 10 light lines each.
            (
                inner.key_points(10usize),
                inner.key_points(LightPoints::new(10, 100)),
            )
        };
        XAxis {
            inner,
            bold,
            light,
            integer,
        }
    }
}

impl Ranged for XAxis {
    type ValueType = f64;
    type FormatOption = NoDefaultFormatting;

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }
}

impl ValueFormatter<f64> for XAxis {
    fn format_ext(&self, value: &f64) -> String {
        if self.integer {
            format!("{value:.0}")
        } else {
            RangedCoordf64::format(value)
        }
    }
}

/// Whole numbers in `lo..=hi`, at most ten: every integer, or every 2nd, 5th, 10th, 20th, ...
fn integer_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi < lo {
        return Vec::new();
    }
    let (first, last) = (lo.ceil(), hi.floor());
    if last < first {
        return Vec::new();
    }
    let mut step = 1.0_f64;
    let mut k = 0;
    while (last - first) / step + 1.0 > 10.0 {
        step *= [2.0, 2.5, 2.0][k % 3];
        k += 1;
    }
    let start = (first / step).ceil() * step;
    let mut ticks = Vec::new();
    let mut t = start;
    while t <= last {
        // `+ 0.0` turns the -0 that ceil(-0.4) gives into 0, which prints as "0", not "-0".
        ticks.push(t + 0.0);
        t += step;
    }
    ticks
}

/// A colour-blind-safe palette (Okabe-Ito), cycled over series.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

/// The colour of the `i`-th series.
pub fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn finite_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return None;
    }
    if lo == hi {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.05 };
        return Some((lo - pad, hi + pad));
    }
    let pad = (hi - lo) * 0.04;
    Some((lo - pad, hi + pad))
}

fn plot_error<E: std::fmt::Debug>(e: E) -> String {
    format!("drawing chart: {e:?}")
}

/// Draws a line chart with a legend and returns the SVG document.
///
/// A chart with no finite point is drawn as an empty frame that says so.
pub fn line_chart(spec: &LineChart, series: &[Series]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, spec.size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let all = || series.iter().flat_map(|s| s.points.iter());
        let mut x_range = spec
            .x_range
            .or_else(|| finite_range(all().map(|p| p.0)))
            .unwrap_or((0.0, 1.0));
        if spec.integer_x && spec.x_range.is_none() {
            // At least half an epoch of room either side, so that one or two epochs sit inside
            // the frame beside their ticks.
            let xs = all().map(|p| p.0).filter(|x| x.is_finite());
            if let Some((lo, hi)) = xs.fold(None, |acc: Option<(f64, f64)>, x| {
                Some(acc.map_or((x, x), |(lo, hi)| (lo.min(x), hi.max(x))))
            }) {
                let pad = ((hi - lo) * 0.04).max(0.5);
                x_range = (lo - pad, hi + pad);
            }
        }
        let y_range = spec
            .y_range
            .or_else(|| finite_range(all().map(|p| p.1)))
            .unwrap_or((0.0, 1.0));
        let mut chart = ChartBuilder::on(&root)
            .caption(spec.title.as_str(), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(
                XAxis::new(x_range.0..x_range.1, spec.integer_x),
                y_range.0..y_range.1,
            )
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc(spec.x_label.as_str())
            .y_desc(spec.y_label.as_str())
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(plot_error)?;
        let mut any = false;
        let mut palette = 0;
        for s in series {
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            if pts.is_empty() {
                continue;
            }
            any = true;
            if s.reference {
                chart
                    .draw_series(DashedLineSeries::new(pts, 6, 4, REFERENCE.stroke_width(1)))
                    .map_err(plot_error)?
                    .label(s.name.clone())
                    .legend(|(x, y)| {
                        DashedPathElement::new(
                            vec![(x, y), (x + 18, y)],
                            5,
                            3,
                            REFERENCE.stroke_width(1),
                        )
                    });
                continue;
            }
            let color = series_color(palette);
            palette += 1;
            // Few points (a short run) are also drawn as dots, so a one-epoch run still shows.
            if pts.len() <= 12 {
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))
                    .map_err(plot_error)?;
            }
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                .map_err(plot_error)?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        if any {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(200, 200, 200))
                .position(if spec.legend_lower_right {
                    SeriesLabelPosition::LowerRight
                } else {
                    SeriesLabelPosition::UpperRight
                })
                .draw()
                .map_err(plot_error)?;
        } else {
            root.draw(&Text::new(
                "no data",
                (spec.size.0 as i32 / 2 - 24, spec.size.1 as i32 / 2),
                ("sans-serif", 16),
            ))
            .map_err(plot_error)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Draws a confusion matrix as a heat map (rows = true label, columns = predicted label).
///
/// Each cell shows its count and its share of the row (the recall of that class when on the
/// diagonal); colour follows the row share, so a rare class is as visible as a common one.
pub fn confusion_heatmap(
    title: &str,
    class_names: &[String],
    rows: &[Vec<u64>],
    size: (u32, u32),
) -> Result<String, String> {
    let n = rows.len().max(1) as i32;
    let (w, h) = (size.0 as i32, size.1 as i32);
    let (left, top, right, bottom) = (110, 36, 12, 52);
    let cell = ((w - left - right) / n).min((h - top - bottom) / n).max(8);
    let centered = |size: u32| {
        ("sans-serif", size)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center))
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        root.draw(&Text::new(
            title.to_string(),
            (left + cell * n / 2, 14),
            centered(15),
        ))
        .map_err(plot_error)?;
        for (r, row) in rows.iter().enumerate() {
            let total: u64 = row.iter().sum();
            let y0 = top + r as i32 * cell;
            let name = class_names.get(r).cloned().unwrap_or_else(|| r.to_string());
            root.draw(&Text::new(
                name,
                (left - 8, y0 + cell / 2),
                ("sans-serif", 12)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(plot_error)?;
            for (c, &count) in row.iter().enumerate() {
                let share = if total == 0 {
                    0.0
                } else {
                    count as f64 / total as f64
                };
                let x0 = left + c as i32 * cell;
                let shade = (245.0 - share * 190.0) as u8;
                let fill = RGBColor(shade, (f64::from(shade) * 0.85 + 30.0) as u8, 250);
                root.draw(&Rectangle::new(
                    [(x0, y0), (x0 + cell, y0 + cell)],
                    fill.filled(),
                ))
                .map_err(plot_error)?;
                root.draw(&Rectangle::new(
                    [(x0, y0), (x0 + cell, y0 + cell)],
                    RGBColor(255, 255, 255).stroke_width(1),
                ))
                .map_err(plot_error)?;
                let color = if share > 0.55 { WHITE } else { BLACK };
                let style = ("sans-serif", 12)
                    .into_font()
                    .color(&color)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                root.draw(&Text::new(
                    format!("{count}"),
                    (x0 + cell / 2, y0 + cell / 2 - 7),
                    style.clone(),
                ))
                .map_err(plot_error)?;
                root.draw(&Text::new(
                    format!("{:.1}%", share * 100.0),
                    (x0 + cell / 2, y0 + cell / 2 + 8),
                    style,
                ))
                .map_err(plot_error)?;
            }
        }
        for c in 0..rows.len() {
            let name = class_names.get(c).cloned().unwrap_or_else(|| c.to_string());
            let x = left + c as i32 * cell + cell / 2;
            root.draw(&Text::new(name, (x, top + n * cell + 12), centered(12)))
                .map_err(plot_error)?;
        }
        root.draw(&Text::new(
            "predicted label",
            (left + cell * n / 2, top + n * cell + 34),
            centered(12),
        ))
        .map_err(plot_error)?;
        root.draw(&Text::new(
            "true label",
            (14, top + cell * n / 2),
            ("sans-serif", 12)
                .into_font()
                .transform(FontTransform::Rotate270)
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Center)),
        ))
        .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders a table of strings as HTML; the first row is the header.
pub fn html_table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table>\n<thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", html_escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", html_escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

/// The text of every `<text>` element of an SVG (plotters writes it on a line of its own).
#[cfg(test)]
pub(crate) fn svg_texts(svg: &str) -> Vec<&str> {
    svg.split('>')
        .filter_map(|s| s.split_once("</text").map(|(t, _)| t.trim()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(svg: &str) -> Vec<&str> {
        svg_texts(svg)
    }

    fn spec(integer_x: bool) -> LineChart {
        LineChart {
            title: "t".to_string(),
            x_label: "epoch".to_string(),
            y_label: "score".to_string(),
            y_range: Some((0.0, 1.0)),
            x_range: None,
            size: (400, 300),
            integer_x,
            legend_lower_right: false,
        }
    }

    #[test]
    fn epoch_axes_label_whole_epochs_only() {
        for (n, want) in [
            (1, vec!["1"]),
            (2, vec!["1", "2"]),
            (3, vec!["1", "2", "3"]),
        ] {
            let points = (1..=n).map(|e| (f64::from(e), 0.5)).collect();
            let svg = line_chart(&spec(true), &[Series::data("s", points)]).unwrap();
            let labels: Vec<&str> = texts(&svg)
                .into_iter()
                .filter(|t| t.parse::<f64>().is_ok() && !t.contains('.'))
                .collect();
            assert_eq!(labels, want, "{n} epochs");
            assert!(!texts(&svg).contains(&"1.5"), "{n} epochs");
        }
        // 40 epochs: at most ten labels, all whole.
        let points = (1..=40).map(|e| (f64::from(e), 0.5)).collect();
        let svg = line_chart(&spec(true), &[Series::data("s", points)]).unwrap();
        let xs: Vec<&str> = texts(&svg)
            .into_iter()
            .filter(|t| t.parse::<f64>().is_ok() && !t.contains('.'))
            .collect();
        assert!(!xs.is_empty() && xs.len() <= 10, "{xs:?}");
        // Without integer_x, plotters' own ticks stay (0.96..2.04 is labelled 1.0, 1.2, ...).
        let svg = line_chart(
            &spec(false),
            &[Series::data("s", vec![(1.0, 0.5), (2.0, 0.6)])],
        )
        .unwrap();
        assert!(texts(&svg).contains(&"1.2"), "{:?}", texts(&svg));
    }

    #[test]
    fn integer_ticks_step_through_1_2_5_10() {
        assert_eq!(integer_ticks(0.5, 2.5), vec![1.0, 2.0]);
        assert_eq!(integer_ticks(0.5, 1.5), vec![1.0]);
        assert_eq!(integer_ticks(0.2, 0.8), Vec::<f64>::new());
        assert_eq!(
            integer_ticks(-0.6, 30.6),
            vec![0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0]
        );
        assert_eq!(integer_ticks(0.5, 12.5).len(), 6);
    }
}
