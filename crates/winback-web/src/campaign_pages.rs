//! Creating a campaign (a dry run first: who is selected, who is left out and
//! why, the smallest detectable lift) and sending it as a background job.
//! Owners only; staff view campaigns and their reports.

use std::sync::atomic::AtomicBool;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use serde::Deserialize;
use winback_app::campaigns::{CreateRequest, Plan};
use winback_domain::campaign::Target;

use crate::auth::{signed_in, to_login, Signed};
use crate::{jobs, AppState, Failure};

async fn owner(state: &AppState, headers: &HeaderMap) -> Result<Result<Signed, Response>, Failure> {
    let Some(s) = signed_in(state, headers).await? else { return Ok(Err(to_login())) };
    if !s.owner() {
        return Err(Failure::Forbidden("only an owner can create or send campaigns"));
    }
    Ok(Ok(s))
}

fn nav(s: &Signed) -> minijinja::Value {
    context! { email => s.user.email.clone(), owner => s.owner(), csrf => s.csrf(), here => "campaigns" }
}

#[derive(Deserialize, Clone)]
pub struct NewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    holdout: String,
    #[serde(default)]
    window: String,
    #[serde(default)]
    base_rate: String,
    #[serde(default)]
    include_held: String,
    #[serde(default)]
    seed: String,
    #[serde(default)]
    action: String,
}

pub async fn new_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Failure> {
    let s = match owner(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let form = context! { target => "win_back", holdout => "20", window => "60", base_rate => "10" };
    Ok(state.pages.render("campaign_new.html", context! { nav => nav(&s), form, plan => () }))
}

fn number(s: &str, what: &str, lo: f64, hi: f64) -> Result<f64, Failure> {
    let v: f64 =
        s.trim().trim_end_matches('%').parse().map_err(|_| Failure::Invalid(format!("{what}: give a number")))?;
    if !(lo..=hi).contains(&v) {
        return Err(Failure::Invalid(format!("{what}: between {lo} and {hi}")));
    }
    Ok(v)
}

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<NewForm>,
) -> Result<Response, Failure> {
    let s = match owner(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    s.check(&f.csrf)?;
    let name = f.name.trim().to_string();
    winback_app::campaigns::check_name(&name)?;
    let target = match f.target.as_str() {
        "keep_in_touch" => Target::KeepInTouch,
        "all" => Target::All,
        _ => Target::WinBack,
    };
    let holdout = number(&f.holdout, "holdout share", 0.0, 90.0)? / 100.0;
    let window = number(&f.window, "window", 7.0, 365.0)? as i32;
    let base_rate = number(&f.base_rate, "expected win-back rate without contact", 0.1, 90.0)? / 100.0;
    let seed: u64 = f.seed.parse().unwrap_or_else(|_| rand_seed());
    let dry_run = f.action != "create";
    let include_held = f.include_held == "yes";
    let n = name.clone();
    let playbook = Some(state.playbook.clone()).filter(|p| p.exists());
    let plan: Plan = state
        .with_world(move |w| {
            winback_app::campaigns::create(
                w,
                &CreateRequest {
                    name: &n,
                    target,
                    holdout,
                    seed,
                    window_days: window,
                    base_rate,
                    start: None,
                    cap_days: 30,
                    include_held,
                    include_holdouts: false,
                    playbook: playbook.as_deref(),
                    dry_run,
                },
            )
        })
        .await?;
    if plan.frozen {
        return Ok(Redirect::to(&format!("/campaigns/{}", crate::dashboard::path_segment(&name))).into_response());
    }
    let pct = |x: f64| format!("{:.1}", 100.0 * x);
    let alternatives: Vec<String> =
        plan.alternatives.iter().map(|(h, l)| format!("holdout {:.0}%: {} points", 100.0 * h, pct(*l))).collect();
    let form = context! {
        name, target => f.target, holdout => f.holdout, window => f.window, base_rate => f.base_rate,
        include_held => include_held, seed,
    };
    Ok(state.pages.render(
        "campaign_new.html",
        context! {
            nav => nav(&s), form, plan, lift => if plan.detectable_lift.is_finite() { pct(plan.detectable_lift) } else { "–".into() },
            alternatives, empty => plan.selected == 0,
        },
    ))
}

fn rand_seed() -> u64 {
    u64::from_str_radix(&winback_app::accounts::random_hex(4), 16).unwrap_or(1)
}

pub async fn send(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<crate::CsrfForm>,
) -> Result<Response, Failure> {
    let s = match owner(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    s.check(&f.csrf)?;
    let Some(smtp_url) = state.smtp.clone() else {
        return Err(Failure::Invalid("no mail server is set: start winback serve with --smtp URL".into()));
    };
    let (url, config, n) = (state.pool.url().to_string(), state.config(), name.clone());
    state.with_store(move |store, _| winback_app::campaigns::find(store, &n).map(|_| ())).await?;
    let tasks_path = state.tasks_dir.join(format!("{}.tasks.csv", winback_app::send::file_safe(&name)));
    let back = format!("/campaigns/{}", crate::dashboard::path_segment(&name));
    let n = name.clone();
    let id =
        jobs::start(&state, format!("Sending campaign {name}"), back, true, move |progress, pause: &AtomicBool| {
            let mut run = || -> winback_app::Result<winback_app::send::SendReport> {
                let mut w = winback_app::assess::load(winback_store::open(&url)?, (*config).clone())?;
                let (email, tasks) = winback_app::send::needs(&mut w, &n, None, false)?;
                let smtp = if email {
                    Some(winback_app::send::Smtp::new(&smtp_url, 16, 3, std::time::Duration::from_secs(1))?)
                } else {
                    None
                };
                let mut sink = if tasks { Some(winback_app::send::CsvTasks::open(&tasks_path)?) } else { None };
                let req = winback_app::send::SendRequest {
                    campaign: &n,
                    day: winback_app::campaigns::today(),
                    limit: None,
                    release_unconfirmed: false,
                    rate: None,
                    connections: 16,
                    pause: Some(pause),
                };
                winback_app::send::send(
                    &mut w,
                    &req,
                    smtp.as_ref().map(|s| s as &dyn winback_app::send::Deliver),
                    sink.as_mut().map(|s| s as &mut dyn winback_app::send::TaskSink),
                    progress,
                )
            };
            let r = run().map_err(|e| e.to_string())?;
            let mut out =
                format!("{} emails sent, {} tasks, {} skipped, {} refused.", r.sent, r.tasks, r.skipped, r.failed);
            if r.tasks > 0 {
                out += &format!(" Tasks for phone, SMS and mail are in {}.", tasks_path.display());
            }
            if r.paused || r.still_pending > 0 {
                out += &format!(" {} still pending: send again to go on.", r.still_pending);
            }
            if let Some(e) = r.stopped {
                return Err(format!("{out} The mail server failed three in a row ({e}); the rest stay pending."));
            }
            Ok(out)
        })?;
    Ok(Redirect::to(&format!("/jobs/{id}")).into_response())
}
