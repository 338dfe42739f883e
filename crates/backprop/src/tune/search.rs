//! Running a search: ASHA's decisions on a virtual clock, the training on real threads.
//!
//! The result of a search must not depend on which real thread happens to finish first. So
//! the driver simulates a fixed number of *virtual* workers (not the thread count): a job
//! started at virtual time `t` on a free worker ends at `t + cost`, where the cost is
//! `epochs × weight` (the caller's weight per epoch of the trial, say its parameter count).
//! The driver takes decisions in virtual-time order: it waits for the real result of the job
//! that ends first in virtual time (ties to the lower worker), reports it to the scheduler,
//! and gives the freed worker its next job. Meanwhile the other jobs in flight keep running
//! on the other real threads, which take queued jobs in the same virtual order. Every
//! decision is a function of the seed, the costs and the results alone; the thread count
//! only changes how soon they come.

use std::collections::{BTreeSet, HashMap};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};

use crate::rng::Rng;
use crate::tune::asha::{Asha, Job, Rungs};
use crate::tune::space::{Point, SearchSpace};

/// Salt of the random stream that samples the trials' settings.
const SAMPLE_SALT: u64 = 0x7_0e5e;

/// How to search.
#[derive(Clone, Debug)]
pub struct SearchPlan {
    /// Where the trials' settings come from.
    pub space: SearchSpace,
    /// The rungs (epochs are the resource).
    pub rungs: Rungs,
    /// The most trials to start (`None`: until `keep_going` says stop).
    pub max_trials: Option<usize>,
    /// Virtual workers: how many jobs are in flight at once. Part of the result's
    /// definition, unlike `threads`.
    pub workers: usize,
    /// Real threads running jobs at once (at most `workers` are used).
    pub threads: usize,
    /// Seed of the trials' settings.
    pub seed: u64,
}

/// What a job came to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outcome {
    /// The trial's score at the end of the job's rung (lower is better), and whether it goes
    /// no further (it stopped early or failed).
    Scored {
        /// The score.
        score: f64,
        /// No further rungs for this trial.
        done: bool,
    },
    /// The job was cut short (a time budget ran out) and has no result.
    Interrupted,
}

/// A job's answer: its outcome, the trial's state to continue from (for example its network
/// and optimizer state; `None` if it cannot continue), and a record for the caller.
pub struct JobOutput<S, R> {
    /// The outcome.
    pub outcome: Outcome,
    /// The trial's state after the job.
    pub state: Option<S>,
    /// Anything the caller wants back with the result (losses, timings, ...).
    pub record: R,
}

/// A finished job, handed to the caller's `on_result` in virtual-time order.
pub struct JobResult<'a, R> {
    /// The job (`from_epochs` is 0 when the trial was retrained from scratch).
    pub job: Job,
    /// The trial's settings.
    pub point: &'a Point,
    /// The outcome.
    pub outcome: Outcome,
    /// The caller's record.
    pub record: R,
    /// The scheduler after the result was reported (ranks, rungs, trial count).
    pub scheduler: &'a Asha,
    /// The virtual time at which the job ended.
    pub virtual_time: u64,
}

/// How a search went.
#[derive(Clone, Debug)]
pub struct SearchSummary {
    /// The scheduler at the end: every trial's rung and score, the ranking, the best trial.
    pub scheduler: Asha,
    /// Every trial's settings, by trial number.
    pub points: Vec<Point>,
    /// Jobs run.
    pub jobs: usize,
    /// The most jobs that were running on real threads at the same moment (a measurement).
    pub peak_concurrency: usize,
    /// The virtual time at the end.
    pub virtual_time: u64,
}

/// A job handed to the real threads.
struct Task<S> {
    seq: usize,
    finish: u64,
    worker: usize,
    job: Job,
    point: Point,
    state: Option<S>,
}

/// Jobs waiting for a real thread, and whether the search has ended.
struct Queue<S> {
    tasks: Mutex<(Vec<Task<S>>, bool)>,
    ready: Condvar,
}

/// Closes the queue when dropped, so the real threads end even if the driver panics.
struct CloseOnDrop<'q, S>(&'q Queue<S>);

impl<S> Drop for CloseOnDrop<'_, S> {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl<S> Queue<S> {
    fn push(&self, task: Task<S>) {
        self.tasks.lock().expect("queue lock").0.push(task);
        self.ready.notify_one();
    }

    fn close(&self) {
        self.tasks.lock().expect("queue lock").1 = true;
        self.ready.notify_all();
    }

    /// The queued job that ends first in virtual time, or `None` once closed.
    fn pop(&self) -> Option<Task<S>> {
        let mut guard = self.tasks.lock().expect("queue lock");
        loop {
            let (tasks, closed) = &mut *guard;
            if *closed {
                return None;
            }
            if let Some(i) = (0..tasks.len()).min_by_key(|&i| (tasks[i].finish, tasks[i].worker)) {
                return Some(tasks.swap_remove(i));
            }
            guard = self.ready.wait(guard).expect("queue lock");
        }
    }
}

