//! The real-cluster part of the conformance harness: each case in `conformance/cluster/cases/*.json` runs on
//! a fresh three-broker KRaft cluster of Apache Kafka 4.1.2 (the Java program in `conformance/cluster/`) and,
//! translated into a scenario, in the simulator; their outcomes must agree. The outcome is what a user of
//! Kafka can see, not its timing: the result of every produced record (its offset, or the exception the
//! producer's callback got), what a fresh read_uncommitted consumer reading from the beginning gets at each
//! `consume_all`, the leader and ISR at each wait and `observe` and at the end, and how many unclean
//! elections the controller made; with consumers in a group, also what each consumer's polls returned,
//! its rebalance listener's calls, the exception that stopped it, its assignment, the group's state and
//! assignment at each `wait_group`, and the committed offsets; with transactions, the result of every
//! transaction op (the exception class and its cause's), read_committed reads, and the last stable
//! offset at `wait_lso` and `end_offsets`.
//!
//! The tests start JVMs and take minutes, so they are `#[ignore]`d: `cargo xtask conformance` runs them with
//! `--include-ignored --nocapture`, or run them alone with
//! `cargo test --release --test conformance_cluster -- --include-ignored --nocapture`.
//! `CLUSTER_CASES=name,name` limits the run to those cases. `CLUSTER_OUTCOMES=DIR` keeps each real outcome in
//! `DIR/NAME.json` and reuses it on later runs instead of starting a cluster, which is for working on the
//! simulator side against outcomes already measured (delete a file to measure that case again).

use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

/// Virtual time of the first operation: the simulated cluster has elected its leaders and its followers
/// have fetched by then, which is the state the Java side waits for before its first operation.
const SIM_START_MS: u64 = 1000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn project() -> PathBuf {
    root().join("conformance").join("cluster")
}

/// The cases, sorted by file name, limited to `CLUSTER_CASES` when it is set. `CLUSTER_PENDING=1` takes
/// them from `pending/` instead: cases on which the simulator is known to disagree, kept out of the
/// run until the simulator is fixed (conformance/cluster/README.md lists them).
fn case_files() -> Vec<PathBuf> {
    let only: Option<Vec<String>> = std::env::var("CLUSTER_CASES").ok().map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let dir = if std::env::var_os("CLUSTER_PENDING").is_some() { "pending" } else { "cases" };
    // `pending/` exists only while some case waits for a fix of the simulator.
    let Ok(entries) = std::fs::read_dir(project().join(dir)) else {
        assert_eq!(dir, "pending", "conformance/cluster/cases exists");
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| only.as_ref().is_none_or(|o| o.iter().any(|n| p.file_stem().is_some_and(|s| s == n.as_str()))))
        .collect();
    files.sort();
    files
}

fn newest_mtime(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).expect("readable directory") {
        let path = entry.expect("readable entry").path();
        let t = if path.is_dir() { newest_mtime(&path) } else { path.metadata().and_then(|m| m.modified()).expect("mtime") };
        newest = newest.max(t);
    }
    newest
}

/// Builds the harness jar when it is missing or older than its sources or its pom.
fn ensure_jar() -> PathBuf {
    let jar = project().join("target").join("cluster-harness.jar");
    let sources = newest_mtime(&project().join("src")).max(project().join("pom.xml").metadata().and_then(|m| m.modified()).expect("pom.xml"));
    let stale = jar.metadata().and_then(|m| m.modified()).map_or(true, |built| built < sources);
    if stale {
        let status = Command::new("mvn")
            .args(["-q", "-B", "-f"])
            .arg(project().join("pom.xml"))
            .args(["package", "-DskipTests"])
            .status()
            .expect("mvn runs (Maven 3 and a JDK 17 are needed)");
        assert!(status.success(), "building conformance/cluster failed: {status}");
    }
    jar
}

