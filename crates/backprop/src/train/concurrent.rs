//! Independent training runs side by side (cross-validation folds, search trials): a number of
//! threads shared among the runs, each run on its own share, the results in run order whatever
//! the timing.
//!
//! Since [`crate::train::fit`] gives the same bits for any thread count, the results do not
//! depend on how the threads are shared either; only the timings and which worker ran what do.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::error::{Error, Result};

/// How a number of threads is shared among independent runs: `workers` runs at a time, each
/// with `threads_per_run` threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadShare {
    /// Runs that go on at the same time (each on its own worker thread).
    pub workers: usize,
    /// Threads each run may use (pass them on as [`crate::TrainConfig::threads`]).
    pub threads_per_run: usize,
}

impl ThreadShare {
    /// `threads` (`None`: one per core) shared among `runs` runs: one worker per thread but
    /// no more workers than runs, and the threads divided evenly among the workers (rounded
    /// down, at least one each), so 16 threads for 5 folds are 5 workers of 3 threads, and 2
    /// threads for 5 folds 2 workers of 1.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `Some(0)` threads.
    pub fn new(threads: Option<usize>, runs: usize) -> Result<Self> {
        let total = match threads {
            Some(0) => {
                return Err(Error::InvalidConfig(
                    "threads must be at least 1 (or unset for all cores)".into(),
                ))
            }
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, usize::from),
        };
        let workers = total.min(runs).max(1);
        Ok(Self {
            workers,
            threads_per_run: (total / workers).max(1),
        })
    }
}

/// One run's output, and where and how long it ran.
#[derive(Clone, Debug, PartialEq)]
pub struct Finished<R> {
    /// What the run returned.
    pub output: R,
    /// The 0-based worker that ran it (below [`ThreadShare::workers`]).
    pub worker: usize,
    /// Its wall-clock time (a measurement, not a result).
    pub seconds: f64,
}

/// What [`run_concurrently`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct Concurrent<R> {
    /// The runs, in run order.
    pub runs: Vec<Finished<R>>,
    /// How the threads were shared.
    pub share: ThreadShare,
    /// The most runs that were going on at the same moment, as measured: at most
    /// [`ThreadShare::workers`], and below it only when a worker found no run left to start
    /// before another had finished (a measurement of the timing, not a result).
    pub peak_concurrent: usize,
}

/// Where a worker leaves a run's result: empty until the run has finished.
type Slot<R, E> = Mutex<Option<Result<Finished<R>, E>>>;

