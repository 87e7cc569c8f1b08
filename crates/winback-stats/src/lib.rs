//! # winback-stats
//!
//! Customer-base analysis ("buy till you die") models, fitted by maximum likelihood:
//!
//! | model | setting | module |
//! | --- | --- | --- |
//! | BG/NBD | non-contractual, continuous time | [`models::bgnbd`] |
//! | Pareto/NBD | non-contractual, continuous time | [`models::paretonbd`] |
//! | MBG/NBD | non-contractual, continuous time | [`models::mbgnbd`] |
//! | BG/BB | non-contractual, discrete opportunities | [`models::bgbb`] |
//! | Gamma-Gamma | spend per transaction | [`models::gammagamma`] |
//! | sBG | contractual (subscriptions) | [`models::sbg`] |
//!
//! Pure computation: no I/O, no async. Inputs are validated on construction
//! ([`data`]), identical histories are compressed into weighted rows, and each fit
//! reports its log-likelihood, AIC/BIC, standard errors and whether it converged.
//!
//! ```
//! use winback_stats::data::RfmData;
//! use winback_stats::fit::FitOptions;
//! use winback_stats::models::{bgnbd, PurchaseModel};
//!
//! // (repeat purchases, time of last purchase, time observed), in weeks
//! let customers = [(0.0, 0.0, 38.9), (2.0, 30.4, 38.9), (1.0, 1.7, 38.9), (7.0, 29.4, 38.9), (0.0, 0.0, 38.7)];
//! let data = RfmData::new(customers).unwrap();
//! let fit = bgnbd::fit(&data, &FitOptions::default()).unwrap();
//! let m = fit.params;
//! let p = m.prob_alive(1.0, 1.7, 38.9);
//! assert!(p > 0.0 && p < 1.0);
//! ```

pub mod batch;
pub mod clv;
pub mod data;
pub mod fit;
pub mod models;
pub mod optimize;
pub mod parallel;
pub mod proportions;
pub mod simulate;
pub mod special;
