//! The group's choice of an assignor among those its members list (Kafka's group `protocol`).

use crate::sim::types::Strategy;

/// `ClassicGroup.selectProtocol`: among the assignors every member lists, each member votes for
/// the first of its own list, and the one with the most votes wins. Java counts the votes in a
/// `HashMap` and keeps the first maximum it meets, so a tie goes to the name met first in that
/// map's iteration order, which for these four names (16 buckets) is sticky, range, roundrobin,
/// cooperative-sticky. None when the members share no assignor (Java throws; the scenario reader
/// refuses such a group).
pub fn select_protocol(lists: &[&[Strategy]]) -> Option<Strategy> {
    const HASH_ORDER: [Strategy; 4] = [Strategy::Sticky, Strategy::Range, Strategy::RoundRobin, Strategy::CooperativeSticky];
    let candidates: Vec<Strategy> = HASH_ORDER.into_iter().filter(|s| lists.iter().all(|l| l.contains(s))).collect();
    let votes = |s: Strategy| lists.iter().filter(|l| l.iter().find(|x| candidates.contains(x)) == Some(&s)).count();
    let mut best: Option<(Strategy, usize)> = None;
    for s in candidates.iter().copied() {
        let n = votes(s);
        if n > 0 && best.is_none_or(|(_, m)| n > m) {
            best = Some((s, n));
        }
    }
    best.map(|(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::select_protocol;
    use crate::sim::types::Strategy::{self, CooperativeSticky as Coop, Range, RoundRobin, Sticky};

    fn pick(lists: &[&[Strategy]]) -> Strategy {
        select_protocol(lists).expect("a common assignor")
    }

    /// `ClassicGroup.selectProtocol`: only assignors every member lists count, each member votes
    /// for the first of them in its own list, and ties go to the name a Java `HashMap` of
    /// these four names iterates first (sticky, range, roundrobin, cooperative-sticky).
    #[test]
    fn the_group_picks_the_common_assignor_with_most_votes() {
        assert_eq!(pick(&[&[Range, Coop], &[Range, Coop]]), Range);
        assert_eq!(pick(&[&[Coop, Range], &[Range]]), Range, "only range is common");
        assert_eq!(pick(&[&[Coop, Range], &[Coop, Range], &[Range, Coop]]), Coop, "two votes to one");
        assert_eq!(pick(&[&[Range, Coop], &[Coop, Range]]), Range, "a tie: range comes first in the map");
        assert_eq!(pick(&[&[Coop, Sticky], &[Sticky, Coop]]), Sticky, "a tie: sticky comes first");
        assert_eq!(pick(&[&[Coop, RoundRobin], &[RoundRobin, Coop]]), RoundRobin, "a tie: roundrobin before cooperative-sticky");
        assert_eq!(pick(&[&[RoundRobin, Sticky, Range]]), RoundRobin, "one member: its first choice");
        assert_eq!(select_protocol(&[&[RoundRobin], &[Range]]), None, "nothing in common");
    }
}
