//! The assessment lives in the application layer; here the store is opened and
//! the notes printed.

use std::path::Path;

use anyhow::Result;

pub use winback_app::assess::World;

/// Open the store, load the config and assess every customer.
pub fn load(db: &str, config: Option<&Path>) -> Result<World> {
    let config = crate::config::load(config)?;
    let store = super::store::open(db)?;
    let w = winback_app::assess::load(store, config)?;
    for n in &w.notes {
        eprintln!("note: {n}");
    }
    Ok(w)
}

/// Open the store with an up-to-date cached assessment (computed now if
/// anything it depends on changed).
pub fn cached(db: &str, config: Option<&Path>) -> Result<winback_app::assess::Cached> {
    let config = crate::config::load(config)?;
    let store = super::store::open(db)?;
    let c = winback_app::assess::cached(store, config)?;
    for n in &c.notes {
        eprintln!("note: {n}");
    }
    Ok(c)
}
