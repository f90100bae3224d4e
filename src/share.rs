//! Share links: everything needed to land on the same run at the same step, in a URL fragment.
//!
//! Two forms are read. The packed form `v2.<data>` is what the page writes: a small TOML document,
//! deflated, in URL-safe base64; it can carry an edited scenario's full text. TOML rather than JSON
//! because the page already carries a TOML reader for scenario files, and a second format would add
//! about 30 KB to its download. The plain form `scenario=NAME&seed=N&step=N` is for lecturers
//! writing links by hand to shipped scenarios. Decoding is defensive: sizes are checked before
//! anything is allocated or inflated.

use crate::scenario::limits;
use crate::scenario::walk::{parse_root, toml_table, Ctx, FromToml};
use crate::scenario::Locator;
use crate::session::{TimedUserAction, UserAction};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::fmt::Write;

/// The longest fragment read (a scenario at the size limit deflates to far less than this).
pub const MAX_LINK_CHARS: usize = 1_500_000;

/// Which scenario a link runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScenarioRef {
    /// A shipped scenario, by file name without `.toml`.
    Builtin(String),
    /// The full text of an edited or opened scenario.
    Text(String),
}

/// What a link restores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareState {
    /// The scenario.
    pub scenario: ScenarioRef,
    /// The seed (none: the scenario's own, for a plain link that names none).
    pub seed: Option<u64>,
    /// The person's actions.
    pub actions: Vec<TimedUserAction>,
    /// The step to land on.
    pub step: u64,
    /// The interface language (`en` when absent).
    pub lang: Option<String>,
    /// Whether compare mode is on.
    pub compare: bool,
}

/// A TOML basic string: quoted, with quotes, backslashes and control characters escaped.
pub(crate) fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The link's payload as TOML.
fn to_toml(state: &ShareState) -> String {
    let mut out = String::new();
    let _ = match &state.scenario {
        ScenarioRef::Builtin(name) => writeln!(out, "builtin = {}", toml_string(name)),
        ScenarioRef::Text(text) => writeln!(out, "text = {}", toml_string(text)),
    };
    if let Some(seed) = state.seed {
        let _ = writeln!(out, "seed = {seed}");
    }
    let _ = writeln!(out, "step = {}", state.step);
    if let Some(lang) = &state.lang {
        let _ = writeln!(out, "lang = {}", toml_string(lang));
    }
    if state.compare {
        let _ = writeln!(out, "compare = true");
    }
    for t in &state.actions {
        let _ = writeln!(out, "[[actions]]\nstep = {}", t.step);
        let mut field = |key: &str, value: &str| {
            let _ = writeln!(out, "{key} = {}", toml_string(value));
        };
        match &t.action {
            UserAction::CrashBroker { broker } => field("crash_broker", &broker.to_string()),
            UserAction::RestartBroker { broker } => field("restart_broker", &broker.to_string()),
            UserAction::Cut { a, b } => {
                field("cut", a);
                field("to", b);
            }
            UserAction::Heal { a, b } => {
                field("heal", a);
                field("to", b);
            }
            UserAction::CrashConsumer { consumer } => field("crash_consumer", consumer),
            UserAction::CloseConsumer { consumer } => field("close_consumer", consumer),
            UserAction::StallConsumer { consumer } => field("stall_consumer", consumer),
            UserAction::StartConsumer { consumer } => field("start_consumer", consumer),
            UserAction::AddConsumer { like, name } => {
                field("add_consumer", name);
                field("like", like);
            }
            UserAction::Produce { producer, topic, key, value } => {
                field("produce", producer);
                field("topic", topic);
                if let Some(key) = key {
                    field("key", key);
                }
                field("value", value);
            }
        }
    }
    out
}

toml_table! {
    /// The payload's shape as read back.
    struct StateDef {
        builtin: Option<String> = "builtin",
        text: Option<String> = "text",
        seed: u64 = "seed",
        step: u64 = "step",
        lang: Option<String> = "lang",
        compare: bool = "compare",
        actions: Vec<ActionDef> = "actions",
    } required: ["seed"]
}

toml_table! {
    /// One action: the key naming the action carries its main argument.
    struct ActionDef {
        step: u64 = "step",
        crash_broker: Option<String> = "crash_broker",
        restart_broker: Option<String> = "restart_broker",
        cut: Option<String> = "cut",
        heal: Option<String> = "heal",
        to: Option<String> = "to",
        crash_consumer: Option<String> = "crash_consumer",
        close_consumer: Option<String> = "close_consumer",
        stall_consumer: Option<String> = "stall_consumer",
        start_consumer: Option<String> = "start_consumer",
        add_consumer: Option<String> = "add_consumer",
        like: Option<String> = "like",
        produce: Option<String> = "produce",
        topic: Option<String> = "topic",
        key: Option<String> = "key",
        value: Option<String> = "value",
    } required: ["step"]
}

