//! The harness the conformance tests share: the Java oracle's jar (built with Maven when missing or
//! stale), one JVM run over a kind's cases, the curated cases of `conformance/cases/`, and the
//! comparison that prints the `conformance:` line `cargo xtask conformance` tabulates.

use kafkasim::sim::map::VecMap;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::SystemTime;

/// Generated cases per kind.
pub const GENERATED: usize = 2_500;

/// The seed used unless `KAFKASIM_CONFORMANCE_SEED` says otherwise. Fixed, so that CI is reproducible.
pub const DEFAULT_SEED: u64 = 0x6b61_666b_6173_696d;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn seed() -> u64 {
    match std::env::var("KAFKASIM_CONFORMANCE_SEED") {
        Ok(s) => s.trim().parse().unwrap_or_else(|_| panic!("KAFKASIM_CONFORMANCE_SEED={s:?} is not a u64")),
        Err(_) => DEFAULT_SEED,
    }
}

/// The newest modification time of a file or of any file under a folder.
fn newest(path: &Path) -> SystemTime {
    let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if !meta.is_dir() {
        return meta.modified().expect("file times are available");
    }
    std::fs::read_dir(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|entry| newest(&entry.expect("readable folder").path()))
        .fold(SystemTime::UNIX_EPOCH, SystemTime::max)
}

fn runs(program: &str) -> bool {
    Command::new(program).arg("-version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// The oracle's jar, built once per test binary (the lock keeps parallel tests from running Maven twice)
/// when it is missing or older than `conformance/pom.xml` or anything under `conformance/src`.
fn jar() -> &'static Path {
    static JAR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = JAR.get_or_init(|| {
        let dir = root().join("conformance");
        let jar = dir.join("target/kafkasim-conformance.jar");
        if !runs("java") {
            return Err("the conformance tests need Java 17 (`java` is not on PATH; on Debian: apt-get install openjdk-17-jdk-headless maven)".into());
        }
        let sources = newest(&dir.join("pom.xml")).max(newest(&dir.join("src")));
        let fresh = std::fs::metadata(&jar).and_then(|m| m.modified()).is_ok_and(|built| built >= sources);
        if fresh {
            return Ok(jar);
        }
        if !runs("mvn") {
            return Err("the conformance tests build their Java oracle with Maven (`mvn` is not on PATH; on Debian: apt-get install openjdk-17-jdk-headless maven)".into());
        }
        let pom = dir.join("pom.xml");
        let status = Command::new("mvn")
            .args(["-q", "-B", "-Dstyle.color=never", "-f"])
            .arg(&pom)
            .args(["package", "-DskipTests"])
            .status()
            .map_err(|e| format!("cannot start mvn: {e}"))?;
        if !status.success() || !jar.exists() {
            return Err(format!("`mvn -q -B -f {} package -DskipTests` failed (Java 17 and Maven Central are needed)", pom.display()));
        }
        Ok(jar)
    });
    match built {
        Ok(jar) => jar,
        Err(e) => panic!("{e}"),
    }
}

/// Runs the oracle once over all cases and returns its answers in case order.
pub fn oracle(cases: &[Value]) -> Vec<Value> {
    let mut child = Command::new("java")
        .arg("-jar")
        .arg(jar())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start java -jar kafkasim-conformance.jar");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input: String = cases.iter().map(|c| format!("{c}\n")).collect();
    // The oracle answers while it reads, so the cases are written from another thread.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut answers: VecMap<u64, Value> = VecMap::new();
    for line in BufReader::new(child.stdout.take().expect("piped stdout")).lines() {
        let line = line.expect("oracle output is UTF-8");
        let answer: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("oracle wrote {line:?}: {e}"));
        if let Some(problem) = answer.get("harness_error") {
            panic!("the oracle could not run a case: {problem} (answer {answer})");
        }
        let id = answer["id"].as_u64().unwrap_or_else(|| panic!("oracle answer without id: {answer}"));
        answers.insert(id, answer);
    }
    writer.join().expect("writer thread").expect("write cases to the oracle");
    assert!(child.wait().expect("oracle exits").success(), "the oracle failed");
    cases
        .iter()
        .map(|c| {
            let id = c["id"].as_u64().expect("case id");
            let mut a = answers.remove(&id).unwrap_or_else(|| panic!("the oracle did not answer case {c}"));
            a.as_object_mut().expect("an object").remove("id");
            a
        })
        .collect()
}

/// The curated cases of a kind, one JSON object a line in `conformance/cases/<kind>.jsonl`.
pub fn curated(kind: &str) -> Vec<Value> {
    let path = root().join("conformance/cases").join(format!("{kind}.jsonl"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1)))
        .collect()
}

/// Compares the simulator with Kafka on the curated and generated cases of a kind, prints the
/// `conformance:` line and fails on any disagreement.
/// `compared` reduces an answer (Kafka's, and the simulator's in the same shape) to what is compared.
pub fn conform(kind: &str, generate: fn(&mut ChaCha8Rng) -> Value, simulate: fn(&Value) -> Value, compared: fn(&Value) -> Value) {
    let seed = seed();
    println!("conformance seed {seed} (KAFKASIM_CONFORMANCE_SEED={seed} reproduces this run)");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut cases = curated(kind);
    let curated_count = cases.len();
    cases.extend((0..GENERATED).map(|_| generate(&mut rng)));
    for (id, case) in cases.iter_mut().enumerate() {
        let case = case.as_object_mut().expect("a case is a JSON object");
        case.insert("kind".into(), kind.into());
        case.insert("id".into(), (id as u64).into());
    }
    let kafka = oracle(&cases);
    let mut disagree = 0;
    for (i, (case, kafka)) in cases.iter().zip(&kafka).enumerate() {
        let (sim, kafka) = (compared(&simulate(case)), compared(kafka));
        if sim != kafka {
            disagree += 1;
            if disagree <= 20 {
                let origin = if i < curated_count { format!("curated line {}", i + 1) } else { format!("generated, seed {seed}") };
                eprintln!("DISAGREE {kind} ({origin})\n  case:  {case}\n  kafka: {kafka}\n  sim:   {sim}");
            }
        }
    }
    println!("conformance: {kind} {} {} {disagree}", cases.len(), cases.len() - disagree);
    assert_eq!(disagree, 0, "{disagree} of {} {kind} cases disagree with the Java oracle (seed {seed})", cases.len());
}

