//! Short definitions of Kafka terms, shown as tooltips wherever the terms appear. The terms and
//! their definitions are words of the page, so they live in [`super::i18n`]; this module only finds
//! them in text and draws the tooltips.

use super::i18n::{Tr, TERMS};
use yew::prelude::*;

fn definition(t: Tr, word: &str) -> Option<&'static str> {
    TERMS.iter().position(|term| *term == word).map(|i| t.definitions[i])
}

/// Renders text with glossary terms wrapped in `<abbr>` tooltips. Text stays text: nothing in
/// it is ever interpreted as markup.
pub fn annotate(t: Tr, text: &str) -> Html {
    let mut parts: Vec<Html> = Vec::new();
    let mut plain = String::new();
    let mut word = String::new();
    let flush_word = |word: &mut String, plain: &mut String, parts: &mut Vec<Html>| {
        let trimmed = word.trim_end_matches([',', '.', ':', ';', ')']);
        match definition(t, trimmed) {
            Some(def) => {
                let tail = word[trimmed.len()..].to_string();
                parts.push(Html::from(std::mem::take(plain)));
                parts.push(html! { <abbr class="term" title={def}>{trimmed.to_string()}</abbr> });
                plain.push_str(&tail);
            }
            None => plain.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() || c == '(' {
            flush_word(&mut word, &mut plain, &mut parts);
            plain.push(c);
        } else {
            word.push(c);
        }
    }
    flush_word(&mut word, &mut plain, &mut parts);
    parts.push(Html::from(plain));
    html! { <>{ for parts }</> }
}

/// A label with its definition as a tooltip.
pub fn term(t: Tr, label: &str) -> Html {
    match definition(t, label) {
        Some(def) => html! { <abbr class="term" title={def}>{label.to_string()}</abbr> },
        None => Html::from(label.to_string()),
    }
}
