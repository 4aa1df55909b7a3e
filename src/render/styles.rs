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
}