/// Runs a case on a real cluster; Err carries the harness's stderr when it could not complete the case.
/// The harness picks each node's port by opening and closing a socket, and another process may take
/// the port before the node binds it; a cluster that failed to start that way is started again (at
/// most twice more), and nothing else is retried.
fn run_real(jar: &Path, case: &Path) -> Result<Value, String> {
    let mut attempt = 1;
    loop {
        match run_real_once(jar, case) {
            Err(e) if attempt < 3 && port_taken(&e) => {
                eprintln!("cluster case {}: a node could not bind the port chosen for it; starting the cluster again", case.display());
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Whether a harness failure is a node that exited at start because its port was taken: the
/// harness names the node's directory, whose `server.log` says so.
fn port_taken(stderr: &str) -> bool {
    let Some(dir) = stderr.split("exited with").nth(1).and_then(|rest| rest.split("; see ").nth(1)).and_then(|rest| rest.split_whitespace().next()) else {
        return false;
    };
    std::fs::read_to_string(Path::new(dir).join("server.log")).is_ok_and(|log| log.contains("Address already in use"))
}

fn run_real_once(jar: &Path, case: &Path) -> Result<Value, String> {
    let lib = project().join("target").join("lib").join("*");
    let out = Command::new("java")
        .arg("-cp")
        .arg(format!("{}:{}", jar.display(), lib.display()))
        .arg("kafkasim.cluster.Harness")
        .arg(case)
        .output()
        .expect("java runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(format!("the real cluster could not run the case ({}):\n{stderr}", out.status));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("the harness printed no outcome ({e}):\n{stderr}"))
}

/// The case's real outcome: measured now, or read from `CLUSTER_OUTCOMES` when it was measured before.
fn real_outcome(jar: &Path, case: &Path, name: &str) -> Result<Value, String> {
    let Some(dir) = std::env::var_os("CLUSTER_OUTCOMES").map(PathBuf::from) else {
        return run_real(jar, case);
    };
    let saved = dir.join(format!("{name}.json"));
    if let Ok(text) = std::fs::read_to_string(&saved) {
        eprintln!("cluster case {name}: the real outcome is the one saved in {}", saved.display());
        return serde_json::from_str(&text).map_err(|e| format!("{} is not an outcome: {e}", saved.display()));
    }
    let outcome = run_real(jar, case)?;
    std::fs::create_dir_all(&dir).expect("CLUSTER_OUTCOMES directory");
    std::fs::write(&saved, serde_json::to_string_pretty(&outcome).expect("JSON")).expect("outcome saved");
    Ok(outcome)
}

/// A moment of the simulated run whose state stands for one of the Java side's observations.
struct Snapshot {
    step: usize,
    op: String,
    at: u64,
}

/// A case as a scenario: its text, the moments to look at, and when it ends.
struct Plan {
    toml: String,
    snapshots: Vec<Snapshot>,
    end: u64,
    /// When each step's stretch of virtual time begins, and last the end of the last one.
    step_at: Vec<u64>,
}

/// The case's producers in the Java side's order, as (the case's name, the scenario's name, config):
/// `producer` (named "producer" in the case, "app" in the scenario, as before there were several)
/// when the case has one or lists no `producers`, then those of `producers`.
fn case_producers(case: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    if case.get("producer").is_some() || case.get("producers").is_none() {
        out.push(("producer".to_string(), "app".to_string(), case.get("producer").cloned().unwrap_or(json!({}))));
    }
    for p in case.get("producers").and_then(Value::as_array).into_iter().flatten() {
        let name = p["name"].as_str().expect("a producer's name").to_string();
        assert!(name != "app" && name != "producer" && out.iter().all(|(n, _, _)| *n != name), "producers: the name {name} is taken");
        out.push((name.clone(), name, p.get("config").cloned().unwrap_or(json!({}))));
    }
    out
}

/// The producer a step uses, by its case name: the one it names, else `producer` if the case has it,
/// else the only one (the Java side's rule).
fn step_producer(case: &Value, step: &Value) -> String {
    if let Some(name) = step.get("producer").and_then(Value::as_str) {
        return name.to_string();
    }
    let producers = case_producers(case);
    if producers.iter().any(|(n, _, _)| n == "producer") || producers.len() != 1 {
        return "producer".to_string();
    }
    producers[0].0.clone()
}

/// The scenario's name of a case's producer.
fn sim_producer_name(case: &Value, name: &str) -> String {
    case_producers(case).into_iter().find(|(n, _, _)| n == name).unwrap_or_else(|| panic!("no producer {name} in the case")).1
}

/// A TOML value for a JSON scalar (settings are numbers, booleans or strings).
fn toml_value(v: &Value) -> String {
    match v {
        Value::String(s) => toml_str(s),
        Value::Bool(_) | Value::Number(_) => v.to_string(),
        other => panic!("a setting must be a scalar, not {other}"),
    }
}

/// A TOML basic string: JSON's escapes (`\"`, `\\`, `\n`, `\uXXXX`) are TOML's too.
fn toml_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

fn toml_table(obj: &Value) -> String {
    let fields: Vec<String> = obj.as_object().map_or_else(Vec::new, |m| m.iter().map(|(k, v)| format!("{} = {}", toml_str(k), toml_value(v))).collect());
    format!("{{ {} }}", fields.join(", "))
}

fn u64_of(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or_else(|| panic!("{key} must be a number in {v}"))
}

/// Translates the case into a scenario. Operations the Java side waits for (a shrunk ISR, a new leader)
/// become generous stretches of virtual time, so that the simulated events happen in the same order;
/// each op's `sim_ms` overrides its stretch. At the end of a wait's stretch the simulator must have reached
/// what the Java side waited for.
fn translate(case: &Value) -> Plan {
    let topic = &case["topic"];
    let name = topic["name"].as_str().expect("topic.name");
    let assignment = topic["replica_assignment"].as_array().expect("topic.replica_assignment");
    let rf = assignment[0].as_array().expect("a replica list").len();
    let mut t = String::new();
    let _ = writeln!(t, "title = {}", toml_str(&format!("conformance: {}", case["name"].as_str().expect("name"))));
    let _ = writeln!(t, "summary = {}", toml_str(case["description"].as_str().unwrap_or("")));
    let _ = writeln!(t, "seed = 1");
    let _ = writeln!(t, "DURATION");
    let _ = writeln!(t, "\n[cluster]\nbrokers = {}", case["brokers"].as_u64().unwrap_or(3));
    // Loopback: the real cluster's links are sub-millisecond.
    let _ = writeln!(t, "network = {{ latency_ms = 1 }}");
    let consumers = case.get("consumers").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut broker_config = case["broker_config"].clone();
    // The settings the harness gives every broker unless the case does (conformance/cluster/README.md).
    let group_ops = case["steps"].as_array().expect("steps").iter().any(|s| ["send_offsets_to_transaction", "list_group_offsets"].contains(&s["op"].as_str().unwrap_or("")));
    if !consumers.is_empty() || group_ops {
        let m = broker_config.as_object_mut().expect("broker_config is an object");
        m.entry("offsets.topic.replication.factor").or_insert(json!(1));
        m.entry("group.initial.rebalance.delay.ms").or_insert(json!(0));
    }
    let producers = case_producers(case);
    if producers.iter().any(|(_, _, c)| c.get("transactional.id").is_some()) {
        let m = broker_config.as_object_mut().expect("broker_config is an object");
        m.entry("transaction.state.log.replication.factor").or_insert(json!(1));
        m.entry("transaction.state.log.min.isr").or_insert(json!(1));
    }
    let _ = writeln!(t, "config = {}", toml_table(&broker_config));
    let _ = writeln!(t, "\n[[topics]]\nname = {}\npartitions = {}", toml_str(name), assignment.len());
    let _ = writeln!(t, "\"replication.factor\" = {rf}\n\"replica.assignment\" = {}", Value::Array(assignment.clone()));
    let _ = writeln!(t, "config = {}", toml_table(&topic["config"]));
    // `extra_topics`: more topics for the consumers, after the case's topic (which stays the first).
    for extra in case.get("extra_topics").and_then(Value::as_array).into_iter().flatten() {
        let a = extra["replica_assignment"].as_array().expect("extra_topics replica_assignment");
        let _ = writeln!(t, "\n[[topics]]\nname = {}\npartitions = {}", toml_str(extra["name"].as_str().expect("extra topic name")), a.len());
        let _ = writeln!(t, "\"replication.factor\" = {}\n\"replica.assignment\" = {}", a[0].as_array().expect("a replica list").len(), Value::Array(a.clone()));
        let _ = writeln!(t, "config = {}", toml_table(&extra["config"]));
    }
    for (_, sim_name, config) in &producers {
        let _ = writeln!(t, "\n[[producers]]\nname = {}\nconfig = {}", toml_str(sim_name), toml_table(config));
    }
    // Consumers start when a step starts them, as on the cluster.
    for c in &consumers {
        let topics: Vec<String> = c["topics"].as_array().expect("consumer topics").iter().map(|t| toml_str(t.as_str().expect("topic name"))).collect();
        let _ = writeln!(t, "\n[[consumers]]\nname = {}\ntopics = [{}]\nstart = false", toml_str(c["name"].as_str().expect("consumer name")), topics.join(", "));
        let _ = writeln!(t, "config = {}", toml_table(&c["config"]));
        if let Some(commit) = c.get("commit").and_then(Value::as_str) {
            let _ = writeln!(t, "commit = {}", toml_str(commit));
        }
        if let Some(ms) = c.get("processing_ms").and_then(Value::as_u64) {
            let _ = writeln!(t, "processing_ms = {ms}");
        }
    }
    let mut at = SIM_START_MS;
    let mut snapshots = Vec::new();
    let mut partitions = assignment.len();
    let mut step_at = Vec::new();
    for (i, s) in case["steps"].as_array().expect("steps").iter().enumerate() {
        step_at.push(at);
        let op = s["op"].as_str().expect("op");
        let stretch = |default: u64| s.get("sim_ms").and_then(Value::as_u64).unwrap_or(default);
        match op {
            "produce" => {
                let mut fields = vec![format!("value = {}", toml_str(s["value"].as_str().expect("value")))];
                if let Some(k) = s.get("key").and_then(Value::as_str) {
                    fields.insert(0, format!("key = {}", toml_str(k)));
                }
                if let Some(p) = s.get("partition").and_then(Value::as_u64) {
                    fields.push(format!("partition = {p}"));
                }
                fields.push(format!("topic = {}", toml_str(s.get("topic").and_then(Value::as_str).unwrap_or(name))));
                fields.push(format!("producer = {}", toml_str(&sim_producer_name(case, &step_producer(case, s)))));
                action(&mut t, at, format!("produce = {{ {} }}", fields.join(", ")));
                at += stretch(1);
            }
            // beginTransaction() is local to the client. The application thread blocks in the other
            // three until the coordinator has answered (a commit also until every record of the
            // transaction is acknowledged), as the Java side's step does, and the producer's later
            // calls and sends wait behind it in the simulator too; 2,000 ms covers a few
            // CONCURRENT_TRANSACTIONS retries (a new instance's init while the old one's transaction
            // is being aborted). A commit's markers are written within its stretch, so the next
            // transaction's first record does not meet them still being written, as it may on the
            // cluster (where the leader then retries its AddPartitionsToTxn): the offsets are the same.
            "init_transactions" | "commit_transaction" | "abort_transaction" | "begin_transaction" => {
                let producer = sim_producer_name(case, &step_producer(case, s));
                action(&mut t, at, format!("{op} = {}", toml_str(&producer)));
                at += stretch(if op == "begin_transaction" { 1 } else { 2000 });
            }
            // sendOffsetsToTransaction(offsets, new ConsumerGroupMetadata(group)) blocks until the
            // group coordinator has written the offsets into the transaction. A case names a
            // partition of its topic by number, or any partition as topic-N.
            "send_offsets_to_transaction" => {
                let producer = sim_producer_name(case, &step_producer(case, s));
                let offsets: Vec<String> = s["offsets"]
                    .as_object()
                    .expect("offsets")
                    .iter()
                    .map(|(p, o)| {
                        let partition = if p.contains('-') { p.clone() } else { format!("{name}-{p}") };
                        format!("{} = {}", toml_str(&partition), o.as_u64().expect("an offset"))
                    })
                    .collect();
                let group = toml_str(s["group"].as_str().expect("group"));
                let member = match s.get("member").and_then(Value::as_str) {
                    Some(m) => format!(", member = {}, generation = {}", toml_str(m), s["generation"].as_i64().expect("a generation with the member")),
                    None => String::new(),
                };
                action(&mut t, at, format!("send_offsets_to_transaction = {{ producer = {}, group = {group}, offsets = {{ {} }}{member} }}", toml_str(&producer), offsets.join(", ")));
                at += stretch(2000);
            }
            // Admin.listConsumerGroupOffsets: the committed offsets at that moment (pending
            // transactional ones are not among them).
            "list_group_offsets" => {
                at += stretch(50);
                snapshots.push(Snapshot { step: i, op: op.to_string(), at });
                at += 1;
            }
            "flush" => at += stretch(2000),
            "stop_broker" => {
                action(&mut t, at, format!("crash = {}", u64_of(s, "broker")));
                at += stretch(1);
            }
            // The harness waits for the process to exit; a controlled shutdown takes the simulator
            // a few heartbeat round trips, well inside the stretch.
            "shutdown_broker" => {
                action(&mut t, at, format!("controlled_shutdown = {}", u64_of(s, "broker")));
                at += stretch(2000);
            }
            // A paused process is silent in both directions, as a broker whose every link is cut: the
            // simulator's cut, like SIGSTOP, resets nothing and is noticed only by timeouts.
            "pause_broker" | "resume_broker" => {
                let b = u64_of(s, "broker");
                let verb = if op == "pause_broker" { "cut" } else { "heal" };
                let brokers = case["brokers"].as_u64().unwrap_or(3);
                let peers = (1..=brokers).filter(|&o| o != b).map(|o| format!("broker-{o}")).chain(["controller".to_string()]);
                for peer in peers {
                    action(&mut t, at, format!("{verb} = {{ from = \"broker-{b}\", to = \"{peer}\" }}"));
                }
                at += stretch(1);
            }
            // The controller applies the change at once; the harness waits for the Admin call.
            "alter_topic_config" => {
                action(&mut t, at, format!("incremental_alter_configs = {{ topic = {}, config = {} }}", toml_str(name), toml_table(&s["config"])));
                at += stretch(1000);
            }
            // The controller creates the partitions at once; the harness waits for their leaders.
            "create_partitions" => {
                let added = s["replica_assignment"].as_array().expect("create_partitions.replica_assignment").len();
                partitions += added;
                let list = s["replica_assignment"].clone();
                action(&mut t, at, format!("create_partitions = {{ topic = {}, count = {partitions}, \"replica.assignment\" = {list} }}", toml_str(name)));
                at += stretch(1000);
            }
            "start_broker" => {
                action(&mut t, at, format!("restart = {}", u64_of(s, "broker")));
                at += stretch(5000);
            }
            "wait_hw" => {
                at += stretch(2000);
                snapshots.push(Snapshot { step: i, op: op.to_string(), at });
            }
            // 10,000 ms: the cases that wait here for the coordinator's abort of a transaction open
            // longer than transaction.timeout.ms (5,000 ms, found by a sweep every 1,000 ms) start
            // waiting about 2,000 ms after the transaction's first record.
            "wait_lso" => {
                at += stretch(10_000);
                snapshots.push(Snapshot { step: i, op: op.to_string(), at });
                at += 1;
            }
            // No wait: the moment is looked at, and the next action comes 1 ms later.
            "end_offsets" => {
                snapshots.push(Snapshot { step: i, op: op.to_string(), at });
                at += stretch(1);
            }
            "wait_isr" | "wait_leader" => {
                at += stretch(10_000);
                snapshots.push(Snapshot { step: i, op: op.to_string(), at });
            }
            "observe" => snapshots.push(Snapshot { step: i, op: op.to_string(), at }),
            "sleep" => at += stretch(u64_of(s, "ms")),
            "consume_all" => {
                snapshots.push(Snapshot { step: i, op: op.to_string(), at });
                at += stretch(1000);
            }
            "start_consumer" => {
                action(&mut t, at, format!("start_consumer = {}", toml_str(s["consumer"].as_str().expect("consumer"))));
                at += stretch(1);
            }
            "close_consumer" => {
                action(&mut t, at, format!("close_consumer = {}", toml_str(s["consumer"].as_str().expect("consumer"))));
                at += stretch(1000);
            }
            "stall_consumer" => {
                let c = toml_str(s["consumer"].as_str().expect("consumer"));
                action(&mut t, at, format!("stall_consumer = {{ consumer = {c}, ms = {} }}", u64_of(s, "ms")));
                at += stretch(1);
            }
            // The harness waits until the consumer's thread has called subscribe() (between two polls).
            "subscribe" => {
                let c = toml_str(s["consumer"].as_str().expect("consumer"));
                let topics: Vec<String> = s["topics"].as_array().expect("topics").iter().map(|t| toml_str(t.as_str().expect("topic name"))).collect();
                action(&mut t, at, format!("subscribe = {{ consumer = {c}, topics = [{}] }}", topics.join(", ")));
                at += stretch(1);
            }
            "crash_consumer" => {
                action(&mut t, at, format!("crash_consumer = {}", toml_str(s["consumer"].as_str().expect("consumer"))));
                at += stretch(1);
            }
            // Retention runs every log.retention.check.interval.ms; the case's retention.ms and that
            // interval decide how long it takes, so a case sets sim_ms to suit them.
            "wait_log_start" => {
                at += stretch(10_000);
                snapshots.push(Snapshot { step: i, op: op.to_string(), at });
                at += 1;
            }
            // A rebalance in which a member learns of it from its next heartbeat, and with
            // cooperative-sticky a second round, fit in well under ten seconds.
            "wait_group" => {
                at += stretch(10_000);
                snapshots.push(Snapshot { step: i, op: op.to_string(), at });
                // The next action comes after the moment looked at (a run `--until` a time includes
                // that time's events).
                at += 1;
            }
            "wait_consumed" | "wait_committed" | "wait_consumer" => {
                at += stretch(3000);
                snapshots.push(Snapshot { step: i, op: op.to_string(), at });
                at += 1;
            }
            other => panic!("step {i}: the simulator has no translation for op {other}"),
        }
    }
    step_at.push(at);
    let end = at + 1;
    Plan { toml: t.replace("DURATION", &format!("duration_ms = {end}")), snapshots, end, step_at }
}

fn action(t: &mut String, at: u64, text: String) {
    let _ = writeln!(t, "\n[[timeline]]\nat = {at}\n{text}");
}

/// Runs the scenario through the CLI up to `until` and returns its JSON document.
fn run_sim(file: &Path, until: u64) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .arg("run")
        .arg(file)
        .args(["--format", "json", "--until", &until.to_string()])
        .output()
        .expect("kafkasim runs");
    assert!(out.status.success(), "kafkasim run failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("kafkasim printed JSON")
}

/// The partitions of the case's topic (the scenario's first): the simulator also lists the
/// `__consumer_offsets` partitions of its groups and the case's `extra_topics`, which the Java side does
/// not describe.
fn case_partitions(doc: &Value) -> impl Iterator<Item = &Value> {
    let topic = doc["topics"][0]["name"].as_str().expect("the case topic").to_string();
    doc["final_state"]["partitions"].as_array().expect("partitions").iter().filter(move |p| p["name"].as_str().and_then(|n| n.rsplit_once('-')).is_some_and(|(t, _)| t == topic))
}

/// Leader and ISR (sorted) of every partition, as the simulated controller has them.
fn sim_partitions(doc: &Value) -> Value {
    let mut out = Map::new();
    for p in case_partitions(doc) {
        let mut isr: Vec<u64> = p["isr"].as_array().expect("isr").iter().map(|b| b.as_u64().expect("broker id")).collect();
        isr.sort_unstable();
        out.insert(p["name"].as_str().expect("name").to_string(), json!({ "leader": p["leader"], "isr": isr }));
    }
    Value::Object(out)
}

/// What a fresh consumer reading from the beginning gets in the model (docs/model.md, Consumers):
/// the leader's log from its log start up to its high watermark (read_uncommitted) or its last stable
/// offset (read_committed), without the transaction markers (a consumer never returns them), and with
/// read_committed without the records of aborted transactions. The simulator's own consumers always
/// join a group, whose coordinator partition would add failures the Java side's group-less consumer
/// does not have, so the leader's log is read directly.
///
/// A transactional record at offset o of producer id pid is aborted iff the first marker of pid after
/// o in the partition is an ABORT marker (what the aborted-transaction index of Kafka's log gives a
/// read_committed fetch). The state view gives each transactional record and marker its producer id
/// (`producer_id`).
fn sim_read(doc: &Value, read_committed: bool) -> Value {
    let mut out = Map::new();
    for p in case_partitions(doc) {
        let name = p["name"].as_str().expect("name").to_string();
        let Some(leader) = p["leader"].as_u64() else {
            out.insert(name, json!({ "unavailable": "the partition has no leader" }));
            continue;
        };
        let replica = p["replicas"].as_array().expect("replicas").iter().find(|r| r["broker"].as_u64() == Some(leader)).expect("the leader is a replica");
        let start = u64_of(replica, "log_start_offset");
        let end = if read_committed { replica_field(replica, "last_stable_offset").as_u64().expect("LSO") } else { u64_of(replica, "high_watermark") };
        let log = replica["log"].as_array().expect("log");
        let aborted = |j: usize| {
            let pid = log[j]["producer_id"].as_u64();
            log[j + 1..].iter().filter(|e| is_marker(e)).find(|e| e["producer_id"].as_u64() == pid).is_some_and(|e| e["kind"] == "abort")
        };
        let records: Vec<Value> = log
            .iter()
            .enumerate()
            .filter(|(_, e)| (start..end).contains(&u64_of(e, "offset")) && !is_marker(e))
            .filter(|&(j, e)| !(read_committed && e["kind"] == "transactional" && aborted(j)))
            .map(|(_, e)| json!({ "offset": e["offset"], "key": e["key"], "value": e["value"] }))
            .collect();
        out.insert(name, json!({ "records": records }));
    }
    Value::Object(out)
}

fn is_marker(e: &Value) -> bool {
    e["kind"] == "commit" || e["kind"] == "abort"
}

/// A replica's field as the Java side reads it; the view leaves out `last_stable_offset` when it is
/// the high watermark.
fn replica_field(replica: &Value, field: &str) -> Value {
    match replica.get(field) {
        None if field == "last_stable_offset" => replica["high_watermark"].clone(),
        v => v.cloned().unwrap_or(Value::Null),
    }
}

fn is_transaction_op(op: &str) -> bool {
    matches!(op, "init_transactions" | "begin_transaction" | "commit_transaction" | "abort_transaction" | "send_offsets_to_transaction")
}

/// The Java call of a transaction op.
fn java_call(op: &str) -> &'static str {
    match op {
        "init_transactions" => "initTransactions()",
        "begin_transaction" => "beginTransaction()",
        "commit_transaction" => "commitTransaction()",
        "abort_transaction" => "abortTransaction()",
        _ => "sendOffsetsToTransaction()",
    }
}

/// What a producer's application saw of one of its calls in the simulator.
enum SimCall {
    /// A transactional call that returned (the call, and when).
    Ok(String, u64),
    /// A transactional call that threw: at once, in an error state or a state that does not allow it
    /// (the error it is in, if any), or after blocking, when the coordinator's answer or a failed
    /// record of the transaction ended it.
    Failed { call: String, at_once: bool, error: Option<String>, at: u64 },
    /// A send() that created records (their ledger ids).
    Sent(Vec<u64>),
    /// A send() refused by the transaction manager (the error the producer is in, if any).
    SendRefused(Option<String>),
}

/// Every call and send of each producer (by its index in the scenario), in the order they ran, read
/// from the trace's effects: `txn_state_changed` with a call starts one (a blocking one, into
/// INITIALIZING, COMMITTING_TRANSACTION or ABORTING_TRANSACTION, ends at the next change without a call:
/// to READY it returned, to FATAL_ERROR it threw the fatal error, and to ABORTABLE_ERROR it throws what
/// the `txn_call_refused` after it says); `txn_offsets_sending` starts a sendOffsetsToTransaction,
/// which `txn_offsets_added` returns; `txn_call_refused` of a call not running is a call that threw
/// at once; `records_created` and a refused `send()` are sends.
fn sim_calls(doc: &Value) -> Vec<Vec<SimCall>> {
    let producers = doc["final_state"]["producers"].as_array().expect("producers");
    let mut calls: Vec<Vec<SimCall>> = producers.iter().map(|_| Vec::new()).collect();
    let mut blocked: Vec<Option<String>> = producers.iter().map(|_| None).collect();
    let blocking = |state: &Value| ["INITIALIZING", "COMMITTING_TRANSACTION", "ABORTING_TRANSACTION"].contains(&state.as_str().unwrap_or(""));
    for (e, at) in doc["steps"].as_array().expect("steps").iter().flat_map(|s| s["effects"].as_array().into_iter().flatten().map(|e| (e, u64_of(s, "time")))) {
        let Some(p) = e.get("producer").and_then(Value::as_u64).map(|p| p as usize) else { continue };
        let error = e.get("error").and_then(Value::as_str).map(str::to_string);
        match e["effect"].as_str() {
            Some("records_created") => calls[p].push(SimCall::Sent(e["records"].as_array().expect("records").iter().map(|r| r.as_u64().expect("record id")).collect())),
            Some("txn_call_refused") if e["call"] == "send()" => calls[p].push(SimCall::SendRefused(error)),
            // sendOffsetsToTransaction blocks without a state of its own (the producer stays
            // IN_TRANSACTION): it returns when the offsets are added, or throws (txn_call_refused).
            // With no offsets the call does nothing and returns at once.
            Some("txn_offsets_sending") if e["offsets"].as_array().is_some_and(Vec::is_empty) => calls[p].push(SimCall::Ok("sendOffsetsToTransaction()".to_string(), at)),
            Some("txn_offsets_sending") => blocked[p] = Some("sendOffsetsToTransaction()".to_string()),
            Some("txn_offsets_added") => calls[p].push(SimCall::Ok(blocked[p].take().unwrap_or_default(), at)),
            Some("txn_call_refused") => {
                let call = e["call"].as_str().expect("call").to_string();
                let at_once = blocked[p].as_ref() != Some(&call);
                if !at_once {
                    blocked[p] = None;
                }
                calls[p].push(SimCall::Failed { call, at_once, error, at });
            }
            Some("txn_state_changed") => match e["call"].as_str() {
                Some(call) if blocking(&e["to"]) => blocked[p] = Some(call.to_string()),
                Some(call) => calls[p].push(SimCall::Ok(call.to_string(), at)),
                None if blocked[p].is_some() && blocking(&e["from"]) => match e["to"].as_str() {
                    Some("READY") => calls[p].push(SimCall::Ok(blocked[p].take().expect("a blocked call"), at)),
                    // FATAL_ERROR is final, so the error the producer is in at the end is the one that
                    // made it fatal.
                    Some("FATAL_ERROR") => {
                        let error = producers[p]["transaction"]["error"].as_str().map(str::to_string);
                        calls[p].push(SimCall::Failed { call: blocked[p].take().expect("a blocked call"), at_once: false, error, at });
                    }
                    _ => {}
                },
                None => {}
            },
            _ => {}
        }
    }
    calls
}

/// The exception class and cause a transactional call throws at once in a state that does not allow
/// it (`TransactionManager.maybeFailWithError`): in an error state, `ProducerFencedException` and
/// `InvalidProducerEpochException` as they are, any other error wrapped in a `KafkaException` ("Cannot
/// execute transactional method because we are in an error state") whose cause is it; in a state
/// without an error, the `IllegalStateException` of an invalid transition.
fn refused_call_exception(error: Option<&str>) -> (String, Option<String>) {
    match error {
        Some(e @ ("PRODUCER_FENCED" | "INVALID_PRODUCER_EPOCH")) => (exception_of(e), None),
        Some(e) => ("KafkaException".to_string(), Some(exception_of(e))),
        None => ("IllegalStateException".to_string(), None),
    }
}

/// The transaction ops' results in the Java side's shape: each op's step, op, producer, and `ok` or
/// `failed` with the exception class (`cause` when it wraps another class). A call that threw after
/// blocking throws its error's exception (`TransactionalRequestResult.await`); one refused at once,
/// what `maybeFailWithError` makes of the producer's error.
///
/// The Java side's call has returned before its next step begins; a simulated call that returned
/// later (it blocked longer than its stretch of virtual time, or waited behind another) has `late`,
/// which the comparison shows, since the translation's order of events is then not the cluster's.
fn sim_transactions(case: &Value, doc: &Value, step_at: &[u64]) -> Value {
    let producers = case_producers(case);
    let mut calls: Vec<std::vec::IntoIter<SimCall>> = sim_calls(doc).into_iter().map(|c| c.into_iter().filter(|c| matches!(c, SimCall::Ok(..) | SimCall::Failed { .. })).collect::<Vec<_>>().into_iter()).collect();
    let mut out = Vec::new();
    for (i, s) in case["steps"].as_array().expect("steps").iter().enumerate() {
        let op = s["op"].as_str().expect("op");
        if !is_transaction_op(op) {
            continue;
        }
        let name = step_producer(case, s);
        let mut t = json!({ "step": i, "op": op, "producer": name });
        if op == "send_offsets_to_transaction" {
            t["group"] = s["group"].clone();
        }
        let index = producers.iter().position(|(n, _, _)| *n == name).expect("the step's producer");
        let (call, result, returned) = match calls[index].next() {
            Some(SimCall::Ok(call, at)) => (call, Ok(()), at),
            Some(SimCall::Failed { call, at_once, error, at }) => {
                let (class, cause) = if at_once { refused_call_exception(error.as_deref()) } else { (error.as_deref().map_or("(no error)".to_string(), exception_of), None) };
                (call, Err((class, cause, error)), at)
            }
            _ => (String::new(), Err(("(the call did not complete in the simulator)".to_string(), None, None)), 0),
        };
        if returned >= step_at[i + 1] {
            t["late"] = json!(format!("returned at {returned} ms, after the next step began at {} ms", step_at[i + 1]));
        }
        if !call.is_empty() && call != java_call(op) {
            t["result"] = json!("failed");
            t["error"] = json!(format!("(the simulator's next call of {name} is {call}, not {})", java_call(op)));
        } else {
            match result {
                Ok(()) => t["result"] = json!("ok"),
                Err((class, cause, sim_error)) => {
                    t["result"] = json!("failed");
                    t["error"] = json!(class);
                    if let Some(cause) = cause {
                        t["cause"] = json!(cause);
                    }
                    t["sim_error"] = json!(sim_error);
                }
            }
        }
        out.push(t);
    }
    Value::Array(out)
}

/// Every produce step's record in step order, as the Java side lists them: the records a producer
/// created go to its produce steps in order (a producer's sends run in the order of its steps), and a
/// send the transaction manager refused is the record of its step, failed: thrown by send() when Java
/// throws (`IllegalStateException` outside a transaction, `KafkaException` in an error state), or
/// passed to the callback when `maybeAddPartition` throws an `ApiException` (`ProducerFencedException`,
/// `InvalidProducerEpochException`), as `KafkaProducer.doSend` does.
fn sim_records(case: &Value, doc: &Value) -> Vec<Value> {
    let producers = case_producers(case);
    let ledger: std::collections::HashMap<u64, &Value> = doc["ledger"]["records"].as_array().expect("ledger records").iter().map(|r| (u64_of(r, "id"), r)).collect();
    let mut sends: Vec<std::vec::IntoIter<SimCall>> = sim_calls(doc).into_iter().map(|c| c.into_iter().filter(|c| matches!(c, SimCall::Sent(_) | SimCall::SendRefused(_))).collect::<Vec<_>>().into_iter()).collect();
    let mut out = Vec::new();
    for s in case["steps"].as_array().expect("steps") {
        if s["op"] != "produce" {
            continue;
        }
        let name = step_producer(case, s);
        let index = producers.iter().position(|(n, _, _)| *n == name).expect("the step's producer");
        let mut rec = json!({ "key": s.get("key").cloned().unwrap_or(Value::Null), "value": s["value"] });
        if s.get("producer").is_some() {
            rec["producer"] = json!(name);
        }
        match sends[index].next() {
            Some(SimCall::Sent(ids)) => {
                let r = ledger.get(&ids[0]).expect("a created record is in the ledger");
                let o = &r["outcome"];
                rec["result"] = o["state"].clone();
                match o["state"].as_str() {
                    Some("acknowledged") => {
                        rec["partition"] = r["partition"].clone();
                        // acks=0: the callback's RecordMetadata has offset -1 (unknown).
                        rec["offset"] = if o["offset"].is_null() { json!(-1) } else { o["offset"].clone() };
                    }
                    Some("failed") => {
                        rec["error"] = json!(exception_of(o["error"].as_str().unwrap_or("")));
                        rec["sim_error"] = o["error"].clone();
                    }
                    _ => {}
                }
            }
            Some(SimCall::SendRefused(error)) => {
                let (class, _) = refused_call_exception(error.as_deref());
                rec["result"] = json!("failed");
                rec["error"] = json!(class);
                if class == "KafkaException" || class == "IllegalStateException" {
                    rec["thrown"] = json!(true);
                }
                rec["sim_error"] = json!(error);
            }
            _ => rec["result"] = json!("(the simulator ran no send for this step)"),
        }
        out.push(rec);
    }
    out
}

/// The Java exception class the producer's callback gets for a simulator error (Kafka's `Errors` table;
/// the client's own delivery timeout is a `TimeoutException` too).
fn exception_of(error: &str) -> String {
    match error {
        "NOT_LEADER_OR_FOLLOWER" => "NotLeaderOrFollowerException",
        "NOT_ENOUGH_REPLICAS" => "NotEnoughReplicasException",
        "NOT_ENOUGH_REPLICAS_AFTER_APPEND" => "NotEnoughReplicasAfterAppendException",
        "OUT_OF_ORDER_SEQUENCE_NUMBER" => "OutOfOrderSequenceException",
        "REQUEST_TIMED_OUT" | "DELIVERY_TIMEOUT" => "TimeoutException",
        "LEADER_NOT_AVAILABLE" => "LeaderNotAvailableException",
        "FENCED_LEADER_EPOCH" => "FencedLeaderEpochException",
        "UNKNOWN_LEADER_EPOCH" => "UnknownLeaderEpochException",
        "NETWORK_EXCEPTION" => "NetworkException",
        // send()'s own size check, and the leader's MESSAGE_TOO_LARGE (`Errors.MESSAGE_TOO_LARGE`'s
        // exception), reach the callback as the same class.
        "RECORD_TOO_LARGE" | "MESSAGE_TOO_LARGE" => "RecordTooLargeException",
        "PRODUCER_FENCED" => "ProducerFencedException",
        "INVALID_PRODUCER_EPOCH" => "InvalidProducerEpochException",
        "INVALID_TXN_STATE" => "InvalidTxnStateException",
        "TRANSACTION_ABORTED" => "TransactionAbortedException",
        "CONCURRENT_TRANSACTIONS" => "ConcurrentTransactionsException",
        "INVALID_PRODUCER_ID_MAPPING" => "InvalidPidMappingException",
        "COORDINATOR_NOT_AVAILABLE" => "CoordinatorNotAvailableException",
        "NOT_COORDINATOR" => "NotCoordinatorException",
        // TxnOffsetCommit answered ILLEGAL_GENERATION or UNKNOWN_MEMBER_ID
        // (`TransactionManager.TxnOffsetCommitHandler`: an abortable CommitFailedException).
        "COMMIT_FAILED" => "CommitFailedException",
        other => return format!("(no Java class for {other})"),
    }
    .to_string()
}

/// The Java exception class a consumer's application gets for a simulator error that stops it.
fn consumer_exception_of(error: &str) -> String {
    match error {
        "NO_OFFSET_FOR_PARTITION" => "NoOffsetForPartitionException",
        "LOG_TRUNCATION" => "LogTruncationException",
        "OFFSET_OUT_OF_RANGE" => "OffsetOutOfRangeException",
        "COMMIT_FAILED" => "CommitFailedException",
        "FENCED_INSTANCE_ID" => "FencedInstanceIdException",
        "INVALID_SESSION_TIMEOUT" => "InvalidSessionTimeoutException",
        // What commitSync() would throw for an error in its response, were it to give up at once
        // (ConsumerCoordinator.OffsetCommitResponseHandler turns an old generation or an unknown member
        // into CommitFailedException).
        "ILLEGAL_GENERATION" | "UNKNOWN_MEMBER_ID" => "CommitFailedException",
        "REBALANCE_IN_PROGRESS" => "RebalanceInProgressException",
        "COORDINATOR_NOT_AVAILABLE" => "CoordinatorNotAvailableException",
        "NOT_COORDINATOR" => "NotCoordinatorException",
        "REQUEST_TIMED_OUT" | "COMMIT_TIMEOUT" => "TimeoutException",
        "NETWORK_EXCEPTION" => "NetworkException",
        other => return format!("(no Java class for {other})"),
    }
    .to_string()
}

/// `{ "topic": 0, "partition": 2 }` as `orders-2`.
fn tp_name(doc: &Value, tp: &Value) -> String {
    let topic = doc["topics"][tp["topic"].as_u64().expect("topic index") as usize]["name"].as_str().expect("topic name");
    format!("{topic}-{}", u64_of(tp, "partition"))
}

/// Partition names sorted by topic, then partition number (as the Java side sorts them).
fn sort_partitions(mut parts: Vec<String>) -> Vec<String> {
    let key = |p: &String| {
        let (t, n) = p.rsplit_once('-').expect("topic-N");
        (t.to_string(), n.parse::<u64>().expect("partition number"))
    };
    parts.sort_by_key(key);
    parts
}

fn partition_list(doc: &Value, tps: &Value) -> Value {
    json!(sort_partitions(tps.as_array().expect("partitions").iter().map(|tp| tp_name(doc, tp)).collect()))
}

/// Every consumer's account in the Java side's shape: its state, the exception that stopped it, its
/// assignment (while it runs), the records its polls returned, and its rebalance listener's calls.
fn sim_consumers(doc: &Value) -> Value {
    let consumers = doc["final_state"]["consumers"].as_array().expect("consumers");
    let mut out = Map::new();
    for (i, c) in consumers.iter().enumerate() {
        let mine = |e: &&Value| e["consumer"].as_u64() == Some(i as u64);
        let effects: Vec<&Value> = doc["steps"].as_array().expect("steps").iter().flat_map(|s| s["effects"].as_array().into_iter().flatten()).filter(mine).collect();
        let mut records = Vec::new();
        let mut listener = Vec::new();
        let mut error = Value::Null;
        // Every commit of a consumer whose application commits with commitSync() and has no
        // auto-commit is one of those calls: a failure is what commitSync() returned to it.
        let policy = c["app"]["commit"].as_str().unwrap_or("auto");
        let sync_only = (policy == "before-processing" || policy == "after-processing") && c["config"]["enable.auto.commit"] == false;
        let mut commit_errors = Vec::new();
        for e in effects {
            match e["effect"].as_str() {
                Some("polled") => {
                    for r in e["records"].as_array().expect("records") {
                        // Record ids are not indices: the coordinator's own records take ids too.
                        let rec = doc["ledger"]["records"].as_array().expect("ledger records").iter().find(|l| l["id"] == r[2]).unwrap_or(&Value::Null);
                        records.push(json!({ "partition": tp_name(doc, &r[0]), "offset": r[1], "key": rec["key"], "value": rec["value"] }));
                    }
                }
                Some("partitions_revoked") => {
                    let call = if e["how"] == "lost" { "lost" } else { "revoked" };
                    listener.push(json!({ "call": call, "partitions": partition_list(doc, &e["partitions"]) }));
                }
                Some("partitions_assigned") => listener.push(json!({ "call": "assigned", "partitions": partition_list(doc, &e["partitions"]) })),
                Some("consumer_failed") => error = json!(consumer_exception_of(e["error"].as_str().unwrap_or(""))),
                Some("commit_failed") if sync_only => {
                    commit_errors.push(json!({ "error": consumer_exception_of(e["error"].as_str().unwrap_or("")), "sim_error": e["error"] }));
                }
                _ => {}
            }
        }
        let running = c["state"] == "running";
        let assignment = if running { json!(sort_partitions(c["assignment"].as_array().expect("assignment").iter().map(|p| p.as_str().expect("name").to_string()).collect())) } else { json!([]) };
        out.insert(
            c["name"].as_str().expect("name").to_string(),
            json!({ "group": c["group"], "state": c["state"], "error": error, "assignment": assignment, "records": records, "listener": listener, "commit_errors": commit_errors, "sim_errors_seen": c["errors_seen"] }),
        );
    }
    Value::Object(out)
}

fn sim_group<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["final_state"]["groups"].as_array().expect("groups").iter().find(|g| g["name"] == name).expect("the group exists")
}

/// What a group wait looks at in the simulator at the end of its stretch, in the Java side's shape.
fn sim_group_state(case: &Value, step: usize, op: &str, doc: &Value) -> Value {
    let spec = &case["steps"][step];
    match op {
        "wait_group" => {
            let g = sim_group(doc, spec["group"].as_str().expect("group"));
            let mut assignment = Map::new();
            for m in g["members"].as_array().expect("members") {
                let parts: Vec<String> = m["assignment"].as_array().expect("assignment").iter().map(|p| p.as_str().expect("name").to_string()).collect();
                assignment.insert(m["consumer"].as_str().expect("consumer").to_string(), json!(sort_partitions(parts)));
            }
            json!({ "step": step, "op": op, "group": g["name"], "state": g["state"], "assignor": g["protocol"], "assignment": assignment })
        }
        "wait_consumed" => {
            let name = spec["consumer"].as_str().expect("consumer");
            let consumed = sim_consumers(doc)[name]["records"].as_array().map_or(0, Vec::len);
            json!({ "step": step, "op": op, "consumer": name, "consumed": consumed })
        }
        "wait_consumer" => {
            let name = spec["consumer"].as_str().expect("consumer");
            let c = &sim_consumers(doc)[name];
            json!({ "step": step, "op": op, "consumer": name, "state": c["state"], "error": c["error"] })
        }
        _ => {
            let g = sim_group(doc, spec["group"].as_str().expect("group"));
            json!({ "step": step, "op": op, "group": g["name"], "committed": g["committed"] })
        }
    }
}

/// Runs the case in the simulator and reports its outcome in the Java side's shape.
fn sim_outcome(case: &Value) -> Value {
    let plan = translate(case);
    // A case the simulator cannot express (its reader refuses the scenario) is a disagreement, with
    // the reader's errors as the simulator's side.
    if let Err(errors) = kafkasim::scenario::parse("case.toml", &plan.toml) {
        return json!({ "case": case["name"], "refused": format!("{errors:?}"), "info": { "scenario": plan.toml } });
    }
    let file = std::env::temp_dir().join(format!("kafkasim-cluster-{}-{}.toml", case["name"].as_str().expect("name"), std::process::id()));
    std::fs::write(&file, &plan.toml).expect("temporary scenario written");
    let full = run_sim(&file, plan.end);
    let mut reads = Vec::new();
    let mut states = Vec::new();
    let mut group_states = Vec::new();
    for snap in &plan.snapshots {
        let doc = run_sim(&file, snap.at);
        if ["wait_group", "wait_consumed", "wait_committed", "wait_consumer", "list_group_offsets"].contains(&snap.op.as_str()) {
            group_states.push(sim_group_state(case, snap.step, &snap.op, &doc));
        } else if snap.op == "consume_all" {
            let isolation = case["steps"][snap.step].get("isolation_level").and_then(Value::as_str).unwrap_or("read_uncommitted");
            let mut read = json!({ "step": snap.step, "partitions": sim_read(&doc, isolation == "read_committed") });
            if case["steps"][snap.step].get("isolation_level").is_some() {
                read["isolation_level"] = json!(isolation);
            }
            reads.push(read);
        } else {
            let mut parts = sim_partitions(&doc);
            let fields: &[&str] = match snap.op.as_str() {
                "wait_hw" => &["high_watermark"],
                "wait_log_start" => &["log_start_offset"],
                "wait_lso" | "end_offsets" => &["high_watermark", "last_stable_offset"],
                _ => &[],
            };
            for p in case_partitions(&doc) {
                let leader = p["replicas"].as_array().expect("replicas").iter().find(|r| r["broker"] == p["leader"]);
                for &field in fields {
                    parts[p["name"].as_str().expect("name")][field] = leader.map_or(Value::Null, |r| replica_field(r, field));
                }
            }
            states.push(json!({ "step": snap.step, "op": snap.op, "partitions": parts }));
        }
    }
    let _ = std::fs::remove_file(&file);
    let records = sim_records(case, &full);
    let unclean = full["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .flat_map(|s| s["effects"].as_array().into_iter().flatten())
        // Kafka's controller records a last-known-leader election (KIP-966) as unclean too
        // (`ElectionResult(node, unclean = true)`), so both count.
        .filter(|e| e["effect"] == "leader_elected" && (e["election"] == "unclean" || e["election"] == "last_known_leader"))
        .count();
    let mut outcome = json!({
        "case": case["name"],
        "records": records,
        "reads": reads,
        "states": states,
        "final": sim_partitions(&full),
        "unclean_elections": unclean,
        "info": { "scenario": plan.toml },
    });
    if case["steps"].as_array().expect("steps").iter().any(|s| is_transaction_op(s["op"].as_str().unwrap_or(""))) {
        outcome["transactions"] = sim_transactions(case, &full, &plan.step_at);
    }
    let has_consumers = case.get("consumers").and_then(Value::as_array).is_some_and(|c| !c.is_empty());
    if has_consumers {
        outcome["consumers"] = sim_consumers(&full);
    }
    // A case whose groups only a transaction commits offsets for reports them too (the Java side
    // reads every group a step names).
    if has_consumers || !group_states.is_empty() {
        let mut groups = Map::new();
        for g in full["final_state"]["groups"].as_array().expect("groups") {
            groups.insert(g["name"].as_str().expect("group name").to_string(), json!({ "committed": g["committed"] }));
        }
        outcome["groups"] = Value::Object(groups);
        outcome["group_states"] = json!(group_states);
    }
    outcome
}

/// A record's comparable fields: the message text of an exception is not compared, only its class.
fn record_view(r: &Value) -> Value {
    let mut v = json!({ "key": r["key"], "value": r["value"], "result": r["result"] });
    match r["result"].as_str() {
        Some("acknowledged") => {
            v["partition"] = r["partition"].clone();
            v["offset"] = r["offset"].clone();
        }
        Some("failed") => v["error"] = r["error"].clone(),
        _ => {}
    }
    // Whether send() threw the exception instead of passing it to the callback.
    if r.get("thrown") == Some(&json!(true)) {
        v["thrown"] = json!(true);
    }
    v
}

/// A transaction op's comparable form: the exception's class and its cause's, not its message.
fn transaction_view(t: &Value) -> Value {
    let mut v = json!({ "step": t["step"], "op": t["op"], "producer": t["producer"], "result": t["result"] });
    for field in ["group", "error", "cause", "late"] {
        if let Some(x) = t.get(field) {
            v[field] = x.clone();
        }
    }
    v
}

/// A read's comparable form: the records per partition, or that the partition was unavailable (the Java
/// side's message says why, and is not compared).
fn read_view(read: &Value) -> Value {
    let mut parts = Map::new();
    for (name, p) in read["partitions"].as_object().expect("partitions") {
        let v = if p.get("unavailable").is_some() {
            json!("unavailable")
        } else if let Some(why) = p.get("incomplete") {
            json!({ "records": p["records"], "incomplete": why })
        } else {
            json!({ "records": p["records"] })
        };
        parts.insert(name.clone(), v);
    }
    json!({ "step": read["step"], "partitions": parts })
}

/// Leader and ISR of every partition: what the final state and an `observe` compare (the Java side's
/// eligible leader replicas are not, since the simulator does not model them).
fn partitions_view(parts: &Value) -> Value {
    let mut out = Map::new();
    for (name, p) in parts.as_object().expect("partitions") {
        out.insert(name.clone(), json!({ "leader": p["leader"], "isr": p["isr"] }));
    }
    Value::Object(out)
}

/// A state's comparable form. A wait compares what it waited for (the Java side returns as soon as that
/// holds, while the simulator's stretch of virtual time may already have moved on to the next settled
/// state, so the rest of the partition state is timing, not outcome); an `observe` compares leader and ISR.
fn state_view(case: &Value, state: &Value) -> Value {
    let step = state["step"].as_u64().expect("step") as usize;
    let spec = &case["steps"][step];
    let name = format!("{}-{}", case["topic"]["name"].as_str().expect("topic.name"), spec.get("partition").and_then(Value::as_u64).unwrap_or(0));
    let p = &state["partitions"][name.as_str()];
    let view = match state["op"].as_str() {
        Some("wait_isr") => json!({ "isr": p["isr"] }),
        Some("wait_leader") => json!({ "leader": p["leader"] }),
        Some("wait_hw") => json!({ "high_watermark_reached": p["high_watermark"].as_u64().is_some_and(|hw| hw >= u64_of(spec, "offset")) }),
        Some("wait_log_start") => json!({ "log_start_reached": p["log_start_offset"].as_u64().is_some_and(|o| o >= u64_of(spec, "offset")) }),
        Some("wait_lso") => json!({ "last_stable_offset_reached": p["last_stable_offset"].as_u64().is_some_and(|o| o >= u64_of(spec, "offset")) }),
        // Every partition's HW and LSO at that moment.
        Some("end_offsets") => {
            let mut out = Map::new();
            for (name, p) in state["partitions"].as_object().expect("partitions") {
                out.insert(name.clone(), json!({ "high_watermark": p["high_watermark"], "last_stable_offset": p["last_stable_offset"] }));
            }
            Value::Object(out)
        }
        _ => partitions_view(&state["partitions"]),
    };
    json!({ "step": step, "op": state["op"], "state": view })
}

/// A consumer's comparable form: everything it reports, with the records it read grouped by partition
/// in the order it read them (the order across partitions is when fetches happened to return, which
/// Kafka does not define).
fn consumer_view(c: &Value) -> Value {
    let mut by_partition: Map<String, Value> = Map::new();
    for r in c["records"].as_array().into_iter().flatten() {
        let list = by_partition.entry(r["partition"].as_str().expect("partition").to_string()).or_insert(json!([]));
        list.as_array_mut().expect("list").push(json!({ "offset": r["offset"], "key": r["key"], "value": r["value"] }));
    }
    json!({
        "group": c["group"],
        "state": c["state"],
        "error": c["error"],
        "assignment": c["assignment"],
        "records": by_partition,
        "listener": c["listener"],
        "commit_errors": c["commit_errors"].as_array().map(|l| l.iter().map(|e| e["error"].clone()).collect::<Vec<_>>()),
    })
}

/// A group wait's comparable form: at wait_group the group's state, assignor and every member's
/// assignment; at wait_consumed whether the consumer had read that many records; at wait_committed the
/// committed offsets of the partitions it waited for; at list_group_offsets every committed offset of
/// the group; at wait_consumer the consumer's state and the exception that stopped it.
fn group_state_view(case: &Value, state: &Value) -> Value {
    let step = state["step"].as_u64().expect("step") as usize;
    let spec = &case["steps"][step];
    let view = match state["op"].as_str() {
        Some("wait_group") => json!({ "state": state["state"], "assignor": state["assignor"], "assignment": state["assignment"] }),
        Some("wait_consumed") => json!({ "consumed_at_least": state["consumed"].as_u64().is_some_and(|n| n >= u64_of(spec, "count")) }),
        Some("wait_consumer") => json!({ "state": state["state"], "error": state["error"] }),
        Some("list_group_offsets") => json!({ "committed": state["committed"] }),
        _ => {
            let mut committed = Map::new();
            for (p, _) in spec["offsets"].as_object().expect("offsets") {
                committed.insert(p.clone(), state["committed"][p.as_str()].clone());
            }
            json!({ "committed": committed })
        }
    };
    json!({ "step": step, "op": state["op"], "state": view })
}

/// Every field on which the two outcomes differ, described in one line each.
fn differences(case: &Value, real: &Value, sim: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(why) = sim.get("refused") {
        out.push(format!("the simulator refuses the translated scenario: {why}"));
        return out;
    }
    let list = |v: &Value, key: &str| v[key].as_array().cloned().unwrap_or_default();
    let (rr, sr) = (list(real, "records"), list(sim, "records"));
    for i in 0..rr.len().max(sr.len()) {
        let (a, b) = (rr.get(i).map(record_view), sr.get(i).map(record_view));
        if a != b {
            out.push(format!("record {i}: real {} / sim {}", a.unwrap_or(Value::Null), b.unwrap_or(Value::Null)));
        }
    }
    let (ra, sa) = (list(real, "reads"), list(sim, "reads"));
    for i in 0..ra.len().max(sa.len()) {
        let (a, b) = (ra.get(i).map(read_view), sa.get(i).map(read_view));
        if a != b {
            out.push(format!("consume_all {i}: real {} / sim {}", a.unwrap_or(Value::Null), b.unwrap_or(Value::Null)));
        }
    }
    let (rs, ss) = (list(real, "states"), list(sim, "states"));
    for i in 0..rs.len().max(ss.len()) {
        let (a, b) = (rs.get(i).map(|s| state_view(case, s)), ss.get(i).map(|s| state_view(case, s)));
        if a != b {
            out.push(format!("state {i}: real {} / sim {}", a.unwrap_or(Value::Null), b.unwrap_or(Value::Null)));
        }
    }
    let (rt, st) = (list(real, "transactions"), list(sim, "transactions"));
    for i in 0..rt.len().max(st.len()) {
        let (a, b) = (rt.get(i).map(transaction_view), st.get(i).map(transaction_view));
        if a != b {
            out.push(format!("transaction op {i}: real {} / sim {}", a.unwrap_or(Value::Null), b.unwrap_or(Value::Null)));
        }
    }
    let (rf, sf) = (partitions_view(&real["final"]), partitions_view(&sim["final"]));
    if rf != sf {
        out.push(format!("final state: real {rf} / sim {sf}"));
    }
    let (rg, sg) = (list(real, "group_states"), list(sim, "group_states"));
    for i in 0..rg.len().max(sg.len()) {
        let (a, b) = (rg.get(i).map(|s| group_state_view(case, s)), sg.get(i).map(|s| group_state_view(case, s)));
        if a != b {
            out.push(format!("group state {i}: real {} / sim {}", a.unwrap_or(Value::Null), b.unwrap_or(Value::Null)));
        }
    }
    let names = |v: &Value, key: &str| v[key].as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    let mut consumers = names(real, "consumers");
    consumers.extend(names(sim, "consumers").into_iter().filter(|n| !names(real, "consumers").contains(n)));
    for n in &consumers {
        let view = |v: &Value| v["consumers"].get(n.as_str()).map_or(Value::Null, consumer_view);
        let (a, b) = (view(real), view(sim));
        for field in ["group", "state", "error", "assignment", "records", "listener", "commit_errors"] {
            if a.get(field) != b.get(field) {
                out.push(format!("consumer {n} {field}: real {} / sim {}", a.get(field).unwrap_or(&Value::Null), b.get(field).unwrap_or(&Value::Null)));
            }
        }
    }
    if real.get("groups") != sim.get("groups") {
        out.push(format!("committed offsets at the end: real {} / sim {}", real.get("groups").unwrap_or(&Value::Null), sim.get("groups").unwrap_or(&Value::Null)));
    }
    if real["unclean_elections"] != sim["unclean_elections"] {
        out.push(format!("unclean elections: real {} / sim {}", real["unclean_elections"], sim["unclean_elections"]));
    }
    out
}

#[test]
#[ignore = "starts a real Kafka cluster per case (minutes); run by cargo xtask conformance"]
fn real_cluster_agrees_with_simulator() {
    let jar = ensure_jar();
    let files = case_files();
    assert!(!files.is_empty(), "no cases in conformance/cluster/cases (or none named by CLUSTER_CASES)");
    let mut report = String::new();
    let mut documented = String::new();
    let mut agree = 0;
    let mut known = 0;
    for file in &files {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(file).expect("case readable")).expect("case is JSON");
        let name = case["name"].as_str().expect("name").to_string();
        let started = Instant::now();
        let real = real_outcome(&jar, file, &name);
        let secs = started.elapsed().as_secs_f64();
        let mut problems = Vec::new();
        let needs = case.get("needs").and_then(Value::as_array).map_or(0, Vec::len);
        if needs > 0 {
            problems.push("the case says the simulator lacks an operation (needs), but every op translates: update the case".to_string());
        }
        let sim = sim_outcome(&case);
        match &real {
            Err(e) => problems.push(e.clone()),
            Ok(r) => problems.extend(differences(&case, r, &sim)),
        }
        // A case may name a simplification of the simulator that explains its disagreement
        // (`known_divergence`, listed in docs/conformance.md). It is reported but does not fail;
        // once the case agrees, the note is stale and must go.
        let known_divergence = case.get("known_divergence").and_then(Value::as_str);
        let verdict = match (problems.is_empty(), known_divergence) {
            (true, None) => "agree",
            (true, Some(_)) => "AGREES, but is listed as a known divergence",
            (false, Some(_)) => "disagrees (documented)",
            (false, None) => "DISAGREE",
        };
        eprintln!("cluster case {name}: {verdict} ({secs:.0} s on the real cluster)");
        match (problems.is_empty(), known_divergence) {
            (true, None) => {
                agree += 1;
                continue;
            }
            (true, Some(_)) => {
                let _ = writeln!(report, "\n=== {name} agrees now: remove its known_divergence and its line in docs/conformance.md");
                continue;
            }
            (false, Some(reason)) => {
                known += 1;
                let _ = writeln!(documented, "  {name}: {reason}");
                for p in &problems {
                    let _ = writeln!(documented, "    - {p}");
                }
                continue;
            }
            (false, None) => {}
        }
        let _ = writeln!(report, "\n=== {name}: {} difference(s)", problems.len());
        for p in &problems {
            let _ = writeln!(report, "  - {p}");
        }
        if let Ok(r) = &real {
            let _ = writeln!(report, "  real outcome:\n{}", serde_json::to_string_pretty(r).expect("JSON"));
        }
        let _ = writeln!(report, "  simulator outcome:\n{}", serde_json::to_string_pretty(&sim).expect("JSON"));
    }
    if !documented.is_empty() {
        eprintln!("documented divergences (docs/conformance.md):\n{documented}");
    }
    println!("conformance: cluster {} {} {} {known}", files.len(), agree, files.len() - agree - known);
    assert!(report.is_empty(), "the real cluster and the simulator disagree:{report}");
}

#[test]
#[ignore = "part of the real-cluster conformance run"]
fn every_case_translates_into_a_valid_scenario() {
    // A pending case may be one the simulator cannot express yet; the main test reports it.
    if std::env::var_os("CLUSTER_PENDING").is_some() {
        return;
    }
    for file in case_files() {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("case readable")).expect("case is JSON");
        let plan = translate(&case);
        if let Err(errors) = kafkasim::scenario::parse("case.toml", &plan.toml) {
            panic!("{} translates into an invalid scenario: {errors:?}\n{}", file.display(), plan.toml);
        }
    }
}

#[test]
fn a_cluster_is_started_again_only_when_a_node_lost_its_port() {
    let dir = std::env::temp_dir().join(format!("kafkasim-port-taken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let stderr = format!("Exception in thread \"main\" java.lang.IllegalStateException: node 3 exited with 1; see {}\n\tat kafkasim.cluster.Cluster.awaitBrokers(Cluster.java:195)", dir.display());
    std::fs::write(dir.join("server.log"), "ERROR Unable to start acceptor\nCaused by: java.net.BindException: Address already in use\n").expect("write log");
    assert!(port_taken(&stderr));
    std::fs::write(dir.join("server.log"), "ERROR something else entirely\n").expect("write log");
    assert!(!port_taken(&stderr));
    assert!(!port_taken("the harness printed no outcome"));
    std::fs::remove_dir_all(&dir).expect("remove temp dir");
}
