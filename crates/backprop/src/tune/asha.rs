//! Asynchronous successive halving (ASHA, Li et al. 2020), as a pure state machine.
//!
//! Trials are trained in rungs: rung `k` ends after `r_min·3^k` epochs (the last rung at the
//! most epochs a trial may get). Whenever a worker is free the scheduler decides, from the
//! results so far alone: "promote a trial that is in the top third of its rung and not yet
//! promoted, from the highest rung down; else start a new trial". It never waits for a rung
//! to fill, so workers are never idle while there is work, and no decision depends on
//! anything but the order in which results are reported to it.

use crate::error::{Error, Result};

/// The reduction factor: a third of each rung goes on to the next.
pub const REDUCTION: usize = 3;

/// The epochs at which the rungs end: `min, 3·min, 9·min, ...` below `max`, then `max`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rungs(Vec<usize>);

impl Rungs {
    /// Rungs from `min_epochs` up to `max_epochs`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `1 ≤ min_epochs ≤ max_epochs`.
    pub fn new(min_epochs: usize, max_epochs: usize) -> Result<Self> {
        if min_epochs == 0 || min_epochs > max_epochs {
            return Err(Error::InvalidConfig(format!(
                "the first rung's epochs ({min_epochs}) must be between 1 and the most epochs \
                 ({max_epochs})"
            )));
        }
        let mut epochs = vec![];
        let mut e = min_epochs;
        while e < max_epochs {
            epochs.push(e);
            e = e.saturating_mul(REDUCTION);
        }
        epochs.push(max_epochs);
        Ok(Self(epochs))
    }

    /// The first rung's epochs that let one of `trials` trials reach `max_epochs`: the most
    /// epochs divided by the largest power of 3 not above the number of trials, rounded up.
    /// With 30 trials and 200 epochs: 8 (rungs 8, 24, 72, 200).
    pub fn min_epochs_for(trials: usize, max_epochs: usize) -> usize {
        let mut power = 1usize;
        while power.saturating_mul(REDUCTION) <= trials.max(1) {
            power *= REDUCTION;
        }
        max_epochs.div_ceil(power).max(1)
    }

    /// The epochs at the end of each rung, ascending.
    pub fn epochs(&self) -> &[usize] {
        &self.0
    }

    /// The number of rungs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: there is at least one rung.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A piece of work: train `trial` from `from_epochs` to `to_epochs` epochs, ending rung `rung`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    /// The trial's number (0-based, in order of starting).
    pub trial: usize,
    /// The rung this job ends.
    pub rung: usize,
    /// The epochs the trial has already run (0 for a new trial, or one to retrain from scratch).
    pub from_epochs: usize,
    /// The epochs it has run once the job is done.
    pub to_epochs: usize,
}

/// Where a trial stands.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrialStatus {
    /// The highest rung it completed, if any.
    pub rung: Option<usize>,
    /// Its score at that rung (lower is better).
    pub score: Option<f64>,
    /// Whether a job of it is running.
    pub running: bool,
    /// Whether it goes no further: it reached the last rung, stopped early, failed, or its
    /// job was abandoned.
    pub done: bool,
}

/// The ASHA scheduler: which job to start next, given the results so far.
#[derive(Clone, Debug)]
pub struct Asha {
    rungs: Rungs,
    max_trials: Option<usize>,
    trials: Vec<TrialStatus>,
    /// Per rung, the `(score, trial)` results in the order they came.
    results: Vec<Vec<(f64, usize)>>,
}

impl Asha {
    /// A scheduler over `rungs` that starts at most `max_trials` trials (`None`: no limit, the
    /// caller stops asking).
    pub fn new(rungs: Rungs, max_trials: Option<usize>) -> Self {
        let results = vec![Vec::new(); rungs.len()];
        Self {
            rungs,
            max_trials,
            trials: Vec::new(),
            results,
        }
    }

    /// The rungs.
    pub fn rungs(&self) -> &Rungs {
        &self.rungs
    }

    /// Every trial started so far, by number.
    pub fn trials(&self) -> &[TrialStatus] {
        &self.trials
    }

