//! Kubernetes resource quantities (`k8s.io/apimachinery/pkg/api/resource.Quantity`) as exact
//! milli-units, enough for the scheduler's arithmetic: cpu is compared in millicores
//! (`MilliValue`), everything else in whole units rounded up (`Value`).

/// Parses a quantity such as `100m`, `2`, `1.5Gi`, `64Mi`, `1e3`, `500k` into milli-units,
/// rounding up like `Quantity.MilliValue`. `None` when it is not a quantity.
pub fn parse_milli(s: &str) -> Option<i128> {
    let s = s.trim();
    let (sign, body) = match s.strip_prefix('-') {
        Some(rest) => (-1i128, rest),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let num_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, suffix) = body.split_at(num_end);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return None;
    }
    // value = mantissa * base^exp, with mantissa as an integer and a decimal scale.
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    let digits = format!("{int_part}{frac_part}");
    let mantissa: i128 = digits.parse().ok()?;
    let mut dec_exp: i32 = -(frac_part.len() as i32);
    let mut binary: i128 = 1;
    match suffix {
        "" => {}
        "n" => dec_exp -= 9,
        "u" => dec_exp -= 6,
        "m" => dec_exp -= 3,
        "k" => dec_exp += 3,
        "M" => dec_exp += 6,
        "G" => dec_exp += 9,
        "T" => dec_exp += 12,
        "P" => dec_exp += 15,
        "E" => dec_exp += 18,
        "Ki" => binary = 1 << 10,
        "Mi" => binary = 1 << 20,
        "Gi" => binary = 1 << 30,
        "Ti" => binary = 1 << 40,
        "Pi" => binary = 1 << 50,
        "Ei" => binary = 1 << 60,
        e if e.starts_with(['e', 'E']) => dec_exp += e[1..].parse::<i32>().ok()?,
        _ => return None,
    }
    // milli-units: multiply by 1000.
    dec_exp += 3;
    let scaled = mantissa.checked_mul(binary)?;
    let value = if dec_exp >= 0 {
        scaled.checked_mul(10i128.checked_pow(dec_exp as u32)?)?
    } else {
        let div = 10i128.checked_pow((-dec_exp) as u32)?;
        // Round up, as MilliValue does.
        (scaled + div - 1) / div
    };
    Some(sign * value)
}

/// Milli-units to whole units, rounded up (`Quantity.Value`).
pub fn milli_to_units(milli: i128) -> i128 {
    if milli >= 0 {
        (milli + 999) / 1000
    } else {
        milli / 1000
    }
}

/// A quantity for people: cpu in cores or millicores, bytes with binary suffixes.
pub fn show(resource: &str, milli: i128) -> String {
    if resource == "cpu" {
        return if milli % 1000 == 0 {
            format!("{}", milli / 1000)
        } else {
            format!("{milli}m")
        };
    }
    let units = milli_to_units(milli);
    if resource == "memory" || resource == "ephemeral-storage" || resource.starts_with("hugepages-")
    {
        for (suffix, size) in [("Gi", 1i128 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)] {
            if units.abs() >= size {
                return if units % size == 0 {
                    format!("{}{suffix}", units / size)
                } else {
                    format!("{:.1}{suffix}", units as f64 / size as f64)
                };
            }
        }
    }
    units.to_string()
}

/// A quantity without rounding: cpu as [`show`] has it, bytes with the largest binary suffix
/// that divides them exactly (`1560Mi`), other resources as whole units.
pub fn exact(resource: &str, milli: i128) -> String {
    if resource == "cpu" {
        return show(resource, milli);
    }
    let units = milli_to_units(milli);
    if units != 0 {
        for (suffix, size) in [("Gi", 1i128 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)] {
            if units % size == 0 {
                return format!("{}{suffix}", units / size);
            }
        }
    }
    units.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_apimachinery() {
        assert_eq!(parse_milli("100m"), Some(100));
        assert_eq!(parse_milli("2"), Some(2000));
        assert_eq!(parse_milli("1.5"), Some(1500));
        assert_eq!(parse_milli("64Mi"), Some(64 * 1024 * 1024 * 1000));
        assert_eq!(parse_milli("1Gi"), Some((1 << 30) * 1000));
        assert_eq!(parse_milli("1e3"), Some(1_000_000));
        assert_eq!(parse_milli("500k"), Some(500_000_000));
        assert_eq!(
            parse_milli("1n"),
            Some(1),
            "rounds up to a whole milli-unit"
        );
        assert_eq!(parse_milli("0.0001"), Some(1));
        assert_eq!(parse_milli("abc"), None);
        assert_eq!(parse_milli("1Xi"), None);
        assert_eq!(parse_milli(""), None);
    }

    #[test]
    fn shows_for_people() {
        assert_eq!(show("cpu", 1500), "1500m");
        assert_eq!(show("cpu", 2000), "2");
        assert_eq!(show("memory", parse_milli("512Mi").unwrap()), "512Mi");
        assert_eq!(show("pods", 110_000), "110");
        assert_eq!(show("memory", parse_milli("16192Mi").unwrap()), "15.8Gi");
    }

    #[test]
    fn exact_keeps_every_byte() {
        assert_eq!(exact("memory", parse_milli("1560Mi").unwrap()), "1560Mi");
        assert_eq!(exact("memory", parse_milli("2Gi").unwrap()), "2Gi");
        assert_eq!(exact("memory", parse_milli("1000").unwrap()), "1000");
        assert_eq!(exact("cpu", 3600), "3600m");
        assert_eq!(exact("pods", 4000), "4");
        assert_eq!(exact("memory", 0), "0");
    }
}
