//! Load what statuses and decisions need from the store and assess every customer.

use std::path::Path;

use anyhow::Result;
use winback_domain::assess::{assess, horizon_words, Assessment, Settings};
use winback_domain::causes::RootCause;
use winback_domain::period::day_number;
use winback_domain::reasons::Reason;
use winback_store::{Facts, Store};

use crate::config::Config;

pub struct World {
    pub store: Box<dyn Store>,
    pub config: Config,
    pub facts: Facts,
    pub reasons: Vec<Reason>,
    pub causes: Vec<RootCause>,
    pub assessed: Vec<Assessment>,
    pub as_of: i32,
    pub horizon: String,
}

/// The analysis date: the latest run's observation end, else the last purchase, else today.
pub fn load(db: &str, config: Option<&Path>) -> Result<World> {
    let t0 = std::time::Instant::now();
    let config = crate::config::load(config)?;
    let mut store = super::store::open(db)?;
    let facts = store.customer_facts()?;
    tracing::info!(customers = facts.customers.len(), secs = t0.elapsed().as_secs_f64(), "customer facts loaded");
    let reasons = store.reasons()?;
    let causes = store.causes()?;
    let as_of = match &facts.run {
        Some(r) => r.observation_end,
        None => {
            eprintln!("note: no analysis run yet, so statuses use purchase rhythm only; run `winback analyze` first");
            facts
                .customers
                .iter()
                .filter_map(|f| f.last_day)
                .max()
                .unwrap_or_else(|| day_number(chrono::Utc::now().date_naive()))
        }
    };
    let horizon = facts.run.as_ref().map_or_else(|| "a year".to_string(), |r| horizon_words(r.horizon, &r.time_unit));
    let settings = Settings { rules: &config.rules, taxonomy: &config.taxonomy, as_of, horizon: &horizon };
    let assessed = assess(&facts.customers, &reasons, &causes, &settings);
    tracing::info!(secs = t0.elapsed().as_secs_f64(), "statuses and decisions");
    Ok(World { store, config, facts, reasons, causes, assessed, as_of, horizon })
}
