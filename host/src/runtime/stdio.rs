//! Guest stdout/stderr: kept in memory up to a cap, then silently counted and dropped.
//!
//! wasmtime-wasi's `MemoryOutputPipe` reports a full buffer as a closed stream (or a
//! trap on an oversized write), which a Rust guest turns into a panic ("failed printing
//! to stdout: Broken pipe") that fails the run for a harmless flood of output. This pipe
//! always accepts the write, keeps the first `capacity` bytes for the log and counts the
//! rest, so the log can say how much was cut.

use bytes::Bytes;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Largest single write the guest is offered: as wasmtime-wasi's own pipes do.
const PERMIT: usize = 64 * 1024;

#[derive(Default)]
struct Buffer {
    kept: Vec<u8>,
    dropped: u64,
}

/// A capped, shared in-memory sink (clones share the buffer).
#[derive(Clone)]
pub struct CappedPipe {
    capacity: usize,
    buffer: Arc<Mutex<Buffer>>,
}

impl CappedPipe {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            buffer: Arc::default(),
        }
    }

    /// The kept bytes and how many were dropped past the cap.
    pub fn contents(&self) -> (Vec<u8>, u64) {
        let buffer = self.lock();
        (buffer.kept.clone(), buffer.dropped)
    }

    /// The kept bytes and the dropped count, emptying the pipe: what was forwarded once
    /// is not forwarded again after the next call.
    pub fn take(&self) -> (Vec<u8>, u64) {
        let mut buffer = self.lock();
        let taken = std::mem::take(&mut *buffer);
        (taken.kept, taken.dropped)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buffer> {
        // A poisoned lock only means another writer panicked mid-append; the bytes are
        // still a valid prefix, so keep using them.
        self.buffer.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn append(&self, bytes: &[u8]) {
        let mut buffer = self.lock();
        let room = self.capacity.saturating_sub(buffer.kept.len());
        let kept = bytes.len().min(room);
        buffer.kept.extend_from_slice(&bytes[..kept]);
        buffer.dropped += (bytes.len() - kept) as u64;
    }
}

impl IsTerminal for CappedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedPipe {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

impl OutputStream for CappedPipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(PERMIT)
    }
}

impl Pollable for CappedPipe {
    fn ready<'a, 'b>(&'a mut self) -> Pin<Box<dyn Future<Output = ()> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(std::future::ready(()))
    }
}

impl tokio::io::AsyncWrite for CappedPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_past_the_cap_are_accepted_and_counted() {
        let pipe = CappedPipe::new(4);
        let mut stream = pipe.p2_stream();
        for _ in 0..3 {
            assert!(stream.check_write().unwrap() > 0);
            stream.write(Bytes::from_static(b"abc")).unwrap();
        }
        assert_eq!(pipe.contents(), (b"abca".to_vec(), 5));
        assert_eq!(pipe.take(), (b"abca".to_vec(), 5));
        assert_eq!(pipe.contents(), (vec![], 0));
        stream.write(Bytes::from_static(b"de")).unwrap();
        assert_eq!(pipe.take(), (b"de".to_vec(), 0), "the cap starts over");
    }
}
