//! The page's look, which the person sets and the run does not: the language, the theme,
//! presenter mode and less motion, written onto `<html>` for the stylesheet. It uses the words'
//! languages, nothing else of the page.

use super::i18n::Lang;

/// How the page looks.
pub struct Prefs {
    /// The page's language.
    pub lang: Lang,
    /// The dark theme (the system's choice at first).
    pub dark: bool,
    /// Presenter mode: large type, controls fade until needed.
    pub presenter: bool,
    /// Less motion: messages jump instead of moving.
    pub reduce_motion: bool,
}

impl Prefs {
    /// English, in the theme the system prefers.
    pub fn new() -> Prefs {
        let dark = web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
            .is_some_and(|m| m.matches());
        Prefs { lang: Lang::En, dark, presenter: false, reduce_motion: false }
    }

    /// Switches between English and Persian.
    pub fn toggle_lang(&mut self) {
        self.lang = if self.lang == Lang::En { Lang::Fa } else { Lang::En };
    }

    /// Writes the language, direction, theme and modes onto `<html>`.
    pub fn write_to_document(&self) {
        let Some(root) = gloo::utils::document().document_element() else { return };
        // Written only when they change: setting an attribute of <html>, even to its own value,
        // can make the browser restyle the whole page, and this runs on every frame of playback.
        let set = |name: &str, value: &str| {
            if root.get_attribute(name).as_deref() != Some(value) {
                let _ = root.set_attribute(name, value);
            }
        };
        set("lang", self.lang.code());
        set("dir", self.lang.dir());
        set("data-theme", if self.dark { "dark" } else { "light" });
        set("class", &format!("{}{}", if self.presenter { "presenter " } else { "" }, if self.reduce_motion { "reduce-motion" } else { "" }));
    }
}
