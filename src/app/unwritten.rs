//! Sends' records written after their answers: each send queues its record, and the records
//! of sends that end together are written in one store call (as a group commit); this
//! instance's reads, replays and delivery reports wait for what it has not written yet.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, watch};

use super::record::{Pending, Unrecorded};
use super::{AfterAnswer, App};
use crate::error::Error;
use crate::store::{Claim, MessageRecord, StoredAnswer};

/// The sends' records this instance has answered and not written yet.
#[derive(Debug)]
pub(super) struct Unwritten {
    /// How many, so that a read can wait until none is left.
    count: watch::Sender<usize>,
    queue: Mutex<Vec<Queued>>,
    /// Whether a task is writing the queue (the others leave their records to it).
    writing: AtomicBool,
}

impl Default for Unwritten {
    fn default() -> Self {
        Self {
            count: watch::Sender::new(0),
            queue: Mutex::default(),
            writing: AtomicBool::new(false),
        }
    }
}

#[derive(Debug)]
struct Queued {
    records: Vec<MessageRecord>,
    audit: Vec<String>,
    answer: Option<(Claim, StoredAnswer)>,
    /// Told once the record is written (or its write failed, which is logged).
    written: oneshot::Sender<()>,
    counted: Counted,
}

/// One record counted as unwritten; dropping it (written, failed, or the queue dropped)
/// counts it done.
#[derive(Debug)]
struct Counted(watch::Sender<usize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

impl Unwritten {
    fn push(
        &self,
        records: Vec<MessageRecord>,
        audit: Vec<String>,
        answer: Option<(Claim, StoredAnswer)>,
    ) -> oneshot::Receiver<()> {
        self.count.send_modify(|n| *n += 1);
        let (written, told) = oneshot::channel();
        let queued = Queued {
            records,
            audit,
            answer,
            written,
            counted: Counted(self.count.clone()),
        };
        self.lock().push(queued);
        told
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Queued>> {
        // A panic while the lock was held left a whole queue behind: still write it.
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Becomes the writer if records wait and no task is writing them.
    fn take_writer(&self) -> bool {
        !self.lock().is_empty() && !self.writing.swap(true, Ordering::SeqCst)
    }

    /// Whether a record is still to be written.
    pub(super) fn any(&self) -> bool {
        *self.count.borrow() > 0
    }

    /// Waits until every record queued before has been written, for at most `bound`.
    async fn written(&self, bound: Duration) {
        if self.any() {
            let mut count = self.count.subscribe();
            let _ = tokio::time::timeout(bound, count.wait_for(|n| *n == 0)).await;
        }
    }
}

impl App {
    /// Records a done request, as [`App::record`] does, but a send's record after its answer:
    /// returned as the work to run once the answer is sent (the function keeps running until
    /// it is written), so that admission is the send's only store wait on its critical path.
    /// A scheduling's or a batch's record is written now, as its failure is answered.
    ///
    /// Until the record is written, a replay of its key on another instance is answered `409
    /// idempotency_in_progress` (admission's claim holds the key) and is never sent; on this
    /// instance reads wait for it ([`App::settled`]).
    pub async fn record_after_answer(
        self: &Arc<Self>,
        unrecorded: Unrecorded,
        answer: Option<StoredAnswer>,
    ) -> Result<Option<AfterAnswer>, Error> {
        let Pending::Sent {
            claim,
            records,
            audit,
        } = unrecorded.0
        else {
            self.record(unrecorded, answer).await?;
            return Ok(None);
        };
        let told = self.unwritten.push(records, audit, claim.zip(answer));
        let app = Arc::clone(self);
        Ok(Some(Box::pin(async move {
            app.write_unwritten().await;
            // Written by this task, or by the one that was writing when it was queued.
            let _ = tokio::time::timeout(app.settle_bound(), told).await;
        })))
    }

    /// Writes what is queued, in one store call per turn, while records keep arriving; a
    /// task that finds another writing leaves its record to it.
    async fn write_unwritten(&self) {
        while self.unwritten.take_writer() {
            loop {
                let queued = std::mem::take(&mut *self.unwritten.lock());
                if queued.is_empty() {
                    break;
                }
                let (mut records, mut audit, mut answers, mut told) =
                    (Vec::new(), Vec::new(), Vec::new(), Vec::new());
                for entry in queued {
                    records.extend(entry.records);
                    audit.extend(entry.audit);
                    answers.extend(entry.answer);
                    told.push((entry.written, entry.counted));
                }
                let answers: Vec<(&Claim, &StoredAnswer)> = answers
                    .iter()
                    .map(|(claim, answer)| (claim, answer))
                    .collect();
                // The messages have gone, so a failure is logged, not answered: answering 503
                // would make the caller send again. Their keys then answer retries as of
                // unknown outcome, never by sending again.
                if let Err(error) = self.store().record(&records, &audit, &answers).await {
                    tracing::error!(code = %error.code.as_str(), sends = told.len(), "the message log could not record sends");
                }
                for (written, counted) in told {
                    drop(counted);
                    let _ = written.send(());
                }
            }
            // Records queued after the last turn and before this are taken by the next.
            self.unwritten.writing.store(false, Ordering::SeqCst);
        }
    }

    /// Waits for the sends' records this instance is still writing, so that what it reads of
    /// the log next (a message, a replay's key, the message a delivery report is about)
    /// includes them.
    pub(super) async fn settled(&self) {
        self.unwritten.written(self.settle_bound()).await;
    }

    /// A record waits at most for the write in progress and then its own.
    fn settle_bound(&self) -> Duration {
        self.config.store.timeout() * 2
    }
}
