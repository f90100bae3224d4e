//! The `[[pipelines]]` tables read into pipeline specs.

use super::*;
use crate::sim::app::pipeline::{Guarantee, PipelineSpec};

pub(super) fn pipelines(cx: &mut Ctx<'_>, defs: &[Spanned<PipelineDef>], topics: &[TopicSpec], producers: &[ProducerSpec], consumers: &[ConsumerSpec]) -> Vec<PipelineSpec> {
    let mut out: Vec<PipelineSpec> = Vec::new();
    let tnames: Vec<&str> = topics.iter().map(|t| t.name.as_str()).collect();
    for d in defs {
        let d = d.get_ref();
        let name = d.name.get_ref().clone();
        check_client_name(cx, "pipeline", &d.name);
        if out.iter().any(|p| p.name == name) {
            cx.err(d.name.span().start, format!("pipeline {} is declared twice", printable(&name)), None);
        }
        let consumer = consumer_ref(cx, &d.consumer, consumers);
        let pnames: Vec<&str> = producers.iter().map(|p| p.name.as_str()).collect();
        let producer = lookup(cx, "producer", Some(&d.producer), d.producer.span().start, &pnames);
        let output = match tnames.iter().position(|t| t == d.output.get_ref()) {
            Some(t) => Some(t as u32),
            None => {
                let hint = closest(d.output.get_ref(), tnames.iter().copied()).map(|b| format!("did you mean `{b}`?"));
                cx.err(d.output.span().start, format!("unknown topic {:?}", d.output.get_ref()), hint);
                None
            }
        };
        let guarantee = match &d.guarantee {
            None => Guarantee::AtLeastOnce,
            Some(g) => match Guarantee::ALL.iter().find(|x| x.name() == g.get_ref()) {
                Some(x) => *x,
                None => {
                    let hint = closest(g.get_ref(), Guarantee::ALL.iter().map(|x| x.name())).map_or("use at_least_once or exactly_once".to_string(), |b| format!("did you mean `{b}`?"));
                    cx.err(g.span().start, format!("unknown guarantee {:?}", g.get_ref()), Some(hint));
                    Guarantee::AtLeastOnce
                }
            },
        };
        let value = d.value.as_ref().map(|v| cx.text(v, "value").to_string());
        let (Some(consumer), Some(producer), Some(output)) = (consumer, producer, output) else { continue };
        let (cspec, pspec) = (&consumers[consumer as usize], &producers[producer as usize]);
        if cspec.topics.contains(&output) {
            cx.err(d.output.span().start, format!("pipeline {} would read its own output: consumer {} subscribes to {}", printable(&name), cspec.name, d.output.get_ref()), Some("write to another topic".into()));
        }
        if cspec.config.enable_auto_commit {
            cx.err(d.consumer.span().start, format!("consumer {} of pipeline {} has enable.auto.commit = true", cspec.name, printable(&name)), Some("a pipeline commits its offsets itself: remove \"enable.auto.commit\" from the consumer's config (or set it to false)".into()));
        }
        match (guarantee, pspec.config.transactional_id.is_some()) {
            (Guarantee::ExactlyOnce, false) => cx.err(
                d.producer.span().start,
                format!("pipeline {} is exactly_once, and producer {} has no transactional.id", printable(&name), pspec.name),
                Some("give the producer one in its config: `transactional.id = \"…\"`".into()),
            ),
            (Guarantee::AtLeastOnce, true) => cx.err(
                d.producer.span().start,
                format!("pipeline {} is at_least_once, and producer {} is transactional", printable(&name), pspec.name),
                Some("remove its transactional.id, or make the pipeline guarantee = \"exactly_once\"".into()),
            ),
            _ => {}
        }
        if let Some(other) = out.iter().find(|p| p.consumer == consumer || p.producer == producer) {
            cx.err(d.name.span().start, format!("pipeline {} shares a client with pipeline {}", printable(&name), other.name), Some("each pipeline has its own consumer and producer".into()));
        }
        // A pipeline's verdict matches its group's inputs with its output topic's results, so the
        // instances of one application share both, and no other group writes there.
        let group = &cspec.config.group_id;
        if let Some(other) = out.iter().find(|p| (&consumers[p.consumer as usize].config.group_id == group) != (p.output == output)) {
            cx.err(
                d.output.span().start,
                format!("pipeline {} and pipeline {} share a group or an output topic, but not both", printable(&name), other.name),
                Some("instances of one application read in one group and write one output topic; give another application its own group and output".into()),
            );
        }
        if topics[output as usize].initial_partitions == 0 {
            cx.err(d.output.span().start, format!("pipeline {}'s output {} is created by the timeline", printable(&name), d.output.get_ref()), Some("declare the output topic in [[topics]], so that it exists from the start".into()));
        }
        out.push(PipelineSpec { name, consumer, producer, output, value, guarantee });
    }
    out
}