    /// The next job for a free worker: the promotion of the best trial not yet promoted in
    /// the top third of the highest rung that has one, else a new trial if `may_start` and
    /// the trial limit allows, else `None` (wait for a running job).
    pub fn next_job(&mut self, may_start: bool) -> Option<Job> {
        for rung in (0..self.rungs.len() - 1).rev() {
            let promotable = self
                .top_third(rung)
                .into_iter()
                .find(|&trial| self.can_promote(trial, rung));
            if let Some(trial) = promotable {
                self.trials[trial].running = true;
                let epochs = self.rungs.epochs();
                return Some(Job {
                    trial,
                    rung: rung + 1,
                    from_epochs: epochs[rung],
                    to_epochs: epochs[rung + 1],
                });
            }
        }
        if may_start && self.max_trials.is_none_or(|max| self.trials.len() < max) {
            let trial = self.trials.len();
            self.trials.push(TrialStatus {
                running: true,
                ..TrialStatus::default()
            });
            return Some(Job {
                trial,
                rung: 0,
                from_epochs: 0,
                to_epochs: self.rungs.epochs()[0],
            });
        }
        None
    }

    /// Records the result of `job`: the trial's score at the rung (lower is better; NaN
    /// counts as the worst), and whether it goes no further (`done`: it stopped early or
    /// failed). A trial at the last rung is always done.
    ///
    /// # Panics
    /// If `job` is not running (a caller's bug).
    pub fn report(&mut self, job: &Job, score: f64, done: bool) {
        let score = if score.is_nan() { f64::INFINITY } else { score };
        let last = self.rungs.len() - 1;
        let status = &mut self.trials[job.trial];
        assert!(
            status.running,
            "trial {} reported while not running",
            job.trial
        );
        *status = TrialStatus {
            rung: Some(job.rung),
            score: Some(score),
            running: false,
            done: done || job.rung == last,
        };
        self.results[job.rung].push((score, job.trial));
    }

    /// Records that `job` ended without a result (a time budget ran out): the trial keeps
    /// its last rung and is not promoted again.
    pub fn abandon(&mut self, job: &Job) {
        let status = &mut self.trials[job.trial];
        status.running = false;
        status.done = true;
    }

    /// Whether `trial` may still be promoted as things stand: it is in the top third of its
    /// rung, not running and not done. A driver keeps a trial's network only while this
    /// holds (a trial that gets back into the top third later is retrained from scratch).
    pub fn may_be_promoted(&self, trial: usize) -> bool {
        let Some(status) = self.trials.get(trial) else {
            return false;
        };
        match status.rung {
            Some(rung) if self.can_promote(trial, rung) => self.top_third(rung).contains(&trial),
            _ => false,
        }
    }

    /// The best trial: the lowest score at the highest rung each trial reached (ties to the
    /// earlier trial).
    pub fn best(&self) -> Option<usize> {
        self.ranking().first().copied()
    }

