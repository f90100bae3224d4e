//! Malformed scenarios: each gets an error with the exact location, message and hint. Never a panic.

mod common;

const BASE: &str = r#"title = "t"
summary = "s"

[cluster]
brokers = 3

[[topics]]
name = "orders"
partitions = 2
"replication.factor" = 3

[[producers]]
name = "app"
"#;

fn first_error(text: &str) -> String {
    let errors = common::parse(text).expect_err("the scenario is invalid");
    errors[0].to_string()
}

fn assert_error(extra: &str, expected: &str) {
    let text = format!("{BASE}{extra}");
    let got = first_error(&text);
    assert_eq!(got, expected, "\n--- scenario ---\n{text}");
}

#[test]
fn the_base_scenario_is_valid() {
    assert!(common::parse(BASE).is_ok());
}

#[test]
fn misspelt_kafka_property_suggests_the_right_name() {
    let got = first_error(&BASE.replace("\"replication.factor\" = 3", "\"replication.factor\" = 3\nconfig = { \"min.insync.replica\" = 2 }"));
    assert!(got.starts_with("test.toml:11:12: error: unknown field `min.insync.replica`"), "{got}");
    assert!(got.ends_with("hint: did you mean `min.insync.replicas`?"), "{got}");
}

#[test]
fn unquoted_dotted_property_explains_quoting() {
    let got = first_error(&BASE.replace("name = \"app\"\n", "name = \"app\"\nconfig = { enable.idempotence = true }\n"));
    assert!(got.contains("unknown field `enable`"), "{got}");
    assert!(got.ends_with("hint: Kafka property names contain dots, so TOML needs them quoted: \"enable.idempotence\" = …"), "{got}");
}

#[test]
fn replication_factor_above_broker_count() {
    let got = first_error(&BASE.replace("\"replication.factor\" = 3", "\"replication.factor\" = 4"));
    assert_eq!(
        got,
        "test.toml:10:24: error: replication.factor = 4, but the cluster has 3 broker(s)\n  hint: replication.factor must be between 1 and the number of brokers"
    );
}

#[test]
fn min_insync_replicas_above_replication_factor() {
    let got = first_error(&BASE.replace("\"replication.factor\" = 3", "\"replication.factor\" = 3\nconfig = { \"min.insync.replicas\" = 4 }"));
    assert!(got.starts_with("test.toml:11:10: error: min.insync.replicas = 4 for a topic with replication.factor = 3"), "{got}");
}

#[test]
fn zero_partitions() {
    let got = first_error(&BASE.replace("partitions = 2", "partitions = 0"));
    assert_eq!(got, "test.toml:9:14: error: partitions = 0, expected 1 to 1000");
}

#[test]
fn absurd_sizes_are_refused_before_running() {
    let got = first_error(&BASE.replace("brokers = 3", "brokers = 100000"));
    assert_eq!(got, "test.toml:5:11: error: brokers = 100000, expected 1 to 64");
    assert_error(
        "\n[[timeline]]\nat = 0\nproduce = { count = 2000000 }\n",
        "test.toml:17:21: error: the timeline and the challenge's solution produce 2000000 records; the limit is 1000000\n  hint: lower the produce entries' count",
    );
}

#[test]
fn unknown_acks_value() {
    let got = first_error(&BASE.replace("name = \"app\"\n", "name = \"app\"\nconfig = { acks = \"most\" }\n"));
    assert!(got.starts_with("test.toml:14:19: error: acks must be 0, 1, \"all\" or -1"), "{got}");
}

#[test]
fn explicit_idempotence_conflicts_like_the_java_client() {
    let got = first_error(&BASE.replace("name = \"app\"\n", "name = \"app\"\nconfig = { acks = 1, \"enable.idempotence\" = true }\n"));
    assert!(got.starts_with("test.toml:14:10: error: enable.idempotence = true needs acks = all, but acks = 1"), "{got}");
}

#[test]
fn unknown_node_in_a_cut_suggests_a_name() {
    assert_error(
        "\n[[timeline]]\nat = 5\ncut = { from = \"broker-1\", to = \"brokr-2\" }\n",
        "test.toml:17:33: error: unknown node \"brokr-2\"\n  hint: did you mean `broker-2`?",
    );
}

