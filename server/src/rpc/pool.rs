//! A small pool of worker threads for short CPU-bound calls (searches), one per core.
//!
//! `spawn_blocking` suits long or blocking work, but for a call that computes for a few
//! hundred microseconds its thread pool is the wrong shape: every call may wake a different
//! one of up to hundreds of threads, so sixteen concurrent searches on one core are sixteen
//! threads time-slicing it, each switch paid in the kernel and in cold caches (every search
//! thread keeps its own scoring buffers and stem cache). Here as many threads as the process
//! may use cores take calls from one queue: extra calls wait their turn, which costs no
//! latency on a saturated core and saves the switches. A worker that finds the queue empty
//! sleeps at once (no spinning that would take the core from the async runtime).

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use tonic::Status;

use super::status;

type Job = Box<dyn FnOnce() + Send>;

/// A cheap `Clone` handle on the pool; the threads stop when the last handle is dropped.
#[derive(Clone)]
pub struct Pool {
    shared: Arc<Handle>,
}

// Debug without the fields: they hold handles, caches or tokenizer state that say nothing useful.
impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").finish_non_exhaustive()
    }
}

/// Dropped with the last [`Pool`] handle: tells the workers to stop once the queue is empty.
struct Handle {
    queue: Arc<Queue>,
}

struct Queue {
    jobs: Mutex<Jobs>,
    ready: Condvar,
}

#[derive(Default)]
struct Jobs {
    pending: VecDeque<Job>,
    closed: bool,
}

impl Pool {
    /// A pool with one thread per core this process may run on (at least one).
    pub fn per_core(name: &str) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Self::new(name, threads)
    }

    /// A pool of `threads` threads named `{name}-{i}`. If no thread can be started the
    /// calls run on tokio's blocking pool instead.
    pub fn new(name: &str, threads: usize) -> Self {
        let queue = Arc::new(Queue {
            jobs: Mutex::new(Jobs::default()),
            ready: Condvar::new(),
        });
        let mut started = 0;
        for i in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            let spawned = std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || queue.work());
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::warn!(error = %e, pool = name, "cannot start a worker thread"),
            }
        }
        if started == 0 {
            lock(&queue.jobs).closed = true;
        }
        Self {
            shared: Arc::new(Handle { queue }),
        }
    }

    /// Runs `f` on a worker and returns its result; a panic in `f` is an INTERNAL status
    /// (as a panicking `spawn_blocking` task is). Dropping the future does not stop `f`.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Status> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
        });
        let queue = &self.shared.queue;
        let queued = {
            let mut jobs = lock(&queue.jobs);
            if jobs.closed {
                Err(job)
            } else {
                jobs.pending.push_back(job);
                Ok(())
            }
        };
        match queued {
            Ok(()) => queue.ready.notify_one(),
            // No worker could be started: tokio's blocking pool runs the call instead.
            Err(job) => super::blocking(job).await?,
        }
        match rx.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) | Err(_) => Err(status::internal(
                "running a search",
                &std::io::Error::other("the worker panicked"),
            )),
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        lock(&self.queue.jobs).closed = true;
        self.queue.ready.notify_all();
    }
}

impl Queue {
    /// A worker's loop: take the oldest job, run it; sleep while there is none; return
    /// once the pool is closed and drained.
    fn work(&self) {
        loop {
            let job = {
                let mut jobs = lock(&self.jobs);
                loop {
                    if let Some(job) = jobs.pending.pop_front() {
                        break job;
                    }
                    if jobs.closed {
                        return;
                    }
                    jobs = self
                        .ready
                        .wait(jobs)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            };
            job();
        }
    }
}

/// Locks the queue; a job never runs under the lock, so a poisoned lock holds a consistent
/// queue.
fn lock(jobs: &Mutex<Jobs>) -> std::sync::MutexGuard<'_, Jobs> {
    jobs.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_and_reports_panics() {
        // Proves results come back, concurrent calls all finish, and a panic is INTERNAL.
        let pool = Pool::new("test", 2);
        let handles: Vec<_> = (0..50u64)
            .map(|i| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.run(move || i * 2).await })
            })
            .collect();
        let mut results = Vec::new();
        for h in handles {
            results.push(h.await.unwrap().unwrap());
        }
        assert_eq!(results, (0..50u64).map(|i| i * 2).collect::<Vec<_>>());
        let status = pool.run(|| -> u8 { panic!("boom") }).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Internal);
        assert_eq!(pool.run(|| 7).await.unwrap(), 7);
    }
}
