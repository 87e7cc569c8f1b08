//! Data: upload an export (streamed to disk, size-limited), see what it was
//! recognised as and its first rows, import it on confirmation as a
//! background job, then the counts by outcome and the rejects file. And run
//! an analysis the same way. Owners only.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use crate::auth::{signed_in, to_login, Signed};
use crate::{jobs, AppState, Failure};

/// Largest upload accepted.
pub const MAX_UPLOAD: usize = 512 * 1024 * 1024;

/// A file uploaded in this server's life.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Upload {
    pub id: String,
    /// The name the browser gave (shown only, never used as a path).
    pub name: String,
    pub bytes: u64,
    #[serde(skip)]
    pub path: PathBuf,
    #[serde(skip)]
    pub rejects: PathBuf,
}

#[derive(Default)]
pub struct Uploads(Mutex<Vec<Upload>>);

impl Uploads {
    fn get(&self, id: &str) -> Option<Upload> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).iter().find(|u| u.id == id).cloned()
    }
    fn add(&self, u: Upload) {
        let mut l = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        l.push(u);
        if l.len() > 50 {
            let old = l.remove(0);
            let _ = std::fs::remove_file(old.path);
        }
    }
    fn all(&self) -> Vec<Upload> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).iter().rev().cloned().collect()
    }
}

async fn owner(state: &AppState, headers: &HeaderMap) -> Result<Result<Signed, Response>, Failure> {
    let Some(s) = signed_in(state, headers).await? else { return Ok(Err(to_login())) };
    if !s.owner() {
        return Err(Failure::Forbidden("only an owner can import data or run an analysis"));
    }
    Ok(Ok(s))
}

fn nav(s: &Signed) -> minijinja::Value {
    context! { email => s.user.email.clone(), owner => s.owner(), csrf => s.csrf(), here => "data" }
}

pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Failure> {
    let s = match owner(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let runs = state.with_store(|store, _| Ok(store.runs()?)).await?;
    let latest = runs.last().map(|r| {
        context! { id => r.id, at => r.created_at.clone(), model => r.model.clone(), customers => r.customers,
        end => winback_domain::period::date_of(r.observation_end).to_string() }
    });
    Ok(state.pages.render(
        "data.html",
        context! { nav => nav(&s), uploads => state.uploads.all(), latest, max_mb => MAX_UPLOAD / (1024 * 1024) },
    ))
}

/// The extension kept from the browser's file name: one the readers know.
fn extension(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    ["csv.gz", "tsv.gz", "txt.gz", "gz", "csv", "tsv", "txt", "parquet"]
        .into_iter()
        .find(|e| lower.ends_with(&format!(".{e}")))
        .unwrap_or("csv")
}

pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Result<Response, Failure> {
    let s = match owner(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let dir = state.tasks_dir.join("uploads");
    tokio::fs::create_dir_all(&dir).await.map_err(|e| Failure::Internal(format!("{}: {e}", dir.display())))?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        Failure::Invalid(format!("the upload broke off: {}", e.body_text()))
    };
    let mut csrf_ok = false;
    let mut saved: Option<Upload> = None;
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        match field.name() {
            Some("csrf") => {
                let v = field.text().await.map_err(bad)?;
                s.check(&v)?;
                csrf_ok = true;
            }
            Some("file") if csrf_ok => {
                let name: String =
                    field.file_name().unwrap_or("upload.csv").chars().filter(|c| !c.is_control()).take(120).collect();
                let id = winback_app::accounts::random_hex(8);
                let path = dir.join(format!("{id}.{}", extension(&name)));
                let mut f = tokio::fs::File::create(&path)
                    .await
                    .map_err(|e| Failure::Internal(format!("{}: {e}", path.display())))?;
                let mut bytes = 0u64;
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    bytes += chunk.len() as u64;
                    if let Err(e) = f.write_all(&chunk).await {
                        let _ = tokio::fs::remove_file(&path).await;
                        return Err(Failure::Internal(format!("{}: {e}", path.display())));
                    }
                }
                f.flush().await.map_err(|e| Failure::Internal(e.to_string()))?;
                if bytes == 0 {
                    let _ = tokio::fs::remove_file(&path).await;
                    return Err(Failure::Invalid("that file is empty".into()));
                }
                let rejects = dir.join(format!("{id}.rejects.csv"));
                saved = Some(Upload { id, name, bytes, path, rejects });
            }
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(Failure::Forbidden("this form has expired; reload the page and try again"));
    }
    let u = saved.ok_or_else(|| Failure::Invalid("choose a file to upload".into()))?;
    let id = u.id.clone();
    state.uploads.add(u);
    Ok(Redirect::to(&format!("/data/{id}")).into_response())
}

pub async fn preview(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let s = match owner(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let u = state.uploads.get(&id).ok_or(Failure::NotFound)?;
    let path = u.path.clone();
    let p = tokio::task::spawn_blocking(move || winback_app::import::preview(&path, 5))
        .await
        .map_err(|e| Failure::Internal(format!("task failed: {e}")))??;
    Ok(state.pages.render("data_preview.html", context! { nav => nav(&s), u, p, has_rejects => u.rejects.exists() }))
}

#[derive(Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    /// Percent of lines that may be rejected before nothing is imported.
    #[serde(default)]
    max_rejects: String,
    /// auto, utf-8 or windows-1252.
    #[serde(default)]
    encoding: String,
}