    /// The trials with a result, best first (by score, ties to the earlier trial).
    pub fn ranking(&self) -> Vec<usize> {
        let mut ranked: Vec<(f64, usize)> = self
            .trials
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.score.map(|score| (score, i)))
            .collect();
        ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        ranked.into_iter().map(|(_, i)| i).collect()
    }

    fn can_promote(&self, trial: usize, rung: usize) -> bool {
        let status = &self.trials[trial];
        status.rung == Some(rung) && !status.running && !status.done
    }

    /// The best `⌊n/3⌋` of the `n` results of `rung`, best first.
    fn top_third(&self, rung: usize) -> Vec<usize> {
        let mut results = self.results[rung].clone();
        results.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let top = results.len() / REDUCTION;
        results[..top].iter().map(|&(_, trial)| trial).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rungs_grow_by_three_up_to_the_most_epochs() {
        assert_eq!(Rungs::new(8, 200).unwrap().epochs(), [8, 24, 72, 200]);
        assert_eq!(Rungs::new(1, 27).unwrap().epochs(), [1, 3, 9, 27]);
        assert_eq!(Rungs::new(5, 5).unwrap().epochs(), [5]);
        assert!(Rungs::new(0, 5).is_err() && Rungs::new(6, 5).is_err());
        assert_eq!(Rungs::min_epochs_for(30, 200), 8);
        assert_eq!(Rungs::min_epochs_for(81, 200), 3);
        assert_eq!(Rungs::min_epochs_for(2, 200), 200);
        assert_eq!(Rungs::min_epochs_for(20, 6), 1);
    }

    /// Starts one trial per score, then reports each with its score.
    fn start(asha: &mut Asha, scores: &[f64]) -> Vec<Job> {
        let jobs: Vec<Job> = scores
            .iter()
            .map(|_| asha.next_job(true).unwrap())
            .collect();
        for (job, &score) in jobs.iter().zip(scores) {
            assert_eq!((job.rung, job.from_epochs), (0, 0));
            asha.report(job, score, false);
        }
        jobs
    }

    #[test]
    fn the_top_third_of_a_rung_is_promoted_as_soon_as_it_is_in_it() {
        let mut asha = Asha::new(Rungs::new(1, 9).unwrap(), None);
        // Two results: the top third is empty, so a new trial starts.
        start(&mut asha, &[0.5, 0.2]);
        let third = asha.next_job(true).unwrap();
        assert_eq!((third.trial, third.rung), (2, 0));
        asha.report(&third, 0.9, false);
        // Three results: trial 1 (0.2) is the top third and goes on to rung 1 (1 → 3 epochs).
        let job = asha.next_job(true).unwrap();
        assert_eq!(
            job,
            Job {
                trial: 1,
                rung: 1,
                from_epochs: 1,
                to_epochs: 3
            }
        );
        assert!(
            !asha.may_be_promoted(0),
            "0.5 is not in the top third of three"
        );
        // While it runs, nothing else is promotable: a new trial starts.
        assert_eq!(asha.next_job(true).unwrap().trial, 3);
        assert!(
            asha.next_job(false).is_none(),
            "no promotion and no new trial allowed"
        );
    }

    #[test]
    fn promotions_go_from_the_highest_rung_down() {
        let mut asha = Asha::new(Rungs::new(1, 9).unwrap(), None);
        start(&mut asha, &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
        // Top third of rung 0: trials 0, 1, 2, promoted best first.
        let mut rung1 = Vec::new();
        for expected in 0..3 {
            let job = asha.next_job(true).unwrap();
            assert_eq!((job.trial, job.rung), (expected, 1));
            rung1.push(job);
        }
        for (job, score) in rung1.iter().zip([0.05, 0.07, 0.06]) {
            asha.report(job, score, false);
        }
        // Rung 1 has three results: its best (trial 0) goes to rung 2 before anything else.
        let job = asha.next_job(true).unwrap();
        assert_eq!(
            job,
            Job {
                trial: 0,
                rung: 2,
                from_epochs: 3,
                to_epochs: 9
            }
        );
        asha.report(&job, 0.01, false);
        assert!(asha.trials()[0].done, "the last rung ends a trial");
        // Rung 0 has no one left to promote (0, 1, 2 are promoted): a new trial.
        assert_eq!(asha.next_job(true).unwrap().trial, 9);
        assert_eq!(asha.best(), Some(0));
        assert_eq!(
            &asha.ranking()[..4],
            [0, 2, 1, 3],
            "by each trial's latest score"
        );
    }

    #[test]
    fn done_trials_and_the_trial_limit_are_respected() {
        let mut asha = Asha::new(Rungs::new(1, 3).unwrap(), Some(3));
        let jobs: Vec<Job> = (0..3).map(|_| asha.next_job(true).unwrap()).collect();
        assert!(asha.next_job(true).is_none(), "three trials at most");
        asha.report(&jobs[0], 0.1, true); // stopped early: never promoted
        asha.report(&jobs[1], f64::NAN, false); // NaN is the worst score
        asha.abandon(&jobs[2]);
        assert!(asha.next_job(true).is_none());
        assert_eq!(asha.trials()[1].score, Some(f64::INFINITY));
        assert_eq!(asha.ranking(), [0, 1]);
    }
}
