//! # winback-domain
//!
//! The things winback reasons about, independent of files and databases:
//! a transaction log ([`log`]), calendar periods ([`period`]), the per-customer
//! purchase summary the models consume ([`summary`]), per-customer scores
//! ([`score`]); then the win-back work built on them: statuses ([`status`]),
//! decisions on who is worth winning back ([`decision`]), reasons for leaving
//! ([`reasons`]), root causes ([`causes`]), the defection report
//! ([`defection`]) and journey signals ([`journey`]), all under configurable
//! [`rules`]. [`business`] generates a synthetic shop for demos and tests.

pub mod analysis;
pub mod assess;
pub mod business;
pub mod campaign;
pub mod causes;
pub mod customer;
pub mod decision;
pub mod defection;
pub mod facts;
pub mod import;
pub mod journey;
pub mod log;
pub mod period;
pub mod playbook;
pub mod reasons;
pub mod rules;
pub mod score;
pub mod status;
pub mod summary;
pub mod synthetic;
pub mod tracking;
pub mod warning;

#[cfg(test)]
mod properties;
