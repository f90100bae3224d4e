//! Scenario errors with a location, what was expected, and a hint.

use std::fmt;

/// One problem in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// File name as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
    /// How to fix it, when we can tell.
    pub hint: Option<String>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: error: {}", self.file, self.line, self.column, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Maps byte offsets to line and column.
pub(crate) struct Locator<'a> {
    file: &'a str,
    text: &'a str,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Self {
        Locator { file, text }
    }

    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    pub(crate) fn error(&self, offset: usize, message: impl Into<String>, hint: Option<String>) -> ScenarioError {
        let (line, column) = self.line_col(offset);
        ScenarioError { file: self.file.to_string(), line, column, message: message.into(), hint }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Levenshtein distance, for "did you mean" hints.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub(crate) fn closest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Turns a TOML/serde error into a located error with a hint.
pub(crate) fn from_toml(loc: &Locator<'_>, err: &toml::de::Error) -> ScenarioError {
    let offset = err.span().map_or(0, |s| s.start);
    let message = err.message().trim().to_string();
    let hint = hint_for(&message);
    loc.error(offset, message, hint)
}

fn backticked(s: &str) -> Vec<&str> {
    s.split('`').skip(1).step_by(2).collect()
}

fn hint_for(message: &str) -> Option<String> {
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let names = backticked(rest);
        let (unknown, expected) = names.split_first()?;
        if let Some(dotted) = expected.iter().find(|e| e.contains('.') && e.starts_with(&format!("{unknown}."))) {
            return Some(format!(
                "Kafka property names contain dots, so TOML needs them quoted: \"{dotted}\" = …"
            ));
        }
        return match closest(unknown, expected.iter().copied()) {
            Some(best) => Some(format!("did you mean `{best}`?")),
            None => Some(format!("allowed here: {}", expected.join(", "))),
        };
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        let field = backticked(rest).first().copied().unwrap_or("");
        return Some(format!("add `{field} = …` to this table (see docs/scenario-format.md)"));
    }
    if message.contains("invalid type") {
        return Some("check the value's type: numbers unquoted, text in \"quotes\", lists in [brackets]".to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_name() {
        assert_eq!(closest("min.insync.replica", ["acks", "min.insync.replicas"]), Some("min.insync.replicas"));
        assert_eq!(closest("zzzzzz", ["acks", "retries"]), None);
    }

    #[test]
    fn locates_lines_and_columns_in_characters() {
        let loc = Locator::new("f.toml", "a = 1\nbé = 2\n");
        assert_eq!(loc.line_col(0), (1, 1));
        assert_eq!(loc.line_col(6), (2, 1));
        assert_eq!(loc.line_col(9), (2, 3));
    }

    #[test]
    fn explains_unquoted_dotted_keys() {
        let hint = hint_for("unknown field `min`, expected one of `acks`, `min.insync.replicas`");
        assert_eq!(
            hint.as_deref(),
            Some("Kafka property names contain dots, so TOML needs them quoted: \"min.insync.replicas\" = …")
        );
    }
}
