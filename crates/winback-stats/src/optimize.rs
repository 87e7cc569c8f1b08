//! A small limited-memory BFGS minimiser (Nocedal & Wright 2006, *Numerical
//! Optimization*, 2nd ed., Algorithm 7.4 with the two-loop recursion, Algorithm 7.5).
//!
//! Written here rather than taken from argmin because the likelihoods of these models
//! are infinite or NaN in whole regions of parameter space (a Beta with b < 1 and
//! x = 0, a 2F1 past its range): the line search must treat a non-finite value as
//! "step too long" and shrink, and value and gradient come from one pass over the
//! data, which a cost/gradient split would compute twice.

/// Stopping rules.
#[derive(Debug, Clone, Copy)]
pub struct LbfgsOptions {
    pub max_iterations: usize,
    /// Stop when every gradient component is below this.
    pub gradient_tolerance: f64,
    pub history: usize,
}

impl Default for LbfgsOptions {
    fn default() -> Self {
        LbfgsOptions { max_iterations: 1000, gradient_tolerance: 1e-9, history: 8 }
    }
}

/// Where the minimiser stopped and why.
#[derive(Debug, Clone)]
pub struct LbfgsOutcome {
    pub x: Vec<f64>,
    pub value: f64,
    pub gradient: Vec<f64>,
    pub iterations: usize,
    pub evaluations: usize,
    pub converged: bool,
    pub message: String,
    /// The curvature pairs the minimiser ended with, to start a related
    /// problem from (see [`minimize_from`]).
    pub memory: Curvature,
}

/// L-BFGS's memory: the last steps `s`, the gradient changes `y` they made,
/// and 1 / (s·y) of each.
#[derive(Debug, Clone, Default)]
pub struct Curvature {
    s: Vec<Vec<f64>>,
    y: Vec<Vec<f64>>,
    rho: Vec<f64>,
}

/// How far above the current value (relative) a step's value may be and still
/// count as equal within rounding, for the approximate Wolfe test.
const APPROX_WOLFE_SLACK: f64 = 1e-12;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0_f64, |m, v| m.max(v.abs()))
}

/// Minimise `f`, which returns the value at `x` and writes the gradient into its
/// second argument. A non-finite value marks a point outside the feasible region.
pub fn minimize<F>(f: F, x0: &[f64], opts: &LbfgsOptions) -> LbfgsOutcome
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    minimize_from(f, x0, opts, Curvature::default())
}

