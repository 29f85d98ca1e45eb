//! bench/RESULTS.md: one section per benchmark, each with its own date and machine, so running
//! a few benchmarks rewrites their sections and keeps the others.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// One benchmark's results.
pub struct Section {
    pub name: &'static str,
    pub title: &'static str,
    pub date: String,
    pub machine: String,
    /// What onebin is compared with, or why nothing is.
    pub peer: String,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

/// One measured quantity.
pub struct Row {
    pub measure: String,
    pub onebin: String,
    pub peer: String,
    /// onebin's value divided by the peer's.
    pub ratio: Option<f64>,
    pub target: String,
    pub verdict: Verdict,
}

pub enum Verdict {
    Meets,
    Misses,
    NoTarget,
    NotMeasured,
}

impl Row {
    pub fn new(measure: impl Into<String>, onebin: impl Into<String>) -> Self {
        Self {
            measure: measure.into(),
            onebin: onebin.into(),
            peer: "—".into(),
            ratio: None,
            target: "—".into(),
            verdict: Verdict::NoTarget,
        }
    }

    /// A quantity that could not be measured, and why.
    pub fn not_measured(measure: impl Into<String>, why: impl Into<String>) -> Self {
        Self { verdict: Verdict::NotMeasured, ..Self::new(measure, why) }
    }

    pub fn peer(mut self, peer: impl Into<String>, ratio: Option<f64>) -> Self {
        self.peer = peer.into();
        self.ratio = ratio;
        self
    }

    pub fn target(mut self, target: impl Into<String>, met: bool) -> Self {
        self.target = target.into();
        self.verdict = if met { Verdict::Meets } else { Verdict::Misses };
        self
    }
}

impl Section {
    fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", begin_marker(self.name));
        let _ = writeln!(out, "## `{}`: {}\n", self.name, self.title);
        let _ = writeln!(out, "Measured {} on {}.\n", self.date, self.machine);
        let _ = writeln!(out, "Peer: {}\n", self.peer);
        if !self.rows.is_empty() {
            let _ = writeln!(out, "| measure | onebin | peer | onebin ÷ peer | target | verdict |");
            let _ = writeln!(out, "|---|---|---|---|---|---|");
            for row in &self.rows {
                let ratio = row.ratio.map(|r| format!("{r:.2}")).unwrap_or_else(|| "—".into());
                let verdict = match row.verdict {
                    Verdict::Meets => "meets",
                    Verdict::Misses => "**misses**",
                    Verdict::NoTarget => "",
                    Verdict::NotMeasured => "not measured",
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    cell(&row.measure),
                    cell(&row.onebin),
                    cell(&row.peer),
                    ratio,
                    cell(&row.target),
                    verdict
                );
            }
            out.push('\n');
        }
        for note in &self.notes {
            let _ = writeln!(out, "- {}", note.replace('\n', " / "));
        }
        if !self.notes.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "{}", end_marker(self.name));
        out
    }
}

/// 12345.6 → "12,346".
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn begin_marker(name: &str) -> String {
    format!("<!-- bench:{name} -->")
}

fn end_marker(name: &str) -> String {
    format!("<!-- /bench:{name} -->")
}

/// Rewrites `path` with `fresh` sections, keeping the sections of benchmarks not run this time.
/// `order` is every benchmark's name, in the order the file lists them.
pub fn write(path: &Path, order: &[&str], fresh: &[Section]) -> Result<()> {
    let previous = std::fs::read_to_string(path).unwrap_or_default();
    let mut sections: BTreeMap<&str, String> = order
        .iter()
        .filter_map(|name| {
            let start = previous.find(&begin_marker(name))?;
            let end_mark = end_marker(name);
            let end = previous[start..].find(&end_mark)? + start + end_mark.len();
            Some((*name, format!("{}\n", &previous[start..end])))
        })
        .collect();
    for section in fresh {
        sections.insert(section.name, section.render());
    }
    let mut out = String::from(HEADER);
    for name in order {
        if let Some(text) = sections.get(name) {
            out.push('\n');
            out.push_str(text);
        }
    }
    let tmp = path.with_extension("md.tmp");
    std::fs::write(&tmp, out).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

const HEADER: &str = "# Benchmark results

Written by `bench/run` (see bench/README.md); do not edit by hand. Each section says when and on
what machine it was measured. Timings are compared as ratios against a peer run side by side in
the same run, because these machines are shared and noisy; absolute numbers are checked against
the targets of issue 7. A ratio below 1 means onebin took less time or used less memory, and for
rates (per second) a ratio above 1 means onebin did more.
";

#[cfg(test)]
mod tests {
    use super::*;

    fn section(name: &'static str, value: &str) -> Section {
        Section {
            name,
            title: "t",
            date: "d".into(),
            machine: "m".into(),
            peer: "p".into(),
            rows: vec![Row::new("x", value)],
            notes: vec![],
        }
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1234567.8), "1,234,568");
    }

    #[test]
    fn keeps_sections_not_run_and_replaces_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("RESULTS.md");
        write(&path, &["a", "b"], &[section("a", "1"), section("b", "2")]).unwrap();
        write(&path, &["a", "b"], &[section("b", "3")]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("| x | 1 |"), "{text}");
        assert!(text.contains("| x | 3 |") && !text.contains("| x | 2 |"), "{text}");
        assert!(text.find("bench:a").unwrap() < text.find("bench:b").unwrap());
    }
}
