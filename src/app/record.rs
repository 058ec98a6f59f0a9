//! A done request's record: the messages of a send (or a scheduling) and their audit lines,
//! written in one store call with the answer its caller gives for replays of its key. The
//! service returns the outcome first, so the adapter decides the answer and the service never
//! renders one. A send's record is written after its answer (`unwritten.rs`).

use super::App;
use super::admit::Admitted;
use crate::error::Error;
use crate::store::{BatchRecord, Claim, MessageRecord, ScheduledSend, StoredAnswer};

/// What a send request comes to: this request's own outcome with its record still to write
/// ([`App::record`], with the answer its caller gives it), or the first answer given to its
/// `Idempotency-Key`, answered again without sending.
// Made once per request and taken apart at once: boxing the larger variant would only add an
// allocation to every send.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Sending<T> {
    Done(T, Unrecorded),
    Replay(StoredAnswer),
}

/// The record of a send (or a scheduling) that is done: written by [`App::record`] (or, for a
/// send, after its answer by [`App::record_after_answer`]) in one store call, with the answer
/// kept for replays of its key. Dropping it leaves the key as of unknown
/// outcome and the log without the message, so every caller writes it.
#[derive(Debug)]
#[must_use = "a send's record is written by App::record or App::record_after_answer"]
pub struct Unrecorded(pub(super) Pending);

#[derive(Debug)]
pub(super) enum Pending {
    Sent {
        claim: Option<Claim>,
        records: Vec<MessageRecord>,
        audit: Vec<String>,
    },
    Scheduled {
        claim: Option<Claim>,
        send: ScheduledSend,
        records: Vec<MessageRecord>,
        /// A `send_scheduled` line per message.
        audit: Vec<String>,
    },
    Batch {
        claim: Option<Claim>,
        batch: BatchRecord,
        sends: Vec<ScheduledSend>,
        records: Vec<MessageRecord>,
        audit: Vec<String>,
    },
}

impl Unrecorded {
    /// Whether the request has a key, so its answer is kept for replays (render it only then).
    pub fn keeps_answer(&self) -> bool {
        let (Pending::Sent { claim, .. }
        | Pending::Scheduled { claim, .. }
        | Pending::Batch { claim, .. }) = &self.0;
        claim.is_some()
    }
}

impl App {
    /// Writes a done request's record and, with a key, `answer` for its replays, in one store
    /// call.
    ///
    /// A send's message has gone by now, so a store failure is logged, not answered: answering
    /// 503 would make the caller send it again. A key whose answer could not be kept answers
    /// later retries as of unknown outcome, never by sending again. A scheduling's failure is
    /// answered (nothing was kept, so nothing will go).
    pub async fn record(
        &self,
        unrecorded: Unrecorded,
        answer: Option<StoredAnswer>,
    ) -> Result<(), Error> {
        match unrecorded.0 {
            Pending::Sent {
                claim,
                records,
                audit,
            } => {
                let answers = claim.as_ref().zip(answer.as_ref());
                let written = self
                    .store()
                    .record(&records, &audit, answers.as_slice())
                    .await;
                if let Err(error) = written {
                    tracing::error!(code = %error.code.as_str(), "the message log could not record a send");
                }
                Ok(())
            }
            Pending::Scheduled {
                claim,
                send,
                records,
                audit,
            } => {
                let answer = claim.as_ref().zip(answer.as_ref());
                self.store()
                    .schedule(&send, &records, &audit, answer)
                    .await?;
                tracing::info!(id = %send.id, route = %send.route, "scheduled a send");
                Ok(())
            }
            Pending::Batch {
                claim,
                batch,
                sends,
                records,
                audit,
            } => {
                let answer = claim.as_ref().zip(answer.as_ref());
                self.store()
                    .keep_batch(&batch, &sends, &records, &audit, answer)
                    .await?;
                tracing::info!(batch = %batch.id, items = batch.items, queued = sends.len(), "kept a batch");
                Ok(())
            }
        }
    }
}

impl Unrecorded {
    /// The audit lines alone, for an attempt that is tried again later under the same ids.
    pub(super) fn audit_only(self) -> Vec<String> {
        match self.0 {
            Pending::Sent { audit, .. } | Pending::Batch { audit, .. } => audit,
            Pending::Scheduled { .. } => Vec::new(),
        }
    }
}

/// A send done, its record to write.
pub(super) fn sent<T>(
    outcome: T,
    admitted: Admitted,
    records: Vec<MessageRecord>,
    audit: Vec<String>,
) -> Sending<T> {
    Sending::Done(
        outcome,
        Unrecorded(Pending::Sent {
            claim: admitted.claim,
            records,
            audit,
        }),
    )
}