/// A job in flight on a virtual worker.
struct Flight {
    seq: usize,
    finish: u64,
    worker: usize,
    job: Job,
}

type Answer<S, R> = std::thread::Result<JobOutput<S, R>>;

/// Runs the search: samples trials from `plan.space`, schedules them with ASHA and runs each
/// job with `run(job, settings, state)` on up to `plan.threads` real threads (`state` is the
/// trial's state from its previous job, `None` for a new trial or one to retrain from
/// scratch, whose `job.from_epochs` is then 0). `weight(settings)` is the virtual cost of one
/// epoch of a trial. `keep_going()` is asked before every new job; once it says no, no job is
/// started and the search ends when those in flight are done. `on_result` sees every result
/// in virtual-time order, on the calling thread.
///
/// With a trial limit and a `keep_going` that always says yes, the whole search (settings,
/// jobs, their order, the scheduler's state) is a function of the plan and of what `run`
/// returns, whatever the number of threads.
///
/// # Panics
/// If `run` panics (the panic is passed on once the other threads stopped).
pub fn search<S, R>(
    plan: &SearchPlan,
    weight: impl Fn(&Point) -> u64,
    run: impl Fn(&Job, &Point, Option<S>) -> JobOutput<S, R> + Sync,
    mut keep_going: impl FnMut() -> bool,
    mut on_result: impl FnMut(JobResult<'_, R>),
) -> SearchSummary
where
    S: Send,
    R: Send,
{
    let workers = plan.workers.max(1);
    let threads = plan.threads.clamp(1, workers);
    let queue = Queue {
        tasks: Mutex::new((Vec::new(), false)),
        ready: Condvar::new(),
    };
    let (sender, answers) = mpsc::channel::<(usize, Answer<S, R>)>();
    let (running, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mut asha = Asha::new(plan.rungs.clone(), plan.max_trials);
    let mut rng = Rng::derived(plan.seed, SAMPLE_SALT);
    let mut points: Vec<Point> = Vec::new();
    let mut weights: Vec<u64> = Vec::new();
    let mut states: Vec<Option<S>> = Vec::new();
    let (mut clock, mut jobs) = (0u64, 0usize);

    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (queue, sender, run) = (&queue, sender.clone(), &run);
            let (running, peak) = (&running, &peak);
            scope.spawn(move || {
                while let Some(task) = queue.pop() {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    let answer = panic::catch_unwind(AssertUnwindSafe(|| {
                        run(&task.job, &task.point, task.state)
                    }));
                    running.fetch_sub(1, Ordering::SeqCst);
                    if sender.send((task.seq, answer)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(sender);
        let _close = CloseOnDrop(&queue);

        let mut free: BTreeSet<usize> = (0..workers).collect();
        let mut flights: Vec<Flight> = Vec::new();
        let mut arrived: HashMap<usize, Answer<S, R>> = HashMap::new();
        loop {
            while let Some(&worker) = free.first() {
                if !keep_going() {
                    break;
                }
                let Some(mut job) = asha.next_job(true) else {
                    break;
                };
                if job.trial == points.len() {
                    let point = plan.space.sample(&mut rng);
                    weights.push(weight(&point).max(1));
                    points.push(point);
                    states.push(None);
                }
                let state = states[job.trial].take();
                if state.is_none() {
                    job.from_epochs = 0;
                }
                let cost = (job.to_epochs - job.from_epochs) as u64 * weights[job.trial];
                let finish = clock.saturating_add(cost);
                free.remove(&worker);
                queue.push(Task {
                    seq: jobs,
                    finish,
                    worker,
                    job,
                    point: points[job.trial].clone(),
                    state,
                });
                flights.push(Flight {
                    seq: jobs,
                    finish,
                    worker,
                    job,
                });
                jobs += 1;
            }
            let Some(next) =
                (0..flights.len()).min_by_key(|&i| (flights[i].finish, flights[i].worker))
            else {
                break;
            };
            let flight = flights.swap_remove(next);
            let answer = loop {
                if let Some(answer) = arrived.remove(&flight.seq) {
                    break answer;
                }
                let (seq, answer) = answers.recv().expect("a worker thread answers");
                arrived.insert(seq, answer);
            };
            let output = answer.unwrap_or_else(|payload| panic::resume_unwind(payload));
            clock = flight.finish;
            free.insert(flight.worker);
            let job = flight.job;
            match output.outcome {
                Outcome::Scored { score, done } => {
                    asha.report(&job, score, done);
                    states[job.trial] = output.state;
                }
                Outcome::Interrupted => asha.abandon(&job),
            }
            // Keep a trial's state only while it may be promoted (bounded memory).
            for (trial, state) in states.iter_mut().enumerate() {
                if state.is_some() && !asha.may_be_promoted(trial) {
                    *state = None;
                }
            }
            on_result(JobResult {
                job,
                point: &points[job.trial],
                outcome: output.outcome,
                record: output.record,
                scheduler: &asha,
                virtual_time: clock,
            });
        }
    });
    SearchSummary {
        scheduler: asha,
        points,
        jobs,
        peak_concurrency: peak.load(Ordering::SeqCst),
        virtual_time: clock,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::space::{Domain, Value};
    use std::time::Duration;

    fn plan(threads: usize, max_trials: usize) -> SearchPlan {
        SearchPlan {
            space: SearchSpace::new(vec![
                (
                    "x".into(),
                    Domain::Uniform {
                        low: -1.0,
                        high: 1.0,
                        integer: false,
                    },
                ),
                (
                    "width".into(),
                    Domain::Choice(vec![Value::Int(1), Value::Int(4)]),
                ),
            ])
            .unwrap(),
            rungs: Rungs::new(1, 9).unwrap(),
            max_trials: Some(max_trials),
            workers: 4,
            threads,
            seed: 11,
        }
    }

    fn x_of(point: &Point) -> f64 {
        match point[0].1 {
            Value::Float(x) => x,
            _ => unreachable!(),
        }
    }

    /// A fake objective: the loss falls with the epochs towards `x²`. The state is the epochs
    /// trained so far, which must be where the job starts. Each job sleeps a pseudo-random
    /// time drawn from `jitter`, so real completion order is shuffled from run to run.
    fn fake_search(
        threads: usize,
        jitter: u64,
    ) -> (Vec<(usize, usize, usize, u64)>, SearchSummary) {
        let mut seen = Vec::new();
        let summary = search(
            &plan(threads, 27),
            |point| match point[1].1 {
                Value::Int(w) => w as u64,
                _ => unreachable!(),
            },
            |job, point, state: Option<usize>| {
                assert_eq!(
                    state.unwrap_or(0),
                    job.from_epochs,
                    "continues where it stopped"
                );
                let mut rng = Rng::derived(jitter, (job.trial * 10 + job.rung) as u64);
                std::thread::sleep(Duration::from_micros(rng.below(3000) as u64));
                let x = x_of(point);
                let score = x * x + 1.0 / job.to_epochs as f64;
                JobOutput {
                    outcome: Outcome::Scored {
                        score,
                        done: x > 0.9,
                    },
                    state: Some(job.to_epochs),
                    record: score,
                }
            },
            || true,
            |result| {
                let Outcome::Scored { score, .. } = result.outcome else {
                    unreachable!()
                };
                assert_eq!(score, result.record);
                seen.push((
                    result.job.trial,
                    result.job.rung,
                    result.job.from_epochs,
                    result.virtual_time,
                ));
            },
        );
        (seen, summary)
    }

    #[test]
    fn results_do_not_depend_on_threads_or_real_completion_order() {
        let (one, summary_one) = fake_search(1, 1);
        let (four, summary_four) = fake_search(4, 2);
        let (four_again, _) = fake_search(4, 3);
        assert_eq!(one, four);
        assert_eq!(four, four_again);
        assert_eq!(summary_one.points, summary_four.points);
        assert_eq!(
            summary_one.scheduler.ranking(),
            summary_four.scheduler.ranking()
        );
        assert_eq!(summary_one.peak_concurrency, 1);
        assert!(summary_four.peak_concurrency > 1, "jobs really ran at once");
        // 27 trials, and some went all the way to the last rung.
        assert_eq!(summary_one.points.len(), 27);
        assert!(one.iter().any(|&(_, rung, _, _)| rung == 2));
        // The best trial has the smallest |x| among those that reached the last rung.
        let best = summary_one.scheduler.best().unwrap();
        assert_eq!(summary_one.scheduler.trials()[best].rung, Some(2));
        // Results come in virtual-time order.
        assert!(one.windows(2).all(|w| w[0].3 <= w[1].3));
    }

    #[test]
    fn a_search_stops_starting_jobs_when_told() {
        let mut budget = 5;
        let mut results = 0;
        let summary = search(
            &plan(2, 100),
            |_| 1,
            |job, _, _: Option<()>| JobOutput {
                outcome: if job.trial == 0 {
                    Outcome::Interrupted
                } else {
                    Outcome::Scored {
                        score: 1.0,
                        done: false,
                    }
                },
                state: None,
                record: (),
            },
            || {
                budget -= 1;
                budget >= 0
            },
            |_| results += 1,
        );
        assert_eq!((summary.jobs, results), (5, 5));
        assert!(
            summary.scheduler.trials()[0].done,
            "an interrupted trial goes no further"
        );
        assert_eq!(summary.scheduler.trials()[0].rung, None);
    }
}
