//! The config file lives in the application layer; the command line reads it
//! from `--config` or `WINBACK_CONFIG`.

pub use winback_app::config::*;
