//! Kubernetes resource quantities (`500m`, `1.5`, `64Mi`, `1G`, `2e3`) as numbers.

/// CPU in millicores.
pub fn cpu_millis(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Some(m) = text.strip_suffix('m') {
        return m.parse::<f64>().ok().filter(|v| *v >= 0.0).map(|v| v.ceil() as u64);
    }
    scaled(text).map(|v| (v * 1000.0).ceil() as u64)
}

/// Memory or storage in bytes.
pub fn bytes(text: &str) -> Option<u64> {
    scaled(text.trim()).map(|v| v.ceil() as u64)
}

/// A quantity with its binary (Ki, Mi, …) or decimal (k, M, …, m) suffix applied.
fn scaled(text: &str) -> Option<f64> {
    const SUFFIXES: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    for (suffix, factor) in SUFFIXES {
        if let Some(number) = text.strip_suffix(suffix) {
            return number.parse::<f64>().ok().filter(|v| *v >= 0.0).map(|v| v * factor);
        }
    }
    text.parse::<f64>().ok().filter(|v| *v >= 0.0 && v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(cpu_millis("500m"), Some(500));
        assert_eq!(cpu_millis("1.5"), Some(1500));
        assert_eq!(cpu_millis("2"), Some(2000));
        assert_eq!(bytes("64Mi"), Some(64 * 1024 * 1024));
        assert_eq!(bytes("1G"), Some(1_000_000_000));
        assert_eq!(bytes("2e3"), Some(2000));
        assert_eq!(bytes("-1"), None);
        assert_eq!(bytes("lots"), None);
    }
}
