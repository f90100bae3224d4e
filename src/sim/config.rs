//! Kafka configuration under the real property names, with Kafka 4.1.2 defaults.
//!
//! Each `…Raw` struct (and the broker, topic and link settings) is read from a scenario's `config`
//! table by `scenario::walk`. Unknown keys are errors so that a misspelt property never silently
//! falls back to a default.

use super::types::Strategy;
use serde::Serialize;

/// Broker (cluster-wide) settings. Topic-level settings here are the cluster defaults.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BrokerConfig {
    /// A follower that has not caught up for this long is removed from the ISR.
    #[serde(rename = "replica.lag.time.max.ms")]
    pub replica_lag_time_max_ms: u64,
    /// How long a leader holds a follower's fetch when there is no new data.
    #[serde(rename = "replica.fetch.wait.max.ms")]
    pub replica_fetch_wait_max_ms: u64,
    /// How long a follower waits before fetching again after an error.
    #[serde(rename = "replica.fetch.backoff.ms")]
    pub replica_fetch_backoff_ms: u64,
    /// Most bytes one follower fetch returns.
    #[serde(rename = "replica.fetch.max.bytes")]
    pub replica_fetch_max_bytes: u64,
    /// A follower gives up on a fetch with no response after this long.
    #[serde(rename = "replica.socket.timeout.ms")]
    pub replica_socket_timeout_ms: u64,
    /// The controller fences a broker that sent no heartbeat for this long.
    #[serde(rename = "broker.session.timeout.ms")]
    pub broker_session_timeout_ms: u64,
    /// How often a broker heartbeats to the controller.
    #[serde(rename = "broker.heartbeat.interval.ms")]
    pub broker_heartbeat_interval_ms: u64,
    /// How often a broker applies retention.
    #[serde(rename = "log.retention.check.interval.ms")]
    pub log_retention_check_interval_ms: u64,
    /// Cluster default of the topic setting `min.insync.replicas`.
    #[serde(rename = "min.insync.replicas")]
    pub min_insync_replicas: u32,
    /// Cluster default of the topic setting `unclean.leader.election.enable`.
    #[serde(rename = "unclean.leader.election.enable")]
    pub unclean_leader_election_enable: bool,
    /// Cluster default of the topic setting `retention.ms` (-1 = forever).
    #[serde(rename = "log.retention.ms")]
    pub log_retention_ms: i64,
    /// Cluster default of the topic setting `retention.bytes` (-1 = no limit).
    #[serde(rename = "log.retention.bytes")]
    pub log_retention_bytes: i64,
    /// Partitions of `__consumer_offsets`; a group's coordinator leads partition
    /// `abs(groupId.hashCode()) % offsets.topic.num.partitions`.
    #[serde(rename = "offsets.topic.num.partitions")]
    pub offsets_topic_num_partitions: u32,
    /// Replication factor of `__consumer_offsets` (capped at the number of brokers).
    #[serde(rename = "offsets.topic.replication.factor")]
    pub offsets_topic_replication_factor: u32,
    /// How long the group coordinator waits for an offset commit to be replicated to every ISR
    /// member of its `__consumer_offsets` partition before it answers REQUEST_TIMED_OUT.
    #[serde(rename = "offsets.commit.timeout.ms")]
    pub offsets_commit_timeout_ms: u64,
    /// How long the coordinator waits for more members before the first rebalance of an empty group.
    #[serde(rename = "group.initial.rebalance.delay.ms")]
    pub group_initial_rebalance_delay_ms: u64,
    /// The cluster's finalized `eligible.leader.replicas.version` feature level (KIP-966): 1
    /// turns eligible leader replicas on, as `kafka-storage format` does for a new Kafka 4.1
    /// cluster; 0 is the behaviour before (a cluster upgraded from 3.9 or 4.0 keeps it until an
    /// operator runs `kafka-features upgrade`).
    #[serde(rename = "eligible.leader.replicas.version")]
    pub eligible_leader_replicas_version: u32,
    /// The smallest `session.timeout.ms` a consumer may ask for.
    #[serde(rename = "group.min.session.timeout.ms")]
    pub group_min_session_timeout_ms: u64,
    /// The largest `session.timeout.ms` a consumer may ask for.
    #[serde(rename = "group.max.session.timeout.ms")]
    pub group_max_session_timeout_ms: u64,
    /// Cluster default of the topic setting `max.message.bytes`: the largest record batch a leader
    /// appends (1048588, 1 MiB plus the 12 bytes of a batch's offset and length fields).
    #[serde(rename = "message.max.bytes")]
    pub message_max_bytes: u32,
    /// Partitions of `__transaction_state`; a `transactional.id`'s coordinator leads partition
    /// `abs(transactionalId.hashCode()) % transaction.state.log.num.partitions`.
    #[serde(rename = "transaction.state.log.num.partitions")]
    pub transaction_state_log_num_partitions: u32,
    /// Replication factor of `__transaction_state` (capped at the number of brokers).
    #[serde(rename = "transaction.state.log.replication.factor")]
    pub transaction_state_log_replication_factor: u32,
    /// `min.insync.replicas` of `__transaction_state`: the coordinator's writes need this many.
    #[serde(rename = "transaction.state.log.min.isr")]
    pub transaction_state_log_min_isr: u32,
    /// How often the transaction coordinator looks for transactions open longer than their
    /// `transaction.timeout.ms`, and aborts them.
    #[serde(rename = "transaction.abort.timed.out.transaction.cleanup.interval.ms")]
    pub transaction_abort_timed_out_transaction_cleanup_interval_ms: u64,
    /// The largest `transaction.timeout.ms` a producer may ask for.
    #[serde(rename = "transaction.max.timeout.ms")]
    pub transaction_max_timeout_ms: u64,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            replica_lag_time_max_ms: 30_000,
            replica_fetch_wait_max_ms: 500,
            replica_fetch_backoff_ms: 1_000,
            replica_fetch_max_bytes: 1_048_576,
            replica_socket_timeout_ms: 30_000,
            broker_session_timeout_ms: 9_000,
            broker_heartbeat_interval_ms: 2_000,
            log_retention_check_interval_ms: 300_000,
            min_insync_replicas: 1,
            unclean_leader_election_enable: false,
            log_retention_ms: 604_800_000,
            log_retention_bytes: -1,
            offsets_topic_num_partitions: 50,
            offsets_topic_replication_factor: 3,
            offsets_commit_timeout_ms: 5_000,
            group_initial_rebalance_delay_ms: 3_000,
            eligible_leader_replicas_version: 1,
            group_min_session_timeout_ms: 6_000,
            group_max_session_timeout_ms: 1_800_000,
            message_max_bytes: 1_048_588,
            transaction_state_log_num_partitions: 50,
            transaction_state_log_replication_factor: 3,
            transaction_state_log_min_isr: 2,
            transaction_abort_timed_out_transaction_cleanup_interval_ms: 10_000,
            transaction_max_timeout_ms: 900_000,
        }
    }
}

