//! The signed-in pages: the overview, customers, a customer, root causes and
//! campaigns. Each figure comes from the same application services as the
//! command line.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use serde::Deserialize;
use winback_app::assess::{self, LostFilter};
use winback_app::causes;
use winback_app::overview::Overview;
use winback_domain::decision::Decision;
use winback_domain::reasons::{NewReason, Scope, Source};
use winback_domain::status::Status;
use winback_store::Store;

use crate::auth::{signed_in, to_login, Signed};
use crate::{now, svg, AppState, Failure};

/// What needs every customer assessed (seconds on a large store), computed
/// once per state of the store and kept until an import, a run, a reason, a
/// cause or an opt-out changes it.
pub struct Knowledge {
    pub fingerprint: String,
    pub overview: Overview,
    pub causes: Vec<causes::Row>,
    pub defection: winback_domain::defection::Report,
    pub journey: Vec<winback_domain::journey::Signal>,
    pub rates: Vec<(String, winback_domain::campaign::OwnRate)>,
    pub followups: Vec<winback_app::outcomes::Followup>,
}

/// Rows per customers page.
pub const PAGE: usize = 50;

pub(crate) async fn knowledge(state: &AppState) -> Result<Arc<Knowledge>, Failure> {
    let fp = state.with_store(|store, config| assess::fingerprint(store, config)).await?;
    let mut slot = state.knowledge.lock().await;
    if let Some(k) = slot.as_ref().filter(|k| k.fingerprint == fp) {
        return Ok(k.clone());
    }
    let k = state
        .with_world(move |w| {
            let fingerprint = assess::fingerprint(w.store.as_mut(), &w.config)?;
            let overview = winback_app::overview::overview(w, now())?;
            let causes = causes::list(w);
            let defection = winback_app::reports::defection(w, None)?;
            let journey = winback_app::reports::journey(w, 60)?;
            let rates = winback_app::outcomes::winback_rates(w)?;
            let as_of = w.as_of.max(winback_app::campaigns::today());
            let followups = winback_app::outcomes::followups(w, as_of, true)?;
            Ok(Knowledge { fingerprint, overview, causes, defection, journey, rates, followups })
        })
        .await?;
    let k = Arc::new(k);
    *slot = Some(k.clone());
    Ok(k)
}

/// A campaign's report, kept until the store changes (it needs every customer
/// assessed).
async fn campaign_report(state: &AppState, name: &str) -> Result<Arc<winback_app::outcomes::CampaignReport>, Failure> {
    // an unknown name costs a lookup, not an assessment of everyone
    let n = name.to_string();
    let fp = state
        .with_store(move |store, config| {
            winback_app::campaigns::find(store, &n)?;
            assess::fingerprint(store, config)
        })
        .await?;
    let key = (fp, name.to_string());
    let mut reports = state.reports.lock().await;
    if let Some(r) = reports.get(&key) {
        return Ok(r.clone());
    }
    let n = name.to_string();
    let r = state.with_world(move |w| winback_app::outcomes::report(w, &n, None)).await?;
    let r = Arc::new(r);
    reports.retain(|(f, _), _| *f == key.0);
    reports.insert(key, r.clone());
    Ok(r)
}

/// Run `f` with the cached assessment current (computed now, once, if not).
async fn with_assessed<T, F>(state: &AppState, f: F) -> Result<T, Failure>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn Store, &winback_store::CacheInfo, &assess::Counts) -> winback_app::Result<T> + Send + 'static,
{
    let (url, lock, counts) = (state.pool.url().to_string(), state.recompute.clone(), state.counts.clone());
    state
        .with_store(move |store, config| {
            let info = match assess::current(store, config)? {
                Some(i) => i,
                None => {
                    let _one_at_a_time = lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    match assess::current(store, config)? {
                        Some(i) => i,
                        None => assess::cached(winback_store::open(&url)?, config.clone())?.info,
                    }
                }
            };
            // the counts change only with the cached assessment: kept per fingerprint
            let cached = counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            let c = match cached.filter(|(fp, _)| *fp == info.fingerprint) {
                Some((_, c)) => c,
                None => {
                    let c = Arc::new(store.assessed_counts()?);
                    *counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                        Some((info.fingerprint.clone(), c.clone()));
                    c
                }
            };
            f(store, &info, &c)
        })
        .await
}

