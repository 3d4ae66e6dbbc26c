//! State shared by the server thread and the test: the store, served kinds,
//! the request log and the injected faults.

use crate::resource::Resource;
use crate::status::Failure;
use kube_memstore::Store;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

/// One request as the server saw it, for assertions about what a client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub content_type: Option<String>,
}

/// What the fault injector decided for one request.
pub enum Admission {
    /// Serve normally, after waiting this long (zero for no delay).
    Serve(Duration),
    /// Answer with this failure instead.
    Fail(Failure),
    /// Answer exactly this instead (redirects, Retry-After, oversized bodies).
    Raw(RawAnswer),
}

/// An injected answer, sent as it is.
#[derive(Clone, Debug)]
pub struct RawAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct Faults {
    raw: VecDeque<RawAnswer>,
    failures: VecDeque<u16>,
    delays: VecDeque<Duration>,
    crash_after: Option<u64>,
}

pub struct Shared {
    pub store: Arc<Mutex<Store>>,
    pub token: String,
    pub address: String,
    resources: RwLock<Vec<Resource>>,
    requests: Mutex<Vec<RequestRecord>>,
    faults: Mutex<Faults>,
    /// Requests being served now, and the most ever served at once.
    in_flight: Mutex<(usize, usize)>,
    /// How long every write waits before it is served (a real server's etcd round trip).
    write_latency: Mutex<Duration>,
}

/// Locks a mutex even if a panicking test poisoned it: the data is still usable for assertions.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub fn new(resources: Vec<Resource>, address: String, token: String) -> Self {
        Self {
            store: Arc::new(Mutex::new(Store::new())),
            token,
            address,
            resources: RwLock::new(resources),
            requests: Mutex::new(Vec::new()),
            faults: Mutex::new(Faults::default()),
            in_flight: Mutex::new((0, 0)),
            write_latency: Mutex::new(Duration::ZERO),
        }
    }

    pub fn resources(&self) -> Vec<Resource> {
        self.resources
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Adds kinds not yet served (same group, version and plural count as served).
    pub fn add_resources(&self, added: Vec<Resource>) {
        let mut resources = self
            .resources
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        for resource in added {
            let served = resources.iter().any(|r| {
                r.group == resource.group
                    && r.version == resource.version
                    && r.plural == resource.plural
            });
            if !served {
                resources.push(resource);
            }
        }
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.requests).clone()
    }

    pub fn request_count(&self) -> u64 {
        lock(&self.requests).len() as u64
    }

    /// Logs a request and decides whether a fault answers it: a crash beats queued failures.
    pub fn admit(&self, record: RequestRecord) -> Admission {
        let write = matches!(record.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE");
        let latency = if write {
            *lock(&self.write_latency)
        } else {
            Duration::ZERO
        };
        let number = {
            let mut requests = lock(&self.requests);
            requests.push(record);
            requests.len() as u64
        };
        let mut faults = lock(&self.faults);
        if faults.crash_after.is_some_and(|last| number > last) {
            return Admission::Fail(Failure::new(
                503,
                format!("test-apiserver crashed after request {}", number - 1),
            ));
        }
        if let Some(raw) = faults.raw.pop_front() {
            return Admission::Raw(raw);
        }
        if let Some(code) = faults.failures.pop_front() {
            return Admission::Fail(Failure::new(
                code,
                format!("injected failure {code} (request {number})"),
            ));
        }
        Admission::Serve(faults.delays.pop_front().unwrap_or_default().max(latency))
    }

    pub fn set_write_latency(&self, latency: Duration) {
        *lock(&self.write_latency) = latency;
    }

    pub fn answer_next(&self, n: usize, answer: RawAnswer) {
        lock(&self.faults)
            .raw
            .extend(std::iter::repeat_n(answer, n));
    }

    /// A request starts being served.
    pub fn enter(&self) {
        let mut flight = lock(&self.in_flight);
        flight.0 += 1;
        flight.1 = flight.1.max(flight.0);
    }

    /// A request was answered.
    pub fn leave(&self) {
        lock(&self.in_flight).0 -= 1;
    }

    /// The most requests ever served at once.
    pub fn max_in_flight(&self) -> usize {
        lock(&self.in_flight).1
    }

    pub fn fail_next(&self, n: usize, code: u16) {
        lock(&self.faults)
            .failures
            .extend(std::iter::repeat_n(code, n));
    }

    pub fn delay_next(&self, n: usize, delay: Duration) {
        lock(&self.faults)
            .delays
            .extend(std::iter::repeat_n(delay, n));
    }

    pub fn crash_after(&self, more: u64) {
        let served = self.request_count();
        lock(&self.faults).crash_after = Some(served + more);
    }

    pub fn heal(&self) {
        *lock(&self.faults) = Faults::default();
    }
}
