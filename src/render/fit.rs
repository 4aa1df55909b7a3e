//! Fitting text to a terminal: long lists cut to a sample, watch frames cut to the screen.

/// The first `limit` names, then `… N more`.
pub fn sample(names: &[String], limit: usize) -> String {
    if names.len() <= limit {
        names.join(", ")
    } else {
        format!(
            "{}, … {} more",
            names[..limit].join(", "),
            names.len() - limit
        )
    }
}

/// Whether `text` fits in `height` lines (leaving the last one for the cursor).
pub fn fits(text: &str, height: Option<u16>) -> bool {
    height.is_none_or(|h| text.lines().count() < usize::from(h))
}

/// `text` cut to `height` lines (the last left for the cursor), the last kept line saying how
/// many were cut. Unchanged without a height or when it fits.
pub fn to_height(text: &str, height: Option<u16>) -> String {
    let Some(h) = height.map(usize::from) else {
        return text.to_string();
    };
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() < h || h < 3 {
        return text.to_string();
    }
    let keep = h - 2;
    let mut out: String = lines[..keep].iter().map(|l| format!("{l}\n")).collect();
    out.push_str(&format!(
        "(… {} more lines: a taller terminal shows them, or run without --watch)\n",
        lines.len() - keep
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_frames_are_cut_with_a_count() {
        let names: Vec<String> = (1..=7).map(|i| format!("n{i}")).collect();
        assert_eq!(sample(&names, 5), "n1, n2, n3, n4, n5, … 2 more");
        assert_eq!(sample(&names[..2], 5), "n1, n2");
        let text = "a\nb\nc\nd\ne\n";
        assert_eq!(to_height(text, None), text);
        assert_eq!(to_height(text, Some(6)), text);
        assert_eq!(
            to_height(text, Some(4)),
            "a\nb\n(… 3 more lines: a taller terminal shows them, or run without --watch)\n"
        );
        assert!(fits(text, Some(6)) && !fits(text, Some(5)));
    }
}
