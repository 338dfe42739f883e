//! Dynamic batching: the rows of concurrent requests for one model are gathered into one
//! batch (up to `max_batch` rows, waiting at most `max_wait` for more) and run on a pool of
//! compute threads, never on the async reactor.
//!
//! Each model has `threads` workers sharing one bounded queue. A worker takes the queue's lock,
//! gathers a batch, lets the lock go and computes, so one worker gathers while the others
//! compute. It waits for more rows only while requests are on their way (more predict
//! requests in the server than jobs gathered and being computed), so a lone request is not
//! held back by `max_wait`. A panic in the computation becomes an error answer for the
//! batch's requests; the worker carries on.
//!
//! A small request that is the only prediction in the server (nothing queued, gathered or
//! being computed), after a run of requests that came alone too (a client sending one at a
//! time), is not queued at all: [`Batcher::alone`] computes it on the calling thread, on
//! this thread alone ([`backprop::compute::on_this_thread`]), so that answering it wakes no
//! other thread (handing it to a worker and back cost more than its product). As soon as a
//! second request is in flight, requests are queued and batched again.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backprop::compute::on_this_thread;
use backprop_data::{predictions, Model};
use tokio::sync::oneshot;

use crate::metrics::Metrics;

/// Jobs a model's queue holds before new requests are refused with 503.
const QUEUE_JOBS: usize = 4096;

/// The most multiply-adds (rows × weights) of a lone request computed on the calling thread
/// ([`Batcher::alone`]): about 50 µs of work, four rows of a 784-256-128-10 network, so that
/// the network thread is never held long.
const ALONE_WORK: usize = 1 << 20;

/// Requests in a row that came alone before [`Batcher::alone`] computes one.
const ALONE_STREAK: usize = 16;

/// The answer to one job: the model's outputs for its rows, or what went wrong.
pub type Answer = Result<Vec<f32>, String>;

/// One request's rows waiting for the network.
struct Job {
    x: Vec<f32>,
    rows: usize,
    reply: oneshot::Sender<Answer>,
}

/// How batches are formed.
#[derive(Clone, Copy, Debug)]
pub struct BatchConfig {
    /// The most rows gathered into one batch (a larger request runs alone).
    pub max_batch: usize,
    /// The longest a batch waits for more rows once it has its first.
    pub max_wait: Duration,
    /// Compute threads per model.
    pub threads: usize,
}

/// The queue of one model.
pub struct Batcher {
    queue: SyncSender<Job>,
    inputs: usize,
    shared: Arc<Shared>,
}

/// What a worker shares with the others of its model.
struct Shared {
    queue: Mutex<Queue>,
    model: Arc<Model>,
    config: BatchConfig,
    metrics: Arc<Metrics>,
    /// Jobs gathered by a worker (or computed by [`Batcher::alone`]) and not yet answered.
    taken: AtomicUsize,
    /// Prediction requests in a row that found no other in the server (at most
    /// [`ALONE_STREAK`]).
    alone_streak: AtomicUsize,
}

struct Queue {
    jobs: Receiver<Job>,
    /// A job received that did not fit the previous batch.
    held: Option<Job>,
}

/// Refusals of [`Batcher::submit`].
#[derive(Debug)]
pub enum SubmitError {
    /// The queue is full.
    Busy,
    /// The workers are gone (the server is stopping).
    Closed,
}

impl Batcher {
    /// Starts the workers of `model` on `pool`.
    pub fn start(
        model: Arc<Model>,
        config: BatchConfig,
        metrics: Arc<Metrics>,
        pool: &rayon::ThreadPool,
    ) -> Self {
        let (queue, jobs) = sync_channel(QUEUE_JOBS);
        let inputs = model.network.architecture().inputs;
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue { jobs, held: None }),
            model,
            config,
            metrics,
            taken: AtomicUsize::new(0),
            alone_streak: AtomicUsize::new(0),
        });
        for _ in 0..config.threads.max(1) {
            let shared = Arc::clone(&shared);
            pool.spawn(move || work(&shared));
        }
        Self {
            queue,
            inputs,
            shared,
        }
    }

    /// The answer to `rows` rows of inputs `x`, computed here, on the calling thread alone,
    /// when they are few (`ALONE_WORK`: at most 2²⁰ rows × weights), theirs is the only
    /// prediction request in the server with nothing gathered or being computed, and the
    /// `ALONE_STREAK` (16) requests before came alone too; else `None`, and they are to be
    /// [`Batcher::submit`]ted. Counted as a batch of its own in the metrics.
    pub fn alone(&self, x: &[f32], rows: usize) -> Option<Answer> {
        let shared = &self.shared;
        let weights = shared.model.network.parameters().len();
        if rows.saturating_mul(weights) > ALONE_WORK {
            return None;
        }
        if shared.metrics.predicting() > 1 {
            shared.alone_streak.store(0, Ordering::Relaxed);
            return None;
        }
        // Only once requests have come alone for a while: under load a request is alone now
        // and then, and computing it here would compete for the cores with the workers.
        let streak = shared.alone_streak.fetch_add(1, Ordering::Relaxed);
        if streak < ALONE_STREAK {
            return None;
        }
        shared.alone_streak.store(ALONE_STREAK, Ordering::Relaxed);
        // Counted as gathered while it runs, so that a worker gathering a batch meanwhile
        // does not wait for it.
        if shared
            .taken
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return None;
        }
        shared.metrics.batch(rows);
        let answer = compute(&shared.model, x);
        shared.taken.fetch_sub(1, Ordering::SeqCst);
        Some(answer)
    }

    /// Queues `x` (whole rows of the model's inputs); the answer comes on the receiver.
    pub fn submit(&self, x: Vec<f32>) -> Result<oneshot::Receiver<Answer>, SubmitError> {
        let rows = x.len() / self.inputs.max(1);
        let (reply, answer) = oneshot::channel();
        match self.queue.try_send(Job { x, rows, reply }) {
            Ok(()) => Ok(answer),
            Err(TrySendError::Full(_)) => Err(SubmitError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(SubmitError::Closed),
        }
    }
}

