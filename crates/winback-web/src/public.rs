//! The pages customers open from their emails, without signing in: the exit
//! survey and the unsubscribe page. The token in the link is the only key;
//! unknown and malformed tokens get the same 404.

use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Form;
use minijinja::context;
use winback_app::survey::{self, Answers, ComeBack};

use crate::{now, security, AppState, Failure};

/// Count a public request from this address; refuse past the limit.
fn limit(state: &AppState, req: &axum::http::Extensions) -> Result<(), Failure> {
    let ip = security::client(req).to_string();
    if state.limiter.allow("public", &ip, state.limiter.limits.public_per_minute, Duration::from_secs(60)) {
        Ok(())
    } else {
        Err(Failure::TooMany)
    }
}

fn until(first_at: Option<i64>) -> String {
    let t = first_at.unwrap_or_else(now) + survey::EDITABLE_SECS;
    chrono::DateTime::from_timestamp(t, 0).map_or_else(String::new, |d| d.format("%-d %B %Y").to_string())
}

pub async fn survey_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Result<Response, Failure> {
    limit(&state, req.extensions())?;
    let t = token.clone();
    let s = state.with_store(move |store, config| survey::open(store, config, &t, now())).await?;
    if !s.editable {
        return Ok(message(
            &state,
            "Thank you",
            "We have your answer. It can no longer be changed, but thank you for it.",
        ));
    }
    Ok(render_survey(&state, &token, &s, s.previous.clone(), None))
}

fn render_survey(
    state: &AppState,
    token: &str,
    s: &survey::Survey,
    shown: Option<Answers>,
    error: Option<String>,
) -> Response {
    let chosen: Vec<String> = shown.as_ref().map(|p| p.categories.clone()).unwrap_or_default();
    let previous = shown.map(|p| {
        context! {
            other => p.other, suggestion => p.suggestion,
            come_back => p.come_back.map(ComeBack::as_str), channel => p.channel,
        }
    });
    let has_answer = s.previous.is_some();
    state
        .pages
        .render(
            "survey.html",
            context! {
                token, first_name => s.first_name, choices => s.choices, chosen,
                previous => if has_answer || error.is_some() { previous } else { None },
                until => until(s.answered_at), error,
                channels => survey::CHANNELS,
            },
        )
        .into_response()
}

fn message(state: &AppState, title: &str, text: &str) -> Response {
    state.pages.render("message.html", context! { title, text })
}

/// The form as pairs: checkboxes repeat their name.
fn answers(pairs: &[(String, String)]) -> Answers {
    let one = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    Answers {
        categories: pairs.iter().filter(|(n, _)| n == "category").map(|(_, v)| v.clone()).collect(),
        other: one("other"),
        suggestion: one("suggestion"),
        come_back: one("come_back").as_deref().and_then(ComeBack::parse),
        channel: one("channel"),
    }
}

pub async fn survey_submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ext: axum::http::Extensions,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, Failure> {
    limit(&state, &ext)?;
    let a = answers(&pairs);
    let (t, given) = (token.clone(), a.clone());
    let out = state.with_store(move |store, config| Ok(survey::submit(store, config, &t, &given, now()))).await?;
    match out {
        Ok(done) => {
            let name = done.first_name.map_or_else(String::new, |n| format!(", {n}"));
            let text = match done.come_back {
                ComeBack::No => "We are sorry to lose you, and grateful you told us why. We won't chase you; if you ever need us, we are here.",
                _ => "A person on our team will read what you wrote. You can change your answer from the same link for the next 14 days.",
            };
            Ok(message(&state, &format!("Thank you{name}"), text))
        }
        // show the form again with what they typed and what to fix
        Err(winback_app::AppError::Invalid(msg)) => {
            let t = token.clone();
            let s = state.with_store(move |store, config| survey::open(store, config, &t, now())).await?;
            let mut res = render_survey(&state, &token, &s, Some(a), Some(msg));
            *res.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

fn well_formed(token: &str) -> bool {
    (16..=128).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// GET shows what will happen and a button; it never changes anything (mail
/// scanners fetch links before people do).
pub async fn unsubscribe_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Result<Response, Failure> {
    limit(&state, req.extensions())?;
    if !well_formed(&token) {
        return Err(Failure::NotFound);
    }
    let t = token.clone();
    let known = state.with_store(move |store, _| Ok(store.survey_target("", &t)?.is_some())).await?;
    if !known {
        return Err(Failure::NotFound);
    }
    Ok(state.pages.render("unsubscribe.html", context! { token }))
}

/// POST records the opt-out: the page's button, or a mail provider's RFC 8058
/// one-click POST (`List-Unsubscribe=One-Click`). Idempotent.
pub async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ext: axum::http::Extensions,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, Failure> {
    limit(&state, &ext)?;
    if !well_formed(&token) {
        return Err(Failure::NotFound);
    }
    let one_click = pairs.iter().any(|(k, v)| k == "List-Unsubscribe" && v == "One-Click");
    let reason: String = pairs
        .iter()
        .find(|(k, _)| k == "reason")
        .map(|(_, v)| v.trim().chars().filter(|c| !c.is_control()).take(500).collect())
        .unwrap_or_default();
    let source = match (one_click, reason.is_empty()) {
        (true, _) => "one-click unsubscribe (RFC 8058)".to_string(),
        (false, true) => "unsubscribe page".to_string(),
        (false, false) => format!("unsubscribe page: {reason}"),
    };
    let t = token.clone();
    let done = state
        .with_store(move |store, _| Ok(store.opt_out(&t, "email", winback_app::campaigns::today(), &source)?))
        .await?;
    match done {
        Some(_) => Ok(message(
            &state,
            "You are unsubscribed",
            "We will not email you again about this. Thank you for letting us know.",
        )),
        None => Err(Failure::NotFound),
    }
}
