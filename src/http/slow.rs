//! The connection layer's answer to slow clients: a connection that has sent request bytes and
//! received no response byte for `limit` is closed. This bounds a client that drips its request
//! head a byte at a time (the idle timeout alone restarts with every byte, and the request
//! deadline only starts once the head is complete), while a connection between requests is left
//! to the idle timeout, and a live stream's keep-alives count as answers.

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use poem::{
    http::uri::Scheme,
    listener::Acceptor,
    web::{LocalAddr, RemoteAddr},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::Sleep,
};

/// Wraps an acceptor so that each connection gets the slow-client deadline.
pub struct SlowClientAcceptor<A> {
    inner: A,
    limit: Duration,
}

impl<A> SlowClientAcceptor<A> {
    pub fn new(inner: A, limit: Duration) -> Self {
        SlowClientAcceptor { inner, limit }
    }
}

impl<A: Acceptor> Acceptor for SlowClientAcceptor<A> {
    type Io = Deadlined<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = self.inner.accept().await?;
        Ok((Deadlined::new(io, self.limit), local, remote, scheme))
    }
}

/// A connection whose reads fail once it has waited `limit` for an answer to bytes it received.
pub struct Deadlined<T> {
    inner: T,
    limit: Duration,
    /// Armed when request bytes arrive with no answer written since; disarmed by a write.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<T> Deadlined<T> {
    fn new(inner: T, limit: Duration) -> Self {
        Deadlined {
            inner,
            limit,
            deadline: None,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Deadlined<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            if buf.filled().len() > before && this.deadline.is_none() {
                this.deadline = Some(Box::pin(tokio::time::sleep(this.limit)));
            }
            return polled;
        }
        if let Some(deadline) = this.deadline.as_mut() {
            if deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client sent part of a request and never finished it",
                )));
            }
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Deadlined<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.deadline = None;
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.deadline = None;
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
