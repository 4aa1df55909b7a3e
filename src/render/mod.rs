//! The render layer: turns reports into text. It never fetches and never decides.

pub mod coverage;
pub mod document;
pub mod explain;
pub mod fit;
pub mod overhead;
pub mod preview;
pub mod rollout;
#[cfg(test)]
mod snapshot_tests;
pub mod styles;
pub mod table;

pub use styles::Styles;

/// `-o`: a table (or the wide one), or a versioned document in JSON or YAML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Table,
    Wide,
    Json,
    Yaml,
}

impl OutputFormat {
    /// JSON or YAML: a document for scripts rather than a table for people.
    pub fn is_document(self) -> bool {
        matches!(self, OutputFormat::Json | OutputFormat::Yaml)
    }
}

/// How to print: the format, the colours, the terminal width when known.
#[derive(Clone, Debug)]
pub struct Output {
    pub format: OutputFormat,
    pub styles: Styles,
    pub width: Option<u16>,
    /// Standard output is a terminal: a watch redraws its frame instead of appending lines.
    pub tty: bool,
}

impl Output {
    pub fn plain(format: OutputFormat) -> Self {
        Output {
            format,
            styles: Styles::plain(),
            width: None,
            tty: false,
        }
    }

    pub fn wide(&self) -> bool {
        self.format == OutputFormat::Wide
    }
}

/// `1 node`, `2 nodes`: a count with its noun, plural unless it is one.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
