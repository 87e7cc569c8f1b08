//! # winback-domain
//!
//! The things winback reasons about, independent of files and databases:
//! a transaction log ([`log`]), calendar periods ([`period`]), the per-customer
//! purchase summary the models consume ([`summary`]), and per-customer scores
//! from a fitted model ([`score`]).

pub mod analysis;
pub mod customer;
pub mod import;
pub mod log;
pub mod period;
pub mod score;
pub mod summary;
pub mod synthetic;
