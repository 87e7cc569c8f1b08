//! A few open stores shared by a server's requests. Opening a store checks its
//! migrations (and, for PostgreSQL, connects); a request takes an open one,
//! uses it on its own thread and gives it back. When all are in use the next
//! request waits for one rather than failing.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::{open, Result, Store, StoreError};

/// A cheap, cloneable handle to at most `size` open stores of one URL.
#[derive(Clone)]
pub struct Pool(Arc<Inner>);

struct Inner {
    url: String,
    size: usize,
    wait: Duration,
    state: Mutex<State>,
    freed: Condvar,
}

struct State {
    idle: Vec<Box<dyn Store>>,
    /// Stores open, idle or lent.
    open: usize,
}

impl Pool {
    /// Open one store now, so that a wrong URL or a schema from a newer winback
    /// is found at start-up, not at the first request.
    pub fn new(url: &str, size: usize, wait: Duration) -> Result<Pool> {
        let first = open(url)?;
        Ok(Pool(Arc::new(Inner {
            url: url.to_owned(),
            size: size.max(1),
            wait,
            state: Mutex::new(State { idle: vec![first], open: 1 }),
            freed: Condvar::new(),
        })))
    }

    /// An open store, waiting up to the pool's `wait` for one to come back.
    pub fn get(&self) -> Result<Pooled> {
        let deadline = Instant::now() + self.0.wait;
        let mut st = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(s) = st.idle.pop() {
                return Ok(Pooled { pool: self.clone(), store: Some(s) });
            }
            if st.open < self.0.size {
                st.open += 1;
                drop(st);
                return match open(&self.0.url) {
                    Ok(s) => Ok(Pooled { pool: self.clone(), store: Some(s) }),
                    Err(e) => {
                        self.forget();
                        Err(e)
                    }
                };
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StoreError::Busy(self.0.wait));
            }
            st = self.0.freed.wait_timeout(st, left).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// The store's URL (to open a connection of one's own for long work).
    pub fn url(&self) -> &str {
        &self.0.url
    }

    /// Stores open now (idle and lent), for tests and status pages.
    pub fn open_count(&self) -> usize {
        self.0.state.lock().unwrap_or_else(PoisonError::into_inner).open
    }

    fn forget(&self) {
        self.0.state.lock().unwrap_or_else(PoisonError::into_inner).open -= 1;
        self.0.freed.notify_one();
    }
}

/// A store lent by a [`Pool`]; it goes back when dropped (or is closed, when
/// its connection broke).
pub struct Pooled {
    pool: Pool,
    store: Option<Box<dyn Store>>,
}

impl std::ops::Deref for Pooled {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        self.store.as_deref().expect("present until dropped")
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut (dyn Store + 'static) {
        self.store.as_deref_mut().expect("present until dropped")
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(s) = self.store.take() else { return };
        if s.is_broken() {
            self.pool.forget();
            return;
        }
        self.pool.0.state.lock().unwrap_or_else(PoisonError::into_inner).idle.push(s);
        self.pool.0.freed.notify_one();
    }
}
