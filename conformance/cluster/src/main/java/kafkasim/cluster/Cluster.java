package kafkasim.cluster;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Node;
import org.apache.kafka.metadata.storage.Formatter;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A KRaft cluster of one dedicated controller and N brokers, each a child JVM running {@code kafka.Kafka}
 * on 127.0.0.1, all in a fresh temporary directory.
 *
 * Brokers are separate processes, not an in-process test kit, because the cases need a real hard kill:
 * SIGKILL leaves no chance for a controlled shutdown, the controller only learns of it when the broker's
 * heartbeats stop (broker.session.timeout.ms), and the broker restarts from its log directory after an
 * unclean shutdown, which KRaft treats differently from a clean one (KIP-966). SIGTERM, by contrast, runs
 * the broker's shutdown hook and so its controlled shutdown. The controller is a separate node, not combined
 * with a broker, so that killing brokers never costs the metadata quorum; the simulator's controller is
 * likewise one always-available node. Broker ids are 1..N as in the simulator; the controller is node 100.
 */
final class Cluster {
    static final int CONTROLLER_ID = 100;
    private static final String CLUSTER_ID = "a2Fma2FzaW0tY2x1c3Rlcg";

    private final Path dir;
    private final int controllerPort;
    private final Map<Integer, Integer> brokerPorts = new LinkedHashMap<>();
    /** The running nodes; concurrent because the shutdown hook reads it from another thread. */
    private final Map<Integer, Process> processes = new ConcurrentSkipListMap<>();
    private final Set<Integer> paused = new TreeSet<>();
    private final Map<String, String> brokerConfig;
    private final Path archive = archivePath();
    private final boolean dumping = archive != null && !Files.exists(archive);
    private Admin admin;

    Cluster(int brokers, Map<String, String> brokerConfig) throws Exception {
        this.dir = Files.createTempDirectory("kafkasim-cluster-");
        this.brokerConfig = brokerConfig;
        this.controllerPort = freePort();
        // Should the harness itself be stopped (Ctrl-C, SIGTERM from a test runner's timeout), no broker may
        // outlive it holding its ports and directory.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> processes.values().forEach(Process::destroyForcibly)));
        for (int id = 1; id <= brokers; id++) {
            brokerPorts.put(id, freePort());
        }
        writeLog4j("controller", true);
        writeProperties(CONTROLLER_ID, controllerProperties());
        format(CONTROLLER_ID);
        for (int id : brokerPorts.keySet()) {
            writeLog4j("broker-" + id, false);
            writeProperties(id, brokerProperties(id));
            format(id);
        }
    }

