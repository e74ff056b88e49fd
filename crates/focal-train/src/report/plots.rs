//! Charts for the reports, drawn with plotters into self-contained SVG strings.
//!
//! SVG text is written as `<text>` elements, so no font files are needed and the charts render in
//! any browser, offline.

use std::fmt::Write as _;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One named line on a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Points `(x, y)`; non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
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
        let x_range = spec
            .x_range
            .or_else(|| finite_range(all().map(|p| p.0)))
            .unwrap_or((0.0, 1.0));
        let y_range = spec
            .y_range
            .or_else(|| finite_range(all().map(|p| p.1)))
            .unwrap_or((0.0, 1.0));
        let mut chart = ChartBuilder::on(&root)
            .caption(spec.title.as_str(), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc(spec.x_label.as_str())
            .y_desc(spec.y_label.as_str())
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(plot_error)?;
        let mut any = false;
        for (i, s) in series.iter().enumerate() {
            let color = series_color(i);
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
                .position(SeriesLabelPosition::UpperRight)
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
