//! Choosing and fitting a model for a set of customer summaries, and the report of
//! a fit in the form people and machines read.

use serde::Serialize;
use winback_stats::data::{RfmData, SpendData};
use winback_stats::fit::{Fit, FitError, FitOptions};
use winback_stats::models::{self, gammagamma::GammaGamma, PurchaseModel};

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
}

impl ModelKind {
    pub const ALL: [ModelKind; 6] = [
        ModelKind::Bgnbd,
        ModelKind::Paretonbd,
        ModelKind::Mbgnbd,
        ModelKind::Gammagamma,
        ModelKind::Bgbb,
        ModelKind::Sbg,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Bgnbd => "bgnbd",
            ModelKind::Paretonbd => "paretonbd",
            ModelKind::Mbgnbd => "mbgnbd",
            ModelKind::Gammagamma => "gammagamma",
            ModelKind::Bgbb => "bgbb",
            ModelKind::Sbg => "sbg",
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
            format!("unknown model '{s}': choose one of bgnbd, paretonbd, mbgnbd, gammagamma, bgbb, sbg")
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
    pub log_likelihood: f64,
    pub customers: f64,
    pub aic: f64,
    pub bic: f64,
    pub converged: bool,
    pub iterations: usize,
    pub evaluations: usize,
    pub message: String,
    /// Rows left out of the fit and why (e.g. Gamma-Gamma skips customers without
    /// repeat purchases).
    pub excluded: Option<(usize, &'static str)>,
}

impl FitReport {
    pub fn new<P>(model: &'static str, fit: &Fit<P>, values: Vec<f64>) -> Self {
        FitReport {
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
            message: fit.message.clone(),
            excluded: None,
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
pub fn rfm_data(customers: &[CustomerSummary]) -> Result<RfmData, FitError> {
    Ok(RfmData::new(customers.iter().map(|c| (f64::from(c.frequency), c.recency, c.t)))?)
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
    let observed: Vec<CustomerSummary> = customers.iter().filter(|c| c.t > 0.0).copied().collect();
    let new = customers.len() - observed.len();
    let mut fitted = fit_observed(kind, if new == 0 { customers } else { &observed }, opts)?;
    if new > 0 {
        fitted.report.excluded = Some((new, NEW_CUSTOMERS));
    }
    Ok(fitted)
}

fn fit_observed(
    kind: PurchaseModelKind,
    customers: &[CustomerSummary],
    opts: &FitOptions,
) -> Result<FittedPurchaseModel, FitError> {
    let data = rfm_data(customers)?;
    Ok(match kind {
        PurchaseModelKind::Bgnbd => {
            let f = models::bgnbd::fit(&data, opts)?;
            let p = f.params;
            FittedPurchaseModel {
                report: FitReport::new("bgnbd", &f, vec![p.r, p.alpha, p.a, p.b]),
                model: Box::new(p),
            }
        }
        PurchaseModelKind::Paretonbd => {
            let f = models::paretonbd::fit(&data, opts)?;
            let p = f.params;
            FittedPurchaseModel {
                report: FitReport::new("paretonbd", &f, vec![p.r, p.alpha, p.s, p.beta]),
                model: Box::new(p),
            }
        }
        PurchaseModelKind::Mbgnbd => {
            let f = models::mbgnbd::fit(&data, opts)?;
            let p = f.params;
            FittedPurchaseModel {
                report: FitReport::new("mbgnbd", &f, vec![p.r, p.alpha, p.a, p.b]),
                model: Box::new(p),
            }
        }
    })
}

/// Fit Gamma-Gamma to the customers with repeat purchases and a positive mean.
pub fn fit_spend(customers: &[CustomerSummary], opts: &FitOptions) -> Result<(GammaGamma, FitReport), FitError> {
    let (data, skipped) =
        SpendData::from_customers(customers.iter().map(|c| (f64::from(c.frequency), c.monetary_value)))?;
    let f = models::gammagamma::fit(&data, opts)?;
    let p = f.params;
    let mut report = FitReport::new("gammagamma", &f, vec![p.p, p.q, p.gamma]);
    report.excluded = Some((skipped, "customers without repeat purchases (or with a zero mean spend)"));
    Ok((p, report))
}