impl ActionDef {
    fn into_action(self) -> Option<TimedUserAction> {
        let broker = |b: String| b.parse::<u32>().ok();
        let action = if let Some(b) = self.crash_broker {
            UserAction::CrashBroker { broker: broker(b)? }
        } else if let Some(b) = self.restart_broker {
            UserAction::RestartBroker { broker: broker(b)? }
        } else if let Some(a) = self.cut {
            UserAction::Cut { a, b: self.to? }
        } else if let Some(a) = self.heal {
            UserAction::Heal { a, b: self.to? }
        } else if let Some(consumer) = self.crash_consumer {
            UserAction::CrashConsumer { consumer }
        } else if let Some(consumer) = self.close_consumer {
            UserAction::CloseConsumer { consumer }
        } else if let Some(consumer) = self.stall_consumer {
            UserAction::StallConsumer { consumer }
        } else if let Some(consumer) = self.start_consumer {
            UserAction::StartConsumer { consumer }
        } else if let Some(name) = self.add_consumer {
            UserAction::AddConsumer { like: self.like?, name }
        } else if let Some(producer) = self.produce {
            UserAction::Produce { producer, topic: self.topic?, key: self.key, value: self.value? }
        } else {
            return None;
        };
        Some(TimedUserAction { step: self.step, action })
    }
}

fn from_toml(text: &str) -> Result<ShareState, String> {
    let loc = Locator::new("link", text);
    let damaged = |why: String| format!("the link is damaged (bad content: {why})");
    let root = parse_root(text, &loc).map_err(|e| damaged(e.message))?;
    let mut cx = Ctx { loc, errors: Vec::new() };
    let def = StateDef::from_toml(&root, &mut cx).ok_or_else(|| damaged(cx.errors.first().map(|e| e.message.clone()).unwrap_or_default()))?;
    let scenario = match (def.builtin, def.text) {
        (Some(name), None) => ScenarioRef::Builtin(name),
        (None, Some(text)) => ScenarioRef::Text(text),
        _ => return Err(damaged("it needs exactly one of builtin or text".into())),
    };
    let actions = def
        .actions
        .into_iter()
        .map(|a| a.into_action().ok_or_else(|| damaged("an action is incomplete".into())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ShareState { scenario, seed: Some(def.seed), actions, step: def.step, lang: def.lang, compare: def.compare })
}

/// Writes the packed fragment (without the `#`).
pub fn encode(state: &ShareState) -> String {
    let packed = miniz_oxide::deflate::compress_to_vec(to_toml(state).as_bytes(), 9);
    format!("v2.{}", URL_SAFE_NO_PAD.encode(packed))
}

/// Reads a fragment (with or without the leading `#`), or says in plain words what is wrong.
pub fn decode(fragment: &str) -> Result<ShareState, String> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    if fragment.len() > MAX_LINK_CHARS {
        return Err(format!("the link is {} characters long; the limit is {MAX_LINK_CHARS}", fragment.len()));
    }
    if fragment.starts_with("v1.") {
        return Err("the link was made by an older kafkasim and can no longer be opened; ask for a new one".into());
    }
    match fragment.strip_prefix("v2.") {
        Some(data) => decode_packed(data),
        None => decode_plain(fragment),
    }
}

fn decode_packed(data: &str) -> Result<ShareState, String> {
    let packed = URL_SAFE_NO_PAD.decode(data.trim_end_matches('=')).map_err(|e| format!("the link is damaged (not base64: {e})"))?;
    // The limit is what stops a decompression bomb: inflating stops there.
    let limit = limits::FILE_BYTES + 256 * 1024;
    let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, limit).map_err(|e| match e.status {
        miniz_oxide::inflate::TINFLStatus::HasMoreOutput => format!("the link unpacks to more than {limit} bytes; refused"),
        _ => "the link is damaged (it does not unpack)".to_string(),
    })?;
    let text = String::from_utf8(bytes).map_err(|_| "the link is damaged (bad content: not UTF-8)".to_string())?;
    check_sizes(from_toml(&text)?)
}

fn decode_plain(fragment: &str) -> Result<ShareState, String> {
    let mut name = None;
    let mut seed = None;
    let mut step = 0;
    let mut lang = None;
    let mut compare = false;
    for pair in fragment.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').ok_or_else(|| format!("the link part {pair:?} is not key=value"))?;
        match key {
            "scenario" => name = Some(value.to_string()),
            "seed" => seed = Some(value.parse::<u64>().map_err(|_| format!("seed={value} is not a whole number"))?),
            "step" => step = value.parse::<u64>().map_err(|_| format!("step={value} is not a whole number"))?,
            "lang" => lang = Some(value.to_string()),
            "compare" => compare = value == "1" || value == "true",
            _ => return Err(format!("the link has an unknown part {key:?} (expected scenario, seed, step, lang or compare)")),
        }
    }
    let name = name.ok_or("the link names no scenario (expected scenario=NAME)")?;
    if !crate::builtin::listed(&name) {
        return Err(format!("there is no built-in scenario named {name:?}"));
    }
    check_sizes(ShareState { scenario: ScenarioRef::Builtin(name), seed, actions: Vec::new(), step, lang, compare })
}

