//! Reading the parsed TOML tree into the scenario's definitions.
//!
//! The `toml` crate parses the file into a tree that keeps every key's and value's position; this
//! module walks that tree into plain structs. It replaces serde's derived deserializers, which
//! produced the same structs but made up over a quarter of the page's WebAssembly, and it reports
//! every wrong key or value in the file instead of stopping at the first.

use super::error::{closest, Locator, ScenarioError};
use super::limits;
use crate::sim::map::VecMap;
use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// A parsed value with its byte range in the file.
pub(crate) type Item<'i> = toml::Spanned<DeValue<'i>>;

/// A value read from the file, with the byte range it came from (for error positions).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Spanned<T> {
    value: T,
    span: Range<usize>,
}

impl<T> Spanned<T> {
    pub(crate) fn get_ref(&self) -> &T {
        &self.value
    }

    pub(crate) fn span(&self) -> Range<usize> {
        self.span.clone()
    }
}

/// Collects located errors while a file is read and checked.
pub(crate) struct Ctx<'a> {
    pub(crate) loc: Locator<'a>,
    pub(crate) errors: Vec<ScenarioError>,
}

impl Ctx<'_> {
    pub(crate) fn err(&mut self, offset: usize, message: impl Into<String>, hint: Option<String>) {
        self.errors.push(self.loc.error(offset, message, hint));
    }

    pub(crate) fn text<'t>(&mut self, s: &'t Spanned<String>, what: &str) -> &'t str {
        if s.get_ref().chars().count() > limits::TEXT {
            self.err(s.span().start, format!("{what} is longer than {} characters", limits::TEXT), None);
        }
        s.get_ref()
    }

    fn invalid_type(&mut self, v: &Item<'_>, expected: &str) {
        let found = match v.get_ref() {
            DeValue::String(s) => format!("string {:?}", s.as_ref()),
            DeValue::Integer(i) => format!("integer `{i}`"),
            DeValue::Float(f) => format!("float `{}`", f.as_str()),
            DeValue::Boolean(b) => format!("boolean `{b}`"),
            DeValue::Datetime(d) => format!("datetime `{d}`"),
            DeValue::Array(_) => "a list".to_string(),
            DeValue::Table(_) => "a table".to_string(),
        };
        self.err(
            v.span().start,
            format!("invalid type: {found}, expected {expected}"),
            Some("check the value's type: numbers unquoted, text in \"quotes\", lists in [brackets]".into()),
        );
    }
}

/// A type that can be read from one TOML value.
pub(crate) trait FromToml: Sized {
    /// Reads the value, or reports why it cannot and returns `None`.
    fn from_toml(v: &Item<'_>, cx: &mut Ctx<'_>) -> Option<Self>;
}

impl FromToml for String {
    fn from_toml(v: &Item<'_>, cx: &mut Ctx<'_>) -> Option<Self> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                cx.invalid_type(v, "text in \"quotes\"");
                None
            }
        }
    }
}

impl FromToml for bool {
    fn from_toml(v: &Item<'_>, cx: &mut Ctx<'_>) -> Option<Self> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                cx.invalid_type(v, "true or false");
                None
            }
        }
    }
}

fn integer(v: &Item<'_>, cx: &mut Ctx<'_>, expected: &str) -> Option<i128> {
    match v.get_ref() {
        DeValue::Integer(i) => match i128::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Some(n),
            Err(_) => {
                cx.err(v.span().start, format!("invalid value: integer `{i}`, expected {expected}"), None);
                None
            }
        },
        _ => {
            cx.invalid_type(v, expected);
            None
        }
    }
}

macro_rules! integer_from_toml {
    ($($t:ty => $expected:literal),* $(,)?) => {$(
        impl FromToml for $t {
            fn from_toml(v: &Item<'_>, cx: &mut Ctx<'_>) -> Option<Self> {
                let n = integer(v, cx, $expected)?;
                match <$t>::try_from(n) {
                    Ok(n) => Some(n),
                    Err(_) => {
                        cx.err(v.span().start, format!("invalid value: integer `{n}`, expected {}", $expected), None);
                        None
                    }
                }
            }
        }
    )*};
}

integer_from_toml!(
    u32 => "a whole number from 0 to 4294967295",
    u64 => "a whole number of at least 0",
    i32 => "a whole number that fits in 32 bits",
    i64 => "a whole number that fits in 64 bits",
);

