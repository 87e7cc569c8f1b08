//! What statuses and decisions need from the store, and every customer assessed.

use winback_domain::assess::{assess, horizon_words, Assessment, Settings};
use winback_domain::causes::RootCause;
use winback_domain::period::day_number;
use winback_domain::reasons::Reason;
use winback_store::{Facts, Store};

use crate::config::Config;
use crate::Result;

/// The store with every customer's facts, reasons, causes and assessment.
pub struct World {
    pub store: Box<dyn Store>,
    pub config: Config,
    pub facts: Facts,
    pub reasons: Vec<Reason>,
    pub causes: Vec<RootCause>,
    pub assessed: Vec<Assessment>,
    /// The analysis date: the latest run's observation end, else the last
    /// purchase, else today.
    pub as_of: i32,
    pub horizon: String,
    /// What the user should know (no analysis run yet…).
    pub notes: Vec<String>,
}

/// Load and assess every customer.
pub fn load(mut store: Box<dyn Store>, config: Config) -> Result<World> {
    let t0 = std::time::Instant::now();
    let facts = store.customer_facts()?;
    tracing::info!(customers = facts.customers.len(), secs = t0.elapsed().as_secs_f64(), "customer facts loaded");
    let reasons = store.reasons()?;
    let causes = store.causes()?;
    let mut notes = Vec::new();
    let as_of = match &facts.run {
        Some(r) => r.observation_end,
        None => {
            notes.push("no analysis run yet, so statuses use purchase rhythm only; run `winback analyze` first".into());
            // the last purchase up to today, as `analyze` dates its run: a
            // mistyped future date would call everyone lost
            let today = day_number(chrono::Utc::now().date_naive());
            let last = facts.customers.iter().filter_map(|f| f.last_day);
            last.clone().filter(|&d| d <= today + 1).max().or_else(|| last.max()).unwrap_or(today)
        }
    };
    let horizon = facts.run.as_ref().map_or_else(|| "a year".to_string(), |r| horizon_words(r.horizon, &r.time_unit));
    let settings = Settings { rules: &config.rules, taxonomy: &config.taxonomy, as_of, horizon: &horizon };
    let assessed = assess(&facts.customers, &reasons, &causes, &settings);
    tracing::info!(secs = t0.elapsed().as_secs_f64(), "statuses and decisions");
    Ok(World { store, config, facts, reasons, causes, assessed, as_of, horizon, notes })
}

/// One customer's assessment as shown: the row `winback lost` prints, and
/// what `winback customer` adds. Cached in the store as JSON.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Assessed {
    pub customer: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub status: String,
    pub status_explanation: String,
    /// None for customers who have not gone.
    pub decision: Option<String>,
    pub codes: Vec<String>,
    pub why: Vec<String>,
    /// "#id title (status)" of each unfixed root cause holding them.
    pub held_by: Vec<String>,
    pub tier: Option<String>,
    pub value_if_won: Option<f64>,
    pub net_revenue: f64,
    pub net_margin: Option<f64>,
    pub share_of_revenue: Option<f64>,
    pub return_rate: Option<f64>,
    pub value_at_stake: Option<f64>,
    pub p_alive: Option<f64>,
    /// Reason categories recorded for them.
    pub reasons_given: Vec<String>,
}

impl Assessed {
    /// The decision with its reasons and worth, as `customer --format json` shows it.
    pub fn verdict(&self) -> serde_json::Value {
        let Some(d) = &self.decision else { return serde_json::Value::Null };
        let why: Vec<serde_json::Value> =
            self.codes.iter().zip(&self.why).map(|(c, t)| serde_json::json!({"code": c, "text": t})).collect();
        serde_json::json!({
            "decision": d, "why": why, "held_by": self.held_by,
            "worth": {"net_revenue": self.net_revenue, "net_margin": self.net_margin, "value_if_won": self.value_if_won,
                "share_of_revenue": self.share_of_revenue, "return_rate": self.return_rate, "tier": self.tier},
        })
    }

    /// The cached form: only what is set (non-gone customers are a third the size).
    fn cached_json(&self) -> String {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.retain(|_, x| !(x.is_null() || x.as_array().is_some_and(Vec::is_empty)));
        }
        v.to_string()
    }
}