/// Topic-level overrides; `None` means "use the broker default".
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct TopicConfig {
    /// With acks=all, the fewest ISR members a write needs.
    #[serde(rename = "min.insync.replicas")]
    pub min_insync_replicas: Option<u32>,
    /// Whether an out-of-sync replica may become leader when no ISR member is alive.
    #[serde(rename = "unclean.leader.election.enable")]
    pub unclean_leader_election_enable: Option<bool>,
    /// Records older than this are deleted (-1 = forever).
    #[serde(rename = "retention.ms")]
    pub retention_ms: Option<i64>,
    /// Oldest records are deleted while a replica's log is larger than this (-1 = no limit).
    #[serde(rename = "retention.bytes")]
    pub retention_bytes: Option<i64>,
    /// The log is flushed (fsync'd) once this many records are unflushed.
    #[serde(rename = "flush.messages")]
    pub flush_messages: Option<i64>,
    /// The largest record batch the leader appends; a larger one is refused with MESSAGE_TOO_LARGE.
    #[serde(rename = "max.message.bytes")]
    pub max_message_bytes: Option<u32>,
}

/// The topic settings in force once broker defaults are applied.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EffectiveTopicConfig {
    /// `min.insync.replicas`.
    pub min_insync_replicas: u32,
    /// `unclean.leader.election.enable`.
    pub unclean_leader_election_enable: bool,
    /// `retention.ms`.
    pub retention_ms: i64,
    /// `retention.bytes`.
    pub retention_bytes: i64,
    /// `flush.messages` (the broker's `log.flush.interval.messages`, Long.MAX_VALUE: Kafka leaves
    /// flushing to the operating system and relies on replication).
    pub flush_messages: i64,
    /// `max.message.bytes`.
    pub max_message_bytes: u32,
}

impl TopicConfig {
    /// The settings this table sets, as `name=value` in Kafka's spelling, in alphabetical order.
    pub fn set_entries(&self) -> Vec<String> {
        let value = serde_json::to_value(self).unwrap_or_default();
        let Some(map) = value.as_object() else { return Vec::new() };
        map.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| format!("{k}={v}")).collect()
    }

    /// Fills unset values from the broker defaults.
    pub fn resolve(&self, broker: &BrokerConfig) -> EffectiveTopicConfig {
        EffectiveTopicConfig {
            min_insync_replicas: self.min_insync_replicas.unwrap_or(broker.min_insync_replicas),
            unclean_leader_election_enable: self
                .unclean_leader_election_enable
                .unwrap_or(broker.unclean_leader_election_enable),
            retention_ms: self.retention_ms.unwrap_or(broker.log_retention_ms),
            retention_bytes: self.retention_bytes.unwrap_or(broker.log_retention_bytes),
            flush_messages: self.flush_messages.unwrap_or(i64::MAX),
            max_message_bytes: self.max_message_bytes.unwrap_or(broker.message_max_bytes),
        }
    }
}

