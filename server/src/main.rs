//! `dossier-server`: parses the configuration, starts logging, binds (and the metrics
//! listener, with `--metrics-addr`), loads the corpus in the background (health says
//! NOT_SERVING until it is in) and serves gRPC until SIGINT or SIGTERM, then drains in-flight
//! calls and exits 0.

use anyhow::Context;
use clap::Parser;
use dossier_server::store::postgres::{self, PgOptions};
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
    let pg = config
        .store
        .as_deref()
        .map(|url| PgOptions::new(url, config.store_password_file.as_deref()))
        .transpose()
        .context("--store")?;
    let files = tokio::task::spawn_blocking({
        let store = store.clone();
        // With PostgreSQL the database is the corpus: files only when named.
        let paths = if config.store.is_some() && config.corpus.is_empty() {
            Vec::new()
        } else {
            config.corpus_paths()
        };
        // The image sets a data directory by default: with a store it is not the record.
        let data_dir = config.data_dir.clone().filter(|dir| {
            let ignored = config.store.is_some();
            if ignored {
                tracing::warn!(dir = %dir.display(), "--data-dir ignored: --store is the system of record");
            }
            !ignored
        });
        move || -> anyhow::Result<(usize, usize)> {
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
            Ok((docs, skipped.len()))
        }
    });
    let loader = tokio::spawn({
        let store = store.clone();
        async move {
            let started = Instant::now();
            let (docs, skipped) = files.await.context("corpus loader panicked")??;
            if let Some(pg) = pg {
                let cursor = postgres::open(&store, &pg)
                    .await
                    .context("loading from PostgreSQL")?;
                tokio::spawn(postgres::follow(store.clone(), pg, cursor));
            }
            store.set_ready();
            tracing::info!(
                docs = store.snapshot().counts.documents,
                files = docs,
                skipped,
                millis = started.elapsed().as_millis() as u64,
                "corpus loaded; serving"
            );
            anyhow::Ok(())
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
