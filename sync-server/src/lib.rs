//! The Tiejiaoban sync server as a library: `app` builds the router, `serve` runs it until shutdown.
//! The binary in `main.rs` is a thin command line over this, and tests use it directly.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod basemaps;
pub mod blobs;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod evidence;
pub mod exports;
pub mod grids;
pub mod hashing;
mod http;
pub mod migrate;
pub mod policy;
pub mod principal;
pub mod retention;
pub mod second_factor;
pub mod seed;
pub mod state;
pub mod throttle;
pub mod webhooks;

use std::future::Future;

pub use config::{Config, Zone};
pub use error::{AppError, AppResult};
pub use http::app;
pub use state::AppState;

/// Serves the API on `listener` until `shutdown` resolves, then finishes the requests under way.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer's address, for sign-in throttling.
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// The certificate chain and key (PEM files) of `serve --tls-cert --tls-key`, read and checked.
pub async fn tls_config(cert: &std::path::Path, key: &std::path::Path) -> std::io::Result<TlsConfig> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    TlsConfig::from_pem_file(cert, key).await
}

pub use axum_server::tls_rustls::RustlsConfig as TlsConfig;

/// Serves the API over TLS until `shutdown` resolves, then finishes the requests under way (at most 30 s).
pub async fn serve_tls(
    listener: std::net::TcpListener,
    state: AppState,
    tls: TlsConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = axum_server::Handle::new();
    let stopping = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopping.graceful_shutdown(Some(std::time::Duration::from_secs(30)));
    });
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum_server::from_tcp_rustls(listener, tls)?.handle(handle).serve(app).await
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