impl FromToml for f64 {
    fn from_toml(v: &Item<'_>, cx: &mut Ctx<'_>) -> Option<Self> {
        match v.get_ref() {
            DeValue::Float(f) => match f.as_str().parse::<f64>() {
                Ok(x) => Some(x),
                Err(_) => {
                    cx.err(v.span().start, format!("invalid value: float `{}`, expected a number", f.as_str()), None);
                    None
                }
            },
            DeValue::Integer(_) => integer(v, cx, "a number").map(|n| n as f64),
            _ => {
                cx.invalid_type(v, "a number");
                None
            }
        }
    }
}

impl<T: FromToml> FromToml for Option<T> {
    fn from_toml(v: &Item<'_>, cx: &mut Ctx<'_>) -> Option<Self> {
        T::from_toml(v, cx).map(Some)
    }
}

impl<T: FromToml> FromToml for Spanned<T> {
    fn from_toml(v: &Item<'_>, cx: &mut Ctx<'_>) -> Option<Self> {
        T::from_toml(v, cx).map(|value| Spanned { value, span: v.span() })
    }
}

impl<T: FromToml> FromToml for Vec<T> {
    fn from_toml(v: &Item<'_>, cx: &mut Ctx<'_>) -> Option<Self> {
        let DeValue::Array(items) = v.get_ref() else {
            cx.invalid_type(v, "a list in [brackets]");
            return None;
        };
        let before = cx.errors.len();
        let out: Vec<T> = items.iter().filter_map(|item| T::from_toml(item, cx)).collect();
        (cx.errors.len() == before).then_some(out)
    }
}

impl<T: FromToml> FromToml for VecMap<String, T> {
    fn from_toml(v: &Item<'_>, cx: &mut Ctx<'_>) -> Option<Self> {
        let table = table(v, cx)?;
        let before = cx.errors.len();
        let out: VecMap<String, T> =
            table.iter().filter_map(|(k, item)| Some((k.get_ref().to_string(), T::from_toml(item, cx)?))).collect();
        (cx.errors.len() == before).then_some(out)
    }
}

/// The value as a table, or an error.
pub(crate) fn table<'v, 'i>(v: &'v Item<'i>, cx: &mut Ctx<'_>) -> Option<&'v DeTable<'i>> {
    match v.get_ref() {
        DeValue::Table(t) => Some(t),
        _ => {
            cx.invalid_type(v, "a table");
            None
        }
    }
}

/// Reports a key that the table does not allow, with the closest allowed one or the full list.
pub(crate) fn unknown_key(cx: &mut Ctx<'_>, at: usize, key: &str, allowed: &[&str]) {
    let listed = allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
    let hint = if let Some(dotted) = allowed.iter().find(|k| k.contains('.') && k.starts_with(&format!("{key}."))) {
        format!("Kafka property names contain dots, so TOML needs them quoted: \"{dotted}\" = …")
    } else if let Some(best) = closest(key, allowed.iter().copied()) {
        format!("did you mean `{best}`?")
    } else {
        format!("allowed here: {}", allowed.join(", "))
    };
    cx.err(at, format!("unknown field `{key}`, expected one of {listed}"), Some(hint));
}

/// Reports a setting given twice in one table under two of its names (a key and its alias), which
/// TOML's own duplicate-key check cannot see.
pub(crate) fn same_setting_twice(cx: &mut Ctx<'_>, at: usize, written: &str, name: &str) {
    cx.err(
        at,
        format!("`{written}` sets `{name}` a second time in this table"),
        Some(format!("`{name}` and its other spelling are one setting; give it once")),
    );
}

/// Whether a missing required key is already explained by an unknown one: a misspelling of it
/// (whose error says "did you mean") or its unquoted dotted form. One error is clearer than two.
pub(crate) fn explained_by_unknown(required: &str, unknown: &[String]) -> bool {
    unknown.iter().any(|u| required.starts_with(&format!("{u}.")) || closest(u, [required]).is_some())
}

