//! The real-cluster part of the conformance harness: each case in `conformance/cluster/cases/*.json` runs on
//! a fresh three-broker KRaft cluster of Apache Kafka 4.1.2 (the Java program in `conformance/cluster/`) and,
//! translated into a scenario, in the simulator; their outcomes must agree. The outcome is what a user of
//! Kafka can see, not its timing: the result of every produced record (its offset, or the exception the
//! producer's callback got), what a fresh read_uncommitted consumer reading from the beginning gets at each
//! `consume_all`, the leader and ISR at each wait and `observe` and at the end, and how many unclean
//! elections the controller made.
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

/// The cases, sorted by file name, limited to `CLUSTER_CASES` when it is set.
fn case_files() -> Vec<PathBuf> {
    let only: Option<Vec<String>> = std::env::var("CLUSTER_CASES").ok().map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let mut files: Vec<PathBuf> = std::fs::read_dir(project().join("cases"))
        .expect("conformance/cluster/cases exists")
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
fn run_real(jar: &Path, case: &Path) -> Result<Value, String> {
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
    let _ = writeln!(t, "config = {}", toml_table(&case["broker_config"]));
    let _ = writeln!(t, "\n[[topics]]\nname = {}\npartitions = {}", toml_str(name), assignment.len());
    let _ = writeln!(t, "\"replication.factor\" = {rf}\n\"replica.assignment\" = {}", Value::Array(assignment.clone()));
    let _ = writeln!(t, "config = {}", toml_table(&topic["config"]));
    let _ = writeln!(t, "\n[[producers]]\nname = \"app\"\nconfig = {}", toml_table(&case["producer"]));
    let mut at = SIM_START_MS;
    let mut snapshots = Vec::new();
    for (i, s) in case["steps"].as_array().expect("steps").iter().enumerate() {
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
                action(&mut t, at, format!("produce = {{ {} }}", fields.join(", ")));
                at += stretch(1);
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
            "start_broker" => {
                action(&mut t, at, format!("restart = {}", u64_of(s, "broker")));
                at += stretch(5000);
            }
            "wait_hw" => {
                at += stretch(2000);
                snapshots.push(Snapshot { step: i, op: op.to_string(), at });
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
            other => panic!("step {i}: the simulator has no translation for op {other}"),
        }
    }
    let end = at + 1;
    Plan { toml: t.replace("DURATION", &format!("duration_ms = {end}")), snapshots, end }
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

/// Leader and ISR (sorted) of every partition, as the simulated controller has them.
fn sim_partitions(doc: &Value) -> Value {
    let mut out = Map::new();
    for p in doc["final_state"]["partitions"].as_array().expect("partitions") {
        let mut isr: Vec<u64> = p["isr"].as_array().expect("isr").iter().map(|b| b.as_u64().expect("broker id")).collect();
        isr.sort_unstable();
        out.insert(p["name"].as_str().expect("name").to_string(), json!({ "leader": p["leader"], "isr": isr }));
    }
    Value::Object(out)
}

/// What a read_uncommitted consumer from the beginning gets in the model: the leader's log from its log
/// start up to its high watermark (docs/model.md, Consumers). The simulator's own consumers always join a
/// group, whose coordinator partition would add failures the Java side's group-less consumer does not have,
/// so the leader's log is read directly.
fn sim_read(doc: &Value) -> Value {
    let mut out = Map::new();
    for p in doc["final_state"]["partitions"].as_array().expect("partitions") {
        let name = p["name"].as_str().expect("name").to_string();
        let Some(leader) = p["leader"].as_u64() else {
            out.insert(name, json!({ "unavailable": "the partition has no leader" }));
            continue;
        };
        let replica = p["replicas"].as_array().expect("replicas").iter().find(|r| r["broker"].as_u64() == Some(leader)).expect("the leader is a replica");
        let (start, hw) = (u64_of(replica, "log_start_offset"), u64_of(replica, "high_watermark"));
        let records: Vec<Value> = replica["log"]
            .as_array()
            .expect("log")
            .iter()
            .filter(|e| (start..hw).contains(&u64_of(e, "offset")))
            .map(|e| json!({ "offset": e["offset"], "key": e["key"], "value": e["value"] }))
            .collect();
        out.insert(name, json!({ "records": records }));
    }
    Value::Object(out)
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
        other => return format!("(no Java class for {other})"),
    }
    .to_string()
}

/// Runs the case in the simulator and reports its outcome in the Java side's shape.
fn sim_outcome(case: &Value) -> Value {
    let plan = translate(case);
    let file = std::env::temp_dir().join(format!("kafkasim-cluster-{}-{}.toml", case["name"].as_str().expect("name"), std::process::id()));
    std::fs::write(&file, &plan.toml).expect("temporary scenario written");
    let full = run_sim(&file, plan.end);
    let mut reads = Vec::new();
    let mut states = Vec::new();
    for snap in &plan.snapshots {
        let doc = run_sim(&file, snap.at);
        if snap.op == "consume_all" {
            reads.push(json!({ "step": snap.step, "partitions": sim_read(&doc) }));
        } else {
            let mut parts = sim_partitions(&doc);
            if snap.op == "wait_hw" {
                for p in doc["final_state"]["partitions"].as_array().expect("partitions") {
                    let leader = p["replicas"].as_array().expect("replicas").iter().find(|r| r["broker"] == p["leader"]);
                    parts[p["name"].as_str().expect("name")]["high_watermark"] = leader.map_or(Value::Null, |r| r["high_watermark"].clone());
                }
            }
            states.push(json!({ "step": snap.step, "op": snap.op, "partitions": parts }));
        }
    }
    let _ = std::fs::remove_file(&file);
    let records: Vec<Value> = full["ledger"]["records"]
        .as_array()
        .expect("ledger records")
        .iter()
        .map(|r| {
            let o = &r["outcome"];
            let mut rec = json!({ "key": r["key"], "value": r["value"], "result": o["state"] });
            match o["state"].as_str() {
                Some("acknowledged") => {
                    rec["partition"] = r["partition"].clone();
                    rec["offset"] = o["offset"].clone();
                }
                Some("failed") => {
                    rec["error"] = json!(exception_of(o["error"].as_str().unwrap_or("")));
                    rec["sim_error"] = o["error"].clone();
                }
                _ => {}
            }
            rec
        })
        .collect();
    let unclean = full["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .flat_map(|s| s["effects"].as_array().into_iter().flatten())
        // Kafka's controller records a last-known-leader election (KIP-966) as unclean too
        // (`ElectionResult(node, unclean = true)`), so both count.
        .filter(|e| e["effect"] == "leader_elected" && (e["election"] == "unclean" || e["election"] == "last_known_leader"))
        .count();
    json!({
        "case": case["name"],
        "records": records,
        "reads": reads,
        "states": states,
        "final": sim_partitions(&full),
        "unclean_elections": unclean,
        "info": { "scenario": plan.toml },
    })
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
        _ => partitions_view(&state["partitions"]),
    };
    json!({ "step": step, "op": state["op"], "state": view })
}

/// Every field on which the two outcomes differ, described in one line each.
fn differences(case: &Value, real: &Value, sim: &Value) -> Vec<String> {
    let mut out = Vec::new();
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
    let (rf, sf) = (partitions_view(&real["final"]), partitions_view(&sim["final"]));
    if rf != sf {
        out.push(format!("final state: real {rf} / sim {sf}"));
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
    for file in case_files() {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("case readable")).expect("case is JSON");
        let plan = translate(&case);
        if let Err(errors) = kafkasim::scenario::parse("case.toml", &plan.toml) {
            panic!("{} translates into an invalid scenario: {errors:?}\n{}", file.display(), plan.toml);
        }
    }
}