impl EffectiveTopicConfig {
    /// The settings after `incrementalAlterConfigs` SETs every value `set` gives.
    pub fn altered(&self, set: &TopicConfig) -> EffectiveTopicConfig {
        EffectiveTopicConfig {
            min_insync_replicas: set.min_insync_replicas.unwrap_or(self.min_insync_replicas),
            unclean_leader_election_enable: set.unclean_leader_election_enable.unwrap_or(self.unclean_leader_election_enable),
            retention_ms: set.retention_ms.unwrap_or(self.retention_ms),
            retention_bytes: set.retention_bytes.unwrap_or(self.retention_bytes),
            flush_messages: set.flush_messages.unwrap_or(self.flush_messages),
            max_message_bytes: set.max_message_bytes.unwrap_or(self.max_message_bytes),
        }
    }
}

/// The producer's `acks` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Acks {
    /// acks=0: fire and forget; the producer never hears back.
    #[serde(rename = "0")]
    None,
    /// acks=1: the leader answers once it has appended.
    #[serde(rename = "1")]
    Leader,
    /// acks=all (-1): the leader answers once the high watermark passes the batch.
    #[serde(rename = "all")]
    All,
}

impl Acks {
    /// The value as Kafka writes it.
    pub fn name(self) -> &'static str {
        match self {
            Acks::None => "0",
            Acks::Leader => "1",
            Acks::All => "all",
        }
    }
}

/// Producer client settings, as written in the scenario (unset = not given).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ProducerConfigRaw {
    /// `acks`.
    pub acks: Option<Acks>,
    /// `retries`.
    pub retries: Option<u32>,
    /// `retry.backoff.ms`.
    #[serde(rename = "retry.backoff.ms")]
    pub retry_backoff_ms: Option<u64>,
    /// `retry.backoff.max.ms` (KIP-580: retries back off exponentially up to this).
    #[serde(rename = "retry.backoff.max.ms")]
    pub retry_backoff_max_ms: Option<u64>,
    /// `request.timeout.ms`.
    #[serde(rename = "request.timeout.ms")]
    pub request_timeout_ms: Option<u64>,
    /// `delivery.timeout.ms`.
    #[serde(rename = "delivery.timeout.ms")]
    pub delivery_timeout_ms: Option<u64>,
    /// `max.in.flight.requests.per.connection`.
    #[serde(rename = "max.in.flight.requests.per.connection")]
    pub max_in_flight: Option<u32>,
    /// `enable.idempotence`.
    #[serde(rename = "enable.idempotence")]
    pub enable_idempotence: Option<bool>,
    /// `linger.ms`.
    #[serde(rename = "linger.ms")]
    pub linger_ms: Option<u64>,
    /// `batch.size`.
    #[serde(rename = "batch.size")]
    pub batch_size: Option<u32>,
    /// `max.request.size`.
    #[serde(rename = "max.request.size")]
    pub max_request_size: Option<u32>,
    /// `metadata.max.age.ms`.
    #[serde(rename = "metadata.max.age.ms")]
    pub metadata_max_age_ms: Option<u64>,
    /// `transactional.id`.
    #[serde(rename = "transactional.id")]
    pub transactional_id: Option<String>,
    /// `transaction.timeout.ms`.
    #[serde(rename = "transaction.timeout.ms")]
    pub transaction_timeout_ms: Option<u64>,
    /// `value.serializer` (a class name; read into the run's schemas, not into [`ProducerConfig`]).
    #[serde(rename = "value.serializer")]
    pub value_serializer: Option<String>,
    /// `schema.registry.url`, which Schema Registry's serializers need.
    #[serde(rename = "schema.registry.url")]
    pub schema_registry_url: Option<String>,
    /// `auto.register.schemas` (`KafkaAvroSerializer`).
    #[serde(rename = "auto.register.schemas")]
    pub auto_register_schemas: Option<bool>,
    /// `use.latest.version` (`KafkaAvroSerializer`).
    #[serde(rename = "use.latest.version")]
    pub use_latest_version: Option<bool>,
}

