//! Draw customer histories from the models' own generative stories, for parameter
//! recovery tests and benchmarks. Deterministic for a given seed.

use crate::models::{bgbb::BgBb, bgnbd::BgNbd, gammagamma::GammaGamma, mbgnbd::MbgNbd, paretonbd::ParetoNbd, sbg::Sbg};
use rand::{rngs::StdRng, Rng, SeedableRng};
use rand_distr::{Beta, Distribution, Exp, Gamma};

/// One simulated customer: repeat purchases x, time of the last t_x, observation length T,
/// and the purchase times themselves (first purchase at 0, not included).
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    pub x: f64,
    pub t_x: f64,
    pub t: f64,
    pub purchases: Vec<f64>,
}

fn gamma(shape: f64, rate: f64) -> Gamma<f64> {
    // rand_distr's Gamma takes a scale (1/rate). Parameters are validated by the models.
    Gamma::new(shape, 1.0 / rate).unwrap_or_else(|_| panic!("invalid gamma({shape}, {rate})"))
}

fn beta(a: f64, b: f64) -> Beta<f64> {
    Beta::new(a, b).unwrap_or_else(|_| panic!("invalid beta({a}, {b})"))
}

/// Purchases at Poisson rate λ from 0 until `end` (exclusive of 0).
fn poisson_times(rng: &mut StdRng, lambda: f64, end: f64, mut each: impl FnMut(f64) -> bool) {
    if lambda <= 0.0 {
        return;
    }
    let exp = Exp::new(lambda).unwrap_or_else(|_| panic!("invalid rate {lambda}"));
    let mut t = 0.0;
    loop {
        t += exp.sample(rng);
        if t > end || !each(t) {
            break;
        }
    }
}

fn history(purchases: Vec<f64>, t: f64) -> History {
    History { x: purchases.len() as f64, t_x: purchases.last().copied().unwrap_or(0.0), t, purchases }
}

/// BG/NBD (FHL 2005 §3): after each purchase the customer drops out with probability p.
/// `mbg` adds the MBG/NBD drop-out right after the first purchase.
fn beta_geometric(r: f64, alpha: f64, a: f64, b: f64, ts: &[f64], seed: u64, mbg: bool) -> Vec<History> {
    let mut rng = StdRng::seed_from_u64(seed);
    let (lam, pd) = (gamma(r, alpha), beta(a, b));
    ts.iter()
        .map(|&t| {
            let lambda = lam.sample(&mut rng);
            let p = pd.sample(&mut rng);
            let mut purchases = Vec::new();
            if !(mbg && rng.random::<f64>() < p) {
                let mut draws = Vec::new();
                poisson_times(&mut rng, lambda, t, |s| {
                    draws.push(s);
                    true
                });
                for s in draws {
                    purchases.push(s);
                    if rng.random::<f64>() < p {
                        break;
                    }
                }
            }
            history(purchases, t)
        })
        .collect()
}

/// Customers from a BG/NBD, one per entry of `ts` (each customer's observation length).
pub fn bgnbd(m: &BgNbd, ts: &[f64], seed: u64) -> Vec<History> {
    beta_geometric(m.r, m.alpha, m.a, m.b, ts, seed, false)
}

/// Customers from an MBG/NBD.
pub fn mbgnbd(m: &MbgNbd, ts: &[f64], seed: u64) -> Vec<History> {
    beta_geometric(m.r, m.alpha, m.a, m.b, ts, seed, true)
}

/// Customers from a Pareto/NBD: exponential lifetime with rate μ ~ Gamma(s, β).
pub fn paretonbd(m: &ParetoNbd, ts: &[f64], seed: u64) -> Vec<History> {
    let mut rng = StdRng::seed_from_u64(seed);
    let (lam, mu) = (gamma(m.r, m.alpha), gamma(m.s, m.beta));
    ts.iter()
        .map(|&t| {
            let lambda = lam.sample(&mut rng);
            let life = Exp::new(mu.sample(&mut rng)).map(|e| e.sample(&mut rng)).unwrap_or(f64::INFINITY);
            let mut purchases = Vec::new();
            poisson_times(&mut rng, lambda, t.min(life), |s| {
                purchases.push(s);
                true
            });
            history(purchases, t)
        })
        .collect()
}

/// Mean spend of `x` transactions for each customer, Gamma-Gamma (FH13 §2): ν ~ Gamma(q, γ),
/// each transaction ~ Gamma(p, ν).
pub fn gammagamma(m: &GammaGamma, xs: &[u32], seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let nu = gamma(m.q, m.gamma);
    xs.iter()
        .map(|&x| {
            let z = gamma(m.p, nu.sample(&mut rng));
            let total: f64 = (0..x).map(|_| z.sample(&mut rng)).sum();
            if x == 0 {
                0.0
            } else {
                total / x as f64
            }
        })
        .collect()
}

/// BG/BB histories (x, t_x) over `n` opportunities (FHS §2): at each opportunity an
/// alive customer first may die (θ), then buys with probability p.
pub fn bgbb(m: &BgBb, customers: usize, n: u32, seed: u64) -> Vec<(u32, u32)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let (pd, td) = (beta(m.alpha, m.beta), beta(m.gamma, m.delta));
    (0..customers)
        .map(|_| {
            let (p, theta) = (pd.sample(&mut rng), td.sample(&mut rng));
            let (mut x, mut tx) = (0, 0);
            for t in 1..=n {
                if rng.random::<f64>() < theta {
                    break;
                }
                if rng.random::<f64>() < p {
                    x += 1;
                    tx = t;
                }
            }
            (x, tx)
        })
        .collect()
}

/// Survivor counts of an sBG cohort of `size` over `periods` periods (FH07 §2).
pub fn sbg(m: &Sbg, size: usize, periods: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let td = beta(m.alpha, m.beta);
    let mut survivors = vec![0.0; periods + 1];
    for _ in 0..size {
        let theta = td.sample(&mut rng);
        survivors[0] += 1.0;
        for s in survivors.iter_mut().skip(1) {
            if rng.random::<f64>() < theta {
                break;
            }
            *s += 1.0;
        }
    }
    survivors
}

/// Amounts of individual transactions under Gamma-Gamma (FH13 §2): for each customer
/// ν ~ Gamma(q, γ), then `counts[i]` values ~ Gamma(p, ν).
pub fn transaction_amounts(m: &GammaGamma, counts: &[usize], seed: u64) -> Vec<Vec<f64>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let nu = gamma(m.q, m.gamma);
    counts
        .iter()
        .map(|&k| {
            let z = gamma(m.p, nu.sample(&mut rng));
            (0..k).map(|_| z.sample(&mut rng)).collect()
        })
        .collect()
}
