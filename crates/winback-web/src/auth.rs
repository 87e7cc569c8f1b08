//! Signing in and out, the signed-in landing page and the owners' user list.
//!
//! Sessions live in the store (only the id's hash); the cookie is HttpOnly,
//! SameSite=Lax, and `__Host-` prefixed and Secure when the public URL is
//! https. A new id at every sign-in. Forms carry a token derived from the
//! session id.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use serde::Deserialize;
use winback_app::accounts::{self, Role};
use winback_store::User;

use crate::{now, security, AppState, Failure};

const WINDOW: Duration = Duration::from_secs(15 * 60);

fn cookie_name(state: &AppState) -> &'static str {
    if state.secure {
        "__Host-winback"
    } else {
        "winback_session"
    }
}

fn session_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.secure { "; Secure" } else { "" };
    let c = format!("{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}", cookie_name(state));
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("winback_session=; Max-Age=0"))
}

/// The signed-in user and their session id.
pub(crate) struct Signed {
    pub user: User,
    id: String,
}

impl Signed {
    pub fn owner(&self) -> bool {
        Role::of(&self.user) == Role::Owner
    }
    pub fn csrf(&self) -> String {
        accounts::csrf_token(&self.id)
    }
    /// A state-changing form must carry this session's token.
    pub fn check(&self, given: &str) -> Result<(), Failure> {
        if accounts::same(&self.csrf(), given) {
            Ok(())
        } else {
            Err(Failure::Forbidden("this form has expired; reload the page and try again"))
        }
    }
}

pub(crate) async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Option<Signed>, Failure> {
    let Some(id) = session_cookie(headers, cookie_name(state)) else { return Ok(None) };
    let i = id.clone();
    let user = state.with_store(move |store, _| accounts::session_user(store, &i, now())).await?;
    Ok(user.map(|user| Signed { user, id }))
}

pub(crate) fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

pub async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Failure> {
    if signed_in(&state, &headers).await?.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    Ok(state.pages.render("login.html", context! {}))
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    Form(f): Form<LoginForm>,
) -> Result<Response, Failure> {
    let ip = security::client(&ext).to_string();
    let account = f.email.trim().to_lowercase();
    let l = &state.limiter;
    if !l.allow("login-ip", &ip, l.limits.login_per_address, WINDOW)
        || l.count("login-fail", &account, WINDOW) >= l.limits.login_failures_per_account
    {
        return Err(Failure::TooMany);
    }
    // a session sent along is replaced: a new id at every sign-in
    let old = session_cookie(&headers, cookie_name(&state));
    let (email, password) = (f.email.clone(), f.password);
    let session = state
        .with_store(move |store, _| {
            if let Some(o) = old {
                accounts::logout(store, &o)?;
            }
            accounts::login(store, &email, &password, now())
        })
        .await?;
    match session {
        Some(s) => {
            tracing::info!(user = s.user.email, "signed in");
            let mut res = Redirect::to("/").into_response();
            res.headers_mut().insert(header::SET_COOKIE, set_cookie(&state, &s.id, accounts::SESSION_SECS));
            Ok(res)
        }
        None => {
            l.allow("login-fail", &account, u32::MAX, WINDOW);
            let page = state.pages.render("login.html", context! { error => accounts::BAD_LOGIN, email => f.email });
            Ok((StatusCode::UNAUTHORIZED, page).into_response())
        }
    }
}

fn signed_out(state: &AppState) -> Response {
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().insert(header::SET_COOKIE, set_cookie(state, "", 0));
    res
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<crate::CsrfForm>,
) -> Result<Response, Failure> {
    let Some(s) = signed_in(&state, &headers).await? else { return Ok(signed_out(&state)) };
    s.check(&f.csrf)?;
    state.with_store(move |store, _| accounts::logout(store, &s.id)).await?;
    Ok(signed_out(&state))
}

pub async fn logout_everywhere(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<crate::CsrfForm>,
) -> Result<Response, Failure> {
    let Some(s) = signed_in(&state, &headers).await? else { return Ok(to_login()) };
    s.check(&f.csrf)?;
    let id = s.user.id;
    state.with_store(move |store, _| accounts::logout_everywhere(store, id)).await?;
    Ok(signed_out(&state))
}

pub async fn users_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Failure> {
    let Some(s) = signed_in(&state, &headers).await? else { return Ok(to_login()) };
    if !s.owner() {
        return Err(Failure::Forbidden("only an owner can manage users"));
    }
    let users = state.with_store(|store, _| Ok(store.users()?)).await?;
    let nav = context! { email => s.user.email.clone(), owner => true, csrf => s.csrf(), here => "users" };
    Ok(state.pages.render("users.html", context! { users, me => s.user.id, csrf => s.csrf(), nav }))
}

#[derive(Deserialize)]
pub struct DisableForm {
    #[serde(default)]
    csrf: String,
    email: String,
}

pub async fn disable_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<DisableForm>,
) -> Result<Response, Failure> {
    let Some(s) = signed_in(&state, &headers).await? else { return Ok(to_login()) };
    if !s.owner() {
        return Err(Failure::Forbidden("only an owner can manage users"));
    }
    s.check(&f.csrf)?;
    if f.email.trim().eq_ignore_ascii_case(&s.user.email) {
        return Err(Failure::Invalid("you cannot disable yourself".into()));
    }
    state.with_store(move |store, _| accounts::set_disabled(store, &f.email, true)).await?;
    Ok(Redirect::to("/users").into_response())
}

#[derive(Deserialize)]
pub struct AddUserForm {
    #[serde(default)]
    csrf: String,
    email: String,
    #[serde(default)]
    role: String,
}

/// Add a user with a generated password, shown once on the page.
pub async fn add_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<AddUserForm>,
) -> Result<Response, Failure> {
    let Some(s) = signed_in(&state, &headers).await? else { return Ok(to_login()) };
    if !s.owner() {
        return Err(Failure::Forbidden("only an owner can manage users"));
    }
    s.check(&f.csrf)?;
    let role = if f.role == "owner" { Role::Owner } else { Role::Staff };
    let password = accounts::generate_password();
    let p = password.clone();
    let added = state
        .with_store(move |store, _| match accounts::add_user(store, &f.email, role, &p) {
            Err(winback_app::AppError::Store(winback_store::StoreError::Conflict(m))) => {
                Err(winback_app::AppError::Invalid(m))
            }
            other => other,
        })
        .await?;
    let users = state.with_store(|store, _| Ok(store.users()?)).await?;
    let nav = context! { email => s.user.email.clone(), owner => true, csrf => s.csrf(), here => "users" };
    Ok(state.pages.render(
        "users.html",
        context! { users, me => s.user.id, csrf => s.csrf(), nav, added => added.email, password },
    ))
}