/// Producer settings in force, after Kafka's own defaulting and validation rules.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ProducerConfig {
    /// `acks`.
    pub acks: Acks,
    /// `retries`.
    pub retries: u32,
    /// The first retry's backoff: `retry.backoff.ms`, or `retry.backoff.max.ms` if that is smaller.
    #[serde(rename = "retry.backoff.ms")]
    pub retry_backoff_ms: u64,
    /// `retry.backoff.max.ms`.
    #[serde(rename = "retry.backoff.max.ms")]
    pub retry_backoff_max_ms: u64,
    /// `request.timeout.ms`.
    #[serde(rename = "request.timeout.ms")]
    pub request_timeout_ms: u64,
    /// `delivery.timeout.ms` as the producer applies it (an unset one is raised to
    /// `linger.ms + request.timeout.ms`).
    #[serde(rename = "delivery.timeout.ms")]
    pub delivery_timeout_ms: u64,
    /// `max.in.flight.requests.per.connection`.
    #[serde(rename = "max.in.flight.requests.per.connection")]
    pub max_in_flight: u32,
    /// `enable.idempotence` as it ends up.
    #[serde(rename = "enable.idempotence")]
    pub enable_idempotence: bool,
    /// `linger.ms`.
    #[serde(rename = "linger.ms")]
    pub linger_ms: u64,
    /// `batch.size`.
    #[serde(rename = "batch.size")]
    pub batch_size: u32,
    /// `max.request.size`: `send()` refuses a record whose upper-bound size exceeds it
    /// (`KafkaProducer.ensureValidRecordSize`).
    #[serde(rename = "max.request.size")]
    pub max_request_size: u32,
    /// `metadata.max.age.ms`: the client refreshes its metadata this long after the last refresh,
    /// even with nothing wrong, and so learns of new partitions.
    #[serde(rename = "metadata.max.age.ms")]
    pub metadata_max_age_ms: u64,
    /// `transactional.id`: set, the producer is transactional (and idempotent).
    #[serde(rename = "transactional.id", skip_serializing_if = "Option::is_none")]
    pub transactional_id: Option<String>,
    /// `transaction.timeout.ms`: the coordinator aborts a transaction open longer than this.
    #[serde(rename = "transaction.timeout.ms")]
    pub transaction_timeout_ms: u64,
}

/// Java's `int` configs (`Type.INT`) refuse values past `Integer.MAX_VALUE` with a `ConfigException`.
fn java_int(name: &str, value: u64) -> Result<u64, String> {
    if value > i32::MAX as u64 {
        Err(format!("{name} = {value} is larger than a Java int ({}); the Java client throws ConfigException", i32::MAX))
    } else {
        Ok(value)
    }
}

/// Java's `long` configs (`Type.LONG`) refuse values past `Long.MAX_VALUE`.
fn java_long(name: &str, value: u64) -> Result<u64, String> {
    if value > i64::MAX as u64 {
        Err(format!("{name} = {value} is larger than a Java long; the Java client throws ConfigException"))
    } else {
        Ok(value)
    }
}

impl ProducerConfigRaw {
    /// Applies the Java client's (4.1.2) defaults, `ProducerConfig`'s consistency rules and the checks
    /// `KafkaProducer`'s constructor makes, so that the result is what the producer runs with.
    ///
    /// Idempotence is on by default. With it on, retries=0 or acks other than all turn it silently off
    /// when the user did not set `enable.idempotence`, and are rejected when they set it to true; more
    /// than 5 requests in flight are rejected either way (Kafka checks them before it turns idempotence
    /// off). An unset `delivery.timeout.ms` below `linger.ms + request.timeout.ms` is raised to that sum;
    /// an explicit one is rejected.
    pub fn resolve(&self) -> Result<ProducerConfig, String> {
        let acks = self.acks.unwrap_or(Acks::All);
        let retries = java_int("retries", self.retries.map_or(i32::MAX as u64, u64::from))? as u32;
        let max_in_flight = java_int("max.in.flight.requests.per.connection", self.max_in_flight.map_or(5, u64::from))? as u32;
        if max_in_flight == 0 {
            return Err("max.in.flight.requests.per.connection must be at least 1 (the Java client throws ConfigException)".to_string());
        }
        let explicit = self.enable_idempotence;
        if self.transactional_id.as_deref() == Some("") {
            return Err("transactional.id must not be empty (the Java client throws ConfigException)".into());
        }
        if self.transactional_id.is_some() && explicit == Some(false) {
            return Err("a transactional.id needs enable.idempotence, but enable.idempotence = false (the Java client throws ConfigException)".into());
        }
        let mut enable_idempotence = explicit.unwrap_or(true);
        if enable_idempotence {
            let conflict = if retries == 0 {
                Some("retries > 0, but retries = 0".to_string())
            } else if acks != Acks::All {
                Some(format!("acks = all, but acks = {}", acks.name()))
            } else {
                None
            };
            if let Some(why) = conflict {
                // ProducerConfig treats a transactional.id as asking for idempotence.
                if explicit == Some(true) || self.transactional_id.is_some() {
                    return Err(format!("enable.idempotence = true needs {why} (the Java client throws ConfigException)"));
                }
                // ProducerConfig checks the in-flight limit below before it turns idempotence off.
                enable_idempotence = false;
            }
            if max_in_flight > 5 {
                return Err(format!(
                    "an idempotent producer (the default unless enable.idempotence = false) needs max.in.flight.requests.per.connection ≤ 5, but it is {max_in_flight} (the Java client throws ConfigException)"
                ));
            }
        }
        // KafkaProducer reads linger.ms (a long) as an int, capped at Integer.MAX_VALUE.
        let linger_ms = java_long("linger.ms", self.linger_ms.unwrap_or(5))?.min(i32::MAX as u64);
        let request_timeout_ms = java_int("request.timeout.ms", self.request_timeout_ms.unwrap_or(30_000))?;
        let linger_and_request = (linger_ms + request_timeout_ms).min(i32::MAX as u64);
        let delivery_timeout_ms = match self.delivery_timeout_ms {
            Some(explicit) => {
                let explicit = java_int("delivery.timeout.ms", explicit)?;
                if explicit < linger_and_request {
                    return Err(format!(
                        "delivery.timeout.ms ({explicit}) must be at least linger.ms + request.timeout.ms ({linger_and_request}) (the Java client throws ConfigException)"
                    ));
                }
                explicit
            }
            // KafkaProducer raises the default to linger.ms + request.timeout.ms, for backward compatibility.
            None => 120_000u64.max(linger_and_request),
        };
        let batch_size = java_int("batch.size", self.batch_size.map_or(16_384, u64::from))? as u32;
        let max_request_size = java_int("max.request.size", self.max_request_size.map_or(1_048_576, u64::from))? as u32;
        let retry_backoff_max_ms = java_long("retry.backoff.max.ms", self.retry_backoff_max_ms.unwrap_or(1_000))?;
        // Kafka's ExponentialBackoff starts from min(retry.backoff.ms, retry.backoff.max.ms): a base above
        // the maximum gives a constant backoff of the maximum.
        let retry_backoff_ms = java_long("retry.backoff.ms", self.retry_backoff_ms.unwrap_or(100))?.min(retry_backoff_max_ms);
        Ok(ProducerConfig {
            acks,
            retries,
            retry_backoff_ms,
            retry_backoff_max_ms,
            request_timeout_ms,
            delivery_timeout_ms,
            max_in_flight,
            enable_idempotence,
            linger_ms,
            // batch.size = 0 disables batching, which the client runs as a batch size of 1.
            batch_size: batch_size.max(1),
            max_request_size,
            // The simulator raises 0 to 1, as for the other intervals: Java's 0 refreshes on every poll.
            metadata_max_age_ms: java_long("metadata.max.age.ms", self.metadata_max_age_ms.unwrap_or(300_000))?.max(1),
            transactional_id: self.transactional_id.clone(),
            transaction_timeout_ms: java_int("transaction.timeout.ms", self.transaction_timeout_ms.unwrap_or(60_000))?.max(1),
        })
    }
}