fn check_sizes(state: ShareState) -> Result<ShareState, String> {
    if let ScenarioRef::Text(text) = &state.scenario {
        if text.len() > limits::FILE_BYTES {
            return Err(format!("the scenario in the link has {} bytes; the limit is {}", text.len(), limits::FILE_BYTES));
        }
    }
    if state.actions.len() > crate::session::MAX_USER_ACTIONS {
        return Err(format!("the link carries {} actions; the limit is {}", state.actions.len(), crate::session::MAX_USER_ACTIONS));
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_link_round_trips() {
        let state = ShareState {
            scenario: ScenarioRef::Text("title = \"ünïcode ✓ سلام\"\n".repeat(50)),
            seed: Some(42),
            actions: vec![
                TimedUserAction { step: 7, action: UserAction::CrashBroker { broker: 2 } },
                TimedUserAction { step: 8, action: UserAction::RestartBroker { broker: 2 } },
                TimedUserAction { step: 9, action: UserAction::Cut { a: "broker-1".into(), b: "controller".into() } },
                TimedUserAction { step: 10, action: UserAction::Heal { a: "broker-1".into(), b: "controller".into() } },
                TimedUserAction { step: 11, action: UserAction::CrashConsumer { consumer: "c\"1".into() } },
                TimedUserAction { step: 12, action: UserAction::CloseConsumer { consumer: "c\\2".into() } },
                TimedUserAction { step: 12, action: UserAction::StallConsumer { consumer: "c2".into() } },
                TimedUserAction { step: 13, action: UserAction::StartConsumer { consumer: "c\u{7}3".into() } },
                TimedUserAction { step: 13, action: UserAction::AddConsumer { like: "c1".into(), name: "c4".into() } },
                TimedUserAction { step: 14, action: UserAction::Produce { producer: "p".into(), topic: "t".into(), key: None, value: "v\n".into() } },
                TimedUserAction { step: 15, action: UserAction::Produce { producer: "p".into(), topic: "t".into(), key: Some("k".into()), value: "".into() } },
            ],
            step: 99,
            lang: Some("fa".into()),
            compare: true,
        };
        let link = encode(&state);
        assert!(link.starts_with("v2."));
        assert!(link.len() < 400, "repetitive text compresses ({} chars)", link.len());
        assert!(link.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)), "URL-safe: {link}");
        assert_eq!(decode(&format!("#{link}")), Ok(state));
    }

    #[test]
    fn a_plain_link_names_a_builtin_scenario() {
        let state = decode("scenario=acks1-acknowledged-loss&step=12").expect("valid");
        assert_eq!(state.scenario, ScenarioRef::Builtin("acks1-acknowledged-loss".into()));
        assert_eq!((state.seed, state.step), (None, 12), "the seed is the scenario's own");
        assert_eq!(decode("scenario=nope").err().as_deref(), Some("there is no built-in scenario named \"nope\""));
        assert_eq!(decode("scenario=x&seed=-1").err().as_deref(), Some("seed=-1 is not a whole number"));
        assert_eq!(decode("scenario=x&evil=1").err().as_deref(), Some("the link has an unknown part \"evil\" (expected scenario, seed, step, lang or compare)"));
    }

    #[test]
    fn damaged_and_hostile_links_are_refused_with_a_reason() {
        assert!(decode("v2.***").unwrap_err().starts_with("the link is damaged (not base64"));
        assert_eq!(decode(&format!("v2.{}", URL_SAFE_NO_PAD.encode(b"not deflate"))).unwrap_err(), "the link is damaged (it does not unpack)");
        let packed = |text: &str| format!("v2.{}", URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9)));
        assert_eq!(decode(&packed("seed = \"x\"\nbuiltin = \"a\"")).unwrap_err(), "the link is damaged (bad content: invalid type: string \"x\", expected a whole number of at least 0)");
        assert_eq!(decode(&packed("seed = 1")).unwrap_err(), "the link is damaged (bad content: it needs exactly one of builtin or text)");
        assert_eq!(decode(&packed("seed = 1\nbuiltin = \"a\"\n[[actions]]\nstep = 3\ncut = \"broker-1\"")).unwrap_err(), "the link is damaged (bad content: an action is incomplete)");
        assert!(decode("v1.eJyrVg").unwrap_err().contains("older kafkasim"));
        // 64 MB of zeros deflates to about 64 KB: a bomb that must stop at the limit.
        let bomb = miniz_oxide::deflate::compress_to_vec(&vec![0u8; 64 << 20], 9);
        let err = decode(&format!("v2.{}", URL_SAFE_NO_PAD.encode(bomb))).unwrap_err();
        assert!(err.contains("unpacks to more than") && err.ends_with("refused"), "{err}");
        assert!(decode(&"a".repeat(MAX_LINK_CHARS + 1)).unwrap_err().contains("the limit is 1500000"));
    }
}
