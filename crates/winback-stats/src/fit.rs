//! Maximum-likelihood fitting shared by all models: optimise on log-parameters (so
//! every parameter stays positive without bounds), then standard errors from the
//! observed information (the inverse Hessian of the log-likelihood at the optimum).

use crate::optimize::{invert, minimize, LbfgsOptions};

/// Settings for a fit. The defaults suit every model here.
#[derive(Debug, Clone)]
pub struct FitOptions {
    pub max_iterations: usize,
    /// Tolerance on the gradient of the mean log-likelihood per customer, with
    /// respect to the log-parameters.
    pub tolerance: f64,
    /// Starting values, in the order of the model's parameter names; None picks
    /// scale-aware defaults from the data.
    pub initial: Option<Vec<f64>>,
    /// Take the standard errors (2k more likelihood evaluations for k
    /// parameters, a third of a BG/NBD fit); without them they are NaN. For
    /// callers that only score, such as `predict` writing CSV.
    pub std_errors: bool,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions { max_iterations: 1000, tolerance: 1e-9, initial: None, std_errors: true }
    }
}

/// Why a fit did not produce estimates.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    #[error("{0}")]
    NotIdentifiable(String),
    #[error("the log-likelihood is not finite at the starting values {start:?}; pass other initial values")]
    BadStart { start: Vec<f64> },
    #[error("initial values: expected {expected} numbers ({names}), got {got}")]
    BadInitial { expected: usize, got: usize, names: String },
}

/// A fitted model: estimates, fit quality and how the optimiser ended.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Fit<P> {
    pub params: P,
    /// Parameter names in the literature's notation, in the order of `std_errors`.
    pub names: Vec<&'static str>,
    /// Standard errors from the inverse observed information; NaN where the Hessian
    /// could not be inverted (a sign the parameter is not identified by the data)
    /// or when [`FitOptions::std_errors`] is off.
    pub std_errors: Vec<f64>,
    pub log_likelihood: f64,
    /// Number of customers (or cohort members) the likelihood covers.
    pub customers: f64,
    pub aic: f64,
    pub bic: f64,
    pub converged: bool,
    pub iterations: usize,
    pub evaluations: usize,
    /// The optimiser's last word, for a person to read.
    pub message: String,
}

impl<P> Fit<P> {
    /// 95% Wald interval for parameter `i`: estimate ± 1.96 SE.
    pub fn interval95(&self, i: usize, estimate: f64) -> (f64, f64) {
        let se = self.std_errors[i];
        (estimate - 1.959_963_984_540_054 * se, estimate + 1.959_963_984_540_054 * se)
    }
}

/// A model's total log-likelihood over its data and the gradient with respect to
/// the (positive) parameters.
pub(crate) trait Likelihood {
    const NAMES: &'static [&'static str];
    fn customers(&self) -> f64;
    /// Total log-likelihood; writes d LL / d p into `grad`.
    fn ll_grad(&self, p: &[f64], grad: &mut [f64]) -> f64;
    fn start(&self) -> Vec<f64>;
}

/// Central-difference gradient of `f` with respect to positive parameters, for
/// models whose analytic gradient is not worth its algebra (few distinct rows).
pub(crate) fn numeric_grad(f: impl Fn(&[f64]) -> f64, p: &[f64], grad: &mut [f64]) -> f64 {
    let v = f(p);
    let mut q = p.to_vec();
    for i in 0..p.len() {
        // Steps in log space: relative steps keep precision for any scale.
        let h: f64 = 1e-6;
        q[i] = p[i] * h.exp();
        let up = f(&q);
        q[i] = p[i] * (-h).exp();
        let down = f(&q);
        q[i] = p[i];
        grad[i] = (up - down) / (2.0 * h) / p[i];
    }
    v
}

pub(crate) fn fit_model<L: Likelihood>(lik: &L, opts: &FitOptions) -> Result<(Vec<f64>, Fit<()>), FitError> {
    let k = L::NAMES.len();
    let start = match &opts.initial {
        Some(v) if v.len() != k => {
            return Err(FitError::BadInitial { expected: k, got: v.len(), names: L::NAMES.join(", ") })
        }
        Some(v) => v.clone(),
        None => lik.start(),
    };
    let n = lik.customers();
    let theta0: Vec<f64> = start.iter().map(|v| v.ln()).collect();
    let mut p = vec![0.0; k];
    let mut gp = vec![0.0; k];
    let objective = |theta: &[f64], g: &mut [f64]| -> f64 {
        for i in 0..k {
            p[i] = theta[i].exp();
        }
        let ll = lik.ll_grad(&p, &mut gp);
        for i in 0..k {
            g[i] = -gp[i] * p[i] / n;
        }
        if ll.is_nan() {
            f64::INFINITY
        } else {
            -ll / n
        }
    };
    let out = minimize(
        objective,
        &theta0,
        &LbfgsOptions { max_iterations: opts.max_iterations, gradient_tolerance: opts.tolerance, history: 8 },
    );
    if out.evaluations == 1 && !out.value.is_finite() {
        return Err(FitError::BadStart { start });
    }
    let est: Vec<f64> = out.x.iter().map(|t| t.exp()).collect();
    let ll = -out.value * n;
    let std_errors = if opts.std_errors { std_errors(lik, &est) } else { vec![f64::NAN; k] };
    let kf = k as f64;
    let fit = Fit {
        params: (),
        names: L::NAMES.to_vec(),
        std_errors,
        log_likelihood: ll,
        customers: n,
        aic: 2.0 * kf - 2.0 * ll,
        bic: kf * n.ln() - 2.0 * ll,
        converged: out.converged,
        iterations: out.iterations,
        evaluations: out.evaluations,
        message: out.message,
    };
    Ok((est, fit))
}

/// Standard errors: sqrt of the diagonal of the inverse of −∇²LL, the Hessian taken
/// by central differences of the gradient.
fn std_errors<L: Likelihood>(lik: &L, p: &[f64]) -> Vec<f64> {
    let k = p.len();
    let mut h = vec![vec![0.0; k]; k];
    let mut q = p.to_vec();
    let (mut g_up, mut g_down) = (vec![0.0; k], vec![0.0; k]);
    for j in 0..k {
        let step = 1e-5 * p[j];
        q[j] = p[j] + step;
        lik.ll_grad(&q, &mut g_up);
        q[j] = p[j] - step;
        lik.ll_grad(&q, &mut g_down);
        q[j] = p[j];
        for i in 0..k {
            h[i][j] = -(g_up[i] - g_down[i]) / (2.0 * step);
        }
    }
    for i in 0..k {
        for j in 0..i {
            let m = 0.5 * (h[i][j] + h[j][i]);
            h[i][j] = m;
            h[j][i] = m;
        }
    }
    match invert(&h) {
        Some(cov) => (0..k).map(|i| if cov[i][i] > 0.0 { cov[i][i].sqrt() } else { f64::NAN }).collect(),
        None => vec![f64::NAN; k],
    }
}

/// Attach typed parameters to a fit.
pub(crate) fn with_params<P>(fit: Fit<()>, params: P) -> Fit<P> {
    Fit {
        params,
        names: fit.names,
        std_errors: fit.std_errors,
        log_likelihood: fit.log_likelihood,
        customers: fit.customers,
        aic: fit.aic,
        bic: fit.bic,
        converged: fit.converged,
        iterations: fit.iterations,
        evaluations: fit.evaluations,
        message: fit.message,
    }
}
