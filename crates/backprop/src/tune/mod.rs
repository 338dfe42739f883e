//! Hyperparameter search: random sampling plus asynchronous successive halving (ASHA).
//!
//! The core that Ray Tune, Optuna, Keras Tuner and scikit-learn's halving search share: draw
//! trials at random from a [`SearchSpace`], train each for a few epochs, and let only the
//! best third of every rung go on to three times the epochs ([`Asha`], with epochs as the
//! resource), up to the most epochs. [`search`] runs it on several threads with results that
//! do not depend on how many (see [`search`](search::search) for how).
//!
//! The engine only schedules: the caller's closure trains a trial's job and returns its
//! score (lower is better, say the validation loss), so this module does no I/O and knows
//! nothing of what the settings mean.
//!
//! ```
//! use backprop::tune::{search, Domain, JobOutput, Outcome, Rungs, SearchPlan, SearchSpace, Value};
//!
//! // Find the x closest to 0.3; "training" longer halves the remaining error.
//! let plan = SearchPlan {
//!     space: SearchSpace::new(vec![(
//!         "x".to_string(),
//!         Domain::Uniform { low: 0.0, high: 1.0, integer: false },
//!     )])?,
//!     rungs: Rungs::new(1, 9)?, // rungs at 1, 3 and 9 epochs
//!     max_trials: Some(30),
//!     workers: 4,
//!     threads: 2,
//!     seed: 0,
//! };
//! let summary = search(
//!     &plan,
//!     |_| 1, // every epoch costs the same
//!     |job, point, _state: Option<()>| {
//!         let Value::Float(x) = point[0].1 else { unreachable!() };
//!         let score = (x - 0.3).abs() + 1.0 / job.to_epochs as f64;
//!         JobOutput { outcome: Outcome::Scored { score, done: false }, state: None, record: () }
//!     },
//!     || true,
//!     |_result| {},
//! );
//! let best = summary.scheduler.best().unwrap();
//! let Value::Float(x) = summary.points[best][0].1 else { unreachable!() };
//! assert!((x - 0.3).abs() < 0.1);
//! assert_eq!(summary.scheduler.trials()[best].rung, Some(2), "the best went all the way");
//! # Ok::<(), backprop::Error>(())
//! ```

mod asha;
mod search;
mod space;

pub use asha::{Asha, Job, Rungs, TrialStatus, REDUCTION};
pub use search::{search, JobOutput, JobResult, Outcome, SearchPlan, SearchSummary};
pub use space::{Domain, Point, SearchSpace, Value};
