//! Short definitions of Kafka terms, shown as tooltips wherever the terms appear.

use yew::prelude::*;

/// (term as written, definition). Matching is exact and case-sensitive, on whole words.
pub const TERMS: &[(&str, &str)] = &[
    ("ISR", "In-sync replicas: the leader and the followers that are caught up. Only they may become leader in a clean election."),
    ("HW", "High watermark: the offset up to which every ISR member has the record. Consumers read only below it."),
    ("LEO", "Log end offset: the offset the next record appended to this replica will get."),
    ("acks", "Producer setting: 0 = do not wait, 1 = the leader has it, all = every ISR member has it."),
    ("acks=1", "The leader answers once the record is in its own log; followers may not have it yet."),
    ("acks=all", "The leader answers once every ISR member has the record (and the ISR has at least min.insync.replicas)."),
    ("acks=0", "The producer does not wait for any answer: a lost request is never noticed."),
    ("epoch", "Leader epoch: a counter the controller raises at every leader election; stale leaders are recognised by it."),
    ("generation", "Group generation: raised at every rebalance; commits from an older generation are rejected."),
    ("offset", "The position of a record in its partition: 0, 1, 2…"),
    ("leader", "The replica that takes writes and serves reads for a partition."),
    ("follower", "A replica that copies the leader by fetching from it."),
    ("coordinator", "The broker that runs a consumer group: the leader of the group's __consumer_offsets partition."),
    ("rebalance", "The group reassigns partitions among its members (JoinGroup, then SyncGroup)."),
    ("committed", "The committed offset: the next record the group will read after a restart."),
    ("position", "The consumer's position: the offset of the next record it will fetch."),
    ("lag", "End offset minus committed offset: how far a group is behind."),
    ("min.insync.replicas", "acks=all writes fail with NOT_ENOUGH_REPLICAS when the ISR is smaller than this."),
    ("NOT_ENOUGH_REPLICAS", "The ISR is smaller than min.insync.replicas, so an acks=all write is refused."),
    ("truncates", "A follower removes records the new leader does not have, so its log matches the leader's."),
    ("fenced", "The controller stopped trusting the broker (no heartbeat in time): it leads nothing."),
];

fn definition(word: &str) -> Option<&'static str> {
    TERMS.iter().find(|(t, _)| *t == word).map(|(_, d)| *d)
}

/// Renders text with glossary terms wrapped in `<abbr>` tooltips. Text stays text: nothing in
/// it is ever interpreted as markup.
pub fn annotate(text: &str) -> Html {
    let mut parts: Vec<Html> = Vec::new();
    let mut plain = String::new();
    let mut word = String::new();
    let flush_word = |word: &mut String, plain: &mut String, parts: &mut Vec<Html>| {
        let trimmed = word.trim_end_matches([',', '.', ':', ';', ')']);
        match definition(trimmed) {
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
pub fn term(label: &str) -> Html {
    match definition(label) {
        Some(def) => html! { <abbr class="term" title={def}>{label.to_string()}</abbr> },
        None => Html::from(label.to_string()),
    }
}
