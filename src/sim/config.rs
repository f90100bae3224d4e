//! Kafka configuration under the real property names, with Kafka 3.9 defaults.
//!
//! Each struct deserializes from a scenario's `config` table. Unknown keys are errors so that a
//! misspelt property never silently falls back to a default.

use serde::{Deserialize, Deserializer, Serialize};

/// Broker (cluster-wide) settings. Topic-level settings here are the cluster defaults.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
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
        }
    }
}

/// Topic-level overrides; `None` means "use the broker default".
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
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
}

impl TopicConfig {
    /// Fills unset values from the broker defaults.
    pub fn resolve(&self, broker: &BrokerConfig) -> EffectiveTopicConfig {
        EffectiveTopicConfig {
            min_insync_replicas: self.min_insync_replicas.unwrap_or(broker.min_insync_replicas),
            unclean_leader_election_enable: self
                .unclean_leader_election_enable
                .unwrap_or(broker.unclean_leader_election_enable),
            retention_ms: self.retention_ms.unwrap_or(broker.log_retention_ms),
            retention_bytes: self.retention_bytes.unwrap_or(broker.log_retention_bytes),
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

impl<'de> Deserialize<'de> for Acks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Str(String),
        }
        let bad = || serde::de::Error::custom("acks must be 0, 1, \"all\" or -1");
        match Raw::deserialize(d)? {
            Raw::Int(0) => Ok(Acks::None),
            Raw::Int(1) => Ok(Acks::Leader),
            Raw::Int(-1) => Ok(Acks::All),
            Raw::Int(_) => Err(bad()),
            Raw::Str(s) => match s.as_str() {
                "0" => Ok(Acks::None),
                "1" => Ok(Acks::Leader),
                "all" | "-1" => Ok(Acks::All),
                _ => Err(bad()),
            },
        }
    }
}

/// Producer client settings, as written in the scenario (unset = not given).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
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
}

/// Producer settings in force, after Kafka's own defaulting and validation rules.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ProducerConfig {
    /// `acks`.
    pub acks: Acks,
    /// `retries`.
    pub retries: u32,
    /// `retry.backoff.ms`.
    #[serde(rename = "retry.backoff.ms")]
    pub retry_backoff_ms: u64,
    /// `retry.backoff.max.ms`.
    #[serde(rename = "retry.backoff.max.ms")]
    pub retry_backoff_max_ms: u64,
    /// `request.timeout.ms`.
    #[serde(rename = "request.timeout.ms")]
    pub request_timeout_ms: u64,
    /// `delivery.timeout.ms`.
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
}

impl ProducerConfigRaw {
    /// Applies the Java client's (3.9) defaults and its `ProducerConfig` consistency rules.
    ///
    /// Idempotence is on by default; if the user sets a conflicting value (acks other than all,
    /// retries=0, more than 5 in flight) without asking for idempotence, it is silently turned off,
    /// and if they asked for it explicitly the configuration is rejected, exactly as the client does.
    pub fn resolve(&self) -> Result<ProducerConfig, String> {
        let acks = self.acks.unwrap_or(Acks::All);
        let retries = self.retries.unwrap_or(i32::MAX as u32);
        let max_in_flight = self.max_in_flight.unwrap_or(5);
        let conflict = if acks != Acks::All {
            Some(format!("acks must be all, not {}", acks.name()))
        } else if retries == 0 {
            Some("retries must be greater than 0".to_string())
        } else if max_in_flight > 5 {
            Some("max.in.flight.requests.per.connection must be at most 5".to_string())
        } else {
            None
        };
        let enable_idempotence = match (self.enable_idempotence, &conflict) {
            (Some(true), Some(why)) => {
                return Err(format!(
                    "enable.idempotence = true needs {why} (the Java client throws ConfigException)"
                ))
            }
            (Some(explicit), _) => explicit,
            (None, Some(_)) => false,
            (None, None) => true,
        };
        let linger_ms = self.linger_ms.unwrap_or(0);
        let request_timeout_ms = self.request_timeout_ms.unwrap_or(30_000);
        let delivery_timeout_ms = self.delivery_timeout_ms.unwrap_or(120_000);
        if delivery_timeout_ms < linger_ms + request_timeout_ms {
            return Err(format!(
                "delivery.timeout.ms ({delivery_timeout_ms}) must be at least linger.ms + request.timeout.ms ({})",
                linger_ms + request_timeout_ms
            ));
        }
        if max_in_flight == 0 {
            return Err("max.in.flight.requests.per.connection must be at least 1".to_string());
        }
        let retry_backoff_ms = self.retry_backoff_ms.unwrap_or(100);
        Ok(ProducerConfig {
            acks,
            retries,
            retry_backoff_ms,
            // As in the Java client, the maximum is never below the base backoff.
            retry_backoff_max_ms: self.retry_backoff_max_ms.unwrap_or(1_000).max(retry_backoff_ms),
            request_timeout_ms,
            delivery_timeout_ms,
            max_in_flight,
            enable_idempotence,
            linger_ms,
            batch_size: self.batch_size.unwrap_or(16_384).max(1),
        })
    }
}

/// Properties of a network link (not Kafka settings, so they use plain names).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
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