/// `isolation.level`: what a consumer reads of transactions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IsolationLevel {
    /// Everything below the high watermark, open and aborted transactions included.
    #[default]
    ReadUncommitted,
    /// Only below the last stable offset, and no records of aborted transactions.
    ReadCommitted,
}

impl IsolationLevel {
    /// The value as Kafka writes it.
    pub fn name(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "read_uncommitted",
            IsolationLevel::ReadCommitted => "read_committed",
        }
    }

    /// Not the default.
    pub fn is_default(&self) -> bool {
        *self == IsolationLevel::ReadUncommitted
    }
}

/// `auto.offset.reset`: where a consumer starts when it has no valid committed offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OffsetReset {
    /// The log start offset.
    Earliest,
    /// The high watermark (the next record to be committed).
    Latest,
    /// No reset: `poll()` throws `NoOffsetForPartitionException`.
    None,
}

impl OffsetReset {
    /// The value as Kafka writes it.
    pub fn name(self) -> &'static str {
        match self {
            OffsetReset::Earliest => "earliest",
            OffsetReset::Latest => "latest",
            OffsetReset::None => "none",
        }
    }
}

/// Consumer client settings, as written in the scenario (unset = not given).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ConsumerConfigRaw {
    /// `group.id`.
    #[serde(rename = "group.id")]
    pub group_id: Option<String>,
    /// `group.instance.id` (KIP-345 static membership).
    #[serde(rename = "group.instance.id")]
    pub group_instance_id: Option<String>,
    /// `partition.assignment.strategy`: the assignors, most preferred first.
    #[serde(rename = "partition.assignment.strategy")]
    pub partition_assignment_strategy: Option<String>,
    /// `enable.auto.commit`.
    #[serde(rename = "enable.auto.commit")]
    pub enable_auto_commit: Option<bool>,
    /// `auto.commit.interval.ms`.
    #[serde(rename = "auto.commit.interval.ms")]
    pub auto_commit_interval_ms: Option<u64>,
    /// `auto.offset.reset`.
    #[serde(rename = "auto.offset.reset")]
    pub auto_offset_reset: Option<OffsetReset>,
    /// `session.timeout.ms`.
    #[serde(rename = "session.timeout.ms")]
    pub session_timeout_ms: Option<u64>,
    /// `heartbeat.interval.ms`.
    #[serde(rename = "heartbeat.interval.ms")]
    pub heartbeat_interval_ms: Option<u64>,
    /// `max.poll.interval.ms`.
    #[serde(rename = "max.poll.interval.ms")]
    pub max_poll_interval_ms: Option<u64>,
    /// `max.poll.records`.
    #[serde(rename = "max.poll.records")]
    pub max_poll_records: Option<u32>,
    /// `fetch.max.wait.ms`.
    #[serde(rename = "fetch.max.wait.ms")]
    pub fetch_max_wait_ms: Option<u64>,
    /// `max.partition.fetch.bytes`.
    #[serde(rename = "max.partition.fetch.bytes")]
    pub max_partition_fetch_bytes: Option<u64>,
    /// `request.timeout.ms`.
    #[serde(rename = "request.timeout.ms")]
    pub request_timeout_ms: Option<u64>,
    /// `retry.backoff.ms`.
    #[serde(rename = "retry.backoff.ms")]
    pub retry_backoff_ms: Option<u64>,
    /// `metadata.max.age.ms`.
    #[serde(rename = "metadata.max.age.ms")]
    pub metadata_max_age_ms: Option<u64>,
    /// `isolation.level`.
    #[serde(rename = "isolation.level")]
    pub isolation_level: Option<IsolationLevel>,
    /// `value.deserializer` (a class name; read into the run's schemas, not into
    /// [`ConsumerConfig`]).
    #[serde(rename = "value.deserializer")]
    pub value_deserializer: Option<String>,
    /// `schema.registry.url`, which Schema Registry's deserializers need.
    #[serde(rename = "schema.registry.url")]
    pub schema_registry_url: Option<String>,
}