#[test]
fn crash_of_a_broker_that_does_not_exist() {
    assert_error(
        "\n[[timeline]]\nat = 5\ncrash = 9\n",
        "test.toml:17:9: error: there is no broker 9\n  hint: brokers are numbered 1 to 3",
    );
}

#[test]
fn two_actions_in_one_entry() {
    assert_error(
        "\n[[timeline]]\nat = 5\ncrash = 1\nrestart = 1\n",
        "test.toml:15:1: error: a timeline entry holds more than one action\n  hint: split it into several [[timeline]] entries with the same `at`",
    );
}

#[test]
fn unknown_topic_in_produce() {
    assert_error(
        "\n[[timeline]]\nat = 0\nproduce = { topic = \"order\" }\n",
        "test.toml:17:21: error: unknown topic \"order\"\n  hint: did you mean `orders`?",
    );
}

#[test]
fn expectation_on_unknown_partition() {
    assert_error(
        "\n[[expect]]\npartition = \"orders-7\"\nleader = 1\n",
        "test.toml:16:13: error: unknown partition \"orders-7\"\n  hint: did you mean `orders-0`?",
    );
}

#[test]
fn unknown_error_name_in_expectation() {
    assert_error(
        "\n[[expect]]\nproducer = \"app\"\nerrors_seen = [\"NOT_ENOUGH_REPLICA\"]\n",
        "test.toml:17:15: error: unknown error name \"NOT_ENOUGH_REPLICA\"\n  hint: did you mean `NOT_ENOUGH_REPLICAS`?",
    );
}

#[test]
fn toml_syntax_error_is_located() {
    let got = first_error("title = \"t\"\nsummary = \"s\n[cluster]\n");
    assert!(got.starts_with("test.toml:2:"), "{got}");
}

#[test]
fn missing_required_field_names_it() {
    let got = first_error("summary = \"s\"\n[cluster]\nbrokers = 1\n[[topics]]\nname = \"t\"\npartitions = 1\n\"replication.factor\" = 1\n");
    assert!(got.contains("missing field `title`"), "{got}");
    assert!(got.contains("hint: add `title = …`"), "{got}");
}

#[test]
fn loss_must_be_a_probability() {
    let got = first_error(&BASE.replace("brokers = 3", "brokers = 3\nnetwork = { loss = 1.5 }"));
    assert_eq!(got, "test.toml:6:11: error: loss = 1.5, expected a probability from 0.0 to 1.0");
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    let text = format!("{BASE}\n[[timeline]]\nat = 0\ncrash = 7\n\n[[timeline]]\nat = 1\nrestart = 8\n");
    let errors = common::parse(&text).expect_err("invalid");
    assert_eq!(errors.len(), 2);
    assert_eq!((errors[0].line, errors[1].line), (17, 21));
}

#[test]
fn every_wrong_key_and_type_is_reported_in_one_pass() {
    let text = BASE.replace("brokers = 3", "brokers = \"three\"\nbrokrs = 3").replace("name = \"app\"", "name = \"app\"\nconfig = { acks = \"some\", retries = -1 }");
    let errors: Vec<String> = common::parse(&text).expect_err("invalid").iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "test.toml:5:11: error: invalid type: string \"three\", expected a whole number from 0 to 4294967295\n  hint: check the value's type: numbers unquoted, text in \"quotes\", lists in [brackets]",
            "test.toml:6:1: error: unknown field `brokrs`, expected one of `brokers`, `config`, `network`\n  hint: did you mean `brokers`?",
            "test.toml:15:19: error: acks must be 0, 1, \"all\" or -1",
            "test.toml:15:37: error: retries = -1 is out of range: expected 0 to 2147483647\n  hint: Kafka 4.1.2's ProducerConfig declares it INT, between(0, Integer.MAX_VALUE)",
        ]
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    let samples = ["", "\u{0}", "[[[", "title = 1", "x = [1, \"a\"]", "[cluster]\nbrokers = -1", "a.b.c.d = {"];
    for s in samples {
        assert!(common::parse(s).is_err(), "{s:?} is rejected");
    }
}

const CONSUMER: &str = "[[consumers]]\nname = \"c1\"\ntopics = [\"orders\"]\n";

