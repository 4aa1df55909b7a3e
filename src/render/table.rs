//! Plain, kubectl-like tables: upper-case headers, no borders, columns padded with spaces.

use comfy_table::{ContentArrangement, Table, presets};

pub fn new(headers: &[&str], width: Option<u16>) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .force_no_tty();
    if let Some(w) = width {
        t.set_width(w);
    }
    t.set_header(headers.iter().map(|h| h.to_string()));
    // comfy-table pads each cell with one space on both sides; kubectl separates columns
    // by three spaces and starts at the margin.
    for c in t.column_iter_mut() {
        c.set_padding((0, 3));
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