/// Consumer settings in force (Java client 4.1.2 defaults filled in).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ConsumerConfig {
    /// `group.id`.
    #[serde(rename = "group.id")]
    pub group_id: String,
    /// `group.instance.id`.
    #[serde(rename = "group.instance.id")]
    pub group_instance_id: Option<String>,
    /// `partition.assignment.strategy`: the assignors the consumer supports, most preferred first.
    /// The group coordinator picks one every member supports, by the members' votes.
    #[serde(rename = "partition.assignment.strategy")]
    pub strategies: Vec<Strategy>,
    /// `enable.auto.commit`.
    #[serde(rename = "enable.auto.commit")]
    pub enable_auto_commit: bool,
    /// `auto.commit.interval.ms`.
    #[serde(rename = "auto.commit.interval.ms")]
    pub auto_commit_interval_ms: u64,
    /// `auto.offset.reset`.
    #[serde(rename = "auto.offset.reset")]
    pub auto_offset_reset: OffsetReset,
    /// `session.timeout.ms`.
    #[serde(rename = "session.timeout.ms")]
    pub session_timeout_ms: u64,
    /// `heartbeat.interval.ms`.
    #[serde(rename = "heartbeat.interval.ms")]
    pub heartbeat_interval_ms: u64,
    /// `max.poll.interval.ms`.
    #[serde(rename = "max.poll.interval.ms")]
    pub max_poll_interval_ms: u64,
    /// `max.poll.records`.
    #[serde(rename = "max.poll.records")]
    pub max_poll_records: u32,
    /// `fetch.max.wait.ms`.
    #[serde(rename = "fetch.max.wait.ms")]
    pub fetch_max_wait_ms: u64,
    /// `max.partition.fetch.bytes`.
    #[serde(rename = "max.partition.fetch.bytes")]
    pub max_partition_fetch_bytes: u64,
    /// `request.timeout.ms`.
    #[serde(rename = "request.timeout.ms")]
    pub request_timeout_ms: u64,
    /// `retry.backoff.ms`.
    #[serde(rename = "retry.backoff.ms")]
    pub retry_backoff_ms: u64,
    /// `metadata.max.age.ms`: the consumer refreshes its metadata this long after the last
    /// refresh; the group leader rejoins when a subscribed topic's partition count changed.
    #[serde(rename = "metadata.max.age.ms")]
    pub metadata_max_age_ms: u64,
    /// `isolation.level`.
    #[serde(rename = "isolation.level", skip_serializing_if = "IsolationLevel::is_default")]
    pub isolation_level: IsolationLevel,
}

impl ConsumerConfig {
    /// Whether the consumer rebalances cooperatively: only when every assignor it lists supports
    /// the COOPERATIVE protocol (`ConsumerCoordinator`'s constructor takes the highest protocol all
    /// of them support). Kafka's default list, `[range, cooperative-sticky]`, is therefore EAGER,
    /// whichever of the two the group picks.
    pub fn cooperative(&self) -> bool {
        self.strategies.iter().all(|s| s.cooperative())
    }
}

