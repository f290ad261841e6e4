//! Starting and stopping a test server on an ephemeral port.

use dossier_server::corpus::Document;
use dossier_server::rpc::{self, ServeOptions};
use dossier_server::store::Store;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::{Channel, Endpoint};

/// A running server and a channel to it.
pub(crate) struct TestServer {
    pub channel: Channel,
    pub store: Store,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), tonic::transport::Error>>>,
}

impl TestServer {
    /// Starts a server over `store` (ready or not, as the caller left it).
    pub(crate) async fn start(store: Store) -> Self {
        Self::start_with(store, ServeOptions::default()).await
    }

    /// Starts a server over `store` with `options`.
    pub(crate) async fn start_with(store: Store, options: ServeOptions) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(rpc::serve(listener, store.clone(), options, async {
            let _ = rx.await;
        }));
        let channel = Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .expect("connect to the test server");
        Self {
            channel,
            store,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    /// Starts a ready server holding `docs`.
    pub(crate) async fn with_docs(docs: Vec<Document>) -> Self {
        let store = Store::new();
        store.load(docs);
        store.set_ready();
        Self::start(store).await
    }

    /// Asks the server to shut down (in-flight calls drain).
    pub(crate) fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Shuts down and waits for `serve` to return; returns its result.
    pub(crate) async fn stop(mut self) -> Result<(), tonic::transport::Error> {
        self.begin_shutdown();
        self.handle
            .take()
            .unwrap()
            .await
            .expect("serve task panicked")
    }
}

/// A small document.
pub(crate) fn doc(id: &str, source: &str, text: &str) -> Document {
    Document {
        id: id.into(),
        title: format!("Title of {id}"),
        text: text.into(),
        source: source.into(),
        ..Default::default()
    }
}

/// The fixture corpus: five short news-like documents from two sources.
pub(crate) fn fixture() -> Vec<Document> {
    vec![
        doc(
            "a1",
            "wire",
            "The envoy met the president in Moscow. The meeting lasted five hours.",
        ),
        doc(
            "a2",
            "wire",
            "A four-hour meeting ended without a breakthrough, officials said.",
        ),
        doc(
            "b1",
            "blog",
            "“Everybody loves him,” the president said of his envoy.",
        ),
        doc("b2", "blog", "Talks in Istanbul produced no ceasefire."),
        doc(
            "b3",
            "blog",
            "Київ and 東京 appear in this text with emoji 😀.",
        ),
    ]
}

/// A ready server holding the five seed articles, loaded as the binary loads them.
pub(crate) async fn seeds() -> TestServer {
    let seeds = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../seeds"));
    TestServer::with_docs(
        dossier_server::corpus::load::load_paths(&[seeds])
            .unwrap()
            .documents,
    )
    .await
}