/// Runs `run(0)`, `run(1)`, ..., `run(runs − 1)` on `share.workers` worker threads, each
/// taking the next run not yet started, and returns their outputs in run order.
///
/// Each worker owns a rayon pool of `share.threads_per_run` threads and calls `run` inside
/// it, so whatever the run computes on the current rayon pool (evaluation, say) stays within
/// its share; a [`crate::train::fit`] inside `run` should be given
/// `threads: Some(share.threads_per_run)`.
///
/// When a run fails, the runs not yet started are not started, and the error returned is the
/// one of the lowest-numbered run that failed. Runs start in order, so every run below a
/// failed one was started and has finished: the error is the same whatever the timing.
///
/// ```
/// use backprop::train::{run_concurrently, ThreadShare};
///
/// let share = ThreadShare::new(Some(2), 5)?;
/// assert_eq!((share.workers, share.threads_per_run), (2, 1));
/// let runs = run_concurrently(share, 5, |run| Ok::<_, backprop::Error>(run * run))?;
/// let squares: Vec<usize> = runs.runs.iter().map(|r| r.output).collect();
/// assert_eq!(squares, [0, 1, 4, 9, 16]);
/// # Ok::<(), backprop::Error>(())
/// ```
///
/// # Errors
/// The first run's error as above, or [`Error::InvalidConfig`] (converted into `E`) when the
/// worker threads cannot be started.
///
/// # Panics
/// If a run panics, the panic is passed on once every worker has stopped.
pub fn run_concurrently<R, E, F>(
    share: ThreadShare,
    runs: usize,
    run: F,
) -> Result<Concurrent<R>, E>
where
    R: Send,
    E: Send + From<Error>,
    F: Fn(usize) -> Result<R, E> + Sync,
{
    let next = AtomicUsize::new(0);
    let active = AtomicUsize::new(0);
    let peak = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let slots: Vec<Slot<R, E>> = (0..runs).map(|_| Mutex::new(None)).collect();
    let work = |worker: usize| loop {
        if failed.load(Ordering::SeqCst) {
            break;
        }
        let index = next.fetch_add(1, Ordering::SeqCst);
        if index >= runs {
            break;
        }
        let now = active.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
        let start = Instant::now();
        let result = run(index);
        let seconds = start.elapsed().as_secs_f64();
        active.fetch_sub(1, Ordering::SeqCst);
        if result.is_err() {
            failed.store(true, Ordering::SeqCst);
        }
        let finished = result.map(|output| Finished {
            output,
            worker,
            seconds,
        });
        *slots[index].lock().unwrap_or_else(|e| e.into_inner()) = Some(finished);
    };
    let started: Vec<Result<()>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..share.workers)
            .map(|worker| {
                let work = &work;
                scope.spawn(move || -> Result<()> {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(share.threads_per_run.max(1))
                        .build()
                        .map_err(|e| {
                            Error::InvalidConfig(format!("cannot start the worker threads: {e}"))
                        })?;
                    pool.install(|| work(worker));
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    for result in started {
        result?;
    }
    let mut finished = Vec::with_capacity(runs);
    for slot in slots {
        match slot.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(Ok(run)) => finished.push(run),
            Some(Err(e)) => return Err(e),
            // Only runs after a failed one are never started.
            None => unreachable!("a run was skipped although none failed before it"),
        }
    }
    Ok(Concurrent {
        runs: finished,
        share,
        peak_concurrent: peak.into_inner(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    #[test]
    fn threads_are_shared_evenly_among_the_runs() {
        let share = |threads, runs| {
            let s = ThreadShare::new(Some(threads), runs).unwrap();
            (s.workers, s.threads_per_run)
        };
        assert_eq!(share(2, 5), (2, 1));
        assert_eq!(share(16, 5), (5, 3));
        assert_eq!(share(1, 5), (1, 1));
        assert_eq!(share(8, 1), (1, 8));
        assert_eq!(share(3, 0), (1, 3));
        assert!(ThreadShare::new(Some(0), 5).is_err());
        assert!(ThreadShare::new(None, 5).unwrap().workers >= 1);
    }

    #[test]
    fn two_workers_run_two_runs_at_once() {
        // Each pair of runs meets at the barrier: with one worker this would never return.
        let barrier = Barrier::new(2);
        let share = ThreadShare::new(Some(2), 4).unwrap();
        let done = run_concurrently(share, 4, |run| {
            barrier.wait();
            Ok::<_, Error>(run + 10)
        })
        .unwrap();
        assert_eq!(
            done.runs.iter().map(|r| r.output).collect::<Vec<_>>(),
            [10, 11, 12, 13]
        );
        assert_eq!(done.peak_concurrent, 2);
        assert_ne!(done.runs[0].worker, done.runs[1].worker);
        assert!(done.runs.iter().all(|r| r.worker < 2));
    }

    #[test]
    fn each_run_computes_on_its_own_share_of_threads() {
        let share = ThreadShare::new(Some(4), 2).unwrap();
        let done =
            run_concurrently(share, 2, |_| Ok::<_, Error>(rayon::current_num_threads())).unwrap();
        assert!(done.runs.iter().all(|r| r.output == 2));
        let alone = ThreadShare::new(Some(1), 3).unwrap();
        let done =
            run_concurrently(alone, 3, |_| Ok::<_, Error>(rayon::current_num_threads())).unwrap();
        assert_eq!(done.peak_concurrent, 1);
        assert!(done.runs.iter().all(|r| r.output == 1 && r.worker == 0));
    }

    #[test]
    fn the_lowest_failed_run_is_reported() {
        for threads in [1, 2, 3] {
            let share = ThreadShare::new(Some(threads), 6).unwrap();
            let result = run_concurrently(share, 6, |run| {
                if run == 2 || run == 4 {
                    Err(Error::InvalidData(format!("run {run}")))
                } else {
                    Ok(run)
                }
            });
            assert_eq!(result.unwrap_err(), Error::InvalidData("run 2".into()));
        }
    }
}
