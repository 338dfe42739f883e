//! Ctrl-C and SIGTERM during a training command: the first signal asks training to stop
//! after the epoch it is in (the command then keeps the best weights, saves the model and
//! exits 130); a second one ends the process at once with status 130, leaving the previous
//! model file intact (saves are atomic).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use backprop::train::{Checkpoint, Control, EpochInfo, Observer};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;

/// The exit status of an interrupted command (128 + SIGINT, as shells report it).
pub const EXIT_STATUS: u8 = 130;

/// The flag the signal handlers raise, once installed.
static REQUESTED: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// Installs the handlers (once per process): from now on the first SIGINT or SIGTERM only
/// raises the flag that [`requested`] reads, and the next one exits with [`EXIT_STATUS`].
pub fn install() -> anyhow::Result<()> {
    if REQUESTED.get().is_some() {
        return Ok(());
    }
    let raised = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Registered first, so it sees the flag as it was before this signal raised it.
        flag::register_conditional_shutdown(signal, i32::from(EXIT_STATUS), raised.clone())?;
        flag::register(signal, raised.clone())?;
    }
    let _ = REQUESTED.set(raised);
    Ok(())
}

/// Whether a first signal has arrived since [`install`].
pub fn requested() -> bool {
    REQUESTED
        .get()
        .is_some_and(|raised| raised.load(Ordering::SeqCst))
}

/// An observer that ends training after the step in which a first signal arrived (or after
/// the epoch, when it arrived between steps), and prints nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct StopOnSignal;

impl Observer<f32> for StopOnSignal {
    fn on_epoch(&mut self, _: &EpochInfo, _: &Checkpoint<'_, f32>) -> Control {
        if requested() {
            Control::Stop
        } else {
            Control::Continue
        }
    }

    fn stop_now(&mut self) -> bool {
        requested()
    }
}
