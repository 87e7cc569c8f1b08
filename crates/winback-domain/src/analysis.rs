//! Choosing and fitting a model for a set of customer summaries, and the report of
//! a fit in the form people and machines read.

use serde::Serialize;
use winback_stats::data::{RfmData, SpendData};
use winback_stats::fit::{Fit, FitError, FitOptions};
use winback_stats::models::{self, gammagamma::GammaGamma, PurchaseModel};
use winback_stats::parallel::{distinct, Distinct};

use crate::summary::CustomerSummary;

/// The purchase-count models for non-contractual customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PurchaseModelKind {
    #[default]
    Bgnbd,
    Paretonbd,
    Mbgnbd,
}

/// Every model the command line can fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Bgnbd,
    Paretonbd,
    Mbgnbd,
    Gammagamma,
    Bgbb,
    Sbg,
    /// Fit BG/NBD, Pareto/NBD and MBG/NBD, keep the one that predicts a holdout
    /// of the shop's own history best (`tracking::compare`).
    Auto,
}

impl ModelKind {
    pub const ALL: [ModelKind; 7] = [
        ModelKind::Bgnbd,
        ModelKind::Paretonbd,
        ModelKind::Mbgnbd,
        ModelKind::Gammagamma,
        ModelKind::Bgbb,
        ModelKind::Sbg,
        ModelKind::Auto,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Bgnbd => "bgnbd",
            ModelKind::Paretonbd => "paretonbd",
            ModelKind::Mbgnbd => "mbgnbd",
            ModelKind::Gammagamma => "gammagamma",
            ModelKind::Bgbb => "bgbb",
            ModelKind::Sbg => "sbg",
            ModelKind::Auto => "auto",
        }
    }

    pub fn purchase(self) -> Option<PurchaseModelKind> {
        match self {
            ModelKind::Bgnbd => Some(PurchaseModelKind::Bgnbd),
            ModelKind::Paretonbd => Some(PurchaseModelKind::Paretonbd),
            ModelKind::Mbgnbd => Some(PurchaseModelKind::Mbgnbd),
            _ => None,
        }
    }
}

impl std::str::FromStr for ModelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let key = s.to_ascii_lowercase().replace(['/', '-', '_'], "");
        ModelKind::ALL.into_iter().find(|m| m.name() == key).ok_or_else(|| {
            format!("unknown model '{s}': choose one of auto, bgnbd, paretonbd, mbgnbd, gammagamma, bgbb, sbg")
        })
    }
}

