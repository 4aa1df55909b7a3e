//! Plain, kubectl-like tables: upper-case headers, no borders, columns padded with spaces.
//! With a width (a terminal's) the table fits it: the widest columns (reasons, messages, node
//! lists) wrap inside themselves, the others and every header stay whole. When even that cannot
//! fit, or without a width (piped output), nothing wraps, as with kubectl.

use comfy_table::{ColumnConstraint, ContentArrangement, Table, Width, presets};

/// Spaces between columns, as kubectl's printers use.
const GAP: u16 = 3;
/// The narrowest a wrapped column gets, so its text stays readable.
const NARROWEST_WRAPPED: u16 = 12;

pub fn new(headers: &[&str], width: Option<u16>) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .force_no_tty()
        .set_content_arrangement(ContentArrangement::Disabled);
    if let Some(w) = width {
        // The last column's gap is trimmed from every line, so it may pass the edge.
        t.set_width(w.saturating_add(GAP));
    }
    t.set_header(headers.iter().map(|h| h.to_string()));
    // comfy-table pads each cell with one space on both sides; kubectl separates columns
    // by three spaces and starts at the margin.
    for c in t.column_iter_mut() {
        c.set_padding((0, GAP));
    }
    t
}

/// Which columns wrap so that the table fits `width` with `gap` spaces between columns: the
/// widest first, each kept at least as wide as its header. All `false` when it fits as it is,
/// `None` when it cannot fit at all.
fn columns_to_wrap(content: &[u16], headers: &[u16], width: u16, gap: u16) -> Option<Vec<bool>> {
    let mut total: u32 = content.iter().map(|w| u32::from(w + gap)).sum();
    let mut wrap = vec![false; content.len()];
    let mut order: Vec<usize> = (0..content.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(content[i]));
    let mut next = order.into_iter();
    while total > u32::from(width) {
        let i = next.next()?;
        let narrowest = headers[i].max(NARROWEST_WRAPPED).min(content[i]);
        total -= u32::from(content[i] - narrowest);
        wrap[i] = true;
    }
    Some(wrap)
}

/// The table as text with trailing spaces trimmed from every line, fitted to its width: with
/// kubectl's three spaces between columns if it can, else two.
pub fn to_text(t: &Table) -> String {
    let mut t = t.clone();
    if let Some(width) = t.width() {
        let content = t.column_max_content_widths();
        let headers: Vec<u16> = t
            .header()
            .map(|h| {
                h.cell_iter()
                    .map(|c| c.content().chars().count() as u16)
                    .collect()
            })
            .unwrap_or_default();
        let fitted = [GAP, GAP - 1].into_iter().find_map(|gap| {
            columns_to_wrap(&content, &headers, width - (GAP - gap), gap).map(|w| (gap, w))
        });
        if let Some((gap, wrap)) = fitted {
            t.set_content_arrangement(ContentArrangement::Dynamic);
            t.set_width(width - (GAP - gap));
            let limits = content.iter().zip(&headers).zip(&wrap);
            for (c, ((w, h), wraps)) in t.column_iter_mut().zip(limits) {
                c.set_padding((0, gap));
                let bound = if *wraps {
                    ColumnConstraint::LowerBoundary(Width::Fixed(h.max(&NARROWEST_WRAPPED) + gap))
                } else {
                    ColumnConstraint::Absolute(Width::Fixed(w + gap))
                };
                c.set_constraint(bound);
            }
        }
    }
    let mut out = String::new();
    for line in t.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::columns_to_wrap;

    #[test]
    fn the_widest_columns_wrap_first_and_headers_stay_whole() {
        // Fits: nothing wraps.
        assert_eq!(
            columns_to_wrap(&[10, 20], &[4, 3], 40, 3),
            Some(vec![false, false])
        );
        // 9+3 + 6+3 + 60+3 = 84 > 80: the 60-wide column wraps.
        assert_eq!(
            columns_to_wrap(&[9, 6, 60], &[9, 6, 3], 80, 3),
            Some(vec![false, false, true])
        );
        // Narrow columns only: no wrapping can make it fit.
        assert_eq!(columns_to_wrap(&[30, 30, 30], &[30, 30, 30], 80, 3), None);
    }
}
