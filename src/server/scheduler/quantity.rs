//! Resource quantities (`100m`, `1.5Gi`, `2e3`, `128974848`) as integers, rounded up the
//! way Kubernetes rounds them (`Value()` and `MilliValue()`), so that a request of `0.1m`
//! CPU still counts as one millicore.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {0:?}")]
pub struct QuantityError(pub String);

/// The quantity in whole units, rounded up (memory and storage in bytes, pods, devices).
pub fn value(text: &str) -> Result<i64, QuantityError> {
    scaled(text, 0)
}

/// The quantity in thousandths, rounded up (CPU in millicores).
pub fn milli_value(text: &str) -> Result<i64, QuantityError> {
    scaled(text, 3)
}

/// Longest digit string accepted; more precision than this cannot matter for scheduling.
const MAX_DIGITS: usize = 30;

/// `text` × 10^`scale`, rounded up, saturating at `i64::MAX`.
fn scaled(text: &str, scale: i32) -> Result<i64, QuantityError> {
    let bad = || QuantityError(text.to_string());
    let text = text.trim();
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_len);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') || whole.len() + fraction.len() > MAX_DIGITS {
        return Err(bad());
    }
    let mantissa: u128 = format!("{whole}{fraction}").parse().map_err(|_| bad())?;
    let (binary_power, decimal_exponent) = parse_suffix(suffix).ok_or_else(bad)?;
    if negative && mantissa != 0 {
        return Err(QuantityError(format!("{text} (resource quantities may not be negative)")));
    }
    let exponent = decimal_exponent - fraction.len() as i32 + scale;
    let mut numerator = mantissa;
    for _ in 0..binary_power {
        numerator = numerator.saturating_mul(1024);
    }
    let result = if exponent >= 0 {
        (0..exponent).fold(numerator, |n, _| n.saturating_mul(10))
    } else {
        // Beyond 38 digits of division everything below rounds up to one (or stays zero).
        let denominator = 10u128.checked_pow(exponent.unsigned_abs()).unwrap_or(u128::MAX);
        numerator.div_ceil(denominator)
    };
    Ok(i64::try_from(result).unwrap_or(i64::MAX))
}

/// (power of 1024, power of 10) of a suffix: binary SI (`Ki`…`Ei`), decimal SI (`n`…`E`) or
/// a decimal exponent (`e3`, `E-2`).
fn parse_suffix(suffix: &str) -> Option<(u32, i32)> {
    let binary = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    if let Some(power) = binary.iter().position(|s| *s == suffix) {
        return Some((power as u32, 0));
    }
    let decimal = [("n", -9), ("u", -6), ("m", -3), ("k", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15), ("E", 18)];
    if let Some((_, exponent)) = decimal.iter().find(|(s, _)| *s == suffix) {
        return Some((0, *exponent));
    }
    let exponent = suffix.strip_prefix(['e', 'E'])?;
    let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((0, exponent.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_in_millicores() {
        assert_eq!(milli_value("100m"), Ok(100));
        assert_eq!(milli_value("1"), Ok(1000));
        assert_eq!(milli_value("0.5"), Ok(500));
        assert_eq!(milli_value("2.25"), Ok(2250));
        assert_eq!(milli_value("0.1m"), Ok(1), "fractions of a millicore round up");
        assert_eq!(milli_value("1e3"), Ok(1_000_000));
        assert_eq!(milli_value("0"), Ok(0));
        assert_eq!(milli_value("+250m"), Ok(250));
    }

    #[test]
    fn memory_in_bytes() {
        assert_eq!(value("128974848"), Ok(128_974_848));
        assert_eq!(value("129e6"), Ok(129_000_000));
        assert_eq!(value("123Mi"), Ok(123 * 1024 * 1024));
        assert_eq!(value("1.5Gi"), Ok(1536 * 1024 * 1024));
        assert_eq!(value("1G"), Ok(1_000_000_000));
        assert_eq!(value("1k"), Ok(1000));
        assert_eq!(value("1Ki"), Ok(1024));
        assert_eq!(value("1E"), Ok(1_000_000_000_000_000_000));
        assert_eq!(value("100m"), Ok(1), "a tenth of a byte rounds up");
        assert_eq!(value("999Ei"), Ok(i64::MAX), "too large saturates");
    }

    #[test]
    fn malformed_quantities_are_errors() {
        for bad in ["", "abc", "1.2.3", "1Qi", "--1", "1e", "1e+", "Mi", ".", "1 Gi", "-1"] {
            assert!(value(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(value("-0"), Ok(0));
    }
}
