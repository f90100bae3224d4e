//! `kafkasim`: runs scenarios headless. Lecturers check their files with it; tests drive the model with it.

use clap::{Parser, Subcommand, ValueEnum};
use kafkasim::scenario::{self, ScenarioError};
use kafkasim::sim::describe::{describe_step, is_routine, step_json, TraceHash};
use kafkasim::explore;
use kafkasim::sim::assignor;
use kafkasim::sim::avro::{self, Level, Schema as AvroSchema};
use kafkasim::sim::invariants::Invariant;
use kafkasim::sim::murmur2::partition_for_key;
use kafkasim::sim::{Sim, Step};
use serde::Serialize;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "kafkasim", version, about = "A deterministic, step-by-step simulator of Apache Kafka for teaching")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and print its narrated trace (or JSON).
    Run {
        /// The scenario file.
        file: PathBuf,
        /// Seed for the run (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Stop at this virtual time in ms (default: the scenario's `duration_ms`).
        #[arg(long)]
        until: Option<u64>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Also print routine steps (heartbeats, empty fetches) in the text trace.
        #[arg(long)]
        all: bool,
    },
    /// Run every scenario's expectations; one line each and a closing tally.
    Check {
        /// Scenario files, or folders of `*.toml` files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Write a commented scenario template, NAME.toml, that passes `check`.
    New {
        /// The lesson's file name, without `.toml` (also its title until you change it).
        name: String,
    },
    /// Parse and validate a scenario without running it.
    Validate {
        /// The scenario file.
        file: PathBuf,
    },
    /// Read a group's subscriptions as JSON on stdin and print the assignment the leader computes.
    Assign {
        /// `partition.assignment.strategy`: range, roundrobin, sticky or cooperative-sticky.
        #[arg(long)]
        strategy: String,
    },
    /// Run a scenario under many seeds with faults injected, check the invariants after every
    /// step, and write the first counterexample as a minimal scenario file. Exits 1 when one is found.
    Explore {
        /// The scenario file.
        file: PathBuf,
        /// Seeds to try: `A..B` (B excluded) or one seed.
        #[arg(long, default_value = "0..100", value_parser = parse_seeds)]
        seeds: std::ops::Range<u64>,
        /// Fault kinds to inject, comma-separated: crash, partition, loss, latency, consumer-crash.
        #[arg(long, default_value = "crash,partition,loss,latency,consumer-crash")]
        faults: String,
        /// Where to write the counterexample (default: `<file name>-seed<N>.toml` here).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print Schema Registry's verdict on a new Avro schema under every compatibility level, and
    /// which applications to upgrade first. Exits 1 when `--level` refuses it.
    SchemaCheck {
        /// The subject's versions oldest first (`.avsc` files), then the new schema last.
        #[arg(required = true, num_args = 2..)]
        files: Vec<PathBuf>,
        /// Exit 1 unless this level accepts the new schema (BACKWARD, FORWARD_TRANSITIVE…).
        #[arg(long)]
        level: Option<String>,
    },
    /// Print the partition the Java client's partitioner picks for each key, one per line.
    Partition {
        /// Number of partitions of the topic.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        partitions: u32,
        /// Keys (end the options with `--` when a key starts with `-`).
        #[arg(required = true)]
        keys: Vec<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    /// One line: the trace hash the page also shows, and the step count.
    Hash,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { file, seed, until, format, all } => run(&file, seed, until, format, all),
        Command::Check { paths } => check(&paths),
        Command::New { name } => new_scenario(&name),
        Command::Validate { file } => validate(&file),
        Command::Assign { strategy } => assign(&strategy),
        Command::Explore { file, seeds, faults, out } => explore_cmd(&file, seeds, faults, out),
        Command::SchemaCheck { files, level } => schema_check(&files, level.as_deref()),
        Command::Partition { partitions, keys } => {
            let mut out = io::stdout().lock();
            for key in keys {
                let _ = writeln!(out, "{}", partition_for_key(&key, partitions));
            }
            Ok(ExitCode::SUCCESS)
        }
    };
    result.unwrap_or_else(|errors| {
        for e in errors {
            eprintln!("{e}");
        }
        ExitCode::from(2)
    })
}

fn parse_seeds(text: &str) -> Result<std::ops::Range<u64>, String> {
    let number = |t: &str| t.trim().parse::<u64>().map_err(|_| format!("{t:?} is not a seed; expected a number such as 17"));
    match text.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (number(a)?, number(b)?);
            if a >= b {
                return Err(format!("{a}..{b} holds no seed; the end is excluded, so write {a}..{}", a + 1));
            }
            Ok(a..b)
        }
        None => {
            let a = number(text)?;
            // The range's end is excluded, so the largest seed cannot be named on its own.
            a.checked_add(1).map(|b| a..b).ok_or_else(|| format!("{a} is past the last seed that can be explored, {}", u64::MAX - 1))
        }
    }
}