fn nav(s: &Signed, here: &str) -> minijinja::Value {
    context! { email => s.user.email.clone(), owner => s.owner(), csrf => s.csrf(), here }
}

async fn signed(state: &AppState, headers: &HeaderMap) -> Result<Result<Signed, Response>, Failure> {
    Ok(signed_in(state, headers).await?.ok_or_else(to_login))
}

pub async fn overview(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Failure> {
    let s = match signed(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let k = knowledge(&state).await?;
    let o = &k.overview;
    let months: Vec<(String, f64)> =
        o.by_month.iter().rev().take(18).rev().map(|m| (m.month.clone(), m.net_revenue)).collect();
    let reasons: Vec<(String, f64)> = o.reasons.iter().map(|r| (r.label.clone(), r.revenue_lost)).collect();
    Ok(state.pages.render(
        "overview.html",
        context! {
            nav => nav(&s, "overview"), o, running => state.jobs.running(),
            money_lost => winback_domain::decision::format_money(o.lost_net_revenue),
            months_chart => minijinja::Value::from_safe_string(svg::columns("Net revenue of customers lost, by month", &months, "")),
            reasons_chart => minijinja::Value::from_safe_string(svg::bars("Revenue lost by reason", &reasons, true)),
        },
    ))
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    held: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    segment: String,
    #[serde(default)]
    tier: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: usize,
}

impl ListQuery {
    fn filter(&self, limit: Option<usize>, offset: Option<usize>) -> Result<LostFilter, Failure> {
        let status = match self.status.as_str() {
            "" => None,
            "active" => Some(Status::Active),
            "at_risk" => Some(Status::AtRisk),
            "lapsed" => Some(Status::Lapsed),
            "lost" => Some(Status::Lost),
            "churned" => Some(Status::Churned),
            other => return Err(Failure::Invalid(format!("unknown status '{other}'"))),
        };
        let decision = match self.decision.as_str() {
            "" => None,
            d => Some(
                Decision::ALL
                    .into_iter()
                    .find(|x| x.name() == d)
                    .ok_or_else(|| Failure::Invalid(format!("unknown decision '{d}'")))?,
            ),
        };
        let held = match self.held.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        };
        let tier = match self.tier.as_str() {
            "" => None,
            t @ ("top" | "mid" | "low") => Some(t.to_string()),
            other => return Err(Failure::Invalid(format!("unknown value tier '{other}' (top, mid, low)"))),
        };
        let order = match self.sort.as_str() {
            "" | "value" => winback_store::AssessedOrder::Value,
            "recent" => winback_store::AssessedOrder::Recent,
            "longest" => winback_store::AssessedOrder::Longest,
            other => return Err(Failure::Invalid(format!("unknown order '{other}' (value, recent, longest)"))),
        };
        Ok(LostFilter {
            order,
            segment: Some(self.segment.trim().chars().take(100).collect::<String>()).filter(|s| !s.is_empty()),
            tier,
            include_active: status.is_some_and(|s| !s.is_gone()),
            statuses: status.into_iter().collect(),
            decision,
            held,
            search: Some(self.q.trim().to_string()).filter(|q| !q.is_empty()),
            limit,
            offset,
        })
    }

    fn link(&self, page: usize) -> String {
        let enc = |s: &str| {
            s.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        };
        format!(
            "status={}&decision={}&held={}&segment={}&tier={}&sort={}&q={}&page={page}",
            enc(&self.status),
            enc(&self.decision),
            enc(&self.held),
            enc(&self.segment),
            enc(&self.tier),
            enc(&self.sort),
            enc(&self.q)
        )
    }
}

pub async fn customers(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Response, Failure> {
    let s = match signed(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let filter = q.filter(Some(PAGE + 1), Some(q.page * PAGE))?;
    let mut list =
        with_assessed(&state, move |store, info, counts| assess::lost_in(store, &info.horizon, &filter, counts))
            .await?;
    let more = list.customers.len() > PAGE;
    list.customers.truncate(PAGE);
    let rows: Vec<minijinja::Value> = list
        .customers
        .iter()
        .map(|a| {
            context! {
                id => a.customer, name => a.name, status => a.status, decision => a.decision,
                held => !a.held_by.is_empty(),
                value => a.value_if_won.map(winback_domain::decision::format_money),
                why => a.why.first(),
            }
        })
        .collect();
    let first = q.page * PAGE + usize::from(!rows.is_empty());
    Ok(state.pages.render(
        "customers.html",
        context! {
            nav => nav(&s, "customers"), rows, total => list.total, by_decision => list.by_decision,
            first, last => q.page * PAGE + rows.len(),
            status => q.status, decision => q.decision, held => q.held, q => q.q, segment => q.segment, tier => q.tier, sort => q.sort,
            prev => (q.page > 0).then(|| q.link(q.page - 1)), next => more.then(|| q.link(q.page + 1)),
            csv => q.link(0),
        },
    ))
}

/// The filtered list as CSV (every row), as `winback lost --format csv` writes it.
pub async fn customers_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Response, Failure> {
    if let Err(r) = signed(&state, &headers).await? {
        return Ok(r);
    }
    let filter = q.filter(None, None)?;
    let list = with_assessed(&state, move |store, info, counts| assess::lost_in(store, &info.horizon, &filter, counts))
        .await?;
    let mut out = String::from("customer,name,email,status,decision,held,value_if_won,net_revenue,why\n");
    let cell = |s: &str| {
        let s = winback_app::import::csv_safe(s);
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.into_owned()
        }
    };
    for a in &list.customers {
        out += &[
            cell(&a.customer),
            cell(a.name.as_deref().unwrap_or("")),
            cell(a.email.as_deref().unwrap_or("")),
            cell(&a.status),
            cell(a.decision.as_deref().unwrap_or("")),
            (!a.held_by.is_empty()).to_string(),
            a.value_if_won.map_or(String::new(), |v| format!("{v:.2}")),
            format!("{:.2}", a.net_revenue),
            cell(&a.why.join("; ")),
        ]
        .join(",");
        out.push('\n');
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"customers.csv\""),
        ],
        out,
    )
        .into_response())
}