impl World {
    /// Every customer's assessment as shown.
    pub fn shown(&self) -> Vec<Assessed> {
        let mut given: std::collections::HashMap<i64, Vec<&str>> = Default::default();
        for r in &self.reasons {
            given.entry(r.customer_id).or_default().push(r.category.as_str());
        }
        self.facts
            .customers
            .iter()
            .zip(&self.assessed)
            .map(|(f, x)| {
                let v = x.verdict.as_ref();
                let mut cats: Vec<String> =
                    given.get(&f.id).map_or_else(Vec::new, |c| c.iter().map(|s| s.to_string()).collect());
                cats.sort_unstable();
                cats.dedup();
                Assessed {
                    customer: f.external_id.clone(),
                    name: f.name.clone(),
                    email: f.email.clone(),
                    status: x.status.status.name().into(),
                    status_explanation: x.status.explanation.clone(),
                    decision: v.map(|v| v.decision.name().into()),
                    codes: v.map_or_else(Vec::new, |v| v.why.iter().map(|y| y.code.to_string()).collect()),
                    why: v.map_or_else(Vec::new, |v| v.why.iter().map(|y| y.text.clone()).collect()),
                    held_by: v.map_or_else(Vec::new, |v| {
                        v.held_by.iter().map(|h| format!("#{} {} ({})", h.cause, h.title, h.status.name())).collect()
                    }),
                    tier: v.map(|v| v.worth.tier.name().into()),
                    value_if_won: v.map(|v| v.worth.value_if_won),
                    net_revenue: v.map_or_else(|| f.net_revenue(), |v| v.worth.net_revenue),
                    net_margin: v.map(|v| v.worth.net_margin),
                    share_of_revenue: v.map(|v| v.worth.share_of_revenue),
                    return_rate: v.map(|v| v.worth.return_rate),
                    value_at_stake: f.score.map(|s| s.value_at_stake),
                    p_alive: f.score.map(|s| s.p_alive),
                    reasons_given: cats,
                }
            })
            .collect()
    }
}

/// What the cached assessment depends on: the store's summary, every root
/// cause in full (few, and their status changes matter), the config and this
/// version of winback.
pub fn fingerprint(store: &mut dyn Store, config: &Config) -> Result<String> {
    let causes = store.causes()?;
    let text = format!(
        "{}|{}|{causes:?}|{:?}|{:?}",
        env!("CARGO_PKG_VERSION"),
        store.fingerprint()?,
        config.rules,
        config.taxonomy
    );
    let key = winback_domain::import::stable_key(&[text.as_bytes()]);
    Ok(key.iter().map(|b| format!("{b:02x}")).collect())
}

/// The store with an up-to-date cached assessment.
pub struct Cached {
    pub store: Box<dyn Store>,
    pub config: Config,
    pub info: winback_store::CacheInfo,
    /// Whether it was computed now (else read back).
    pub recomputed: bool,
    pub notes: Vec<String>,
}

/// The cached assessment's description when it is current, else `None`
/// (then [`cached`] computes it).
pub fn current(store: &mut dyn Store, config: &Config) -> Result<Option<winback_store::CacheInfo>> {
    let fp = fingerprint(store, config)?;
    Ok(store.assessment_cache()?.filter(|i| i.fingerprint == fp))
}

/// Make sure the store's cached assessment is current, computing it when
/// anything it depends on changed (an import, an analysis run, a reason, a
/// root cause, an opt-out, the config).
pub fn cached(mut store: Box<dyn Store>, config: Config) -> Result<Cached> {
    let fp = fingerprint(store.as_mut(), &config)?;
    if let Some(info) = store.assessment_cache()? {
        if info.fingerprint == fp {
            let mut notes = Vec::new();
            if store.runs()?.is_empty() {
                notes.push(
                    "no analysis run yet, so statuses use purchase rhythm only; run `winback analyze` first".into(),
                );
            }
            return Ok(Cached { store, config, info, recomputed: false, notes });
        }
    }
    let mut w = load(store, config)?;
    let t0 = std::time::Instant::now();
    let shown = w.shown();
    let mut rows: Vec<winback_store::AssessedRow> = w
        .facts
        .customers
        .iter()
        .zip(&w.assessed)
        .zip(&shown)
        .map(|((f, x), a)| winback_store::AssessedRow {
            customer_id: f.id,
            external_id: f.external_id.clone(),
            status: a.status.clone(),
            decision: a.decision.clone(),
            held: x.verdict.as_ref().is_some_and(|v| !v.held_by.is_empty()),
            value_if_won: a.value_if_won,
            detail: a.cached_json(),
            segment: f.segment.clone(),
            tier: a.tier.clone(),
            last_day: f.last_day,
        })
        .collect();
    // display order: gone customers by value if won back, highest first (ties
    // by store id), then everyone else
    rows.sort_by(|x, y| {
        let key = |r: &winback_store::AssessedRow| (r.decision.is_none(), r.value_if_won.unwrap_or(0.0));
        let (gx, vx) = key(x);
        let (gy, vy) = key(y);
        gx.cmp(&gy).then(vy.total_cmp(&vx)).then(x.customer_id.cmp(&y.customer_id))
    });
    let info = winback_store::CacheInfo { fingerprint: fp, as_of: w.as_of, horizon: w.horizon.clone() };
    w.store.save_assessments(&info, &rows)?;
    tracing::info!(secs = t0.elapsed().as_secs_f64(), customers = rows.len(), "assessment cached");
    Ok(Cached { store: w.store, config: w.config, info, recomputed: true, notes: w.notes })
}

