//! Validation of winback-stats against published estimates, reference values and
//! simulated data with known parameters. One test binary (faster to link).

mod common;
mod literature;
mod recovery;
mod reference;
mod stability;
