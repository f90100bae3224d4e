//! What the applications report, each with a sentence that says why.

use super::pipeline::{Call, Guarantee};
use crate::sim::narrate::Names;
use crate::sim::types::RecordId;
use serde::Serialize;

/// A consequence at an application.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum AppEffect {
    /// The pipeline's application thread makes a call.
    PipelineCalled {
        /// Pipeline.
        pipeline: u32,
        /// The call.
        call: Call,
        /// Its guarantee, for the narration.
        guarantee: Guarantee,
        /// Output records in the batch so far.
        batch: u32,
    },
    /// The pipeline processed a record and sent its output.
    PipelineSent {
        /// Pipeline.
        pipeline: u32,
        /// The input record.
        input: RecordId,
        /// The output record (none: the producer refused the send).
        output: Option<RecordId>,
    },
    /// The pipeline's application stopped with its consumer (a crash), or closed after a fatal
    /// error of its producer.
    PipelineStopped {
        /// Pipeline.
        pipeline: u32,
        /// Closed after a fatal error (else: crashed).
        closed: bool,
    },
}

impl AppEffect {
    /// The effect as a sentence that says why.
    pub fn describe(&self, names: &dyn Names) -> String {
        match self {
            AppEffect::PipelineCalled { pipeline, call, guarantee, batch } => {
                let name = names.pipeline_name(*pipeline);
                match call {
                    Call::InitTransactions { restart: false } => format!("pipeline {name} starts: initTransactions() fences any older instance with its transactional.id"),
                    Call::InitTransactions { restart: true } => format!("pipeline {name} restarts: initTransactions() with the same transactional.id fences the old instance and aborts its transaction"),
                    Call::BeginTransaction => format!("pipeline {name} begins the transaction of its next batch"),
                    Call::Poll => format!("pipeline {name} polls; each record it processes is transformed and sent to the output"),
                    Call::CommitSync => format!(
                        "pipeline {name} ({}): its {batch} result(s) are acknowledged, so it calls commitSync(); a crash before this would send them again",
                        guarantee.name()
                    ),
                    Call::SendOffsetsToTransaction => format!(
                        "pipeline {name} ({}): after {batch} result(s), sendOffsetsToTransaction() adds its positions to the transaction",
                        guarantee.name()
                    ),
                    Call::CommitTransaction => format!("pipeline {name} commits the transaction: the {batch} output record(s) and the input offsets become visible together"),
                    Call::AbortTransaction => format!("pipeline {name} aborts the transaction after an error: its outputs and offsets are dropped together"),
                    Call::Rewind => format!("pipeline {name} seeks back to its committed offsets: the batch will be read and sent again"),
                }
            }
            AppEffect::PipelineSent { pipeline, input, output: Some(out) } => {
                format!("pipeline {} processed {} and sends {} to its output", names.pipeline_name(*pipeline), names.record_label(*input), names.record_label(*out))
            }
            AppEffect::PipelineSent { pipeline, input, output: None } => {
                format!("pipeline {} processed {}, but its producer refused the send", names.pipeline_name(*pipeline), names.record_label(*input))
            }
            AppEffect::PipelineStopped { pipeline, closed: false } => format!(
                "pipeline {}'s application is down with its consumer: it makes no more calls (an open transaction stays open until transaction.timeout.ms or a restart)",
                names.pipeline_name(*pipeline)
            ),
            AppEffect::PipelineStopped { pipeline, closed: true } => {
                format!("pipeline {}'s producer failed fatally (fenced by a newer instance): the application closes", names.pipeline_name(*pipeline))
            }
        }
    }
}
