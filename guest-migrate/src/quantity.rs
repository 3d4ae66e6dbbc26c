//! Kubernetes resource quantities as byte counts: PV capacities are parsed, and sizes
//! are written in one canonical form so Pass 2 can compare them numerically.

use serde_json::Value;

/// DRBD and LVM work in 4 KiB units; the DRBDResource CRD requires a multiple of it.
pub const ALIGN: u64 = 4096;

const BINARY: [(&str, u32); 6] = [
    ("Ki", 1),
    ("Mi", 2),
    ("Gi", 3),
    ("Ti", 4),
    ("Pi", 5),
    ("Ei", 6),
];
const DECIMAL: [(&str, u32); 6] = [
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];

/// Parses a quantity (`5Gi`, `1.5G`, `1e9`, `1048576`) into bytes, rounding a
/// fractional byte up as Kubernetes does. Errors say what was wrong.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, multiplier) = split_suffix(text)?;
    let (mantissa, scale) =
        parse_decimal(number).ok_or_else(|| format!("{text:?} is not a quantity"))?;
    let total = mantissa
        .checked_mul(multiplier)
        .ok_or_else(|| format!("{text:?} is too large"))?;
    let divisor = 10u128.pow(scale);
    let bytes = total.div_ceil(divisor);
    u64::try_from(bytes).map_err(|_| format!("{text:?} is too large"))
}

/// Reads a quantity that is a JSON string or integer.
pub fn value_bytes(value: &Value) -> Result<u64, String> {
    match value {
        Value::String(text) => parse_bytes(text),
        Value::Number(n) => n.as_u64().ok_or_else(|| format!("{n} is not a byte count")),
        other => Err(format!("{other} is not a quantity")),
    }
}

/// Splits the suffix off and returns the number text and the suffix's multiplier.
fn split_suffix(text: &str) -> Result<(&str, u128), String> {
    for (suffix, power) in BINARY {
        if let Some(number) = text.strip_suffix(suffix) {
            return Ok((number, 1u128 << (10 * power)));
        }
    }
    for (suffix, power) in DECIMAL {
        if let Some(number) = text.strip_suffix(suffix) {
            return Ok((number, 10u128.pow(power)));
        }
    }
    if let Some((number, exponent)) = text.split_once(['e', 'E']) {
        let power: u32 = exponent
            .parse()
            .ok()
            .filter(|p| *p <= 18)
            .ok_or_else(|| format!("{text:?} has an unsupported exponent"))?;
        return Ok((number, 10u128.pow(power)));
    }
    Ok((text, 1))
}

/// `"1.25"` -> (125, 2): the digits as an integer and the count of fraction digits.
fn parse_decimal(number: &str) -> Option<(u128, u32)> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = format!("{whole}{fraction}");
    let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    if !all_digits || digits.len() > 30 {
        return None;
    }
    let scale = u32::try_from(fraction.len()).ok()?;
    Some((digits.parse().ok()?, scale))
}

/// Rounds up to the next multiple of [`ALIGN`].
pub fn align_up(bytes: u64) -> u64 {
    bytes.div_ceil(ALIGN).saturating_mul(ALIGN)
}

/// Canonical text: the largest binary unit that divides exactly (`5Gi`), else bytes.
pub fn format_bytes(bytes: u64) -> String {
    for (suffix, power) in BINARY.iter().rev() {
        let unit = 1u64 << (10 * power);
        if bytes >= unit && bytes.is_multiple_of(unit) {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_decimal_fraction_and_exponent() {
        assert_eq!(parse_bytes("5Gi"), Ok(5 << 30));
        assert_eq!(parse_bytes("1G"), Ok(1_000_000_000));
        assert_eq!(parse_bytes("1.5Ki"), Ok(1536));
        assert_eq!(parse_bytes("0.5"), Ok(1));
        assert_eq!(parse_bytes("2e3"), Ok(2000));
        assert_eq!(parse_bytes("1048576"), Ok(1_048_576));
    }

    #[test]
    fn rejects_garbage_and_overflow() {
        for bad in ["", "Gi", "1.2.3Gi", "-1Gi", "5 Gi", "1e99", "99999999999Ei"] {
            assert!(parse_bytes(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn formats_canonically_and_round_trips() {
        for bytes in [5u64 << 30, 1 << 20, 4096, 12_288, 4095, 1_000_000_000] {
            assert_eq!(parse_bytes(&format_bytes(bytes)), Ok(bytes));
        }
        assert_eq!(format_bytes(5 << 30), "5Gi");
        assert_eq!(format_bytes(3 << 12), "12Ki");
    }

    #[test]
    fn aligns_up_to_4k() {
        assert_eq!(align_up(1), 4096);
        assert_eq!(align_up(4096), 4096);
        assert_eq!(align_up(1_000_000_000), 1_000_001_536);
    }
}