/// [`minimize`] with the curvature another minimisation learnt (of the same
/// parameters, on the same scale): near its end, the first steps are already
/// quasi-Newton steps rather than a search along the gradient.
pub fn minimize_from<F>(mut f: F, x0: &[f64], opts: &LbfgsOptions, memory: Curvature) -> LbfgsOutcome
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x0.len();
    let mut x = x0.to_vec();
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g);
    let mut evaluations = 1;
    if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
        let message = "the starting point has no finite likelihood".to_string();
        return LbfgsOutcome {
            x,
            value: fx,
            gradient: g,
            iterations: 0,
            evaluations,
            converged: false,
            message,
            memory,
        };
    }
    let Curvature { s: mut s_hist, y: mut y_hist, mut rho } = memory;
    // (pairs of another length, or more than this minimiser keeps: none)
    if s_hist.iter().chain(&y_hist).any(|v| v.len() != n)
        || s_hist.len() > opts.history
        || rho.len() != s_hist.len()
        || y_hist.len() != s_hist.len()
    {
        (s_hist, y_hist, rho) = (Vec::new(), Vec::new(), Vec::new());
    }
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut d = vec![0.0; n];
    let mut alpha_buf = vec![0.0; opts.history];
    let mut stalled = 0;

    for iter in 0..opts.max_iterations {
        if max_abs(&g) < opts.gradient_tolerance {
            return outcome(x, fx, g, iter, evaluations, true, "gradient below tolerance", (s_hist, y_hist, rho));
        }
        // Two-loop recursion: d = −H g.
        d.copy_from_slice(&g);
        let m = s_hist.len();
        for i in (0..m).rev() {
            alpha_buf[i] = rho[i] * dot(&s_hist[i], &d);
            for j in 0..n {
                d[j] -= alpha_buf[i] * y_hist[i][j];
            }
        }
        let gamma = if m > 0 { dot(&s_hist[m - 1], &y_hist[m - 1]) / dot(&y_hist[m - 1], &y_hist[m - 1]) } else { 1.0 };
        for v in d.iter_mut() {
            *v *= gamma;
        }
        for i in 0..m {
            let beta = rho[i] * dot(&y_hist[i], &d);
            for j in 0..n {
                d[j] += (alpha_buf[i] - beta) * s_hist[i][j];
            }
        }
        for v in d.iter_mut() {
            *v = -*v;
        }
        let mut slope = dot(&g, &d);
        if !(slope < 0.0) {
            // Not a descent direction: forget the curvature history.
            s_hist.clear();
            y_hist.clear();
            rho.clear();
            for j in 0..n {
                d[j] = -g[j];
            }
            slope = dot(&g, &d);
        }
        // First step: at most one unit in log-parameter space.
        let mut step = if s_hist.is_empty() { (1.0 / max_abs(&d)).min(1.0) } else { 1.0 };
        let mut accepted = false;
        let mut f_new = f64::NAN;
        for _ in 0..60 {
            for j in 0..n {
                x_new[j] = x[j] + step * d[j];
            }
            f_new = f(&x_new, &mut g_new);
            evaluations += 1;
            let finite = f_new.is_finite() && g_new.iter().all(|v| v.is_finite());
            if finite && f_new <= fx + 1e-4 * step * slope {
                accepted = true;
                break;
            }
            // Near the optimum the decrease a step makes falls below the rounding
            // of a sum over a million customers, and the sufficient-decrease test
            // fails on noise while the gradient, still accurate, points on.
            // Hager & Zhang's approximate Wolfe conditions (2005, SIAM J. Optim.
            // 16(1), eq. 23, δ = 0.1, σ = 0.9) accept a step whose value is within
            // that rounding when the slope along d has shrunk as at a line minimum.
            if finite && f_new <= fx + APPROX_WOLFE_SLACK * fx.abs() {
                let new_slope = dot(&g_new, &d);
                if 0.9 * slope <= new_slope && new_slope <= -0.8 * slope {
                    accepted = true;
                    break;
                }
            }
            step = if finite {
                // Minimiser of the quadratic through f(0), f'(0), f(step), safeguarded.
                let q = -slope * step * step / (2.0 * (f_new - fx - slope * step));
                q.clamp(0.1 * step, 0.5 * step)
            } else {
                0.1 * step
            };
        }
        if !accepted {
            if !s_hist.is_empty() {
                s_hist.clear();
                y_hist.clear();
                rho.clear();
                continue;
            }
            let converged = max_abs(&g) < opts.gradient_tolerance * 1e3;
            return outcome(
                x,
                fx,
                g,
                iter,
                evaluations,
                converged,
                "the line search could not improve the likelihood further",
                (s_hist, y_hist, rho),
            );
        }
        let s: Vec<f64> = (0..n).map(|j| x_new[j] - x[j]).collect();
        let y: Vec<f64> = (0..n).map(|j| g_new[j] - g[j]).collect();
        let sy = dot(&s, &y);
        if sy > 1e-14 * dot(&s, &s).sqrt() * dot(&y, &y).sqrt() {
            if s_hist.len() == opts.history {
                s_hist.remove(0);
                y_hist.remove(0);
                rho.remove(0);
            }
            s_hist.push(s);
            y_hist.push(y);
            rho.push(1.0 / sy);
        }
        let improvement = fx - f_new;
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        fx = f_new;
        stalled = if improvement <= 1e-16 * fx.abs().max(1e-300) { stalled + 1 } else { 0 };
        if stalled >= 5 {
            let converged = max_abs(&g) < opts.gradient_tolerance * 1e3;
            return outcome(x, fx, g, iter + 1, evaluations, converged, STALLED, (s_hist, y_hist, rho));
        }
    }
    let converged = max_abs(&g) < opts.gradient_tolerance;
    outcome(x, fx, g, opts.max_iterations, evaluations, converged, "reached the iteration limit", (s_hist, y_hist, rho))
}

/// The optimiser's word when the objective stopped changing before the
/// gradient test was met.
pub const STALLED: &str = "the likelihood stopped improving";