pub async fn customer(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let s = match signed(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    customer_page(&state, &s, id, None).await
}

async fn customer_page(state: &AppState, s: &Signed, id: String, link: Option<String>) -> Result<Response, Failure> {
    let who = id.clone();
    let (a, detail, reasons, memberships, fingerprint) = with_assessed(state, move |store, info, _| {
        let a = assess::one_in(store, &id)?;
        let d = store.customer(&id)?;
        let m = store.memberships(&id)?;
        let r = winback_app::reasons::list(
            store,
            &winback_app::reasons::ListFilter { customer: Some(id.clone()), category: None },
        )?;
        Ok((a, d, r, m, info.fingerprint.clone()))
    })
    .await?;
    let (Some(a), Some(d)) = (a, detail) else { return Err(Failure::NotFound) };
    // check-ins due, from the overview's knowledge when it is current (computing
    // it here would make one customer's page wait for the whole store)
    // (try_lock: while the overview computes it, the lock is held for seconds)
    let knowledge =
        state.knowledge.try_lock().ok().and_then(|k| k.as_ref().filter(|k| k.fingerprint == fingerprint).cloned());
    let followups: Option<Vec<minijinja::Value>> = knowledge.map(|k| {
        k.followups
            .iter()
            .filter(|f| f.customer == who)
            .map(|f| {
                context! { campaign => f.campaign, customer => f.customer, offset => f.offset_days,
                    returned => winback_domain::period::date_of(f.returned).to_string(), due => winback_domain::period::date_of(f.due).to_string() }
            })
            .collect()
    });
    // purchases by month: the history chart
    let mut months: std::collections::BTreeMap<String, f64> = Default::default();
    for t in &d.transactions {
        let m = winback_domain::period::date_of(t.0).format("%Y-%m").to_string();
        *months.entry(m).or_default() += t.1.unwrap_or(0.0);
    }
    let months: Vec<(String, f64)> = months.into_iter().collect();
    let config = state.config();
    let tax = &config.taxonomy;
    let reasons: Vec<minijinja::Value> = reasons
        .iter()
        .map(|r| {
            context! {
                date => winback_domain::period::date_of(r.day).to_string(), label => tax.label(&r.category),
                scope => r.scope.name(), detail => r.detail, suggestion => r.suggestion,
                source => r.source.name(), by => r.recorded_by, cause => r.cause,
            }
        })
        .collect();
    let categories: Vec<minijinja::Value> =
        tax.categories.iter().map(|c| context! { key => c.key.clone(), label => c.label.clone() }).collect();
    let runs: Vec<minijinja::Value> = d
        .history
        .iter()
        .map(|(id, at, s)| {
            context! { id, at => at.get(..10).unwrap_or(at), p_alive => format!("{:.0}%", 100.0 * s.p_alive),
                purchases => format!("{:.2}", s.expected_purchases), value => winback_domain::decision::format_money(s.value_at_stake) }
        })
        .collect();
    let memberships: Vec<minijinja::Value> = memberships
        .iter()
        .map(|m| {
            context! { campaign => m.campaign, link => path_segment(&m.campaign), arm => if m.arm == "control" { "held out" } else { "contacted" },
                state => m.state, strategy => m.strategy.replace('_', " "), channel => m.channel,
                day => m.contacted_day.map(|d| winback_domain::period::date_of(d).to_string()) }
        })
        .collect();
    let why: Vec<minijinja::Value> =
        a.codes.iter().zip(&a.why).map(|(c, t)| context! { code => c, text => t }).collect();
    Ok(state.pages.render(
        "customer.html",
        context! {
            nav => nav(s, "customers"), a, why, reasons, categories, link, memberships, runs, followups,
            transactions => d.transactions.len(), first => d.view.first_day.map(|x| winback_domain::period::date_of(x).to_string()),
            last => d.view.last_day.map(|x| winback_domain::period::date_of(x).to_string()),
            revenue => winback_domain::decision::format_money(a.net_revenue),
            value => a.value_if_won.map(winback_domain::decision::format_money),
            chart => minijinja::Value::from_safe_string(svg::columns("Purchases by month", &months, "")),
            do_not_contact => d.do_not_contact,
        },
    ))
}

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    csrf: String,
    category: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    suggestion: String,
    #[serde(default)]
    source: String,
}