/// Implements [`FromToml`] for a struct with `Default`, reading each listed field from the keys
/// given (the first key is its name in files; others are accepted aliases). Fields listed under
/// `required` must be present.
macro_rules! from_toml_table {
    ($ty:ty { $($field:ident: $key:literal $(| $alias:literal)*),* $(,)? } $(required: [$($req:literal),* $(,)?])?) => {
        impl $crate::scenario::walk::FromToml for $ty {
            fn from_toml(v: &$crate::scenario::walk::Item<'_>, cx: &mut $crate::scenario::walk::Ctx<'_>) -> Option<Self> {
                let table = $crate::scenario::walk::table(v, cx)?;
                let before = cx.errors.len();
                let mut out = <$ty>::default();
                let mut seen: Vec<&str> = Vec::new();
                let mut unknown: Vec<String> = Vec::new();
                for (key, item) in table.iter() {
                    match key.get_ref().as_ref() {
                        $($key $(| $alias)* => {
                            if seen.contains(&$key) {
                                $crate::scenario::walk::same_setting_twice(cx, key.span().start, key.get_ref(), $key);
                            }
                            seen.push($key);
                            if $crate::scenario::ranges::check(cx, $key, item) {
                                if let Some(x) = $crate::scenario::walk::FromToml::from_toml(item, cx) {
                                    out.$field = x;
                                }
                            }
                        })*
                        other => {
                            $crate::scenario::walk::unknown_key(cx, key.span().start, other, &[$($key),*]);
                            unknown.push(other.to_string());
                        }
                    }
                }
                $($(
                    if !seen.contains(&$req) && !$crate::scenario::walk::explained_by_unknown($req, &unknown) {
                        cx.err(
                            v.span().start,
                            format!("missing field `{}`", $req),
                            Some(format!("add `{} = …` to this table (see docs/scenario-format.md)", $req)),
                        );
                    }
                )*)?
                (cx.errors.len() == before).then_some(out)
            }
        }
    };
}
pub(crate) use from_toml_table;

/// Declares a definition struct (`Default`, private fields) together with its [`FromToml`] reader,
/// so that each field's type and its key in files are written once.
macro_rules! toml_table {
    ($(#[$meta:meta])* struct $ty:ident { $($field:ident: $fty:ty = $key:literal $(| $alias:literal)*),* $(,)? } $(required: [$($req:literal),* $(,)?])?) => {
        $(#[$meta])*
        #[derive(Default)]
        struct $ty {
            $($field: $fty),*
        }
        $crate::scenario::walk::from_toml_table!($ty { $($field: $key $(| $alias)*),* } $(required: [$($req),*])?);
    };
}
pub(crate) use toml_table;

/// Implements [`FromToml`] for a fieldless enum written as one of the given strings.
macro_rules! from_toml_enum {
    ($ty:ty { $($variant:ident: $name:literal),* $(,)? }) => {
        impl $crate::scenario::walk::FromToml for $ty {
            fn from_toml(v: &$crate::scenario::walk::Item<'_>, cx: &mut $crate::scenario::walk::Ctx<'_>) -> Option<Self> {
                let s: String = $crate::scenario::walk::FromToml::from_toml(v, cx)?;
                match s.as_str() {
                    $($name => Some(<$ty>::$variant),)*
                    other => {
                        let allowed = [$($name),*];
                        let hint = $crate::scenario::error::closest(other, allowed.iter().copied())
                            .map(|best| format!("did you mean `{best}`?"));
                        cx.err(v.span().start, format!("unknown variant `{other}`, expected one of {}", allowed.map(|a| format!("`{a}`")).join(", ")), hint);
                        None
                    }
                }
            }
        }
    };
}
pub(crate) use from_toml_enum;

/// Parses the file's text into its root table.
pub(crate) fn parse_root<'i>(text: &'i str, loc: &Locator<'_>) -> Result<Item<'i>, ScenarioError> {
    let root = DeTable::parse(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let message = e.message().trim();
        if message == "duplicate key" {
            // toml's message does not say which key; the span starts at it.
            let key: String = text[offset..].chars().take_while(|c| c.is_alphanumeric() || "_-.\"".contains(*c)).collect();
            return loc.error(
                offset,
                format!("duplicate key `{}`", key.trim_matches('"')),
                Some("a key (or a [table]) may appear once; remove or merge the second one".into()),
            );
        }
        loc.error(offset, message.to_string(), None)
    })?;
    let span = root.span();
    Ok(toml::Spanned::new(span, DeValue::Table(root.into_inner())))
}