impl ConsumerConfigRaw {
    /// Applies the Java client's defaults and the checks its constructor makes.
    /// `manual_commits` is true when the application commits itself; then auto-commit defaults to off.
    pub fn resolve(&self, manual_commits: bool) -> Result<ConsumerConfig, String> {
        let group_id = match &self.group_id {
            Some(g) if !g.is_empty() => g.clone(),
            _ => return Err("\"group.id\" is required: the simulator models consumers in groups (subscribe), not assign()".into()),
        };
        if self.group_instance_id.as_deref() == Some("") {
            return Err("group.instance.id must not be empty (the Java client throws ConfigException)".into());
        }
        // The settings are Java ints (ConfigDef refuses larger values with a ConfigException before the
        // constructor's own checks run).
        let int = |name: &str, value: Option<u64>, default: u64| java_int(name, value.unwrap_or(default));
        let auto_commit_interval_ms = int("auto.commit.interval.ms", self.auto_commit_interval_ms, 5_000)?;
        let session_timeout_ms = int("session.timeout.ms", self.session_timeout_ms, 45_000)?;
        let heartbeat_interval_ms = int("heartbeat.interval.ms", self.heartbeat_interval_ms, 3_000)?;
        let max_poll_interval_ms = int("max.poll.interval.ms", self.max_poll_interval_ms, 300_000)?;
        let max_poll_records = int("max.poll.records", self.max_poll_records.map(u64::from), 500)? as u32;
        let fetch_max_wait_ms = int("fetch.max.wait.ms", self.fetch_max_wait_ms, 500)?;
        let max_partition_fetch_bytes = int("max.partition.fetch.bytes", self.max_partition_fetch_bytes, 1_048_576)?;
        let request_timeout_ms = int("request.timeout.ms", self.request_timeout_ms, 30_000)?;
        let retry_backoff_ms = java_long("retry.backoff.ms", self.retry_backoff_ms.unwrap_or(100))?;
        if max_poll_records == 0 {
            return Err("max.poll.records must be at least 1 (the Java client throws ConfigException)".into());
        }
        if max_poll_interval_ms == 0 {
            return Err("max.poll.interval.ms must be at least 1 (the Java client throws ConfigException)".into());
        }
        // The constructor makes the assignors (a KafkaException for a bad list) before the coordinator
        // checks the heartbeat.
        let strategies = match &self.partition_assignment_strategy {
            None => vec![Strategy::Range, Strategy::CooperativeSticky],
            Some(list) => parse_strategies(list)?,
        };
        // Java accepts a zero heartbeat interval; the simulator refuses it because its heartbeat timer
        // would never let virtual time advance.
        if heartbeat_interval_ms == 0 || heartbeat_interval_ms >= session_timeout_ms {
            return Err(format!(
                "heartbeat.interval.ms ({heartbeat_interval_ms}) must be positive and less than session.timeout.ms ({session_timeout_ms}) (the Java client throws IllegalArgumentException)"
            ));
        }
        Ok(ConsumerConfig {
            group_id,
            group_instance_id: self.group_instance_id.clone(),
            strategies,
            enable_auto_commit: self.enable_auto_commit.unwrap_or(!manual_commits),
            // The simulator raises a zero interval, fetch size or backoff to 1, where Java takes 0: a
            // zero-length timer would never let virtual time advance.
            auto_commit_interval_ms: auto_commit_interval_ms.max(1),
            auto_offset_reset: self.auto_offset_reset.unwrap_or(OffsetReset::Latest),
            session_timeout_ms,
            heartbeat_interval_ms,
            max_poll_interval_ms,
            max_poll_records,
            fetch_max_wait_ms,
            max_partition_fetch_bytes: max_partition_fetch_bytes.max(1),
            request_timeout_ms: request_timeout_ms.max(1),
            retry_backoff_ms: retry_backoff_ms.max(1),
            metadata_max_age_ms: java_long("metadata.max.age.ms", self.metadata_max_age_ms.unwrap_or(300_000))?.max(1),
            isolation_level: self.isolation_level.unwrap_or_default(),
        })
    }
}

/// `partition.assignment.strategy`: a comma-separated list of assignor classes, most preferred first
/// (Kafka's default is `RangeAssignor, CooperativeStickyAssignor`). The simulator also takes the
/// short names (`range`, `cooperative-sticky`, ...) and unqualified class names, which Java does not.
fn parse_strategies(list: &str) -> Result<Vec<Strategy>, String> {
    let mut strategies = Vec::new();
    for name in list.split(',').map(str::trim) {
        let short = name.strip_prefix("org.apache.kafka.clients.consumer.").unwrap_or(name);
        let short = match short {
            "RangeAssignor" => "range",
            "RoundRobinAssignor" => "roundrobin",
            "StickyAssignor" => "sticky",
            "CooperativeStickyAssignor" => "cooperative-sticky",
            other => other,
        };
        let strategy = Strategy::parse(short).ok_or_else(|| {
            format!("partition.assignment.strategy {name:?} is not one of range, roundrobin, sticky, cooperative-sticky (the Java client throws KafkaException)")
        })?;
        if strategies.contains(&strategy) {
            return Err(format!("partition.assignment.strategy names {name:?} twice (the Java client throws KafkaException)"));
        }
        strategies.push(strategy);
    }
    Ok(strategies)
}