    /** Starts the controller and every broker, then waits until all brokers are registered and unfenced. */
    void start(long timeoutMs) throws Exception {
        launch(CONTROLLER_ID);
        for (int id : brokerPorts.keySet()) {
            launch(id);
        }
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "100");
        p.put(AdminClientConfig.RETRY_BACKOFF_MAX_MS_CONFIG, "200");
        admin = Admin.create(p);
        awaitBrokers(brokerPorts.keySet(), timeoutMs);
    }

    Admin admin() {
        return admin;
    }

    String bootstrap() {
        return brokerPorts.values().stream().map(port -> "127.0.0.1:" + port).collect(Collectors.joining(","));
    }

    /** The bootstrap list of these brokers. */
    String bootstrapOf(List<Integer> ids) {
        return ids.stream().map(id -> "127.0.0.1:" + brokerPorts.get(id)).collect(Collectors.joining(","));
    }

    /**
     * The brokers that are running and not paused, for a client made mid-case. A paused broker accepts
     * connections (the kernel does) but never answers, so a client that bootstraps from it waits out its
     * request timeout; a stopped one at least refuses at once.
     */
    String bootstrapLive() {
        return brokerPorts.entrySet().stream()
                .filter(e -> processes.containsKey(e.getKey()) && !paused.contains(e.getKey()))
                .map(e -> "127.0.0.1:" + e.getValue()).collect(Collectors.joining(","));
    }

    /** SIGKILL: the broker gets no chance to shut down cleanly. */
    void kill(int id) throws InterruptedException {
        Process p = running(id);
        p.destroyForcibly();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("broker " + id + " did not die within 30 s of SIGKILL");
        }
        processes.remove(id);
    }

    /** SIGTERM: the broker's shutdown hook runs its controlled shutdown before the process exits. */
    void shutdown(int id, long timeoutMs) throws InterruptedException {
        Process p = running(id);
        p.destroy();
        if (!p.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("broker " + id + " did not finish its controlled shutdown within " + timeoutMs + " ms");
        }
        processes.remove(id);
    }

    /**
     * SIGSTOP or SIGCONT to the broker's process. A paused broker neither answers nor sends anything, as if
     * it were cut off from the network, and nothing resets its connections; its heartbeats stop too, so a
     * pause longer than broker.session.timeout.ms gets it fenced.
     */
    void signal(int id, String signal) throws Exception {
        Process p = running(id);
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IllegalStateException("kill -" + signal + " of broker " + id + " failed");
        }
        if (signal.equals("STOP")) {
            paused.add(id);
        } else {
            paused.remove(id);
        }
    }

    /** Starts a stopped broker again on its old port and log directory and waits until it is unfenced. */
    void restart(int id, long timeoutMs) throws Exception {
        if (processes.containsKey(id)) {
            throw new IllegalStateException("broker " + id + " is already running");
        }
        if (!brokerPorts.containsKey(id)) {
            throw new IllegalArgumentException("no broker " + id);
        }
        launch(id);
        awaitBrokers(Set.of(id), timeoutMs);
    }

    /** The lines of the controller's log (written at WARN, and INFO for elections) that contain both texts. */
    long controllerLogLines(String text, String also) throws IOException {
        Path log = dir.resolve("controller").resolve("server.log");
        if (!Files.exists(log)) {
            return 0;
        }
        try (Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
            return lines.filter(l -> l.contains(text) && l.contains(also)).count();
        }
    }

    private Process running(int id) {
        Process p = processes.get(id);
        if (p == null || !p.isAlive()) {
            throw new IllegalStateException("broker " + id + " is not running");
        }
        return p;
    }

    private void awaitBrokers(Set<Integer> ids, long timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        Set<Integer> seen = new TreeSet<>();
        while (System.currentTimeMillis() < deadline) {
            for (Map.Entry<Integer, Process> e : processes.entrySet()) {
                if (!e.getValue().isAlive()) {
                    throw new IllegalStateException("node " + e.getKey() + " exited with " + e.getValue().exitValue()
                            + "; see " + dir.resolve(nodeName(e.getKey())));
                }
            }
            try {
                seen = admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).stream()
                        .map(Node::id).collect(Collectors.toCollection(TreeSet::new));
                if (seen.containsAll(ids)) {
                    return;
                }
            } catch (Exception retry) {
                // The brokers are still starting; the loop asks again until the deadline.
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("brokers " + ids + " not all registered and unfenced within " + timeoutMs + " ms (saw " + seen + ")");
    }

    private void launch(int id) throws IOException {
        Path nodeDir = dir.resolve(nodeName(id));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java,
                // Small heaps and the client compiler: four JVMs share two cores, and a broker of a few
                // records needs neither a large heap nor peak throughput.
                "-Xms64m", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        if (archive != null && !dumping) {
            cmd.add("-XX:SharedArchiveFile=" + archive);
        } else if (dumping && id != CONTROLLER_ID) {
            cmd.add("-XX:ArchiveClassesAtExit=" + dumpFile(id));
        }
        cmd.addAll(List.of(
                "-Dlog4j2.configurationFile=" + nodeDir.resolve("log4j2.properties"),
                "-cp", System.getProperty("java.class.path"),
                "kafka.Kafka", nodeDir.resolve("server.properties").toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(nodeDir.resolve("stdout.log").toFile()))
                .redirectError(ProcessBuilder.Redirect.appendTo(nodeDir.resolve("stdout.log").toFile()));
        processes.put(id, pb.start());
    }

    private Map<String, String> commonProperties(int id) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("node.id", Integer.toString(id));
        p.put("controller.quorum.voters", CONTROLLER_ID + "@127.0.0.1:" + controllerPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", dir.resolve(nodeName(id)).resolve("data").toString());
        // The case's broker settings go to the controller too: broker.session.timeout.ms is enforced there.
        p.putAll(brokerConfig);
        return p;
    }

    private Map<String, String> controllerProperties() {
        Map<String, String> p = commonProperties(CONTROLLER_ID);
        p.put("process.roles", "controller");
        p.put("listeners", "CONTROLLER://127.0.0.1:" + controllerPort);
        return p;
    }

    private Map<String, String> brokerProperties(int id) {
        Map<String, String> p = commonProperties(id);
        p.put("process.roles", "broker");
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPorts.get(id));
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPorts.get(id));
        p.put("inter.broker.listener.name", "PLAINTEXT");
        // Only the case's topics exist: no auto-created topics. The internal topics get one replica unless
        // the case says otherwise (a case with consumers has the harness create __consumer_offsets itself,
        // placed as the simulator places it, with offsets.topic.replication.factor replicas), and groups
        // start their first rebalance at once, unless the case says otherwise. The case's broker_config
        // was put first, so these only fill in what it leaves unset.
        p.putIfAbsent("auto.create.topics.enable", "false");
        p.putIfAbsent("offsets.topic.replication.factor", "1");
        p.putIfAbsent("transaction.state.log.replication.factor", "1");
        p.putIfAbsent("transaction.state.log.min.isr", "1");
        p.putIfAbsent("group.initial.rebalance.delay.ms", "0");
        return p;
    }

    private void writeProperties(int id, Map<String, String> props) throws IOException {
        Path nodeDir = dir.resolve(nodeName(id));
        Files.createDirectories(nodeDir.resolve("data"));
        StringBuilder sb = new StringBuilder();
        props.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        Files.writeString(nodeDir.resolve("server.properties"), sb.toString());
    }

    /**
     * Each node logs at WARN (or KAFKASIM_CLUSTER_LOG_LEVEL, to investigate a case) to its own file. The controller also logs its elections at INFO, because an
     * unclean election (or one from the ELR) is reported nowhere else: PartitionChangeBuilder logs it.
     */
    private void writeLog4j(String node, boolean controller) throws IOException {
        Path nodeDir = dir.resolve(node);
        Files.createDirectories(nodeDir);
        String config = String.join("\n",
                "status = warn",
                "appender.file.type = File",
                "appender.file.name = file",
                "appender.file.fileName = " + nodeDir.resolve("server.log"),
                "appender.file.layout.type = PatternLayout",
                "appender.file.layout.pattern = [%d] %p %m (%c)%n",
                "rootLogger.level = " + System.getenv().getOrDefault("KAFKASIM_CLUSTER_LOG_LEVEL", "warn"),
                "rootLogger.appenderRef.file.ref = file",
                controller ? "logger.elect.name = org.apache.kafka.controller.PartitionChangeBuilder" : "",
                controller ? "logger.elect.level = info" : "",
                "");
        Files.writeString(nodeDir.resolve("log4j2.properties"), config);
    }

    /** Formats the node's log directory as `kafka-storage format` would, with the release's default features. */
    private void format(int id) throws Exception {
        Path data = dir.resolve(nodeName(id)).resolve("data");
        new Formatter()
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                .setNodeId(id)
                .setClusterId(CLUSTER_ID)
                .setControllerListenerName("CONTROLLER")
                .setMetadataLogDirectory(data.toString())
                .setHasDynamicQuorum(false)
                .addDirectory(data.toString())
                .run();
    }

    private String nodeName(int id) {
        return id == CONTROLLER_ID ? "controller" : "broker-" + id;
    }

    /**
     * The class-data-sharing archive of the broker's classes, next to the harness jar (null when the harness
     * does not run from its jar). Loading Kafka's and Scala's classes is most of a broker's start-up, and
     * four JVMs start at once on two cores; with the archive they map the classes instead, which makes a
     * case about a third faster. The first cluster that finds no archive has its brokers write one when
     * they exit cleanly (-XX:ArchiveClassesAtExit). An archive serves only the exact classpath it was made
     * from, so its name carries a hash of the classpath's files, sizes and times: a rebuilt jar or a changed
     * dependency makes a new one, and the old ones are deleted when it is written.
     */
    private static Path archivePath() {
        try {
            Path jar = Path.of(Cluster.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (!Files.isRegularFile(jar)) {
                return null;
            }
            StringBuilder key = new StringBuilder();
            for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
                File f = new File(entry);
                key.append(f.getAbsolutePath()).append(' ').append(f.length()).append(' ').append(f.lastModified()).append('\n');
            }
            String hash = Integer.toHexString(key.toString().hashCode());
            return jar.resolveSibling("broker-classes-" + hash + ".jsa");
        } catch (Exception e) {
            return null;
        }
    }

    private Path dumpFile(int id) {
        return archive.resolveSibling(archive.getFileName() + ".broker-" + id + "-" + ProcessHandle.current().pid());
    }

    /**
     * Stops the running brokers with SIGTERM, so that they write their archives as they exit, and keeps one
     * complete archive. An archive is complete only if its JVM exited by itself: one killed at the timeout
     * may have been cut off while writing.
     */
    private void finishArchive() {
        List<Integer> clean = new ArrayList<>();
        for (Map.Entry<Integer, Process> e : processes.entrySet()) {
            if (e.getKey() != CONTROLLER_ID) {
                e.getValue().destroy();
            }
        }
        for (Map.Entry<Integer, Process> e : processes.entrySet()) {
            if (e.getKey() == CONTROLLER_ID) {
                continue;
            }
            try {
                if (e.getValue().waitFor(60, TimeUnit.SECONDS)) {
                    clean.add(e.getKey());
                }
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            for (int id : brokerPorts.keySet()) {
                Path dump = dumpFile(id);
                boolean complete = !processes.containsKey(id) || clean.contains(id);
                if (complete && Files.exists(dump) && !Files.exists(archive)) {
                    Files.move(dump, archive, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                }
                Files.deleteIfExists(dump);
            }
            if (Files.exists(archive)) {
                try (Stream<Path> old = Files.list(archive.getParent())) {
                    for (Path stale : old.filter(c -> c.getFileName().toString().matches("broker-classes-.*\\.jsa") && !c.equals(archive)).toList()) {
                        Files.deleteIfExists(stale);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The node directories, for a failed case's message. */
    Path dir() {
        return dir;
    }

    /** Kills every node and deletes the cluster's directory, unless the case failed and it is kept to inspect. */
    void close(boolean keep) {
        if (admin != null) {
            admin.close(java.time.Duration.ofSeconds(2));
        }
        if (dumping) {
            finishArchive();
        }
        for (Process p : processes.values()) {
            p.destroyForcibly();
        }
        for (Process p : processes.values()) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        processes.clear();
        if (!keep) {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
