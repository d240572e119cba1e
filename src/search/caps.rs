//! The caps on searches running at once in this process.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use super::error::SearchError;

/// The caps on searches running at once in this process: overall, so that searches cannot take
/// every read connection or stall the process, and per application, so that one application
/// cannot take all of those. Cheap to clone.
#[derive(Clone)]
pub struct Searches {
    everyone: Arc<Semaphore>,
    running: Arc<Mutex<HashMap<Uuid, usize>>>,
    per_app: usize,
}

/// A running search's place under the caps, given back when dropped.
pub struct SearchPermit {
    _everyone: OwnedSemaphorePermit,
    running: Arc<Mutex<HashMap<Uuid, usize>>>,
    app: Uuid,
}

impl Searches {
    /// At most `max` searches at once, `per_app` of them for one application.
    pub fn new(max: usize, per_app: usize) -> Self {
        Searches {
            everyone: Arc::new(Semaphore::new(max.max(1))),
            running: Default::default(),
            per_app: per_app.max(1),
        }
    }

    /// A place for a search of the application with `token`, or `Busy` at once (a search
    /// waiting for a place would hold its request, and its client, for nothing: better to say
    /// when to come back).
    pub fn enter(&self, token: Uuid) -> Result<SearchPermit, SearchError> {
        let everyone = self
            .everyone
            .clone()
            .try_acquire_owned()
            .map_err(|_| SearchError::Busy { everyone: true })?;
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let mine = running.entry(token).or_insert(0);
        if *mine >= self.per_app {
            return Err(SearchError::Busy { everyone: false });
        }
        *mine += 1;
        Ok(SearchPermit {
            _everyone: everyone,
            running: self.running.clone(),
            app: token,
        })
    }
}

impl Drop for SearchPermit {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mine) = running.get_mut(&self.app) {
            *mine -= 1;
            if *mine == 0 {
                running.remove(&self.app);
            }
        }
    }
}