#[allow(clippy::too_many_arguments)]
fn outcome(
    x: Vec<f64>,
    value: f64,
    gradient: Vec<f64>,
    iterations: usize,
    evaluations: usize,
    converged: bool,
    message: &str,
    (s, y, rho): (Vec<Vec<f64>>, Vec<Vec<f64>>, Vec<f64>),
) -> LbfgsOutcome {
    let message = message.to_string();
    LbfgsOutcome { x, value, gradient, iterations, evaluations, converged, message, memory: Curvature { s, y, rho } }
}

/// Inverse of a small dense symmetric matrix by Gauss–Jordan elimination with
/// partial pivoting; None if singular.
pub fn invert(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = m.len();
    let mut a: Vec<Vec<f64>> = m.to_vec();
    let mut inv: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect()).collect();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 || !a[pivot][col].is_finite() {
            return None;
        }
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let p = a[col][col];
        for j in 0..n {
            a[col][j] /= p;
            inv[col][j] /= p;
        }
        for i in 0..n {
            if i != col {
                let factor = a[i][col];
                if factor != 0.0 {
                    for j in 0..n {
                        a[i][j] -= factor * a[col][j];
                        inv[i][j] -= factor * inv[col][j];
                    }
                }
            }
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_rosenbrock() {
        let f = |x: &[f64], g: &mut [f64]| {
            g[0] = -2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] * x[0]);
            g[1] = 200.0 * (x[1] - x[0] * x[0]);
            (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
        };
        let out = minimize(f, &[-1.2, 1.0], &LbfgsOptions::default());
        assert!(out.converged, "{}", out.message);
        assert!((out.x[0] - 1.0).abs() < 1e-6 && (out.x[1] - 1.0).abs() < 1e-6, "{:?}", out.x);
    }

    #[test]
    fn curvature_carried_over_shortens_a_related_minimisation() {
        // a shifted quadratic bowl, badly scaled: a cold start learns its
        // shape step by step, a start with another bowl's curvature does not
        let bowl = |c: f64| {
            move |x: &[f64], g: &mut [f64]| {
                g[0] = 2.0 * (x[0] - c);
                g[1] = 200.0 * (x[1] + c);
                (x[0] - c).powi(2) + 100.0 * (x[1] + c).powi(2)
            }
        };
        let opts = LbfgsOptions::default();
        let first = minimize(bowl(1.0), &[0.0, 0.0], &opts);
        let cold = minimize(bowl(1.1), &first.x, &opts);
        let warm = minimize_from(bowl(1.1), &first.x, &opts, first.memory.clone());
        for out in [&cold, &warm] {
            assert!(out.converged, "{}", out.message);
            assert!((out.x[0] - 1.1).abs() < 1e-9 && (out.x[1] + 1.1).abs() < 1e-9, "{:?}", out.x);
        }
        assert!(warm.evaluations < cold.evaluations, "{} vs {}", warm.evaluations, cold.evaluations);
        // curvature of another dimension is dropped, not misapplied
        let one = minimize_from(
            |x: &[f64], g: &mut [f64]| {
                g[0] = 2.0 * (x[0] - 3.0);
                (x[0] - 3.0).powi(2)
            },
            &[0.0],
            &opts,
            first.memory,
        );
        assert!(one.converged && (one.x[0] - 3.0).abs() < 1e-9, "{:?}", one.x);
    }

    #[test]
    fn backs_off_from_infinite_regions() {
        // ln-barrier at x < 0.5: infinite there.
        let f = |x: &[f64], g: &mut [f64]| {
            if x[0] <= 0.5 {
                g[0] = f64::NAN;
                return f64::INFINITY;
            }
            g[0] = 2.0 * (x[0] - 0.6) - 1e-3 / (x[0] - 0.5);
            (x[0] - 0.6).powi(2) - 1e-3 * (x[0] - 0.5).ln()
        };
        let out = minimize(f, &[3.0], &LbfgsOptions::default());
        assert!(out.converged, "{}", out.message);
        assert!(out.x[0] > 0.5 && out.x[0] < 0.7);
    }

    #[test]
    fn inverts_a_matrix() {
        let m = vec![vec![4.0, 1.0], vec![1.0, 3.0]];
        let inv = invert(&m).unwrap();
        assert!((inv[0][0] - 3.0 / 11.0).abs() < 1e-15);
        assert!((inv[0][1] + 1.0 / 11.0).abs() < 1e-15);
        assert!(invert(&[vec![1.0, 2.0], vec![2.0, 4.0]]).is_none());
    }
}