/// A worker: gather, compute, answer, until the queue closes.
fn work(shared: &Shared) {
    while let Some(jobs) = gather(shared) {
        let rows: usize = jobs.iter().map(|j| j.rows).sum();
        shared.metrics.batch(rows);
        let mut x = Vec::with_capacity(jobs.iter().map(|j| j.x.len()).sum());
        for job in &jobs {
            x.extend_from_slice(&job.x);
        }
        let outputs = compute(&shared.model, &x);
        let width = predictions::width(&shared.model);
        let mut start = 0;
        for job in jobs {
            let answer = match &outputs {
                Ok(outputs) => Ok(outputs[start * width..(start + job.rows) * width].to_vec()),
                Err(message) => Err(message.clone()),
            };
            start += job.rows;
            // The client may have gone; its answer is then dropped.
            let _ = job.reply.send(answer);
            shared.taken.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// The model's outputs for the rows `x`, or the error answer when the computation panics.
///
/// On the calling thread alone: a worker's pool threads are all busy with batches of their
/// own (none would take a share), and a lone request runs on a network thread.
fn compute(model: &Model, x: &[f32]) -> Answer {
    catch_unwind(AssertUnwindSafe(|| {
        on_this_thread(|| predictions::outputs(model, x))
    }))
    .map_err(|_| "the computation failed (a bug: please report it)".to_string())
}

/// The next batch, or `None` once the queue is closed and empty.
fn gather(shared: &Shared) -> Option<Vec<Job>> {
    let mut queue = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
    let first = match queue.held.take() {
        Some(job) => job,
        None => queue.jobs.recv().ok()?,
    };
    shared.taken.fetch_add(1, Ordering::SeqCst);
    let max = shared.config.max_batch;
    let mut rows = first.rows;
    let mut jobs = vec![first];
    let deadline = Instant::now() + shared.config.max_wait;
    while rows < max {
        let job = match queue.jobs.try_recv() {
            Ok(job) => job,
            Err(_) => {
                // Wait only while requests are on their way to the queue.
                let coming = shared.metrics.predicting() > shared.taken.load(Ordering::SeqCst);
                let left = deadline.saturating_duration_since(Instant::now());
                if !coming || left.is_zero() {
                    break;
                }
                match queue.jobs.recv_timeout(left.min(Duration::from_micros(50))) {
                    Ok(job) => job,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        };
        if rows + job.rows > max {
            queue.held = Some(job);
            break;
        }
        shared.taken.fetch_add(1, Ordering::SeqCst);
        rows += job.rows;
        jobs.push(job);
    }
    Some(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use backprop::{Activation, Architecture, Init, Loss, Network, OutputActivation};
    use backprop_data::{ModelMetadata, Preprocessor, TargetSchema};

    /// A 4-input, 3-class classifier.
    fn model() -> Model {
        let target = TargetSchema::Classify {
            name: "label".into(),
            classes: vec!["a".into(), "b".into(), "c".into()],
            numeric: false,
        };
        let names = ["w", "x", "y", "z"].map(String::from).to_vec();
        let arch = Architecture::new(4, &[6, 5], Activation::Tanh, 3, OutputActivation::Softmax);
        let network = Network::new(arch.clone(), Init::Auto, 5).unwrap();
        let pre = Preprocessor::numeric(names, target);
        let metadata = ModelMetadata::new(arch, Loss::cross_entropy(), pre, Default::default());
        Model::new(metadata, network).unwrap()
    }

    /// A request is computed alone only after `ALONE_STREAK` requests in a row came alone,
    /// never while another is in flight (which starts the streak over), and its answer has
    /// the bits of the queued path.
    #[test]
    fn a_lone_request_is_computed_alone_after_a_streak() {
        let model = Arc::new(model());
        let metrics = Arc::new(Metrics::default());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let config = BatchConfig {
            max_batch: 16,
            max_wait: Duration::from_micros(100),
            threads: 1,
        };
        let batcher = Batcher::start(Arc::clone(&model), config, Arc::clone(&metrics), &pool);
        let x = [0.5f32, -1.0, 2.0, 0.25];
        let queued = || {
            let answer = batcher.submit(x.to_vec()).unwrap();
            let answer = answer.blocking_recv().unwrap().unwrap();
            // The worker counts the job answered just after sending its answer.
            while batcher.shared.taken.load(Ordering::SeqCst) != 0 {
                std::thread::yield_now();
            }
            answer
        };
        let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let expected = bits(&queued());
        let request = metrics.start_predicting();
        for _ in 0..ALONE_STREAK {
            assert!(batcher.alone(&x, 1).is_none(), "computed before the streak");
        }
        let answer = batcher.alone(&x, 1).expect("computed alone").unwrap();
        assert_eq!(bits(&answer), expected);
        {
            let _other = metrics.start_predicting();
            assert!(
                batcher.alone(&x, 1).is_none(),
                "computed beside another request"
            );
        }
        assert!(batcher.alone(&x, 1).is_none(), "the streak starts over");
        assert_eq!(bits(&queued()), expected);
        drop(request);
    }
}
