//! Long work (sending a campaign, an import) runs in the background, one job
//! at a time per server, and its page shows the progress; reloading the page
//! finds it again. Jobs live in the server's memory: a restart forgets the
//! page, never the work done (every step is committed as it goes).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use serde::Serialize;

use crate::auth::{signed_in, to_login};
use crate::{AppState, Failure};

#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: u64,
    pub title: String,
    pub done: u64,
    pub total: u64,
    pub finished: bool,
    pub outcome: Option<String>,
    pub error: Option<String>,
    /// Where to go when it is done.
    pub back: String,
    pub pausable: bool,
    #[serde(skip)]
    pub pause: Arc<AtomicBool>,
}

#[derive(Default)]
pub struct Jobs {
    list: Mutex<Vec<Job>>,
}

impl Jobs {
    fn with<T>(&self, f: impl FnOnce(&mut Vec<Job>) -> T) -> T {
        f(&mut self.list.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn get(&self, id: u64) -> Option<Job> {
        self.with(|l| l.iter().find(|j| j.id == id).cloned())
    }

    /// The running job, if any.
    pub fn running(&self) -> Option<Job> {
        self.with(|l| l.iter().find(|j| !j.finished).cloned())
    }
}

/// Start `work` in the background unless a job is running; returns its id.
/// `work` gets a progress callback and the pause flag, and returns what to say
/// when done.
pub fn start<F>(state: &AppState, title: String, back: String, pausable: bool, work: F) -> Result<u64, Failure>
where
    F: FnOnce(&mut dyn FnMut(u64, u64), &AtomicBool) -> Result<String, String> + Send + 'static,
{
    let jobs = state.jobs.clone();
    let pause = Arc::new(AtomicBool::new(false));
    let id = jobs.with(|l| {
        if let Some(j) = l.iter().find(|j| !j.finished) {
            return Err(Failure::Invalid(format!("“{}” is still running; wait for it to finish", j.title)));
        }
        let id = l.last().map_or(1, |j| j.id + 1);
        l.push(Job {
            id,
            title,
            done: 0,
            total: 0,
            finished: false,
            outcome: None,
            error: None,
            back,
            pausable,
            pause: pause.clone(),
        });
        if l.len() > 20 {
            l.remove(0);
        }
        Ok(id)
    })?;
    let j2 = jobs.clone();
    tokio::task::spawn_blocking(move || {
        let mut progress = |done: u64, total: u64| {
            j2.with(|l| {
                if let Some(j) = l.iter_mut().find(|j| j.id == id) {
                    (j.done, j.total) = (done, total);
                }
            });
        };
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&mut progress, &pause)))
            .unwrap_or_else(|_| Err("the job failed unexpectedly; see the server log".into()));
        jobs.with(|l| {
            if let Some(j) = l.iter_mut().find(|j| j.id == id) {
                j.finished = true;
                match out {
                    Ok(s) => j.outcome = Some(s),
                    Err(e) => {
                        tracing::warn!(job = j.title, "job failed: {e}");
                        j.error = Some(e);
                    }
                }
            }
        });
    });
    Ok(id)
}

pub async fn page(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<u64>) -> Result<Response, Failure> {
    let Some(s) = signed_in(&state, &headers).await? else { return Ok(to_login()) };
    let job = state.jobs.get(id).ok_or(Failure::NotFound)?;
    let percent = (100 * job.done).checked_div(job.total).unwrap_or(0);
    let nav = context! { email => s.user.email.clone(), owner => s.owner(), csrf => s.csrf(), here => "" };
    Ok(state.pages.render("job.html", context! { nav, job, percent }))
}

/// Ask a running job to pause at the next step.
pub async fn pause(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Form(f): Form<crate::CsrfForm>,
) -> Result<Response, Failure> {
    let Some(s) = signed_in(&state, &headers).await? else { return Ok(to_login()) };
    s.check(&f.csrf)?;
    if !s.owner() {
        return Err(Failure::Forbidden("only an owner can pause a send"));
    }
    let job = state.jobs.get(id).ok_or(Failure::NotFound)?;
    job.pause.store(true, Ordering::Relaxed);
    Ok(Redirect::to(&format!("/jobs/{id}")).into_response())
}
