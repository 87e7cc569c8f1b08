//! The config file: thresholds for statuses and decisions, and extra reason
//! categories. `--config FILE` or WINBACK_CONFIG names it; otherwise
//! `./winback.toml` is read when present, and the documented defaults apply.

use std::path::{Path, PathBuf};

use winback_domain::reasons::Taxonomy;
use winback_domain::rules::Rules;

use crate::{AppError, Result};

fn config_error(path: Option<&Path>, message: impl std::fmt::Display) -> AppError {
    AppError::Config {
        path: path.map_or_else(|| "config".into(), |p| p.display().to_string()),
        message: message.to_string(),
    }
}

/// The commented default config, as `winback config init` writes it.
pub const DEFAULT: &str = r#"# winback configuration. Every value shown is the default; delete what you
# don't change. Statuses and decisions are recomputed from the latest analysis
# run whenever you list or report, so a change here applies at once.

# Check-ins after a customer is won back, in days after their return.
followup_days = [14, 60]

[status]
# A customer takes the worse of two signals. First, the model's probability
# that they are still active (P(alive)):
at_risk_below = 0.7     # P(alive) below this: at_risk
lapsed_below = 0.4      # below this: lapsed
lost_below = 0.15       # below this: lost
# Second, days since their last purchase, counted in their own usual gaps
# between purchases (one-time buyers: the shop's median gap):
at_risk_gaps = 2.0      # more than 2 usual gaps: at_risk
lapsed_gaps = 3.0
lost_gaps = 5.0
min_gap_days = 14.0     # a usual gap is never taken shorter than this
# A customer whose contract or subscription ended is `churned` (lost by definition).

[decision]
# Refunds above this share of what a customer bought: walk_away.
max_return_rate = 0.3
# Expected revenue if won back (over the analysis horizon) below this: keep_in_touch.
min_value = 25.0
# Walk away from customers whose net margin (after refunds, cost of goods and
# cost to serve per year of tenure) is not positive.
walk_away_if_unprofitable = true
# Customer flags that rule out contact (walk_away).
walk_away_flags = ["fraud", "abusive"]
# Customer tags that mean keep_in_touch rather than a win-back effort.
keep_in_touch_tags = ["outgrew_us", "moved"]
# Value tiers by net revenue: the top 10% of customers, the next 30%, the rest.
top_tier_share = 0.1
mid_tier_share = 0.3

# Reason categories beyond the defaults (poor_service, product_quality, price,
# competitor, unmet_need, staff, indifference, outgrew_us, moved, billing,
# delivery, other), or new labels for them. keep_in_touch = true makes a lost
# customer with this reason a keep_in_touch decision.
# [[categories]]
# key = "parking"
# label = "No parking near the shop"
# keep_in_touch = false

# Which event kinds expose an active customer to a root cause in a reason
# category (`winback at-risk`): a late delivery while the delivery cause is
# open puts a customer at risk.
[exposure]
delivery = ["late_delivery"]
poor_service = ["support_ticket"]
staff = ["complaint"]
product_quality = ["return"]
"#;

/// The loaded configuration and where it came from.
#[derive(Debug, Clone)]
pub struct Config {
    pub rules: Rules,
    pub taxonomy: Taxonomy,
    pub source: Option<PathBuf>,
}

/// The config at `explicit`, else `./winback.toml` when present, else the defaults.
pub fn load(explicit: Option<&Path>) -> Result<Config> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => Some(PathBuf::from("winback.toml")).filter(|p| p.exists()),
    };
    let rules = match &path {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).map_err(|e| config_error(Some(p), format!("cannot read it ({e})")))?;
            parse(&text).map_err(|e| match e {
                AppError::Config { message, .. } => config_error(Some(p), message),
                other => other,
            })?
        }
        None => Rules::default(),
    };
    let taxonomy = Taxonomy::with(&rules.categories);
    Ok(Config { rules, taxonomy, source: path })
}

/// Parse and check a config file's text.
pub fn parse(text: &str) -> Result<Rules> {
    let rules: Rules = toml::from_str(text).map_err(|e| config_error(None, e))?;
    if let Err(e) = rules.check() {
        return Err(config_error(None, e));
    }
    for c in &rules.categories {
        if c.key.is_empty() || !c.key.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_') {
            return Err(config_error(None, format!("category key '{}': use lowercase letters, digits and _", c.key)));
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commented_default_is_the_default() {
        assert_eq!(parse(DEFAULT).unwrap(), Rules::default());
        let e = parse("[status]\nlost_below = 0.9\n").unwrap_err().to_string();
        assert!(e.contains("lost_below ≤ lapsed_below"), "{e}");
        let e = parse("[status]\nlost_belo = 0.1\n").unwrap_err().to_string();
        assert!(e.contains("unknown field"), "{e}");
    }
}