fn text(s: &str) -> Option<String> {
    let t: String = s.trim().chars().filter(|c| !c.is_control() || *c == '\n').take(2000).collect();
    (!t.is_empty()).then_some(t)
}

/// Record a reason from a call (staff and owners).
pub async fn add_reason(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ReasonForm>,
) -> Result<Response, Failure> {
    let s = match signed(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    s.check(&f.csrf)?;
    let category = state.config().taxonomy.parse(&f.category).map_err(|e| Failure::Invalid(e.to_string()))?;
    let source = match f.source.as_str() {
        "" | "call" => Source::Call,
        "email" => Source::Email,
        "in_person" => Source::InPerson,
        other => return Err(Failure::Invalid(format!("unknown source '{other}'"))),
    };
    let r = NewReason {
        line: 0,
        customer: id.clone(),
        category,
        scope: if f.scope == "systemic" { Scope::Systemic } else { Scope::Specific },
        detail: text(&f.detail),
        suggestion: text(&f.suggestion),
        source,
        day: winback_app::campaigns::today(),
        recorded_by: s.user.email.clone(),
        cause: None,
        wont_return: false,
    };
    state
        .with_store(move |store, _| match winback_app::reasons::add(store, &r) {
            Err(winback_app::AppError::Store(winback_store::StoreError::UnknownCustomer(_))) => {
                Err(winback_app::AppError::NotFound("no such customer".into()))
            }
            other => other.map(|_| ()),
        })
        .await?;
    Ok(Redirect::to(&format!("/customers/{}", path_segment(&id))).into_response())
}

/// A personal survey link for this customer, shown once on the page.
pub async fn survey_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<crate::CsrfForm>,
) -> Result<Response, Failure> {
    let s = match signed(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    s.check(&f.csrf)?;
    let pattern = format!("{}/s/{{token}}", state.public_url());
    let c = id.clone();
    let link = state.with_store(move |store, _| winback_app::survey::link(store, &c, &pattern)).await?;
    customer_page(&state, &s, id, Some(link)).await
}

pub(crate) fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub async fn causes_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Failure> {
    let s = match signed(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let k = knowledge(&state).await?;
    let config = state.config();
    let tax = &config.taxonomy;
    let rows: Vec<minijinja::Value> = k
        .causes
        .iter()
        .map(|r| {
            context! {
                id => r.cause.id, title => r.cause.title, status => r.cause.status.name(),
                open => r.cause.status.holds(),
                categories => r.cause.categories.iter().map(|c| tax.label(c)).collect::<Vec<_>>().join(", "),
                keys => r.cause.categories.iter().map(|c| c.as_str().to_string()).collect::<Vec<_>>(),
                fixed_on => r.cause.fixed_on.map(|d| winback_domain::period::date_of(d).to_string()),
                announcement => r.cause.announcement, reasons => r.reasons, held => r.held_customers,
                value => winback_domain::decision::format_money(r.held_value),
            }
        })
        .collect();
    let categories: Vec<minijinja::Value> =
        tax.categories.iter().map(|c| context! { key => c.key.clone(), label => c.label.clone() }).collect();
    Ok(state.pages.render("causes.html", context! { nav => nav(&s, "causes"), rows, categories }))
}

/// What the add and change forms of a cause give: a title, at least one
/// category from the taxonomy, open or in progress, the improvement to announce.
struct CauseFields {
    title: String,
    categories: Vec<winback_domain::reasons::Category>,
    status: winback_domain::causes::CauseStatus,
    announcement: Option<String>,
}

impl CauseFields {
    fn read(state: &AppState, p: &[(String, String)]) -> Result<CauseFields, Failure> {
        let cats: Vec<String> = p.iter().filter(|(n, _)| n == "category").map(|(_, v)| v.clone()).collect();
        if cats.is_empty() {
            return Err(Failure::Invalid("tick at least one reason the cause explains".into()));
        }
        let title: String = pairs_one(p, "title").trim().chars().take(200).collect();
        if title.is_empty() {
            return Err(Failure::Invalid("the cause needs a title".into()));
        }
        Ok(CauseFields {
            title,
            categories: causes::categories(&state.config().taxonomy, &cats)?,
            status: match pairs_one(p, "status").as_str() {
                "in_progress" => winback_domain::causes::CauseStatus::InProgress,
                _ => winback_domain::causes::CauseStatus::Open,
            },
            announcement: text(&pairs_one(p, "announce")),
        })
    }
}

/// A cause form: checkboxes repeat their name.
fn pairs_one(p: &[(String, String)], k: &str) -> String {
    p.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default()
}

pub async fn add_cause(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(p): Form<Vec<(String, String)>>,
) -> Result<Response, Failure> {
    let s = match signed(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    s.check(&pairs_one(&p, "csrf"))?;
    let f = CauseFields::read(&state, &p)?;
    let c = winback_domain::causes::NewCause {
        title: f.title,
        categories: f.categories,
        scope: if pairs_one(&p, "scope") == "specific" { Scope::Specific } else { Scope::Systemic },
        status: f.status,
        fixed_on: None,
        announcement: f.announcement,
    };
    state.with_store(move |store, _| causes::add(store, &c).map(|_| ())).await?;
    Ok(Redirect::to("/causes").into_response())
}

/// Change an open cause: its title, the reasons it explains, its status.
pub async fn update_cause(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(p): Form<Vec<(String, String)>>,
) -> Result<Response, Failure> {
    let s = match signed(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    s.check(&pairs_one(&p, "csrf"))?;
    let f = CauseFields::read(&state, &p)?;
    let u = winback_domain::causes::CauseUpdate {
        title: Some(f.title),
        categories: Some(f.categories),
        status: Some(f.status),
        fixed_on: None,
        announcement: f.announcement,
    };
    state.with_store(move |store, _| causes::update(store, id, &u).map(|_| ())).await?;
    Ok(Redirect::to(&format!("/causes#cause-{id}")).into_response())
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    announce: String,
    #[serde(default)]
    wont_fix: String,
}

pub async fn close_cause(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<CloseForm>,
) -> Result<Response, Failure> {
    let s = match signed(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    s.check(&f.csrf)?;
    let (wont, announce) = (f.wont_fix == "yes", text(&f.announce));
    state
        .with_store(move |store, _| {
            causes::close(store, id, wont, Some(winback_app::campaigns::today()), announce).map(|_| ())
        })
        .await?;
    Ok(Redirect::to("/causes").into_response())
}

pub async fn campaigns(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Failure> {
    let s = match signed(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let list = state.with_store(|store, _| winback_app::campaigns::list(store)).await?;
    let rows: Vec<minijinja::Value> = list
        .iter()
        .map(|c| {
            context! {
                name => c.name, link => path_segment(&c.name), start => winback_domain::period::date_of(c.start).to_string(),
                window => c.window_days, members => c.members, treatment => c.treatment, control => c.control,
                sent => c.sent, pending => c.pending, failed => c.failed,
                lift => format!("{:.1}", 100.0 * c.detectable_lift),
            }
        })
        .collect();
    Ok(state.pages.render("campaigns.html", context! { nav => nav(&s, "campaigns"), rows, owner => s.owner() }))
}

pub async fn campaign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, Failure> {
    let s = match signed(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let r = campaign_report(&state, &name).await?;
    let n = name.clone();
    let summary = state
        .with_store(move |store, _| Ok(winback_app::campaigns::list(store)?.into_iter().find(|c| c.name == n)))
        .await?;
    let pending = summary.as_ref().map_or(0, |c| c.pending);
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    let o = &r.report.overall;
    let arms = [("Contacted", &o.treatment), ("Held out", &o.control)]
        .iter()
        .map(|(label, a)| {
            context! { label, n => a.n, won => a.won, rate => pct(a.rate), low => pct(a.low), high => pct(a.high) }
        })
        .collect::<Vec<_>>();
    let money = winback_domain::decision::format_money;
    let group = |c: &winback_domain::campaign::Comparison| {
        context! { group => c.group.replace('_', " "), t => format!("{}/{}", c.treatment.won, c.treatment.n),
        c => format!("{}/{}", c.control.won, c.control.n), lift => pct(c.lift), low => pct(c.lift_low), high => pct(c.lift_high) }
    };
    let by_strategy: Vec<minijinja::Value> = r.report.by_strategy.iter().map(group).collect();
    let by_reason: Vec<minijinja::Value> = r.report.by_category.iter().map(group).collect();
    let still: Vec<minijinja::Value> = r
        .still_active
        .iter()
        .map(|x| {
            let cell = |v: &Option<f64>| v.map_or_else(|| "–".to_string(), pct);
            context! { strategy => x.strategy.replace('_', " "), won => x.won_back,
                d30 => cell(&x.active[0]), d60 => cell(&x.active[1]), d90 => cell(&x.active[2]), d180 => cell(&x.active[3]) }
        })
        .collect();
    let money_rows = context! {
        per_treated => money(r.report.revenue_per_treated), per_control => money(r.report.revenue_per_control),
        incremental => money(r.report.incremental_revenue), margin => money(r.report.incremental_margin),
        offer_cost => money(r.report.offer_cost), roi => r.report.roi.map(|x| format!("{:.0}%", 100.0 * x)),
        band => r.report.against_band.clone(),
    };
    let chart: Vec<(String, f64)> =
        vec![("Contacted".into(), 100.0 * o.treatment.rate), ("Held out".into(), 100.0 * o.control.rate)];
    Ok(state.pages.render(
        "campaign.html",
        context! {
            nav => nav(&s, "campaigns"), link => path_segment(&name), name, arms, pending,
            can_send => s.owner() && pending > 0, smtp => state.smtp.is_some(), summary,
            start => winback_domain::period::date_of(r.start).to_string(), window => r.window_days,
            as_of => winback_domain::period::date_of(r.as_of).to_string(), open => r.window_open,
            lift => pct(o.lift), lift_low => pct(o.lift_low), lift_high => pct(o.lift_high),
            survey => r.survey, survey_rate => pct(r.survey.rate), by_strategy, by_reason, still, money => money_rows,
            not_reached => r.treated_not_reached.values().sum::<usize>(),
            contaminated => r.contaminated.iter().map(|c| format!("{} members (campaign {})", c.members, c.campaign)).collect::<Vec<_>>(),
            chart => minijinja::Value::from_safe_string(svg::bars("Won back, % of each group", &chart, false)),
        },
    ))
}

pub async fn reports(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Failure> {
    let s = match signed(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let k = knowledge(&state).await?;
    let pct = |x: f64| format!("{:.0}%", 100.0 * x);
    let r = &k.defection;
    let reasons: Vec<minijinja::Value> = r
        .reasons
        .iter()
        .map(|x| {
            context! { label => x.label, customers => x.customers, revenue => winback_domain::decision::format_money(x.revenue_lost),
                share => pct(x.share_of_revenue_lost), cumulative => pct(x.cumulative_share), systemic => x.systemic, specific => x.specific }
        })
        .collect();
    let journey: Vec<minijinja::Value> = k
        .journey
        .iter()
        .map(|x| {
            context! { kind => x.kind, lost => pct(x.share_lost), stayed => pct(x.share_stayed),
                ratio => format!("{:.1}", x.risk_ratio), low => format!("{:.1}", x.ci_low), high => format!("{:.1}", x.ci_high),
                signal => x.ci_low > 1.0 }
        })
        .collect();
    let rates: Vec<minijinja::Value> = k
        .rates
        .iter()
        .map(|(kind, x)| {
            context! { kind, group => x.group, contacted => x.contacted, won => x.won, prior => pct(x.prior_mean),
            rate => pct(x.posterior_mean), low => pct(x.low), high => pct(x.high) }
        })
        .collect();
    let followups: Vec<minijinja::Value> = k
        .followups
        .iter()
        .map(|f| {
            context! { campaign => f.campaign, customer => f.customer, offset => f.offset_days,
                returned => winback_domain::period::date_of(f.returned).to_string(), due => winback_domain::period::date_of(f.due).to_string() }
        })
        .collect();
    let by_count: Vec<(String, f64)> = r.reasons.iter().map(|x| (x.label.clone(), x.customers as f64)).collect();
    let tracking = r.tracking.as_ref().map(|t| {
        let title = |m: &str| match m {
            "bgnbd" => "BG/NBD",
            "paretonbd" => "Pareto/NBD",
            "mbgnbd" => "MBG/NBD",
            _ => "model",
        };
        let mut series = vec![("actual".to_string(), t.actual_curve.clone())];
        series.extend(
            t.models.iter().filter(|m| !m.curve.is_empty()).map(|m| (title(&m.model).to_string(), m.curve.clone())),
        );
        let rows: Vec<minijinja::Value> = t
            .models
            .iter()
            .map(|m| {
                context! { model => title(&m.model), used => t.best.as_deref() == Some(m.model.as_str()),
                predicted => m.predicted.map(|v| format!("{v:.0}")), rmse => m.rmse.map(|v| format!("{v:.3}")) }
            })
            .collect();
        context! {
            from => t.calibration_end, to => t.observation_end, rows, undecided => t.undecided,
            actual => format!("{:.0}", t.actual_curve.last().copied().unwrap_or(0.0)),
            chart => minijinja::Value::from_safe_string(svg::lines(
                "Repeat purchases after the calibration end, actual and expected",
                &format!("{}s after {}", t.time_unit, t.calibration_end),
                &t.points,
                &series,
            )),
        }
    });
    Ok(state.pages.render(
        "reports.html",
        context! {
            nav => nav(&s, "reports"), r, reasons, journey, rates, followups, tracking,
            count_chart => minijinja::Value::from_safe_string(svg::bars("Lost customers by reason", &by_count, false)),
        },
    ))
}

#[derive(Deserialize)]
pub struct FollowupForm {
    #[serde(default)]
    csrf: String,
    campaign: String,
    customer: String,
    offset_days: i32,
    #[serde(default)]
    satisfied: String,
    #[serde(default)]
    score: String,
    #[serde(default)]
    note: String,
    /// "customer": back to the customer's page after recording.
    #[serde(default)]
    back: String,
}

/// Record a check-in with a returned customer (staff and owners).
pub async fn record_followup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<FollowupForm>,
) -> Result<Response, Failure> {
    let s = match signed(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    s.check(&f.csrf)?;
    let score = match f.score.trim() {
        "" => None,
        v => Some(v.parse::<i32>().map_err(|_| Failure::Invalid("the score is a number from 0 to 10".into()))?),
    };
    let satisfied = match f.satisfied.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let back = if f.back == "customer" {
        format!("/customers/{}#followups", path_segment(&f.customer))
    } else {
        "/reports#followups".to_string()
    };
    state
        .with_store(move |store, _| {
            winback_app::outcomes::record_followup(
                store,
                &winback_app::outcomes::CheckIn {
                    campaign: &f.campaign,
                    customer: &f.customer,
                    offset_days: f.offset_days,
                    day: winback_app::campaigns::today(),
                    satisfied,
                    score,
                    note: text(&f.note),
                },
            )
        })
        .await?;
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize)]
pub struct DncForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    value: String,
}

/// Mark a customer do-not-contact (or clear it): no campaign selects them.
pub async fn do_not_contact(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<DncForm>,
) -> Result<Response, Failure> {
    let s = match signed(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    s.check(&f.csrf)?;
    let (c, value) = (id.clone(), f.value == "yes");
    state
        .with_store(move |store, _| match store.set_do_not_contact(&c, value) {
            Err(winback_store::StoreError::UnknownCustomer(_)) => {
                Err(winback_app::AppError::NotFound("no such customer".into()))
            }
            other => Ok(other?),
        })
        .await?;
    Ok(Redirect::to(&format!("/customers/{}", path_segment(&id))).into_response())
}

/// The first messages of a campaign as its members will get them (staff and
/// owners); links show TOKEN, made when each message is sent.
pub async fn campaign_preview(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, Failure> {
    let s = match signed(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let n = name.clone();
    state.with_store(move |store, _| winback_app::campaigns::find(store, &n).map(|_| ())).await?;
    let n = name.clone();
    let (messages, treated) = state.with_world(move |w| winback_app::campaigns::preview(w, &n, None, 5)).await?;
    Ok(state.pages.render(
        "campaign_preview.html",
        context! { nav => nav(&s, "campaigns"), name, link => path_segment(&name), messages, treated },
    ))
}

#[derive(Deserialize, Default)]
pub struct BacktestQuery {
    #[serde(default)]
    as_of: String,
    #[serde(default)]
    until: String,
}

/// How far to trust the lists: the store replayed on a past day (`winback
/// backtest`), asked for with a date in the query; computing it changes nothing.
pub async fn backtest(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<BacktestQuery>,
) -> Result<Response, Failure> {
    let s = match signed(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let date = |v: &str, what: &str| -> Result<Option<chrono::NaiveDate>, Failure> {
        match v.trim() {
            "" => Ok(None),
            t => chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| Failure::Invalid(format!("{what}: '{t}' is not a date (YYYY-MM-DD)"))),
        }
    };
    let (as_of, until) = (date(&q.as_of, "replay day")?, date(&q.until, "until")?);
    let result = match as_of {
        None => None,
        Some(as_of) => {
            let b = state
                .with_store(move |store, config| {
                    winback_app::backtest::run(
                        store,
                        config,
                        &winback_app::backtest::BacktestRequest {
                            as_of,
                            until,
                            model: winback_domain::analysis::ModelKind::Auto,
                            period: winback_domain::period::Period::Day,
                            time_unit: Some(winback_domain::period::Period::Week),
                            window_days: 90,
                            min_drop: 0.1,
                            min_risk: 0.25,
                            playbook: None,
                        },
                    )
                })
                .await?;
            Some(b)
        }
    };
    let pct = |x: f64| if x.is_finite() { format!("{:.0}%", 100.0 * x) } else { "–".into() };
    let list = |l: &winback_app::backtest::ListScore| {
        context! { listed => l.listed, hits => l.hits, precision => pct(l.precision), recall => pct(l.recall),
        lift => format!("{:.2}", l.lift),
        head => l.at_recall.as_ref().map(|c| context! { listed => c.listed, precision => pct(c.precision), lift => format!("{:.2}", c.lift) }) }
    };
    let groups = |gs: &[winback_app::backtest::Group]| -> Vec<minijinja::Value> {
        gs.iter()
            .map(|g| context! { group => g.group, customers => g.customers, count => g.count, rate => pct(g.rate) })
            .collect()
    };
    let b = result.as_ref().map(|b| {
        let chart: Vec<(String, f64)> = vec![
            ("Base rate (everyone active)".into(), 100.0 * b.at_risk.base_rate),
            ("First rule".into(), 100.0 * b.at_risk.rule.precision),
            ("Early warning".into(), 100.0 * b.at_risk.warning.precision),
        ];
        context! {
            as_of => b.as_of.to_string(), until => b.until.to_string(), days => b.days, customers => b.customers,
            lost => context! { listed => b.lost.listed, came_back => b.lost.came_back, rate => pct(b.lost.rate),
                by_tier => groups(&b.lost.by_tier), by_decision => groups(&b.lost.by_decision) },
            base => b.at_risk.base, left => b.at_risk.left, base_rate => pct(b.at_risk.base_rate),
            rule => list(&b.at_risk.rule), warning => list(&b.at_risk.warning),
            rule_by => groups(&b.at_risk.rule_by_reason), warning_by => groups(&b.at_risk.warning_by_reason),
            model => b.purchases.model, limit => b.purchases.limit, predicted => format!("{:.0}", b.purchases.predicted),
            actual => format!("{:.0}", b.purchases.actual), mae => format!("{:.2}", b.purchases.mae),
            notes => b.notes,
            chart => minijinja::Value::from_safe_string(svg::bars("Share of each list that did not buy again, %", &chart, false)),
        }
    });
    Ok(state
        .pages
        .render("backtest.html", context! { nav => nav(&s, "reports"), b, as_of => q.as_of, until => q.until }))
}
