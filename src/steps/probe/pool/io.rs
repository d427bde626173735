//! One open TLS connection as hyper-util's pool sees it ([`ProbeIo`]): the stream, whether ALPN
//! chose HTTP/2, and the permits it holds until it closes.

use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_rustls::client::TlsStream;

/// One open TLS connection for the pool: the stream, whether ALPN chose HTTP/2, and the permits it
/// holds until it closes (one of `PROBE_CONCURRENCY`, one of its address's).
pub(crate) struct ProbeIo {
    io: TokioIo<TlsStream<TcpStream>>,
    h2: bool,
    _permit: OwnedSemaphorePermit,
    _address_permit: OwnedSemaphorePermit,
}

impl ProbeIo {
    pub(super) fn new(
        tls: TlsStream<TcpStream>,
        permit: OwnedSemaphorePermit,
        address_permit: OwnedSemaphorePermit,
    ) -> Self {
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
        ProbeIo {
            io: TokioIo::new(tls),
            h2,
            _permit: permit,
            _address_permit: address_permit,
        }
    }
}

impl Connection for ProbeIo {
    fn connected(&self) -> Connected {
        let connected = Connected::new();
        if self.h2 {
            connected.negotiated_h2()
        } else {
            connected
        }
    }
}

impl hyper::rt::Read for ProbeIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for ProbeIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
