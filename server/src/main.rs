//! `dossier-server`: parses the configuration, starts logging, binds (and the metrics
//! listener, with `--metrics-addr`), loads the corpus in the background (health says
//! NOT_SERVING until it is in) and serves gRPC until SIGINT or SIGTERM, then drains in-flight
//! calls and exits 0.

use anyhow::Context;
use clap::Parser;
use dossier_server::{config::Config, corpus, metrics, rpc, shutdown, store::Store, telemetry};
use std::time::Instant;

/// jemalloc gives the transients of loading back instead of keeping them as fragments
/// (see `server/Cargo.toml`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    telemetry::init(config.log_format);
    let metrics = config.metrics_addr.map(|_| metrics::Metrics::new());
    let options = config.serve_options(metrics.clone())?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    tracing::info!(
        addr = %listener.local_addr()?,
        tls = options.tls.is_some(),
        mutual_tls = options.tls.as_ref().is_some_and(|t| t.client_ca_pem.is_some()),
        auth = options.auth.is_some(),
        "listening"
    );

    let store = Store::new();
    if let (Some(addr), Some(metrics)) = (config.metrics_addr, metrics) {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen for metrics on {addr}"))?;
        tracing::info!(addr = %listener.local_addr()?, "metrics at /metrics");
        tokio::spawn(metrics::serve(listener, metrics, store.clone()));
    }
    let loader = tokio::task::spawn_blocking({
        let store = store.clone();
        let paths = config.corpus_paths();
        let data_dir = config.data_dir.clone();
        move || -> anyhow::Result<()> {
            let started = Instant::now();
            // In batches: each is read, analysed and indexed before the next is read, so
            // the whole corpus's raw records and transients never sit in memory at once.
            let mut loading = store.start_load();
            let skipped = corpus::load::load_paths_in_batches(
                &paths,
                corpus::load::DEFAULT_BATCH_BYTES,
                |batch| loading.add(batch),
            )
            .context("loading the corpus")?;
            let docs = loading.finish();
            // One line for all skipped records (a corpus can hold thousands), each one at debug.
            for skipped in &skipped {
                tracing::debug!(%skipped, "record skipped");
            }
            if let Some(first) = skipped.first() {
                tracing::warn!(
                    count = skipped.len(),
                    %first,
                    "records skipped (each is logged at debug level)"
                );
            }
            if let Some(dir) = &data_dir {
                let replayed = store
                    .attach_data_dir(dir)
                    .with_context(|| format!("opening the data directory {}", dir.display()))?;
                tracing::info!(replayed, dir = %dir.display(), "journal replayed");
            }
            store.set_ready();
            tracing::info!(
                docs,
                skipped = skipped.len(),
                millis = started.elapsed().as_millis() as u64,
                "corpus loaded; serving"
            );
            Ok(())
        }
    });
    let server = rpc::serve(listener, store, options, shutdown::signal());
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => return result.context("server failed"),
        loaded = loader => loaded.context("corpus loader panicked")??,
    }
    server.await.context("server failed")?;
    tracing::info!("drained; bye");
    Ok(())
}
