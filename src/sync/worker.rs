//! Delivery in the background: a thread that runs passes whenever something is due (or
//! when woken, e.g. right after 提交), and reports each pass to whoever listens (the
//! wizard, whose event loop it wakes). It has its own connection to the store; SQLite's
//! WAL lets the wizard keep saving meanwhile.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::Utc;

use super::{Delivery, PassReport};

/// How often progress is polled when nothing else is due.
pub const POLL_EVERY: Duration = Duration::from_secs(30);

/// The running worker. Dropping it stops the thread after its current call.
pub struct Worker {
    wake: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Run passes on a thread; `report` is given each pass and says whether anyone still
    /// listens (when not, the thread ends).
    pub fn spawn(
        mut delivery: Delivery,
        poll_every: Duration,
        report: impl Fn(PassReport) -> bool + Send + 'static,
    ) -> Worker {
        let (wake, woken) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sbk-delivery".into())
            .spawn(move || {
                loop {
                    let pass = delivery.pass(false);
                    if !report(pass) {
                        return;
                    }
                    let until_due = delivery
                        .next_due()
                        .map(|at| (at - Utc::now()).to_std().unwrap_or_default())
                        .unwrap_or(poll_every);
                    match woken.recv_timeout(until_due.min(poll_every)) {
                        Ok(()) | Err(RecvTimeoutError::Timeout) => {
                            // Several wakes at once are one pass.
                            while woken.try_recv().is_ok() {}
                        }
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
            .ok();
        Worker {
            wake: Some(wake),
            thread,
        }
    }

    /// Run a pass now (after a submission).
    pub fn wake(&self) {
        if let Some(w) = &self.wake {
            let _ = w.send(());
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the channel ends the loop at its next wait; a call in progress is not
        // waited for (its transaction is atomic either way).
        self.wake.take();
        if let Some(t) = self.thread.take()
            && t.is_finished()
        {
            let _ = t.join();
        }
    }
}
