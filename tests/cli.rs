//! The `kafkasim` command-line contract: outputs, formats and exit codes.

mod common;

use std::process::{Command, Output};

fn kafkasim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kafkasim")).args(args).current_dir(common::root()).output().expect("binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kafkasim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path
}

#[test]
fn partition_prints_one_line_per_key_in_order() {
    // Keys from Kafka's murmur2 test vectors: toPositive(murmur2) % 7.
    let o = kafkasim(&["partition", "--partitions", "7", "--", "21", "foobar", "", "-x", "--"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let expected: Vec<String> = [-973_932_308i32, -790_332_482]
        .iter()
        .map(|h| ((h & 0x7fff_ffff) % 7).to_string())
        .chain(["", "-x", "--"].iter().map(|k| kafkasim::sim::murmur2::partition_for_key(k, 7).to_string()))
        .collect();
    assert_eq!(stdout(&o).lines().collect::<Vec<_>>(), expected);
}

#[test]
fn partition_rejects_zero_partitions_with_exit_2() {
    let o = kafkasim(&["partition", "--partitions", "0", "--", "k"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--partitions"), "{}", stderr(&o));
}

#[test]
fn check_prints_a_line_per_scenario_and_a_tally() {
    let o = kafkasim(&["check", "scenarios"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    let n = common::scenario_files().len();
    assert_eq!(out.lines().filter(|l| l.starts_with("PASS ")).count(), n);
    assert_eq!(out.lines().last(), Some(format!("{n} passed, 0 failed").as_str()));
}

#[test]
fn check_exits_1_when_an_expectation_fails() {
    let text = std::fs::read_to_string(common::root().join("scenarios/retry-duplicate.toml")).expect("read");
    let wrong = temp_file("wrong.toml", &text.replace("duplicated = 1", "duplicated = 0"));
    let o = kafkasim(&["check", wrong.to_str().expect("utf-8 path")]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("expected duplicated = 0, got 1"), "{out}");
    assert!(out.ends_with("0 passed, 1 failed\n"), "{out}");
}

#[test]
fn invalid_input_exits_2_with_a_located_message() {
    let bad = temp_file("bad.toml", "title = \"x\"\nsummary = \"y\"\n[cluster]\nbrokers = 0\n[[topics]]\nname = \"t\"\npartitions = 1\n\"replication.factor\" = 1\n");
    for cmd in ["validate", "run"] {
        let o = kafkasim(&[cmd, bad.to_str().expect("utf-8 path")]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let err = stderr(&o);
        assert!(err.contains("bad.toml:4:11: error: brokers = 0, expected 1 to 64"), "{cmd}: {err}");
    }
    let o = kafkasim(&["check", bad.to_str().expect("utf-8 path")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("INVALID"));
    let o = kafkasim(&["run", "no/such/file.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read the file"));
}

#[test]
fn unknown_subcommands_and_flags_exit_2() {
    assert_eq!(kafkasim(&["fly"]).status.code(), Some(2));
    assert_eq!(kafkasim(&["run", "scenarios/retry-duplicate.toml", "--format", "xml"]).status.code(), Some(2));
}

#[test]
fn run_json_has_steps_final_state_and_ledger() {
    let o = kafkasim(&["run", "scenarios/acks1-acknowledged-loss.toml", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["seed"], 1);
    let steps = v["steps"].as_array().expect("steps");
    assert!(steps.len() > 100);
    assert_eq!(steps[0]["index"], 0);
    assert!(steps[0]["text"].as_str().expect("text").contains("#0     timeline: the lecturer says"));
    let p = &v["final_state"]["partitions"][0];
    assert_eq!(p["name"], "orders-0");
    assert_eq!(p["leader"], 2);
    assert_eq!(p["leader_epoch"], 1);
    let replica = &p["replicas"][1];
    assert_eq!(replica["broker"], 2);
    assert_eq!(replica["log_end_offset"], 3);
    assert_eq!(replica["log"][0]["value"], "v1");
    assert_eq!(replica["log"][0]["epoch"], 0);
    assert_eq!(v["ledger"]["totals"]["acknowledged_lost"], 1);
    assert_eq!(v["ledger"]["records"][3]["value"], "v4");
    assert_eq!(v["ledger"]["records"][3]["outcome"]["state"], "acknowledged");
    assert!(v["expectations"].as_array().expect("expectations").iter().all(|e| e["passed"] == true));
}

#[test]
fn run_respects_seed_and_until() {
    let o = kafkasim(&["run", "scenarios/acks1-acknowledged-loss.toml", "--until", "1010", "--seed", "9", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["seed"], 9);
    assert_eq!(v["until_ms"], 1010);
    let last = v["steps"].as_array().expect("steps").last().expect("a step")["time"].as_u64().expect("time");
    assert!(last <= 1010, "last step at {last}");
    assert_eq!(v["final_state"]["partitions"][0]["leader"], 1);
}

#[test]
fn text_run_hides_routine_steps_unless_asked() {
    let quiet = stdout(&kafkasim(&["run", "scenarios/retry-duplicate.toml"]));
    let all = stdout(&kafkasim(&["run", "scenarios/retry-duplicate.toml", "--all"]));
    assert!(quiet.contains("routine steps hidden"));
    assert!(!all.contains("routine steps hidden"));
    assert!(all.lines().count() > quiet.lines().count());
    assert!(quiet.contains("appends user-42=welcome-email to emails-0 at offset 1"), "{quiet}");
}

#[test]
fn run_json_reports_groups_consumers_and_the_group_ledger() {
    let o = kafkasim(&["run", "scenarios/consumer-commit-after-processing.toml", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    let group = &doc["final_state"]["groups"][0];
    assert_eq!(group["name"], "billing");
    assert_eq!(group["offsets_partition"], "__consumer_offsets-9");
    assert_eq!(group["state"], "Stable");
    assert_eq!(group["generation"], 2);
    assert_eq!(group["protocol"], "range");
    assert_eq!(group["members"][0]["assignment"][0], "payments-0");
    assert_eq!(group["committed"]["payments-0"], 10);
    let consumer = &doc["final_state"]["consumers"][0];
    assert_eq!(consumer["name"], "billing-1");
    assert_eq!(consumer["state"], "running");
    assert_eq!(consumer["positions"]["payments-0"], 10);
    assert_eq!(consumer["config"]["enable.auto.commit"], false);
    let ledger = &doc["ledger"]["groups"][0];
    assert_eq!(ledger["verdict"], "at-least-once");
    assert_eq!(ledger["totals"]["duplicated"], 3);
    let twice = ledger["records"].as_array().expect("records").iter().filter(|r| r["processed"] == 2).count();
    assert_eq!(twice, 3);
    assert!(doc["steps"].as_array().expect("steps").iter().any(|s| s["event"]["msg"]["type"] == "join_group"));
}

#[test]
fn explore_writes_a_counterexample_and_exits_1() {
    let out = std::env::temp_dir().join(format!("kafkasim-cex-{}.toml", std::process::id()));
    let o = kafkasim(&["explore", "scenarios/explore-acks1-unclean.toml", "--seeds", "0..50", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("breaks acknowledged-record-kept"), "{text}");
    assert!(text.contains("the configuration is unsafe"), "{text}");
    assert!(text.contains("reproduce with: kafkasim explore scenarios/explore-acks1-unclean.toml --seeds "), "{text}");
    // The file it wrote is a valid scenario whose own expectation (nothing lost) now fails.
    let check = kafkasim(&["check", out.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    assert!(stdout(&check).contains("expected acknowledged_lost = 0"), "{}", stdout(&check));
    let _ = std::fs::remove_file(out);
}

#[test]
fn explore_of_a_safe_configuration_exits_0_and_reports_its_rate() {
    let o = kafkasim(&["explore", "scenarios/explore-acks-all-safe.toml", "--seeds", "0..20", "--faults", "crash,partition"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let text = stdout(&o);
    assert!(text.contains("the configuration is safe"), "{text}");
    assert!(text.contains("no invariant broken; 20 seed(s)"), "{text}");
}

#[test]
fn explore_rejects_bad_seeds_and_faults_with_exit_2() {
    let o = kafkasim(&["explore", "scenarios/explore-acks-all-safe.toml", "--faults", "crash,meteor"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown fault \"meteor\""), "{}", stderr(&o));
    let o = kafkasim(&["explore", "scenarios/explore-acks-all-safe.toml", "--seeds", "9..3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("9..3 holds no seed"), "{}", stderr(&o));
    // The largest seed cannot be named alone (the range's end is excluded): refused, never "0 seeds, nothing broken".
    let o = kafkasim(&["explore", "scenarios/explore-acks-all-safe.toml", "--seeds", "18446744073709551615"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("past the last seed that can be explored, 18446744073709551614"), "{}", stderr(&o));
}

#[test]
fn new_writes_a_commented_template_that_passes_check_and_never_overwrites() {
    let dir = std::env::temp_dir().join(format!("kafkasim-new-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("my-lesson.toml");
    let _ = std::fs::remove_file(&file);
    let out = kafkasim(&["new", file.with_extension("").to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&file).expect("written");
    assert!(text.contains("title = \"my lesson\""), "the title comes from the name");
    assert!(text.lines().filter(|l| l.starts_with('#')).count() >= 5, "the template explains itself");
    let check = kafkasim(&["check", file.to_str().expect("utf-8")]);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    assert!(String::from_utf8_lossy(&check.stdout).contains("1 passed, 0 failed"));
    let again = kafkasim(&["new", file.to_str().expect("utf-8")]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("the file already exists"));
    assert_eq!(std::fs::read_to_string(&file).expect("kept"), text, "the existing file is untouched");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn schema_check_prints_each_levels_verdict_and_exits_1_when_the_named_level_refuses() {
    let v1 = temp_file("order-v1.avsc", r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"amount","type":"double"}]}"#);
    let v2 = temp_file("order-v2.avsc", r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"amount","type":"double"},{"name":"currency","type":"string","default":"EUR"}]}"#);
    let v3 = temp_file("order-v3.avsc", r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"currency","type":"string"}]}"#);
    let (v1, v2, v3) = (v1.to_str().unwrap(), v2.to_str().unwrap(), v3.to_str().unwrap());

    // Adding a field with a default passes every level.
    let o = kafkasim(&["schema-check", v1, v2, "--level", "FULL_TRANSITIVE"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().filter(|l| l.contains("accepted")).count(), 7, "{out}");
    assert!(out.contains("Either order is safe"), "{out}");

    // Dropping `amount` (no default) and requiring `currency`: BACKWARD passes against v2 alone,
    // FORWARD fails against v2, BACKWARD_TRANSITIVE fails against v1.
    let o = kafkasim(&["schema-check", v1, v2, v3, "--level", "backward"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let line = |level: &str| out.lines().find(|l| l.split_whitespace().next() == Some(level)).unwrap_or_else(|| panic!("no {level} line in {out}")).to_string();
    assert!(line("BACKWARD").ends_with("accepted"), "{out}");
    assert!(line("BACKWARD_TRANSITIVE").contains("the new schema cannot read data written with version 1"), "{out}");
    assert!(line("FORWARD").contains("version 2 cannot read data written with the new schema"), "{out}");
    assert!(out.contains(r#"/fields/1  READER_FIELD_MISSING_DEFAULT_VALUE: the reader's field "amount" has no default"#), "{out}");
    assert!(out.contains("Upgrade consumers first"), "{out}");
    assert_eq!(kafkasim(&["schema-check", v1, v2, v3, "--level", "FORWARD"]).status.code(), Some(1));

    // A schema that is not JSON, or not Avro, is located; an unknown level is named.
    let bad = temp_file("bad.avsc", "{\"type\":\"record\",\n \"name\": \"X\", \"fields\": [,]}");
    let o = kafkasim(&["schema-check", v1, bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.avsc:2:26: not JSON"), "{}", stderr(&o));
    let undefined = temp_file("undefined.avsc", r#"{"type":"record","name":"X","fields":[{"name":"a","type":"Missing"}]}"#);
    let o = kafkasim(&["schema-check", v1, undefined.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("undefined.avsc: at /fields/0/type: Undefined schema: Missing (org.apache.avro.AvroTypeException)"), "{}", stderr(&o));
    let o = kafkasim(&["schema-check", v1, v2, "--level", "SIDEWAYS"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("one of NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE"), "{}", stderr(&o));
}
