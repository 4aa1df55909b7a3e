//! Plain, kubectl-like tables: upper-case headers, no borders, columns padded with spaces.
//! With a width (a terminal's) the table fits it: long cells wrap inside their column and headers
//! never break. Without one (piped output) nothing wraps, as with kubectl.

use comfy_table::{ColumnConstraint, ContentArrangement, Table, Width, presets};

/// Spaces between columns, as kubectl's printers use.
const GAP: u16 = 3;

pub fn new(headers: &[&str], width: Option<u16>) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING).force_no_tty();
    match width {
        Some(w) => {
            // The last column's gap is trimmed from every line, so it may pass the edge.
            t.set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(w.saturating_add(GAP));
        }
        None => {
            t.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    t.set_header(headers.iter().map(|h| h.to_string()));
    // comfy-table pads each cell with one space on both sides; kubectl separates columns
    // by three spaces and starts at the margin.
    for (c, h) in t.column_iter_mut().zip(headers) {
        c.set_padding((0, GAP));
        c.set_constraint(ColumnConstraint::LowerBoundary(
            Width::Fixed(h.len() as u16),
        ));
    }
    t
}

/// The table as text with trailing spaces trimmed from every line.
pub fn to_text(t: &Table) -> String {
    let mut out = String::new();
    for line in t.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
