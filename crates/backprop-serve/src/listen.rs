//! Listening and stopping, shared by `backprop serve` and `backprop studio`: a tokio runtime
//! of its own, the bound address told to the caller, and a graceful stop on SIGTERM or Ctrl-C
//! (connections are no longer accepted, requests in flight finish).

use std::net::SocketAddr;

use axum::Router;

/// Where and how to listen.
#[derive(Clone, Debug)]
pub struct Listen<'a> {
    /// The address to listen on.
    pub host: &'a str,
    /// The port (0: any free one; the bound address is passed to `ready`).
    pub port: u16,
    /// The name of the runtime's threads (seen in `top -H` and in panics).
    pub thread_name: &'a str,
    /// The runtime's worker threads (`None`: one per core, tokio's default).
    pub worker_threads: Option<usize>,
}

/// Serves the router that `app` makes (inside the runtime, so it may spawn tasks) at
/// `listen` until SIGTERM or Ctrl-C; `ready` is called with the bound address once
/// connections are accepted.
///
/// # Errors
/// If the runtime cannot start or the address cannot be bound.
pub fn serve_until_stopped(
    listen: &Listen,
    app: impl FnOnce() -> Router,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime
        .enable_io()
        .enable_time()
        .thread_name(listen.thread_name);
    if let Some(threads) = listen.worker_threads {
        runtime.worker_threads(threads);
    }
    runtime.build()?.block_on(async {
        let listener = tokio::net::TcpListener::bind((listen.host, listen.port)).await?;
        let app = app();
        ready(listener.local_addr()?);
        axum::serve(listener, app)
            .with_graceful_shutdown(stop_signal())
            .await
    })
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT): the graceful stop of [`serve_until_stopped`].
pub async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