/// `kafkasim explore`: the search runs to its end in one go; progress goes to stderr.
fn explore_cmd(file: &Path, seeds: std::ops::Range<u64>, faults: String, out: Option<PathBuf>) -> Result<ExitCode, Vec<ScenarioError>> {
    let kinds = match explore::FaultKind::parse_list(&faults) {
        Ok(kinds) => kinds,
        Err(message) => {
            eprintln!("error: --faults {faults}: {message}");
            return Ok(ExitCode::from(2));
        }
    };
    let scenario = scenario::load(file)?;
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let kind_names: Vec<_> = kinds.iter().map(|k| k.name()).collect();
    let options = explore::Options { seeds: seeds.clone(), kinds: kinds.clone() };
    let mut explorer = explore::Explorer::new(scenario.clone(), options);
    let safe = explorer.safe();
    println!(
        "exploring {} with seeds {}..{} and faults {}; the configuration is {}",
        file.display(),
        seeds.start,
        seeds.end,
        kind_names.join(","),
        if safe { "safe (acks=all, min.insync.replicas ≥ 2, no unclean election)" } else { "unsafe: Kafka does not promise that acknowledged records survive" }
    );
    let names: Vec<_> = Invariant::ALL.iter().map(|i| i.name()).collect();
    println!("invariants checked after every step: {}", names.join(", "));
    let started = std::time::Instant::now();
    let progress = loop {
        match explorer.work(1_000_000) {
            explore::Progress::Working => {}
            done => break done,
        }
    };
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    let rate = format!(
        "{} seed(s) in {secs:.2} s: {:.0} seeds/s, {:.0} steps/s",
        explorer.seeds_done,
        explorer.seeds_done as f64 / secs,
        explorer.steps_done as f64 / secs
    );
    match progress {
        explore::Progress::Found(found) => {
            let stem = file.file_stem().map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
            let out = out.unwrap_or_else(|| PathBuf::from(format!("{stem}-seed{}.toml", found.seed)));
            let command = format!("kafkasim explore {} --seeds {} --faults {}", file.display(), found.seed, kind_names.join(","));
            let written = found.scenario_text(&text, &scenario, &command);
            println!(
                "seed {} breaks {}: {}\n  at step {} ({} ms): {}\n  fault schedule shrunk from {} to {} fault(s) in {} run(s)",
                found.seed,
                found.violation.invariant.name(),
                found.violation.invariant.sentence(),
                found.step,
                found.time,
                found.violation.detail,
                found.faults_before_shrinking,
                found.faults.len(),
                explorer.shrink_runs,
            );
            if !found.safe {
                println!("  (the configuration is unsafe, so this is a weakness Kafka documents, not a bug)");
            }
            match std::fs::write(&out, written) {
                Ok(()) => println!("  wrote {}; reproduce with: {command}\n{rate}", out.display()),
                Err(e) => {
                    eprintln!("error: cannot write {}: {e}", out.display());
                    return Ok(ExitCode::from(2));
                }
            }
            Ok(ExitCode::from(1))
        }
        _ => {
            println!("no invariant broken; {rate}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignInput {
    partitions_per_topic: std::collections::BTreeMap<String, u32>,
    members: Vec<assignor::Member>,
}

/// `kafkasim assign`: errors are reported on stderr with exit code 2, like every bad input.
fn assign(strategy: &str) -> Result<ExitCode, Vec<ScenarioError>> {
    let fail = |message: String| {
        eprintln!("error: {message}");
        Ok(ExitCode::from(2))
    };
    let Some(strategy) = assignor::Strategy::parse(strategy) else {
        return fail(format!("unknown strategy {strategy:?}; expected range, roundrobin, sticky or cooperative-sticky"));
    };
    let mut text = String::new();
    if let Err(e) = io::Read::read_to_string(&mut io::stdin(), &mut text) {
        return fail(format!("cannot read standard input: {e}"));
    }
    let input: AssignInput = match serde_json::from_str(&text) {
        Ok(i) => i,
        Err(e) => return fail(format!("<stdin>:{}:{}: {e}", e.line(), e.column())),
    };
    // The same limits as a scenario file's: the assignors build every partition of every topic.
    let total: u64 = input.partitions_per_topic.values().map(|&n| u64::from(n)).sum();
    if let Some((topic, n)) = input.partitions_per_topic.iter().find(|(_, &n)| n > scenario::limits::PARTITIONS_PER_TOPIC) {
        return fail(format!("topic {topic:?} has {n} partitions; the limit is {}", scenario::limits::PARTITIONS_PER_TOPIC));
    }
    if total > u64::from(scenario::limits::PARTITIONS_TOTAL) {
        return fail(format!("the topics have {total} partitions in all; the limit is {}", scenario::limits::PARTITIONS_TOTAL));
    }
    if input.members.len() > scenario::limits::CONSUMERS {
        return fail(format!("{} members; the limit is {}", input.members.len(), scenario::limits::CONSUMERS));
    }
    let partitions_per_topic = input.partitions_per_topic.into_iter().collect();
    match assignor::assign(strategy, &partitions_per_topic, &input.members) {
        Ok(result) => {
            println!("{}", serde_json::to_string(&result).expect("assignments serialize"));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => fail(e.to_string()),
    }
}

/// Reads each schema file, located errors for the first that is not a schema, then the verdict.
fn schema_check(files: &[PathBuf], level: Option<&str>) -> Result<ExitCode, Vec<ScenarioError>> {
    let fail = |message: String, hint: &str| {
        eprintln!("error: {message}
  hint: {hint}");
        Ok(ExitCode::from(2))
    };
    let level = match level.map(|name| (name, Level::from_name(&name.to_ascii_uppercase()))) {
        Some((name, None)) => {
            let names: Vec<&str> = Level::ALL.iter().map(|l| l.name()).collect();
            return fail(format!("unknown compatibility level {name:?}"), &format!("one of {}", names.join(", ")));
        }
        Some((_, level)) => level,
        None => None,
    };
    let mut schemas = Vec::with_capacity(files.len());
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) if t.len() <= scenario::limits::FILE_BYTES => t,
            Ok(t) => return fail(format!("{}: {} bytes; the limit is {}", file.display(), t.len(), scenario::limits::FILE_BYTES), "a schema file is a few kilobytes of JSON"),
            Err(e) => return fail(format!("cannot read {}: {e}", file.display()), "give the path of an .avsc file"),
        };
        match AvroSchema::parse_str(&text) {
            Ok(s) => schemas.push(s),
            Err(e) => {
                let place = match (e.line_column, &e.at) {
                    (Some((line, column)), _) => format!("{}:{line}:{column}", file.display()),
                    (None, Some(at)) => format!("{}: at {at}", file.display()),
                    (None, None) => file.display().to_string(),
                };
                return fail(format!("{place}: {} ({})", e.message, e.class.java()), "an Avro schema is JSON: a type name such as \"string\", or an object with \"type\" (record, enum, array, map, fixed), or a list (a union)");
            }
        }
    }
    let (new, versions) = schemas.split_last().expect("clap requires two files");
    print!("{}", avro::verdict::describe(new, versions));
    let refused = level.is_some_and(|level| !avro::registry_level(level, new, versions).is_empty());
    Ok(if refused { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn validate(file: &Path) -> Result<ExitCode, Vec<ScenarioError>> {
    let s = scenario::load(file)?;
    println!(
        "{}: ok — {:?}: {} broker(s), {} topic(s), {} producer(s), {} timeline entr(ies), {} expectation(s)",
        file.display(),
        s.title,
        s.setup.brokers,
        s.setup.topics.len(),
        s.setup.producers.len(),
        s.setup.timeline.len(),
        s.expectations.len()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct JsonExpectation {
    line: usize,
    time: u64,
    passed: bool,
    checks: Vec<JsonCheck>,
}

#[derive(Serialize)]
struct JsonCheck {
    description: String,
    actual: String,
    passed: bool,
}

fn run(file: &Path, seed: Option<u64>, until: Option<u64>, format: Format, all: bool) -> Result<ExitCode, Vec<ScenarioError>> {
    let s = scenario::load(file)?;
    let seed = seed.unwrap_or(s.seed);
    let until_ms = until.unwrap_or(s.duration_ms);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match format {
        Format::Text => {
            let _ = writeln!(out, "# {}\n# {}\n# seed {seed}, until {until_ms} ms\n", s.title, s.summary);
            let mut hidden = 0u64;
            let outcome = s.run(seed, Some(until_ms), |sim: &Sim, step: Step| {
                if all || !is_routine(&step) {
                    let _ = writeln!(out, "{}", describe_step(sim, &step));
                } else {
                    hidden += 1;
                }
            });
            if hidden > 0 {
                let _ = writeln!(out, "\n({hidden} routine steps hidden: heartbeats and fetches that changed nothing; --all shows them)");
            }
            write_summary(&mut out, &outcome.sim);
            for r in &outcome.results {
                for c in &r.checks {
                    let mark = if c.passed { "ok  " } else { "FAIL" };
                    let _ = writeln!(out, "{mark} line {} at {} ms: {} (got {})", r.line, r.time, c.description, c.actual);
                }
            }
            if outcome.step_limit_hit {
                let _ = writeln!(out, "stopped at the limit of {} steps", scenario::limits::STEPS);
            }
            if let Some(stall) = &outcome.stalled {
                let _ = writeln!(out, "stopped: {stall}");
            }
        }
        Format::Hash => {
            let mut hash = TraceHash::default();
            let outcome = s.run(seed, Some(until_ms), |sim: &Sim, step: Step| hash.add(sim, &step));
            let _ = writeln!(out, "{} {}", hash.hex(), outcome.sim.steps_taken());
        }
        Format::Json => {
            let mut steps = Vec::new();
            let outcome = s.run(seed, Some(until_ms), |sim: &Sim, step: Step| steps.push(step_json(sim, &step)));
            let expectations: Vec<JsonExpectation> = outcome
                .results
                .iter()
                .map(|r| JsonExpectation {
                    line: r.line,
                    time: r.time,
                    passed: r.passed(),
                    checks: r.checks.iter().map(|c| JsonCheck { description: c.description.clone(), actual: c.actual.clone(), passed: c.passed }).collect(),
                })
                .collect();
            let doc = serde_json::json!({
                "title": s.title,
                "seed": seed,
                "until_ms": until_ms,
                "topics": outcome.sim.topics.iter().map(|t| serde_json::json!({ "name": t.name, "partitions": t.partitions })).collect::<Vec<_>>(),
                "steps": steps,
                "final_state": outcome.sim.state_view(),
                "ledger": outcome.sim.ledger_view(),
                "expectations": expectations,
                "step_limit_hit": outcome.step_limit_hit,
                "stalled": outcome.stalled.as_ref().map(ToString::to_string),
            });
            let _ = serde_json::to_writer_pretty(&mut out, &doc);
            let _ = writeln!(out);
        }
    }
    let _ = out.flush();
    Ok(ExitCode::SUCCESS)
}

fn write_summary(out: &mut impl Write, sim: &Sim) {
    let _ = writeln!(out, "\n== at {} ms after {} steps ==", sim.now(), sim.steps_taken());
    for &tp in &sim.tps {
        let p = sim.partition_view(tp);
        let leader = p.leader.map_or("OFFLINE".to_string(), |l| format!("leader broker-{l}"));
        let _ = writeln!(out, "{}: {leader}, epoch {}, ISR {:?}", p.name, p.leader_epoch, p.isr);
        for r in &p.replicas {
            let values: Vec<String> = r.log.iter().map(|e| e.value.clone()).collect();
            let shown = if values.len() > 12 { format!("{} records", values.len()) } else { format!("{values:?}") };
            let _ = writeln!(
                out,
                "  broker-{} {:<8}{} LEO {} HW {} log {shown}",
                r.broker,
                r.role,
                if r.up { "" } else { " (down)" },
                r.log_end_offset,
                r.high_watermark
            );
        }
    }
    let t = sim.ledger_totals();
    // Said only when it happened, so that the summaries of runs without retention stay as they were.
    let deleted = if t.deleted_by_retention > 0 { format!(", {} deleted by retention", t.deleted_by_retention) } else { String::new() };
    let aborted = if t.aborted > 0 { format!(", {} in aborted transactions", t.aborted) } else { String::new() };
    let _ = writeln!(
        out,
        "records: {} sent, {} acknowledged, {} failed, {} lost ({} of them acknowledged){deleted}, {} duplicated, {} out of order{aborted}",
        t.sent, t.acknowledged, t.failed, t.lost, t.acknowledged_lost, t.duplicated, t.out_of_order
    );
    for g in 0..sim.groups.len() as u32 {
        let v = sim.group_view(g);
        let members: Vec<String> = v.members.iter().map(|m| format!("{} {:?}", m.consumer, m.assignment)).collect();
        let committed: Vec<String> = v.committed.iter().map(|(p, o)| format!("{p}={o}")).collect();
        let state = v.state.map_or("no coordinator", |s| s.name());
        let _ = writeln!(
            out,
            "group {}: {state}, generation {}, {} ({}), members [{}], committed [{}]",
            v.name,
            v.generation,
            v.protocol,
            v.rebalance_protocol,
            members.join(", "),
            committed.join(", ")
        );
        let l = sim.group_ledger_totals(g);
        let t = &l.totals;
        let aborted = if t.aborted_processed > 0 { format!(", {} of aborted transactions processed", t.aborted_processed) } else { String::new() };
        let _ = writeln!(
            out,
            "  processed {}, lost {}, duplicated {}, pending {}, out of order {}, lag {}, rebalances {}{aborted}: {}",
            t.processed,
            t.lost,
            t.duplicated,
            t.pending,
            t.out_of_order,
            t.lag,
            l.rebalances,
            l.verdict.name()
        );
    }
    for i in 0..sim.pipelines.len() {
        let v = sim.pipeline_view(i);
        let r = &v.results;
        let _ = writeln!(
            out,
            "pipeline {} ({}, {} → {} → {}): {}, {} batch(es) done, {} redone; of {} inputs below the committed offsets {} have no result in {} and {} several: {}",
            v.name, v.guarantee, v.consumer, v.producer, v.output, v.stage.name(), v.batches_committed, v.batches_redone, r.inputs, r.lost, v.output, r.duplicated, v.verdict
        );
    }
}

fn scenario_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).filter(|f| f.extension().is_some_and(|x| x == "toml")).collect())
                .unwrap_or_default();
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    files
}

/// The template `kafkasim new` writes.
const TEMPLATE: &str = include_str!("template.toml");

fn new_scenario(name: &str) -> Result<ExitCode, Vec<ScenarioError>> {
    let path = PathBuf::from(if name.ends_with(".toml") { name.to_string() } else { format!("{name}.toml") });
    let fail = |message: String, hint: Option<String>| vec![ScenarioError { file: path.display().to_string(), line: 1, column: 1, message, hint }];
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or(name);
    let title = stem.replace(['-', '_'], " ");
    let text = TEMPLATE.replace("\"TITLE\"", &format!("{title:?}"));
    let mut file = match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(fail("the file already exists".into(), Some("choose another name, or delete the file first".into())));
        }
        Err(e) => return Err(fail(format!("cannot write the file: {e}"), None)),
    };
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|e| fail(format!("cannot write the file: {e}"), None))?;
    println!("wrote {}: check it with `kafkasim check {}`", path.display(), path.display());
    Ok(ExitCode::SUCCESS)
}

fn check(paths: &[PathBuf]) -> Result<ExitCode, Vec<ScenarioError>> {
    let (mut passed, mut failed, mut invalid) = (0, 0, 0);
    for file in scenario_files(paths) {
        match scenario::load(&file) {
            Err(errors) => {
                invalid += 1;
                println!("INVALID {}", file.display());
                for e in errors {
                    println!("  {}", e.to_string().replace('\n', "\n  "));
                }
            }
            Ok(s) => {
                let report = s.verify();
                if report.failures.is_empty() {
                    passed += 1;
                    println!("PASS {} — {} ({} checks)", file.display(), s.title, report.checks);
                } else {
                    failed += 1;
                    println!("FAIL {} — {}", file.display(), s.title);
                    for f in &report.failures {
                        println!("  {f}");
                    }
                }
            }
        }
    }
    println!("{} passed, {} failed", passed, failed + invalid);
    Ok(if invalid > 0 {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
