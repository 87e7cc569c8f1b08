//! What statuses and decisions need from the store, and every customer assessed.

use winback_domain::assess::{assess, horizon_words, Assessment, Settings};
use winback_domain::causes::RootCause;
use winback_domain::period::day_number;
use winback_domain::reasons::Reason;
use winback_store::{Facts, Store};

use crate::config::Config;
use crate::Result;

/// The store with every customer's facts, reasons, causes and assessment.
pub struct World {
    pub store: Box<dyn Store>,
    pub config: Config,
    pub facts: Facts,
    pub reasons: Vec<Reason>,
    pub causes: Vec<RootCause>,
    pub assessed: Vec<Assessment>,
    /// The analysis date: the latest run's observation end, else the last
    /// purchase, else today.
    pub as_of: i32,
    pub horizon: String,
    /// What the user should know (no analysis run yet…).
    pub notes: Vec<String>,
}

/// Load and assess every customer.
pub fn load(mut store: Box<dyn Store>, config: Config) -> Result<World> {
    let t0 = std::time::Instant::now();
    let facts = store.customer_facts()?;
    tracing::info!(customers = facts.customers.len(), secs = t0.elapsed().as_secs_f64(), "customer facts loaded");
    let reasons = store.reasons()?;
    let causes = store.causes()?;
    let mut notes = Vec::new();
    let as_of = match &facts.run {
        Some(r) => r.observation_end,
        None => {
            notes.push("no analysis run yet, so statuses use purchase rhythm only; run `winback analyze` first".into());
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
    Ok(World { store, config, facts, reasons, causes, assessed, as_of, horizon, notes })
}
