//! The `[[consumers]]` tables read into consumer specs.

use super::*;
use crate::sim::types::Strategy;

/// A subscription's topic names read into topic indices, in the order given without repeats: an
/// unknown name is refused with a did-you-mean hint, an empty list with `empty`.
pub(super) fn subscription(cx: &mut Ctx<'_>, list: &Spanned<Vec<String>>, tnames: &[&str], empty: &str) -> Vec<u32> {
    let mut subscribed = Vec::new();
    for t in list.get_ref() {
        match tnames.iter().position(|n| n == t) {
            Some(i) if !subscribed.contains(&(i as u32)) => subscribed.push(i as u32),
            Some(_) => {}
            None => {
                let hint = closest(t, tnames.iter().copied()).map(|b| format!("did you mean `{b}`?"));
                cx.err(list.span().start, format!("unknown topic {t:?}"), hint);
            }
        }
    }
    if list.get_ref().is_empty() {
        let example = tnames.first().map_or("orders", |t| t);
        cx.err(list.span().start, empty, Some(format!("name the topics to subscribe to, e.g. topics = [\"{example}\"]")));
    }
    subscribed
}

/// The consumers; those a pipeline runs (`piped`, by name) have the pipeline as their
/// application, which polls and commits as its guarantee says.
pub(super) fn consumers(cx: &mut Ctx<'_>, defs: &[Spanned<ConsumerDef>], topics: &[TopicSpec], producers: &[ProducerSpec], piped: &[&str]) -> Vec<ConsumerSpec> {
    let mut out: Vec<ConsumerSpec> = Vec::new();
    if defs.len() > limits::CONSUMERS {
        cx.err(defs[0].span().start, format!("more than {} consumers", limits::CONSUMERS), None);
        return out;
    }
    let tnames: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
    for d in defs {
        let at = d.span().start;
        let d = d.get_ref();
        let name = d.name.get_ref().clone();
        check_client_name(cx, "consumer", &d.name);
        if producers.iter().any(|p| p.name == name) || out.iter().any(|c| c.name == name) {
            cx.err(d.name.span().start, format!("consumer name {} is already used", printable(&name)), Some("every producer and consumer needs its own name".into()));
        }
        let subscribed = subscription(cx, &d.topics, &tnames, "a consumer must subscribe to at least one topic");
        let commit = match &d.commit {
            None => CommitPolicy::Auto,
            Some(c) => match CommitPolicy::ALL.iter().find(|p| p.name() == c.get_ref()) {
                Some(p) => *p,
                None => {
                    let hint = closest(c.get_ref(), CommitPolicy::ALL.iter().map(|p| p.name()))
                        .map_or("use auto, before-processing, after-processing or after-processing-async".to_string(), |b| format!("did you mean `{b}`?"));
                    cx.err(c.span().start, format!("unknown commit policy {:?}", c.get_ref()), Some(hint));
                    CommitPolicy::Auto
                }
            },
        };
        let worker = match d.processing.as_ref().map(|p| p.get_ref().as_str()) {
            None | Some("in-loop") => false,
            Some("worker") => true,
            Some(other) => {
                let span = d.processing.as_ref().map_or(at, |p| p.span().start);
                cx.err(span, format!("unknown processing mode {other:?}"), Some("use \"in-loop\" or \"worker\"".into()));
                false
            }
        };
        let in_pipeline = piped.contains(&name.as_str());
        if in_pipeline {
            let keys = [("commit", d.commit.as_ref().map(|c| c.span().start)), ("processing", d.processing.as_ref().map(|c| c.span().start)), ("application", d.application.as_ref().map(|c| c.span().start))];
            for (key, span) in keys {
                if let Some(span) = span {
                    cx.err(span, format!("consumer {} runs in a pipeline, which is its application", printable(&name)), Some(format!("remove `{key}`: the pipeline polls, processes and commits as its guarantee says")));
                }
            }
        }
        let scripted = in_pipeline || match d.application.as_ref().map(|a| a.get_ref().as_str()) {
            None | Some("loop") => false,
            Some("scripted") => true,
            Some(other) => {
                let span = d.application.as_ref().map_or(at, |a| a.span().start);
                let hint = closest(other, ["loop", "scripted"]).map_or("use \"loop\" or \"scripted\"".to_string(), |b| format!("did you mean `{b}`?"));
                cx.err(span, format!("unknown application {other:?}"), Some(hint));
                false
            }
        };
        if scripted {
            let span = d.application.as_ref().map_or(at, |a| a.span().start);
            if let Some(c) = &d.commit {
                cx.err(
                    c.span().start,
                    "a scripted application has no commit policy",
                    Some("remove `commit`: the timeline's commit_sync and commit_async say when it commits (and enable.auto.commit inside its polls)".into()),
                );
            }
            if worker {
                let span = d.processing.as_ref().map_or(span, |p| p.span().start);
                cx.err(span, "application = \"scripted\" with processing = \"worker\"", Some("a scripted application processes what each poll returns itself; remove `processing`".into()));
            }
        }
        let processing_ms = d.processing_ms.as_ref().map_or(5, |p| *p.get_ref());
        if processing_ms > limits::DURATION_MS {
            let span = d.processing_ms.as_ref().map_or(at, |p| p.span().start);
            cx.err(span, format!("processing_ms = {processing_ms} is beyond the limit of {} ms", limits::DURATION_MS), None);
        }
        let raw = d.config.as_ref().map(|c| c.get_ref().clone()).unwrap_or_default();
        let config_at = d.config.as_ref().map_or(at, |c| c.span().start);
        // A scripted application keeps Kafka's default enable.auto.commit = true; a pipeline
        // commits itself.
        let config = match raw.resolve(in_pipeline || (commit != CommitPolicy::Auto && !scripted)) {
            Ok(c) => c,
            Err(message) => {
                cx.err(config_at, message, None);
                // The consumer is kept, with the defaults, so that the timeline's references to it
                // raise no second, misleading error.
                let fallback = ConsumerConfigRaw { group_id: Some(name.clone()), ..Default::default() };
                let Ok(c) = fallback.resolve(false) else { continue };
                c
            }
        };
        if commit == CommitPolicy::Auto && !config.enable_auto_commit && !scripted {
            cx.err(
                config_at,
                "commit = \"auto\" with enable.auto.commit = false: this consumer would never commit",
                Some("set enable.auto.commit = true, or choose commit = \"after-processing\"".into()),
            );
        }
        if worker && commit != CommitPolicy::Auto {
            let span = d.processing.as_ref().map_or(at, |p| p.span().start);
            cx.err(span, "processing = \"worker\" is simulated with commit = \"auto\" only", Some("manual commits from a worker thread are not modelled".into()));
        }
        // The members' common assignors so far: a member that shares none with them would be
        // refused with INCONSISTENT_GROUP_PROTOCOL (modelled as a refusal of the file).
        let mut common: Option<Vec<Strategy>> = None;
        for other in out.iter().filter(|o| o.config.group_id == config.group_id) {
            let shared: Vec<Strategy> = common.as_ref().unwrap_or(&other.config.strategies).iter().copied().filter(|s| other.config.strategies.contains(s)).collect();
            common = Some(shared);
        }
        if let Some(common) = common.filter(|c| !c.iter().any(|s| config.strategies.contains(s))) {
            let names = |list: &[Strategy]| list.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ");
            cx.err(
                config_at,
                format!(
                    "group {:?}: this member's partition.assignment.strategy [{}] shares no assignor with the other members' [{}]",
                    config.group_id,
                    names(&config.strategies),
                    names(&common)
                ),
                Some("Kafka would fail its join with INCONSISTENT_GROUP_PROTOCOL; list an assignor the group already uses (a rolling upgrade lists both)".into()),
            );
        }
        out.push(ConsumerSpec {
            name,
            config,
            topics: subscribed,
            app: AppBehaviour { processing_ms, commit, worker, scripted, skip_bad_records: false },
            autostart: d.start.unwrap_or(true),
        });
    }
    out
}
