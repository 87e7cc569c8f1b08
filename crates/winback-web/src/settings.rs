//! Settings: the playbook editor. The playbook is checked (every problem
//! with its line) before it is saved to `playbook.toml` in the server's
//! folder, which campaigns created from then on freeze a copy of.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Form;
use minijinja::context;
use serde::Deserialize;
use winback_domain::playbook::Playbook;

use crate::auth::{signed_in, to_login, Signed};
use crate::{AppState, Failure};

async fn owner(state: &AppState, headers: &HeaderMap) -> Result<Result<Signed, Response>, Failure> {
    let Some(s) = signed_in(state, headers).await? else { return Ok(Err(to_login())) };
    if !s.owner() {
        return Err(Failure::Forbidden("only an owner can change the playbook"));
    }
    Ok(Ok(s))
}

fn render(
    state: &AppState,
    s: &Signed,
    text: &str,
    problems: Vec<minijinja::Value>,
    saved: bool,
    checked: bool,
) -> Response {
    let nav = context! { email => s.user.email.clone(), owner => true, csrf => s.csrf(), here => "settings" };
    let lines = text.lines().count().clamp(20, 60);
    state.pages.render(
        "playbook.html",
        context! { nav, text, problems, saved, checked, lines, custom => state.playbook.exists(), file => state.playbook.display().to_string() },
    )
}

pub async fn playbook(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Failure> {
    let s = match owner(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let text =
        std::fs::read_to_string(&state.playbook).unwrap_or_else(|_| winback_domain::playbook::DEFAULT.to_string());
    Ok(render(&state, &s, &text, vec![], false, false))
}

/// A settings file edited in a textarea: checked (`action` "check") or checked
/// and saved.
#[derive(Deserialize)]
pub struct TextForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    action: String,
}

pub async fn save_playbook(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<TextForm>,
) -> Result<Response, Failure> {
    let s = match owner(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    s.check(&f.csrf)?;
    let text = f.text.replace("\r\n", "\n");
    let problems: Vec<minijinja::Value> = match Playbook::parse(&text, &state.config().taxonomy) {
        Ok(_) => vec![],
        Err(list) => list.iter().map(|p| context! { line => p.line, message => p.message.clone() }).collect(),
    };
    if !problems.is_empty() || f.action != "save" {
        return Ok(render(&state, &s, &text, problems, false, true));
    }
    write_whole(&state.playbook, &text)?;
    tracing::info!(user = s.user.email, "playbook saved");
    Ok(render(&state, &s, &text, vec![], true, true))
}

/// Write a settings file whole or not at all (a temporary file renamed over it).
fn write_whole(file: &std::path::Path, text: &str) -> Result<(), Failure> {
    let tmp = file.with_extension("toml.tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, file))
        .map_err(|e| Failure::Internal(format!("cannot write {}: {e}", file.display())))
}

/// The config file thresholds are saved to: the one the server was started
/// with, else `winback.toml` in its folder (where the next start finds it).
fn config_file(state: &AppState) -> std::path::PathBuf {
    state.config_file.clone()
}

fn render_thresholds(state: &AppState, s: &Signed, text: &str, problem: Option<String>, saved: bool) -> Response {
    let nav = context! { email => s.user.email.clone(), owner => true, csrf => s.csrf(), here => "settings" };
    let file = config_file(state);
    state.pages.render(
        "thresholds.html",
        context! { nav, text, problem, saved, lines => text.lines().count().clamp(20, 60),
        custom => file.exists(), file => file.display().to_string() },
    )
}

/// Thresholds: when a customer counts as at risk, lapsed or lost; the value
/// tiers and decisions; reason categories (the whole `winback.toml`).
pub async fn thresholds(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Failure> {
    let s = match owner(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let text =
        std::fs::read_to_string(config_file(&state)).unwrap_or_else(|_| winback_app::config::DEFAULT.to_string());
    Ok(render_thresholds(&state, &s, &text, None, false))
}

/// Check the new config; if it holds, write it whole and use it at once
/// (statuses and decisions are recomputed on the next page that needs them).
pub async fn save_thresholds(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<TextForm>,
) -> Result<Response, Failure> {
    let s = match owner(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    s.check(&f.csrf)?;
    let text = f.text.replace("\r\n", "\n");
    let rules = match winback_app::config::parse(&text) {
        Ok(r) => r,
        Err(e) => return Ok(render_thresholds(&state, &s, &text, Some(e.to_string()), false)),
    };
    let file = config_file(&state);
    write_whole(&file, &text)?;
    let taxonomy = winback_domain::reasons::Taxonomy::with(&rules.categories);
    let config = winback_app::config::Config { rules, taxonomy, source: Some(file) };
    *state.config.write().unwrap_or_else(std::sync::PoisonError::into_inner) = std::sync::Arc::new(config);
    tracing::info!(user = s.user.email, "thresholds saved");
    Ok(render_thresholds(&state, &s, &text, None, true))
}
