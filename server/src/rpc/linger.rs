//! A lingering close for accepted connections, so that the last response of a connection
//! reaches the client whole.
//!
//! When HTTP/2 ends a connection (graceful shutdown after its last stream, or the client's
//! `GOAWAY`), it sends its last frames, half-closes the socket and drops it. Bytes the client
//! sent meanwhile (the `WINDOW_UPDATE`s it writes as it reads a large response, a `PING`) are
//! still unread in the socket's receive buffer when it is closed, so the kernel answers with
//! a TCP reset instead of a FIN, and a client that had not yet read the response tail loses it:
//! "h2 protocol error: error reading a body from connection (ConnectionReset)". It showed on a
//! busy machine: one call in about four drained at shutdown failed that way.
//!
//! [`Lingering`] does what web servers call a lingering close (nginx's `lingering_close`):
//! its `poll_shutdown` half-closes, then reads and discards what the client still sends until
//! the client closes its side or [`LINGER`] passes, and only then reports the shutdown done,
//! so the socket is closed with an empty receive buffer.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// How long a closing connection waits for the client to close its side.
pub(crate) const LINGER: Duration = Duration::from_secs(2);

/// An accepted connection whose shutdown lingers (see the [module documentation](self)).
#[derive(Debug)]
pub(crate) struct Lingering<S = TcpStream> {
    inner: S,
    /// Set once the write side is shut down: the deadline of the drain.
    draining: Option<Pin<Box<Sleep>>>,
}

impl<S> Lingering<S> {
    /// Wraps an accepted connection.
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            draining: None,
        }
    }
}

impl Connected for Lingering<TcpStream> {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Lingering<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Lingering<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.draining.is_none() {
            ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
            this.draining = Some(Box::pin(tokio::time::sleep(LINGER)));
        }
        let mut scratch = [0u8; 4096];
        loop {
            if let Some(deadline) = this.draining.as_mut() {
                if deadline.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Ok(()));
                }
            }
            let mut buf = ReadBuf::new(&mut scratch);
            match ready!(Pin::new(&mut this.inner).poll_read(cx, &mut buf)) {
                // The client closed its side (or the connection failed): nothing is left unread.
                Ok(()) if buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Ok(()) => continue,
                Err(_) => return Poll::Ready(Ok(())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn shutdown_waits_for_the_peer_to_close_and_discards_what_it_sent() {
        let (server, mut client) = tokio::io::duplex(64);
        let mut server = Lingering::new(server);
        server.write_all(b"last frame").await.unwrap();
        let closing = tokio::spawn(async move {
            server.shutdown().await.unwrap();
        });
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"last frame", "the half-close reached the client");
        client.write_all(b"window update").await.unwrap();
        tokio::task::yield_now().await;
        assert!(
            !closing.is_finished(),
            "still draining while the client is open"
        );
        drop(client);
        closing.await.unwrap();
    }

    #[tokio::test]
    async fn shutdown_gives_up_after_the_linger_time() {
        let (server, _client) = tokio::io::duplex(64);
        let mut server = Lingering::new(server);
        let started = tokio::time::Instant::now();
        server.shutdown().await.unwrap();
        assert!(started.elapsed() >= LINGER);
    }
}