/// A fit as reported: named parameters in the literature's order, fit quality and
/// how the optimiser ended.
#[derive(Debug, Clone, Serialize)]
pub struct FitReport {
    pub model: &'static str,
    pub params: Vec<(&'static str, f64)>,
    pub std_errors: Vec<f64>,
    /// 95% intervals, in the order of `params`, drawn where each parameter is
    /// unbounded ([`winback_stats::fit::interval95`]); NaN where the SE is.
    pub intervals: Vec<(f64, f64)>,
    pub log_likelihood: f64,
    pub customers: f64,
    pub aic: f64,
    pub bic: f64,
    pub converged: bool,
    pub iterations: usize,
    pub evaluations: usize,
    /// Starting points the optimiser tried (iterations and evaluations are
    /// over all of them).
    pub starts: usize,
    pub message: String,
    /// Rows left out of the fit and why (e.g. Gamma-Gamma skips customers without
    /// repeat purchases).
    pub excluded: Option<(usize, &'static str)>,
    /// When the fit ran to the edge of the parameter space and the limiting model
    /// was used instead: what that means, in words.
    pub limit: Option<String>,
    /// The full model's fit when the limit was preferred: (log-likelihood,
    /// parameters as the optimiser left them), for the record.
    pub edge: Option<(f64, Vec<(&'static str, f64)>)>,
    /// When the data are too thin for the estimates to mean much, in words.
    pub caution: Option<String>,
    /// When purchase rates do not vary between customers (the Gamma of rates
    /// collapsed, r, α → ∞): their common rate λ = r/α per time unit.
    pub common_rate: Option<f64>,
}

impl FitReport {
    pub fn new<P>(model: &'static str, fit: &Fit<P>, values: Vec<f64>) -> Self {
        let intervals = values.iter().enumerate().map(|(i, v)| fit.interval95(i, *v)).collect();
        FitReport {
            intervals,
            model,
            params: fit.names.iter().copied().zip(values).collect(),
            std_errors: fit.std_errors.clone(),
            log_likelihood: fit.log_likelihood,
            customers: fit.customers,
            aic: fit.aic,
            bic: fit.bic,
            converged: fit.converged,
            iterations: fit.iterations,
            evaluations: fit.evaluations,
            starts: fit.starts,
            message: fit.message.clone(),
            excluded: None,
            limit: None,
            edge: None,
            caution: None,
            common_rate: None,
        }
    }

    pub fn param(&self, name: &str) -> Option<f64> {
        self.params.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

/// A fitted purchase model, ready to score customers.
pub struct FittedPurchaseModel {
    pub model: Box<dyn PurchaseModel + Sync + Send>,
    pub report: FitReport,
}

/// The (x, t_x, T) data of the summaries, compressed.
pub fn rfm_data<'a>(customers: impl Iterator<Item = &'a CustomerSummary>) -> Result<RfmData, FitError> {
    Ok(RfmData::new(customers.map(|c| (f64::from(c.frequency), c.recency, c.t)))?)
}

/// Why customers with T = 0 are left out of a fit.
pub const NEW_CUSTOMERS: &str =
    "customers whose first purchase is on the observation day (T = 0): no time observed, so nothing for the fit; scored as new customers";

/// Fit a purchase model by maximum likelihood. Customers first seen on the
/// observation day (T = 0) carry no information about the purchase or dropout
/// rates (their likelihood is 1 whatever the parameters) and are left out; they
/// are still scored, as new customers (x = 0, t_x = 0, T = 0).
pub fn fit_purchase(
    kind: PurchaseModelKind,
    customers: &[CustomerSummary],
    opts: &FitOptions,
) -> Result<FittedPurchaseModel, FitError> {
    fit_histories(kind, customers, &Histories::of(customers), opts)
}

/// [`fit_purchase`] on the customers' histories, found once with
/// [`Histories::of`] and shared with [`crate::score::score_histories`].
pub fn fit_histories(
    kind: PurchaseModelKind,
    customers: &[CustomerSummary],
    histories: &Histories,
    opts: &FitOptions,
) -> Result<FittedPurchaseModel, FitError> {
    let observed = |t: f64| t > 0.0;
    if !customers.is_empty() && !customers.iter().any(|c| observed(c.t)) {
        let who = match customers.len() {
            1 => "the one customer".to_string(),
            n => format!("all {n} customers"),
        };
        return Err(FitError::NotIdentifiable(format!(
            "{who} first bought on the observation day (T = 0): no time has passed to learn from; set a later observation end, or import a longer history"
        )));
    }
    let h = &histories.0;
    // the distinct histories in the order their customers come, each weighted
    // by its customers: the data one row per customer would give
    let rows = h.keys.iter().zip(&h.counts).filter(|((_, _, t), _)| observed(f64::from_bits(*t)));
    let data = match RfmData::weighted_distinct(
        rows.clone().map(|(&(x, tx, t), &n)| (f64::from(x), f64::from_bits(tx), f64::from_bits(t), f64::from(n))),
    ) {
        Ok(d) => d,
        // the row a refusal names is the customer's, not the history's
        Err(_) => rfm_data(customers.iter().filter(|c| observed(c.t)))?,
    };
    let new = customers.len() - rows.map(|(_, &n)| n as usize).sum::<usize>();
    let mut fitted = fit_data(kind, &data, opts)?;
    if new > 0 {
        fitted.report.excluded = Some((new, NEW_CUSTOMERS));
    }
    Ok(fitted)
}

/// The customers' distinct (x, t_x, T) histories in order of first
/// appearance, how many customers hold each, and each customer's: found once
/// (on two threads for large bases) for the fit and the scores alike.
pub struct Histories(pub(crate) Distinct<(u32, u64, u64)>);

impl Histories {
    pub fn of(customers: &[CustomerSummary]) -> Histories {
        Histories(distinct(customers, |c| (c.frequency, c.recency.to_bits(), c.t.to_bits()), true))
    }

    /// Number of distinct histories.
    pub fn len(&self) -> usize {
        self.0.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.keys.is_empty()
    }
}

fn fit_data(kind: PurchaseModelKind, data: &RfmData, opts: &FitOptions) -> Result<FittedPurchaseModel, FitError> {
    let mut fitted = bounded(choose_fit(kind, data, opts)?);
    note_common_rate(&mut fitted.report);
    let (repeaters, n) = (data.repeaters(), data.customers());
    if repeaters < 20.0 || repeaters < 0.02 * n {
        fitted.report.caution = Some(format!(
            "only {repeaters:.0} of {n:.0} customers bought more than once: too few to tell how often customers buy and when they stop; read P(alive) and the expected purchases with care, and look again when more repeat purchases are in"
        ));
    }
    Ok(fitted)
}

/// Beyond this shape the Gamma of purchase rates has a coefficient of
/// variation 1/√r under 1%: every customer buys at practically one rate.
const COMMON_RATE_SHAPE: f64 = 1e4;

/// A fit whose purchase rates collapsed to one (r, α → ∞ with r/α = λ: the
/// NBD's Poisson limit, seen on regular payments such as subscriptions). The
/// likelihood is flat along r/α = λ out there, so the optimiser stalls
/// rather than meeting its gradient test: that stall is the optimum, and the
/// report says so instead of "did not converge"; r and α keep no standard
/// errors, their ratio is what the data fix.
fn note_common_rate(r: &mut FitReport) {
    let (Some(shape), Some(alpha)) = (r.param("r"), r.param("alpha")) else { return };
    if !(shape > COMMON_RATE_SHAPE && alpha > 0.0 && (shape / alpha).is_finite()) {
        return;
    }
    r.common_rate = Some(shape / alpha);
    if !r.converged && r.message == winback_stats::optimize::STALLED {
        r.converged = true;
        r.message =
            format!("{} at the edge r, α → ∞, where it is flat along r/α = λ", winback_stats::optimize::STALLED);
    }
}

/// Beyond this concentration a full model's predictions are its limit's to many
/// digits, and its hypergeometric series are slow (seconds for a hundred
/// customers at a + b = 2e13): they are computed with the limit's closed forms.
const SCORE_AT_LIMIT: f64 = 1e6;

/// A full model kept at extreme parameters scores with its limit's formulas,
/// the reported fit unchanged: the cost of scoring stays bounded.
fn bounded(mut f: FittedPurchaseModel) -> FittedPurchaseModel {
    if f.report.limit.is_some() {
        return f;
    }
    let p = |n: &str| f.report.param(n).unwrap_or(f64::NAN);
    let (r, alpha) = (p("r"), p("alpha"));
    let share = |a: f64, b: f64| (a / (a + b)).clamp(1e-300, 1.0);
    let model: Option<Box<dyn PurchaseModel + Sync + Send>> = match f.report.model {
        "bgnbd" if p("a") + p("b") > SCORE_AT_LIMIT => {
            Some(Box::new(models::limits::BgNbdCommon { r, alpha, p: share(p("a"), p("b")) }))
        }
        "mbgnbd" if p("a") + p("b") > SCORE_AT_LIMIT => {
            Some(Box::new(models::limits::MbgNbdCommon { r, alpha, p: share(p("a"), p("b")) }))
        }
        "paretonbd" if p("s") > SCORE_AT_LIMIT => {
            Some(Box::new(models::limits::ParetoNbdCommon { r, alpha, mu: p("s") / p("beta") }))
        }
        _ => None,
    };
    if let Some(m) = model {
        f.model = m;
    }
    f
}

/// The full model, or its limit when the fit ran to the edge (see `fit_observed`).
fn choose_fit(kind: PurchaseModelKind, data: &RfmData, opts: &FitOptions) -> Result<FittedPurchaseModel, FitError> {
    let full = fit_full(kind, data, opts);
    let at_edge = match &full {
        Ok(f) => at_edge(kind, &f.report),
        Err(_) => true,
    };
    if !at_edge {
        return full;
    }
    // the limit is also started from the full fit's optimum, projected
    // (q = a/b, μ = s/β): on a small base with several modes the full fit's
    // starts found the better one, and near the edge it is the limit's too
    let projected = full.as_ref().ok().map(|f| {
        let p = |n: &str| f.report.param(n).unwrap_or(f64::NAN);
        match kind {
            PurchaseModelKind::Bgnbd | PurchaseModelKind::Mbgnbd => vec![p("r"), p("alpha"), p("a") / p("b")],
            PurchaseModelKind::Paretonbd => vec![p("r"), p("alpha"), p("s") / p("beta")],
        }
    });
    let limit = match fit_limit(kind, data, &FitOptions { also_from: projected, ..opts.clone() }) {
        Ok(l) => l,
        Err(e) => return full.or(Err(e)),
    };
    match full {
        // the limit has one parameter fewer: keep the full model only when the
        // extra parameter earns its place (boundary likelihood-ratio test,
        // Self & Liang 1987: ½χ²₀ + ½χ²₁, 5% critical value 2.71)
        // (a full fit that did not converge but fits far better is kept too: the
        // limit would throw away what it found; its non-convergence is reported)
        Ok(f) if 2.0 * (f.report.log_likelihood - limit.report.log_likelihood) > 2.71 => Ok(f),
        Ok(f) => {
            let mut limit = limit;
            limit.report.edge = Some((f.report.log_likelihood, f.report.params.clone()));
            Ok(limit)
        }
        Err(_) => Ok(limit),
    }
}

/// Beyond this concentration (a + b for the Beta, s for the Gamma of drop-out
/// rates) the spread of drop-out between customers is small (CV ≲ 20%) and may be
/// noise: the limit, with no spread at all, is fitted too and the likelihood-ratio
/// test decides.
const EDGE_CONCENTRATION: f64 = 20.0;

fn at_edge(kind: PurchaseModelKind, r: &FitReport) -> bool {
    let p = |n: &str| r.param(n).unwrap_or(f64::NAN);
    let spread = match kind {
        PurchaseModelKind::Bgnbd | PurchaseModelKind::Mbgnbd => p("a") + p("b"),
        PurchaseModelKind::Paretonbd => p("s"),
    };
    !r.converged || !(spread < EDGE_CONCENTRATION) || r.params.iter().any(|(_, v)| !v.is_finite())
}

fn fit_full(kind: PurchaseModelKind, data: &RfmData, opts: &FitOptions) -> Result<FittedPurchaseModel, FitError> {
    Ok(match kind {
        PurchaseModelKind::Bgnbd => {
            let f = models::bgnbd::fit(data, opts)?;
            let p = f.params;
            FittedPurchaseModel {
                report: FitReport::new("bgnbd", &f, vec![p.r, p.alpha, p.a, p.b]),
                model: Box::new(p),
            }
        }
        PurchaseModelKind::Paretonbd => {
            let f = models::paretonbd::fit(data, opts)?;
            let p = f.params;
            FittedPurchaseModel {
                report: FitReport::new("paretonbd", &f, vec![p.r, p.alpha, p.s, p.beta]),
                model: Box::new(p),
            }
        }
        PurchaseModelKind::Mbgnbd => {
            let f = models::mbgnbd::fit(data, opts)?;
            let p = f.params;
            FittedPurchaseModel {
                report: FitReport::new("mbgnbd", &f, vec![p.r, p.alpha, p.a, p.b]),
                model: Box::new(p),
            }
        }
    })
}

/// Below this common chance of leaving after a purchase, the fit has run to
/// p → 0: no drop-out at all.
const NO_DROP_OUT: f64 = 1e-6;

/// The words for a limit fit at p → 0 (regular payments that simply stop, for
/// one: a Poisson process with drop-out explains the gaps by a low rate instead).
fn no_drop_out(model: &str) -> String {
    format!(
        "no drop-out shows in these data: the common chance of leaving after a purchase runs to 0 ({model} at its limit a, b → ∞ with a/(a+b) = p → 0), so P(alive) stays near 1 for everyone; who has gone shows only against their own rhythm of purchases, which the statuses weigh too"
    )
}

/// The model at its edge, fitted directly (`winback_stats::models::limits`).
fn fit_limit(kind: PurchaseModelKind, data: &RfmData, opts: &FitOptions) -> Result<FittedPurchaseModel, FitError> {
    let opts = FitOptions { initial: None, ..opts.clone() };
    let pct = |p: f64| if p >= 0.001 { format!("{:.1}%", 100.0 * p) } else { format!("{:.3}%", 100.0 * p) };
    Ok(match kind {
        PurchaseModelKind::Bgnbd => {
            let f = models::limits::fit_bgnbd(data, &opts)?;
            let p = f.params;
            let mut report = FitReport::new("bgnbd", &f, vec![p.r, p.alpha, p.p]);
            report.limit = Some(if p.p < NO_DROP_OUT {
                no_drop_out("BG/NBD")
            } else {
                format!(
                    "drop-out does not vary between customers here: fitted as a common {} chance of leaving after each purchase (BG/NBD at its limit a, b → ∞ with a/(a+b) = p)",
                    pct(p.p)
                )
            });
            FittedPurchaseModel { report, model: Box::new(p) }
        }
        PurchaseModelKind::Mbgnbd => {
            let f = models::limits::fit_mbgnbd(data, &opts)?;
            let p = f.params;
            let mut report = FitReport::new("mbgnbd", &f, vec![p.r, p.alpha, p.p]);
            report.limit = Some(if p.p < NO_DROP_OUT {
                no_drop_out("MBG/NBD")
            } else {
                format!(
                    "drop-out does not vary between customers here: fitted as a common {} chance of leaving after each purchase, the first included (MBG/NBD at its limit a, b → ∞ with a/(a+b) = p)",
                    pct(p.p)
                )
            });
            FittedPurchaseModel { report, model: Box::new(p) }
        }
        PurchaseModelKind::Paretonbd => {
            let f = models::limits::fit_paretonbd(data, &opts)?;
            let p = f.params;
            let mut report = FitReport::new("paretonbd", &f, vec![p.r, p.alpha, p.mu]);
            report.limit = Some(format!(
                "drop-out does not vary between customers here: fitted as a common drop-out rate of {:.4} per time unit, a mean lifetime of {:.1} time units (Pareto/NBD at its limit s, β → ∞ with s/β = μ)",
                p.mu,
                1.0 / p.mu
            ));
            FittedPurchaseModel { report, model: Box::new(p) }
        }
    })
}

/// Fit Gamma-Gamma to the customers with repeat purchases and a positive mean.
pub fn fit_spend(customers: &[CustomerSummary], opts: &FitOptions) -> Result<(GammaGamma, FitReport), FitError> {
    let (data, skipped) = SpendData::from_slice(customers, |c| (f64::from(c.frequency), c.monetary_value))?;
    let f = models::gammagamma::fit(&data, opts)?;
    let p = f.params;
    let mut report = FitReport::new("gammagamma", &f, vec![p.p, p.q, p.gamma]);
    report.excluded = Some((skipped, "customers without repeat purchases (or with a zero mean spend)"));
    if p.q <= 1.0 {
        // FH13 eq. (4): E[Z] = pγ/(q−1) exists only for q > 1
        report.caution = Some(format!(
            "q = {:.3} ≤ 1: spend per purchase varies so much between these customers that its average across them is not defined; customers without a repeat purchase get no expected spend or lifetime value, and those with few get wide ones",
            p.q
        ));
    }
    Ok((p, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::{score, ScoreSettings};
    use winback_stats::models::{bgnbd::BgNbd, paretonbd::ParetoNbd};
    use winback_stats::simulate::{self, History};

    fn summaries(h: &[History]) -> Vec<CustomerSummary> {
        h.iter().enumerate().map(|(i, h)| CustomerSummary::from_rfm(i as u32, h.x as u32, h.t_x, h.t, 0.0)).collect()
    }

    fn ts(n: usize) -> Vec<f64> {
        (0..n).map(|i| 20.0 + 60.0 * i as f64 / n as f64).collect()
    }

    /// A log whose every customer first bought on its last day (an export of
    /// one day's orders) has nothing to fit: said so, not "no rows to fit".
    #[test]
    fn a_base_with_no_time_observed_says_so() {
        let one_day: Vec<CustomerSummary> = (0..3).map(|i| CustomerSummary::from_rfm(i, 0, 0.0, 0.0, 0.0)).collect();
        for (n, who) in [(3, "all 3 customers"), (1, "the one customer")] {
            let e = fit_purchase(PurchaseModelKind::Bgnbd, &one_day[..n], &FitOptions::default())
                .err()
                .map(|e| e.to_string());
            assert!(e.as_deref().is_some_and(|e| e.starts_with(who) && e.contains("observation day")), "{e:?}");
        }
    }

    /// Every customer buying at one rate (the NBD's Poisson limit): the fit
    /// runs r, α → ∞ and stalls there; reported as converged at that edge,
    /// with the common rate, not as a failure. With no drop-out either (regular
    /// payments that go on), the limit says p → 0 in words.
    #[test]
    fn one_purchase_rate_for_all_is_an_edge_not_a_failure() {
        let lambda = 0.3;
        let truth = BgNbd { r: 1e8, alpha: 1e8 / lambda, a: 0.8, b: 2.5 };
        let c = summaries(&simulate::bgnbd(&truth, &ts(3000), 21));
        let m = fit_purchase(PurchaseModelKind::Bgnbd, &c, &FitOptions::default()).expect("fits");
        let rate = m.report.common_rate.unwrap_or_else(|| panic!("no common rate: {:?}", m.report.params));
        assert!((rate - lambda).abs() < 0.02, "λ = {rate}");
        assert!(m.report.converged, "{}", m.report.message);
        let (a, b) = (m.report.param("a").expect("a"), m.report.param("b").expect("b"));
        assert!((a / (a + b) - 0.8 / 3.3).abs() < 0.06, "a = {a}, b = {b}");
        bounded_scoring(&m, &c[..1500]);

        let none_leave = BgNbd { r: 1e8, alpha: 1e8 / lambda, a: 1e-3, b: 1e9 };
        let c = summaries(&simulate::bgnbd(&none_leave, &ts(1000), 22));
        let m = fit_purchase(PurchaseModelKind::Bgnbd, &c, &FitOptions::default()).expect("fits");
        assert!(m.report.common_rate.is_some_and(|r| (r - lambda).abs() < 0.03), "{:?}", m.report.common_rate);
        assert!(m.report.converged, "{}", m.report.message);
        let words = m.report.limit.clone().unwrap_or_default();
        assert!(words.starts_with("no drop-out shows"), "{words} / {:?}", m.report.params);
        bounded_scoring(&m, &c);
    }

    fn bounded_scoring(m: &FittedPurchaseModel, c: &[CustomerSummary]) {
        let t0 = std::time::Instant::now();
        let s = score(
            m.model.as_ref(),
            None,
            c,
            &ScoreSettings { horizon: 52.0, margin: 1.0, annual_discount_rate: 0.1, unit_days: 7.0 },
        );
        assert!(t0.elapsed().as_secs_f64() < 1.0, "{:?}", t0.elapsed());
        for x in &s {
            assert!(x.p_alive.is_finite() && (0.0..=1.0).contains(&x.p_alive));
            assert!(x.expected_purchases.is_finite() && x.expected_purchases >= 0.0 && x.expected_purchases < 1e3);
        }
    }

    /// The fit on distinct histories is the fit one row per customer gives, to
    /// the bit, with customers first seen on the last day left out and counted;
    /// a refused row is named by its customer's position.
    #[test]
    fn histories_fit_as_customers_do() {
        let truth = BgNbd { r: 0.24, alpha: 4.4, a: 0.79, b: 2.4 };
        // whole weeks: many customers share a history; 60,000 rows use both threads
        let mut c: Vec<CustomerSummary> = simulate::bgnbd(&truth, &ts(60_000), 5)
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let t = h.t.round();
                let tx = if h.x == 0.0 { 0.0 } else { h.t_x.round().clamp(1.0, t) };
                CustomerSummary::from_rfm(i as u32, h.x as u32, tx, t, 0.0)
            })
            .collect();
        c[7] = CustomerSummary::from_rfm(7, 0, 0.0, 0.0, 0.0);
        c[59_000] = CustomerSummary::from_rfm(59_000, 0, 0.0, 0.0, 0.0);
        let h = Histories::of(&c);
        assert!(h.len() < c.len() / 4, "{} histories", h.len());
        let opts = FitOptions::default();
        let whole = fit_observed_rows(PurchaseModelKind::Bgnbd, &c, &opts);
        let shared = fit_histories(PurchaseModelKind::Bgnbd, &c, &h, &opts).expect("fits");
        assert_eq!(shared.report.params, whole.report.params);
        assert_eq!(shared.report.log_likelihood.to_bits(), whole.report.log_likelihood.to_bits());
        assert_eq!(shared.report.excluded.map(|e| e.0), Some(2));
        let settings = ScoreSettings { horizon: 52.0, margin: 1.0, annual_discount_rate: 0.1, unit_days: 7.0 };
        let a = score(shared.model.as_ref(), None, &c, &settings);
        let b = crate::score::score_histories(shared.model.as_ref(), None, &c, &h, &settings);
        assert!(a.iter().zip(&b).all(|(a, b)| a.p_alive.to_bits() == b.p_alive.to_bits()
            && a.expected_purchases.to_bits() == b.expected_purchases.to_bits()));
        // recency beyond T on the 40,001st customer
        c[40_000] = CustomerSummary::from_rfm(40_000, 2, 90.0, 80.0, 0.0);
        let e = fit_histories(PurchaseModelKind::Bgnbd, &c, &Histories::of(&c), &opts).err().expect("refused");
        // its row among the observed customers (the one with T = 0 before it is
        // left out), as the fit one row per customer has always said
        assert!(e.to_string().starts_with("row 40000: recency"), "{e}");
    }

    /// The fit as it was before histories were shared: a row per observed customer.
    fn fit_observed_rows(kind: PurchaseModelKind, c: &[CustomerSummary], opts: &FitOptions) -> FittedPurchaseModel {
        let data = rfm_data(c.iter().filter(|c| c.t > 0.0)).expect("data");
        fit_data(kind, &data, opts).expect("fits")
    }

    /// Every customer with the same 6% chance of leaving after a purchase: the full
    /// BG/NBD runs to a, b → ∞; the limit is fitted instead, reported in words,
    /// recovers p, and scores 1,500 customers in bounded time.
    #[test]
    fn homogeneous_drop_out_fits_to_the_reported_limit() {
        let truth = BgNbd { r: 0.9, alpha: 5.0, a: 0.06 * 1e7, b: 0.94 * 1e7 };
        let c = summaries(&simulate::bgnbd(&truth, &ts(4000), 11));
        for kind in [PurchaseModelKind::Bgnbd, PurchaseModelKind::Mbgnbd] {
            let m = fit_purchase(kind, &c, &FitOptions::default()).expect("fits");
            let words = m
                .report
                .limit
                .clone()
                .unwrap_or_else(|| panic!("{kind:?} not at the limit: {:?} {}", m.report.params, m.report.message));
            assert!(words.contains("drop-out does not vary"), "{words}");
            let p = m.report.param("p").expect("p");
            assert!((p - 0.06).abs() < 0.015, "{kind:?} p = {p}");
            assert!(m.report.params.iter().all(|(_, v)| v.is_finite()));
            assert!(m.report.converged);
            bounded_scoring(&m, &c[..1500]);
        }
    }

    #[test]
    fn homogeneous_lifetimes_fit_pareto_nbd_to_its_limit() {
        let truth = ParetoNbd { r: 0.9, alpha: 5.0, s: 1e7, beta: 1e7 / 0.02 };
        let c = summaries(&simulate::paretonbd(&truth, &ts(3000), 5));
        let m = fit_purchase(PurchaseModelKind::Paretonbd, &c, &FitOptions::default()).expect("fits");
        if m.report.limit.is_some() {
            let mu = m.report.param("mu").expect("mu");
            assert!((mu - 0.02).abs() < 0.008, "mu = {mu}");
        } else {
            // the full fit may stay inside with a large s: then its drop-out rate s/β
            let (s, beta) = (m.report.param("s").expect("s"), m.report.param("beta").expect("beta"));
            assert!((s / beta - 0.02).abs() < 0.008, "s/β = {}", s / beta);
        }
        bounded_scoring(&m, &c[..1500]);
    }

    /// A shop where almost nobody came back (5 repeaters of 125, as in a real
    /// Shopify export): whatever the fit does, the report says to be careful, the
    /// parameters are finite, and scoring stays fast.
    #[test]
    fn thin_data_fit_carries_a_caution_and_scores_in_bounded_time() {
        let mut c: Vec<CustomerSummary> =
            (0..120).map(|i| CustomerSummary::from_rfm(i, 0, 0.0, 30.0 + f64::from(i) * 4.0, 0.0)).collect();
        for (i, (tx, t)) in
            [(1.0, 222.0), (1.0, 224.0), (3.0, 275.0), (3.0, 584.0), (367.0, 563.0)].into_iter().enumerate()
        {
            c.push(CustomerSummary::from_rfm(120 + i as u32, 1, tx, t, 0.0));
        }
        for kind in [PurchaseModelKind::Bgnbd, PurchaseModelKind::Mbgnbd] {
            let m = fit_purchase(kind, &c, &FitOptions::default()).expect("fits");
            let words = m.report.caution.clone().expect("a caution");
            assert!(words.starts_with("only 5 of 125 customers bought more than once"), "{words}");
            assert!(m.report.params.iter().all(|(_, v)| v.is_finite()), "{:?}", m.report.params);
            let many: Vec<CustomerSummary> = c.iter().cycle().take(1500).copied().collect();
            bounded_scoring(&m, &many);
        }
    }

    /// Heterogeneous drop-out (the CDNOW estimates) stays with the full model.
    #[test]
    fn heterogeneous_drop_out_keeps_the_full_model() {
        let truth = BgNbd { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
        let c = summaries(&simulate::bgnbd(&truth, &ts(3000), 3));
        let m = fit_purchase(PurchaseModelKind::Bgnbd, &c, &FitOptions::default()).expect("fits");
        assert!(m.report.limit.is_none());
        assert!(m.report.param("a").is_some());
    }
}
