//! Colours, decided once (flag, NO_COLOR, terminal) and passed down as plain values.

use owo_colors::{OwoColorize, Style};

#[derive(Clone, Debug, Default)]
pub struct Styles {
    pub enabled: bool,
}

impl Styles {
    pub fn plain() -> Self {
        Styles { enabled: false }
    }

    pub fn colored() -> Self {
        Styles { enabled: true }
    }

    /// Colour only on a terminal, never with `--no-color` or a non-empty `NO_COLOR`.
    pub fn resolve(no_color_flag: bool, no_color_env: Option<&str>, is_terminal: bool) -> Self {
        let env_off = no_color_env.is_some_and(|v| !v.is_empty());
        Styles {
            enabled: is_terminal && !no_color_flag && !env_off,
        }
    }

    fn paint(&self, text: &str, style: Style) -> String {
        if self.enabled {
            text.style(style).to_string()
        } else {
            text.to_string()
        }
    }

    pub fn good(&self, text: &str) -> String {
        self.paint(text, Style::new().green())
    }

    pub fn warn(&self, text: &str) -> String {
        self.paint(text, Style::new().yellow())
    }

    pub fn bad(&self, text: &str) -> String {
        self.paint(text, Style::new().red().bold())
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint(text, Style::new().dimmed())
    }

    /// A unified diff, coloured as `diff --color` colours it.
    pub fn diff(&self, text: &str) -> String {
        if !self.enabled {
            return text.to_string();
        }
        let mut out = String::new();
        for line in text.split_inclusive('\n') {
            let (body, end) = match line.strip_suffix('\n') {
                Some(b) => (b, "\n"),
                None => (line, ""),
            };
            let painted = if body.starts_with("+++") || body.starts_with("---") {
                self.paint(body, Style::new().bold())
            } else if body.starts_with("@@") {
                self.paint(body, Style::new().cyan())
            } else if body.starts_with('+') {
                self.paint(body, Style::new().green())
            } else if body.starts_with('-') {
                self.paint(body, Style::new().red())
            } else {
                body.to_string()
            };
            out.push_str(&painted);
            out.push_str(end);
        }
        out
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint(text, Style::new().bold())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_opt_outs() {
        assert!(Styles::resolve(false, None, true).enabled);
        assert!(!Styles::resolve(false, None, false).enabled);
        assert!(!Styles::resolve(true, None, true).enabled);
        assert!(!Styles::resolve(false, Some("1"), true).enabled);
        assert!(Styles::resolve(false, Some(""), true).enabled);
    }

    #[test]
    fn diffs_are_coloured_only_when_colour_is_on() {
        let d = "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n z\n";
        assert_eq!(Styles::plain().diff(d), d);
        let c = Styles::colored().diff(d);
        assert!(c.contains("\x1b[31m-x\x1b[0m\n"), "{c:?}");
        assert!(c.contains("\x1b[32m+y\x1b[0m\n"), "{c:?}");
        assert!(c.ends_with(" z\n"), "{c:?}");
    }
}