#[test]
fn a_consumer_without_a_group_id_is_refused() {
    assert_error(
        CONSUMER,
        "test.toml:14:1: error: \"group.id\" is required: the simulator models consumers in groups (subscribe), not assign()",
    );
}

#[test]
fn an_unknown_commit_policy_suggests_the_closest() {
    let got = first_error(&format!("{BASE}{CONSUMER}commit = \"after-procesing\"\nconfig = {{ \"group.id\" = \"g\" }}\n"));
    assert_eq!(
        got,
        "test.toml:17:10: error: unknown commit policy \"after-procesing\"\n  hint: did you mean `after-processing`?"
    );
}

#[test]
fn a_subscription_to_an_unknown_topic_suggests_the_closest() {
    let got = first_error(&format!("{BASE}[[consumers]]\nname = \"c1\"\ntopics = [\"order\"]\nconfig = {{ \"group.id\" = \"g\" }}\n"));
    assert_eq!(got, "test.toml:16:10: error: unknown topic \"order\"\n  hint: did you mean `orders`?");
}

#[test]
fn one_group_with_two_strategies_is_refused_as_kafka_would() {
    let text = format!(
        "{BASE}{CONSUMER}config = {{ \"group.id\" = \"g\" }}\n[[consumers]]\nname = \"c2\"\ntopics = [\"orders\"]\nconfig = {{ \"group.id\" = \"g\", \"partition.assignment.strategy\" = \"roundrobin\" }}\n"
    );
    let got = first_error(&text);
    assert!(got.starts_with("test.toml:21:10: error: group \"g\": this member's partition.assignment.strategy [roundrobin] shares no assignor with the other members' [range, cooperative-sticky]"), "{got}");
    assert!(got.contains("INCONSISTENT_GROUP_PROTOCOL"), "{got}");
}

#[test]
fn heartbeat_interval_must_be_below_the_session_timeout() {
    let got = first_error(&format!(
        "{BASE}{CONSUMER}config = {{ \"group.id\" = \"g\", \"session.timeout.ms\" = 6000, \"heartbeat.interval.ms\" = 6000 }}\n"
    ));
    assert_eq!(
        got,
        "test.toml:17:10: error: heartbeat.interval.ms (6000) must be positive and less than session.timeout.ms (6000) (the Java client throws IllegalArgumentException)"
    );
}

#[test]
fn a_timeline_action_on_an_unknown_consumer_suggests_the_closest() {
    let got = first_error(&format!("{BASE}{CONSUMER}config = {{ \"group.id\" = \"g\" }}\n[[timeline]]\nat = 5\ncrash_consumer = \"c2\"\n"));
    assert_eq!(got, "test.toml:20:18: error: unknown consumer \"c2\"\n  hint: did you mean `c1`?");
}

#[test]
fn group_checks_need_a_group_and_producer_totals_refuse_one() {
    let base = format!("{BASE}{CONSUMER}config = {{ \"group.id\" = \"g\" }}\n");
    assert_eq!(first_error(&format!("{base}[[expect]]\nverdict = \"at-least-once\"\n")), "test.toml:18:1: error: `verdict` needs `group = \"…\"`");
    assert_eq!(
        first_error(&format!("{base}[[expect]]\ngroup = \"g\"\nsent = 3\n")),
        "test.toml:18:1: error: `sent` is a producer total and this expectation names a group\n  hint: put producer totals in their own [[expect]] table without `group`"
    );
    assert_eq!(
        first_error(&format!("{base}[[expect]]\ngroup = \"g\"\nverdict = \"exactly_once\"\n")),
        "test.toml:20:11: error: unknown verdict \"exactly_once\"\n  hint: did you mean `exactly-once`?"
    );
}

#[test]
fn an_unknown_eligible_leader_replicas_version_is_refused() {
    let got = first_error(&BASE.replace("brokers = 3", "brokers = 3\nconfig = { \"eligible.leader.replicas.version\" = 2 }"));
    assert_eq!(
        got,
        "test.toml:6:49: error: eligible.leader.replicas.version = 2 is out of range: expected 0 to 1\n  hint: Kafka 4.1.2 knows feature levels 0 (off) and 1 (eligible leader replicas on)"
    );
}