/// Properties of a network link (not Kafka settings, so they use plain names).
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct LinkParams {
    /// One-way delay in virtual milliseconds.
    pub latency_ms: u64,
    /// Extra delay drawn uniformly from 0..=jitter_ms for each message.
    pub jitter_ms: u64,
    /// Probability (0.0 to 1.0) that a message is dropped.
    pub loss: f64,
}

impl Default for LinkParams {
    fn default() -> Self {
        LinkParams { latency_ms: 5, jitter_ms: 0, loss: 0.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each expectation is Kafka 4.1.2's answer, found by the conformance harness (tests/conformance.rs).
    #[test]
    fn producer_resolve_follows_kafka_4_1_2() {
        let default = ProducerConfigRaw::default().resolve().unwrap();
        // KIP-1030: linger.ms defaults to 5 from Kafka 4.0.
        assert_eq!(default.linger_ms, 5);
        assert_eq!(default.delivery_timeout_ms, 120_000);
        // An unset delivery.timeout.ms is raised to linger.ms + request.timeout.ms...
        let raised = ProducerConfigRaw { request_timeout_ms: Some(200_000), ..Default::default() }.resolve().unwrap();
        assert_eq!(raised.delivery_timeout_ms, 200_005);
        // ...an explicit one below it is refused.
        assert!(ProducerConfigRaw { delivery_timeout_ms: Some(30_004), ..Default::default() }.resolve().is_err());
        assert_eq!(ProducerConfigRaw { delivery_timeout_ms: Some(30_005), ..Default::default() }.resolve().unwrap().delivery_timeout_ms, 30_005);
        // More than 5 in flight is refused while idempotence is on, even by default and with acks=1.
        assert!(ProducerConfigRaw { max_in_flight: Some(6), ..Default::default() }.resolve().is_err());
        assert!(ProducerConfigRaw { max_in_flight: Some(6), acks: Some(Acks::Leader), ..Default::default() }.resolve().is_err());
        let off = ProducerConfigRaw { max_in_flight: Some(6), enable_idempotence: Some(false), ..Default::default() };
        assert_eq!(off.resolve().unwrap().max_in_flight, 6);
        // Java ints and the long linger.ms read as an int.
        assert!(ProducerConfigRaw { batch_size: Some(i32::MAX as u32 + 1), ..Default::default() }.resolve().is_err());
        assert!(ProducerConfigRaw { retries: Some(i32::MAX as u32 + 1), ..Default::default() }.resolve().is_err());
        let long_linger = ProducerConfigRaw { linger_ms: Some(i32::MAX as u64 + 1), ..Default::default() }.resolve().unwrap();
        assert_eq!((long_linger.linger_ms, long_linger.delivery_timeout_ms), (i32::MAX as u64, i32::MAX as u64));
        // ExponentialBackoff starts from the smaller of the base and the maximum.
        let backoff = ProducerConfigRaw { retry_backoff_ms: Some(2_000), retry_backoff_max_ms: Some(500), ..Default::default() };
        let backoff = backoff.resolve().unwrap();
        assert_eq!((backoff.retry_backoff_ms, backoff.retry_backoff_max_ms), (500, 500));
    }

    /// Kafka 4.1.2's answers, found by the conformance harness.
    #[test]
    fn consumer_resolve_follows_kafka_4_1_2() {
        let raw = |strategy: &str| ConsumerConfigRaw {
            group_id: Some("g".into()),
            partition_assignment_strategy: Some(strategy.into()),
            ..Default::default()
        };
        let range = "org.apache.kafka.clients.consumer.RangeAssignor";
        let cooperative = "org.apache.kafka.clients.consumer.CooperativeStickyAssignor";
        // A list of assignors is accepted in its order; with an eager one in it the consumer
        // rebalances eagerly. Kafka's default list is the same one.
        let listed = raw(&format!("{range}, {cooperative}")).resolve(false).unwrap();
        assert_eq!(listed.strategies, [Strategy::Range, Strategy::CooperativeSticky]);
        assert!(!listed.cooperative());
        let default = ConsumerConfigRaw { group_id: Some("g".into()), ..Default::default() }.resolve(false).unwrap();
        assert_eq!(default.strategies, listed.strategies);
        assert!(raw(cooperative).resolve(false).unwrap().cooperative());
        assert!(raw(&format!("{range},{range}")).resolve(false).unwrap_err().contains("KafkaException"));
        // Java ints: a value past Integer.MAX_VALUE is refused.
        let big = ConsumerConfigRaw { group_id: Some("g".into()), max_poll_records: Some(i32::MAX as u32 + 1), ..Default::default() };
        assert!(big.resolve(false).unwrap_err().contains("ConfigException"));
        let big = ConsumerConfigRaw { group_id: Some("g".into()), session_timeout_ms: Some(i32::MAX as u64 + 1), ..Default::default() };
        assert!(big.resolve(false).unwrap_err().contains("ConfigException"));
    }
}
