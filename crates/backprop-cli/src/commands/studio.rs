//! `backprop studio`: the training playground in the browser (see the `backprop-studio`
//! crate).

use std::process::ExitCode;

use anyhow::Context;
use backprop_studio::{serve, Config};

use crate::cli::StudioArgs;

/// Serves the studio until SIGTERM or Ctrl-C.
pub fn run(args: &StudioArgs) -> anyhow::Result<ExitCode> {
    let config = Config {
        host: args.host.clone(),
        port: args.port,
        max_runs: backprop_studio::MAX_RUNS,
    };
    serve(&config, |addr| {
        let url = format!("http://{addr}/");
        eprintln!("backprop studio on {url} (Ctrl-C stops it)");
        if args.open {
            open_in_browser(&url);
        }
    })
    .with_context(|| format!("cannot serve on {}:{}", args.host, args.port))?;
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Asks the desktop to open `url`; says so when it cannot (the address is printed anyway).
fn open_in_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(opener).arg(url).spawn() {
        eprintln!("warning: could not open a browser ({opener}: {e}); open {url} yourself");
    }
}
