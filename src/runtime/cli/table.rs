//! Aligned columns, as crictl prints them: left-aligned, three spaces between columns.

use std::fmt::Write;

pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}   ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `1.2MB`-style sizes, as crictl shows image sizes (decimal units).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else {
        format!("{:.3}", value).trim_end_matches('0').trim_end_matches('.').to_string() + UNITS[unit]
    }
}

/// `5 minutes ago`-style ages.
pub fn ago(then: jiff::Timestamp) -> String {
    let seconds = (jiff::Timestamp::now().as_second() - then.as_second()).max(0);
    let (n, unit) = match seconds {
        s if s < 60 => (s, "second"),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86400 => (s / 3600, "hour"),
        s => (s / 86400, "day"),
    };
    match n {
        0 | 1 if unit == "second" => "Just now".to_string(),
        1 => format!("About a{} {unit} ago", if unit == "hour" { "n" } else { "" }),
        n => format!("{n} {unit}s ago"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns() {
        let out = render(
            &["IMAGE", "TAG"],
            &[vec!["docker.io/library/nginx".into(), "latest".into()], vec!["a".into(), "b".into()]],
        );
        assert_eq!(
            out,
            "IMAGE                     TAG\ndocker.io/library/nginx   latest\na                         b\n"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(2_150_400), "2.15MB");
        assert_eq!(human_size(1_000_000), "1MB");
    }
}