/// An import's failure in the page's words (the library's name the CLI's flags).
fn import_failure(e: winback_app::AppError) -> String {
    match e {
        winback_app::AppError::TooManyRejects { rejected, rows, share, max, hint, .. } => {
            let mut out = format!(
                "{rejected} of {rows} lines ({share:.1}%) could not be read, more than the {}% allowed; nothing was imported. The rejects file lists each line with its reason.",
                max * 100.0
            );
            if !hint.is_empty() {
                out += " Some lines are not UTF-8: if Excel on Windows saved the file, import it again with the text encoding “Windows”.";
            }
            out
        }
        e => e.to_string(),
    }
}

pub async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ImportForm>,
) -> Result<Response, Failure> {
    let s = match owner(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    s.check(&f.csrf)?;
    let u = state.uploads.get(&id).ok_or(Failure::NotFound)?;
    let url = state.pool.url().to_string();
    let kind = f.kind.clone();
    let max_reject_rate = match f.max_rejects.trim() {
        "" => 0.01,
        v => {
            v.trim_end_matches('%').parse::<f64>().ok().filter(|x| (0.0..=100.0).contains(x)).ok_or_else(|| {
                Failure::Invalid("the share of rejected lines allowed: a percent from 0 to 100".into())
            })? / 100.0
        }
    };
    let encoding = match f.encoding.trim() {
        "" => winback_app::files::Encoding::Auto,
        v => v.parse().map_err(|_| Failure::Invalid("the text encoding: auto, utf-8 or windows-1252".into()))?,
    };
    let title = format!(
        "Importing {} as {}",
        u.name,
        if kind == "customers" {
            "customers"
        } else if kind == "events" {
            "events"
        } else {
            "orders"
        }
    );
    let back = format!("/data/{id}");
    let job = jobs::start(&state, title, back, false, move |progress, _| {
        let req = winback_app::import::Request {
            file: &u.path,
            db_url: &url,
            rejects: Some(&u.rejects),
            max_reject_rate,
            encoding,
        };
        let mut open = || winback_store::open(&url);
        let mut read_notes: Vec<String> = Vec::new();
        let mut on = |p: winback_app::import::Progress| match p {
            winback_app::import::Progress::Storing { done, of } => progress(done, of),
            winback_app::import::Progress::Read { notes, .. } => read_notes.extend_from_slice(notes),
        };
        let r = match kind.as_str() {
            "customers" | "events" => {
                let k = if kind == "customers" {
                    winback_app::import::People::Customers
                } else {
                    winback_app::import::People::Events
                };
                winback_app::import::people(&req, k, &Default::default(), &mut open, &mut on)
            }
            _ => {
                let opts = winback_ingest::transactions::LogOptions {
                    detect_extras: true,
                    keep_lines: true,
                    ..Default::default()
                };
                winback_app::import::transactions(&req, &opts, &mut open, &mut on)
            }
        }
        .map_err(import_failure)?;
        let mut out = format!("{}.", r.counts());
        if let Some(rec) = &r.recognised {
            out = format!("{}: {out}", rec.name);
        }
        if r.rejects_file.is_some() {
            out += " Every skipped, duplicate and rejected line is in the rejects file.";
        }
        // what reading the file found, in the page's words where a note names a flag
        for n in read_notes.iter().chain(&r.notes) {
            if n == winback_app::files::CP1252_NOTE {
                out += " The file was read as Windows-1252 (it is not UTF-8), so é, ü and € came through.";
            } else {
                let n = n.trim();
                let mut c = n.chars();
                let first = c.next().map(|f| f.to_uppercase().collect::<String>()).unwrap_or_default();
                out += &format!(" {first}{}{}", c.as_str(), if n.ends_with('.') { "" } else { "." });
            }
        }
        Ok(out)
    })?;
    Ok(Redirect::to(&format!("/jobs/{job}")).into_response())
}

/// The rejects file of an upload's import (each line with its reason).
pub async fn rejects(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    if let Err(r) = owner(&state, &headers).await? {
        return Ok(r);
    }
    let u = state.uploads.get(&id).ok_or(Failure::NotFound)?;
    let body = tokio::fs::read(&u.rejects).await.map_err(|_| Failure::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"rejects.csv\""),
        ],
        body,
    )
        .into_response())
}

/// Fit the model and score everyone, as `winback analyze` does with its defaults.
pub async fn analyze(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<crate::CsrfForm>,
) -> Result<Response, Failure> {
    let s = match owner(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    s.check(&f.csrf)?;
    let url = state.pool.url().to_string();
    let job = jobs::start(&state, "Analysing the store".into(), "/data".into(), false, move |progress, _| {
        progress(0, 1);
        let mut store = winback_store::open(&url).map_err(|e| e.to_string())?;
        let req = winback_app::analyze::AnalyzeRequest {
            model: winback_domain::analysis::ModelKind::Auto,
            observation_end: None,
            period: winback_domain::period::Period::Day,
            time_unit: None,
            horizon: None,
            margin: 1.0,
            discount_rate: 0.10,
        };
        let r = winback_app::analyze::run(store.as_mut(), &req).map_err(|e| e.to_string())?;
        progress(1, 1);
        let mut out = format!(
            "Run {}: {} fitted to {} customers as of {}{}; {} have probably left.",
            r.id,
            r.fit.model,
            r.customers,
            r.end,
            if r.fit.converged { "" } else { " (the fit did not converge: see `winback analyze`)" },
            r.lost
        );
        for n in &r.notes {
            out += &format!(" {n}");
        }
        Ok(out)
    })?;
    Ok(Redirect::to(&format!("/jobs/{job}")).into_response())
}
