//! Share links: everything needed to land on the same run at the same step, in a URL fragment.
//!
//! Two forms are read. The packed form `v1.<data>` is what the page writes: JSON, deflated, in
//! URL-safe base64; it can carry an edited scenario's full text. The plain form
//! `scenario=NAME&seed=N&step=N` is for lecturers writing links by hand to shipped scenarios.
//! Decoding is defensive: sizes are checked before anything is allocated or inflated.

use crate::scenario::limits;
use crate::session::TimedUserAction;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The longest fragment read (a scenario at the size limit deflates to far less than this).
pub const MAX_LINK_CHARS: usize = 1_500_000;

/// Which scenario a link runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScenarioRef {
    /// A shipped scenario, by file name without `.toml`.
    Builtin(String),
    /// The full text of an edited or opened scenario.
    Text(String),
}

/// What a link restores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareState {
    /// The scenario.
    pub scenario: ScenarioRef,
    /// The seed.
    pub seed: u64,
    /// The person's actions.
    #[serde(default)]
    pub actions: Vec<TimedUserAction>,
    /// The step to land on.
    #[serde(default)]
    pub step: u64,
    /// The interface language (`en` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// Writes the packed fragment (without the `#`).
pub fn encode(state: &ShareState) -> String {
    let json = serde_json::to_vec(state).expect("share state serializes");
    let packed = miniz_oxide::deflate::compress_to_vec(&json, 9);
    format!("v1.{}", URL_SAFE_NO_PAD.encode(packed))
}

/// Reads a fragment (with or without the leading `#`), or says in plain words what is wrong.
pub fn decode(fragment: &str) -> Result<ShareState, String> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    if fragment.len() > MAX_LINK_CHARS {
        return Err(format!("the link is {} characters long; the limit is {MAX_LINK_CHARS}", fragment.len()));
    }
    match fragment.strip_prefix("v1.") {
        Some(data) => decode_packed(data),
        None => decode_plain(fragment),
    }
}

fn decode_packed(data: &str) -> Result<ShareState, String> {
    let packed = URL_SAFE_NO_PAD.decode(data.trim_end_matches('=')).map_err(|e| format!("the link is damaged (not base64: {e})"))?;
    // The limit is what stops a decompression bomb: inflating stops there.
    let limit = limits::FILE_BYTES + 256 * 1024;
    let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, limit).map_err(|e| match e.status {
        miniz_oxide::inflate::TINFLStatus::HasMoreOutput => format!("the link unpacks to more than {limit} bytes; refused"),
        _ => "the link is damaged (it does not unpack)".to_string(),
    })?;
    let state: ShareState = serde_json::from_slice(&json).map_err(|e| format!("the link is damaged (bad content: {e})"))?;
    check_sizes(state)
}

fn decode_plain(fragment: &str) -> Result<ShareState, String> {
    let mut name = None;
    let mut seed = None;
    let mut step = 0;
    let mut lang = None;
    for pair in fragment.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').ok_or_else(|| format!("the link part {pair:?} is not key=value"))?;
        match key {
            "scenario" => name = Some(value.to_string()),
            "seed" => seed = Some(value.parse::<u64>().map_err(|_| format!("seed={value} is not a whole number"))?),
            "step" => step = value.parse::<u64>().map_err(|_| format!("step={value} is not a whole number"))?,
            "lang" => lang = Some(value.to_string()),
            _ => return Err(format!("the link has an unknown part {key:?} (expected scenario, seed, step or lang)")),
        }
    }
    let name = name.ok_or("the link names no scenario (expected scenario=NAME)")?;
    let seed = match seed {
        Some(s) => s,
        None => {
            let text = crate::builtin::get(&name).ok_or_else(|| format!("there is no built-in scenario named {name:?}"))?;
            crate::scenario::parse(&name, text).map(|s| s.seed).map_err(|_| format!("the built-in scenario {name:?} does not load"))?
        }
    };
    check_sizes(ShareState { scenario: ScenarioRef::Builtin(name), seed, actions: Vec::new(), step, lang })
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
    use crate::session::UserAction;

    #[test]
    fn a_packed_link_round_trips() {
        let state = ShareState {
            scenario: ScenarioRef::Text("title = \"ünïcode ✓ سلام\"\n".repeat(50)),
            seed: 42,
            actions: vec![TimedUserAction { step: 7, action: UserAction::CrashBroker { broker: 2 } }],
            step: 99,
            lang: Some("fa".into()),
        };
        let link = encode(&state);
        assert!(link.starts_with("v1."));
        assert!(link.len() < 400, "repetitive text compresses ({} chars)", link.len());
        assert!(link.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)), "URL-safe: {link}");
        assert_eq!(decode(&format!("#{link}")), Ok(state));
    }

    #[test]
    fn a_plain_link_names_a_builtin_scenario() {
        let state = decode("scenario=acks1-acknowledged-loss&step=12").expect("valid");
        assert_eq!(state.scenario, ScenarioRef::Builtin("acks1-acknowledged-loss".into()));
        assert_eq!((state.seed, state.step), (1, 12), "the seed defaults to the scenario's");
        assert_eq!(decode("scenario=nope").err().as_deref(), Some("there is no built-in scenario named \"nope\""));
        assert_eq!(decode("scenario=x&seed=-1").err().as_deref(), Some("seed=-1 is not a whole number"));
        assert_eq!(decode("scenario=x&evil=1").err().as_deref(), Some("the link has an unknown part \"evil\" (expected scenario, seed, step or lang)"));
    }

    #[test]
    fn damaged_and_hostile_links_are_refused_with_a_reason() {
        assert!(decode("v1.***").unwrap_err().starts_with("the link is damaged (not base64"));
        assert_eq!(decode(&format!("v1.{}", URL_SAFE_NO_PAD.encode(b"not deflate"))).unwrap_err(), "the link is damaged (it does not unpack)");
        let not_json = miniz_oxide::deflate::compress_to_vec(b"{\"scenario\": 5}", 9);
        assert!(decode(&format!("v1.{}", URL_SAFE_NO_PAD.encode(not_json))).unwrap_err().starts_with("the link is damaged (bad content"));
        // 64 MB of zeros deflates to about 64 KB: a bomb that must stop at the limit.
        let bomb = miniz_oxide::deflate::compress_to_vec(&vec![0u8; 64 << 20], 9);
        let err = decode(&format!("v1.{}", URL_SAFE_NO_PAD.encode(bomb))).unwrap_err();
        assert!(err.contains("unpacks to more than") && err.ends_with("refused"), "{err}");
        assert!(decode(&"a".repeat(MAX_LINK_CHARS + 1)).unwrap_err().contains("the limit is 1500000"));
    }
}