/// Which gone customers to list.
#[derive(Debug, Clone, Default)]
pub struct LostFilter {
    /// Any of these statuses (empty: every gone status).
    pub statuses: Vec<winback_domain::status::Status>,
    pub decision: Option<winback_domain::decision::Decision>,
    /// Some(true): only those held by an unfixed cause; Some(false): only those not held.
    pub held: Option<bool>,
    pub limit: Option<usize>,
    /// Customer id, or part of a name or email.
    pub search: Option<String>,
    /// Skip this many first (pages).
    pub offset: Option<usize>,
    /// Active customers too (then `total` counts only the gone).
    pub include_active: bool,
    /// This segment only (any case).
    pub segment: Option<String>,
    /// This value tier only: top, mid or low.
    pub tier: Option<String>,
    /// By value if won back (default), or by last purchase.
    pub order: winback_store::AssessedOrder,
}

/// Gone customers by value if won back, and the counts behind the footer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LostList {
    pub customers: Vec<Assessed>,
    /// How many the filter selects (before the limit).
    pub total: usize,
    /// Every gone customer by decision: (decision, customers, held).
    pub by_decision: Vec<(String, usize, usize)>,
    pub horizon: String,
}

/// Gone customers with their decisions, from the cached assessment.
pub fn lost(c: &mut Cached, f: &LostFilter) -> Result<LostList> {
    let horizon = c.info.horizon.clone();
    let counts = c.store.assessed_counts()?;
    lost_in(c.store.as_mut(), &horizon, f, &counts)
}

/// (status, decision, held, customers) over the cached gone customers: they
/// change only with the cached assessment, so a server keeps them.
pub type Counts = Vec<(String, String, bool, i64)>;

/// [`lost`] on any store whose cached assessment is current (see [`current`]),
/// with its [`Counts`].
pub fn lost_in(store: &mut dyn Store, horizon: &str, f: &LostFilter, counts: &Counts) -> Result<LostList> {
    let q = winback_store::AssessedQuery {
        gone_only: !f.include_active,
        statuses: f.statuses.iter().map(|s| s.name().to_string()).collect(),
        decision: f.decision.map(|d| d.name().to_string()),
        held: f.held,
        limit: f.limit,
        search: f.search.clone(),
        offset: f.offset,
        segment: f.segment.clone(),
        tier: f.tier.clone(),
        order: f.order,
        ..Default::default()
    };
    let customers = store
        .assessed(&q)?
        .into_iter()
        .map(|r| serde_json::from_str(&r.detail))
        .collect::<std::result::Result<Vec<Assessed>, _>>()
        .map_err(|e| {
            crate::AppError::Invalid(format!("the cached assessment cannot be read ({e}); run `winback analyze` again"))
        })?;
    let narrowed = [&q.search, &q.segment, &q.tier].iter().any(|x| x.as_deref().is_some_and(|s| !s.trim().is_empty()));
    // the kept counts know status, decision and held; a search, segment or tier
    // is counted by the store
    let total = if narrowed {
        store.assessed_count(&winback_store::AssessedQuery { gone_only: true, ..q.clone() })?
    } else {
        counts
            .iter()
            .filter(|(s, d, h, _)| {
                (q.statuses.is_empty() || q.statuses.contains(s))
                    && q.decision.as_ref().is_none_or(|x| x == d)
                    && f.held.is_none_or(|want| want == *h)
            })
            .map(|(.., n)| *n as usize)
            .sum()
    };
    let mut by: Vec<(String, usize, usize)> = Vec::new();
    for d in winback_domain::decision::Decision::ALL {
        let of = |held: Option<bool>| {
            counts
                .iter()
                .filter(|(_, x, h, _)| x == d.name() && held.is_none_or(|w| w == *h))
                .map(|(.., n)| *n as usize)
                .sum::<usize>()
        };
        by.push((d.name().to_string(), of(None), of(Some(true))));
    }
    Ok(LostList { customers, total, by_decision: by, horizon: horizon.to_string() })
}

/// One customer's cached assessment.
pub fn one(c: &mut Cached, external_id: &str) -> Result<Option<Assessed>> {
    one_in(c.store.as_mut(), external_id)
}

/// [`one`] on any store whose cached assessment is current.
pub fn one_in(store: &mut dyn Store, external_id: &str) -> Result<Option<Assessed>> {
    let q = winback_store::AssessedQuery { external_id: Some(external_id.to_string()), ..Default::default() };
    match store.assessed(&q)?.into_iter().next() {
        None => Ok(None),
        Some(r) => serde_json::from_str(&r.detail).map(Some).map_err(|e| {
            crate::AppError::Invalid(format!("the cached assessment cannot be read ({e}); run `winback analyze` again"))
        }),
    }
}
