//! The exit survey: the customer's own answer to why they left and what they
//! suggest (the seeds' first contact: ask, and listen). Each campaign member
//! has a link (their member token), and `winback survey link CUSTOMER` makes
//! one for any customer. The answer becomes reasons (source `survey`, with the
//! suggestion) at once; a "no" to coming back makes the decision keep in touch.

use serde::{Deserialize, Serialize};
use winback_domain::reasons::{NewReason, Scope, Source, Taxonomy};
use winback_store::{Store, SurveySave};

use crate::accounts::{digest, random_hex};
use crate::config::Config;
use crate::{AppError, Result};

/// An answer can be changed for this long after it was first given.
pub const EDITABLE_SECS: i64 = 14 * 24 * 3600;
/// Longest free-text answer kept.
pub const MAX_TEXT: usize = 2000;

/// Would they consider coming back?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComeBack {
    Yes,
    Maybe,
    No,
}

impl ComeBack {
    pub fn as_str(self) -> &'static str {
        match self {
            ComeBack::Yes => "yes",
            ComeBack::Maybe => "maybe",
            ComeBack::No => "no",
        }
    }

    pub fn parse(s: &str) -> Option<ComeBack> {
        match s {
            "yes" => Some(ComeBack::Yes),
            "maybe" => Some(ComeBack::Maybe),
            "no" => Some(ComeBack::No),
            _ => None,
        }
    }
}

/// Channels a customer can ask to hear back on.
pub const CHANNELS: &[(&str, &str)] =
    &[("email", "By email"), ("phone", "A phone call"), ("sms", "A text message"), ("none", "Please don't contact me")];

/// What the customer answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Answers {
    /// Category keys from the taxonomy.
    pub categories: Vec<String>,
    /// "Something else", in their words.
    pub other: Option<String>,
    /// What we could have done better / what they suggest.
    pub suggestion: Option<String>,
    pub come_back: Option<ComeBack>,
    pub channel: Option<String>,
}

/// A reason as the customer reads it: the taxonomy in plain words.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub key: String,
    pub text: String,
}

/// The default categories in the customer's words; a business's own
/// categories show their label.
pub fn choices(t: &Taxonomy) -> Vec<Choice> {
    let plain = |k: &str| match k {
        "poor_service" => Some("The service wasn't good enough"),
        "product_quality" => Some("The products weren't up to standard"),
        "price" => Some("It cost too much"),
        "competitor" => Some("I found a better offer elsewhere"),
        "unmet_need" => Some("You didn't have what I needed"),
        "staff" => Some("Someone on your team was rude or unhelpful"),
        "indifference" => Some("I didn't feel valued"),
        "outgrew_us" => Some("I've outgrown what you offer"),
        "moved" => Some("I moved, or no longer need it"),
        "billing" => Some("A problem with billing or payment"),
        "delivery" => Some("Delivery problems (late, damaged or lost)"),
        _ => None,
    };
    t.categories
        .iter()
        .filter(|c| c.key != "other")
        .map(|c| Choice { key: c.key.clone(), text: plain(&c.key).map_or_else(|| c.label.clone(), str::to_string) })
        .collect()
}

/// What a survey link opens.
#[derive(Debug, Clone, Serialize)]
pub struct Survey {
    pub first_name: Option<String>,
    pub choices: Vec<Choice>,
    pub previous: Option<Answers>,
    /// False once the edit window has closed after an answer.
    pub editable: bool,
    /// When the first answer was given (unix seconds).
    pub answered_at: Option<i64>,
}

/// Tokens are hex: anything else is not a link we made (and gets the same
/// answer as an unknown one).
fn well_formed(token: &str) -> bool {
    (16..=128).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn not_found() -> AppError {
    AppError::NotFound("no such survey".into())
}

fn first_name(name: Option<&str>) -> Option<String> {
    name.and_then(|n| n.split_whitespace().next()).map(str::to_string)
}

/// Open a survey link.
pub fn open(store: &mut dyn Store, config: &Config, token: &str, now: i64) -> Result<Survey> {
    if !well_formed(token) {
        return Err(not_found());
    }
    let t = store.survey_target(&digest(token), token)?.ok_or_else(not_found)?;
    let previous = t.response.as_ref().and_then(|r| serde_json::from_str::<Answers>(&r.answers).ok());
    let editable = t.response.as_ref().is_none_or(|r| now < r.first_at + EDITABLE_SECS);
    Ok(Survey {
        first_name: first_name(t.name.as_deref()),
        choices: choices(&config.taxonomy),
        previous,
        editable,
        answered_at: t.response.as_ref().map(|r| r.first_at),
    })
}

fn clean(s: Option<&str>) -> Option<String> {
    let s = s?.trim();
    if s.is_empty() {
        return None;
    }
    // keep line breaks; drop other control characters; cap the length
    let t: String = s.chars().filter(|c| !c.is_control() || *c == '\n').take(MAX_TEXT).collect();
    Some(t.replace("\r\n", "\n"))
}

/// What a saved answer became.
#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    pub reasons: Vec<i64>,
    pub first_name: Option<String>,
    pub come_back: ComeBack,
}

/// Save an answer (or replace an earlier one within the edit window).
pub fn submit(store: &mut dyn Store, config: &Config, token: &str, a: &Answers, now: i64) -> Result<Submitted> {
    if !well_formed(token) {
        return Err(not_found());
    }
    let hash = digest(token);
    let t = store.survey_target(&hash, token)?.ok_or_else(not_found)?;
    if let Some(r) = &t.response {
        if now >= r.first_at + EDITABLE_SECS {
            return Err(AppError::Invalid("this answer can no longer be changed; thank you for it".into()));
        }
    }
    let tax = &config.taxonomy;
    let mut cats = Vec::new();
    for c in &a.categories {
        let c = tax.parse(c).map_err(|e| AppError::Invalid(e.to_string()))?;
        if !cats.contains(&c) {
            cats.push(c);
        }
    }
    let other = clean(a.other.as_deref());
    let suggestion = clean(a.suggestion.as_deref());
    if other.is_some() {
        let o = tax.parse("other").map_err(|e| AppError::Invalid(e.to_string()))?;
        if !cats.contains(&o) {
            cats.push(o);
        }
    }
    if cats.is_empty() {
        return Err(AppError::Invalid("choose at least one reason, or tell us in your own words".into()));
    }
    let come_back =
        a.come_back.ok_or_else(|| AppError::Invalid("tell us whether you would consider coming back".into()))?;
    let channel = match a.channel.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) if CHANNELS.iter().any(|(k, _)| *k == c) => Some(c.to_string()),
        Some(c) => return Err(AppError::Invalid(format!("unknown channel '{c}'"))),
        None => None,
    };
    let day = winback_domain::period::day_number(
        chrono::DateTime::from_timestamp(now, 0).map_or_else(|| chrono::Utc::now().date_naive(), |d| d.date_naive()),
    );
    let reasons: Vec<NewReason> = cats
        .iter()
        .map(|c| NewReason {
            line: 0,
            customer: t.external_id.clone(),
            category: c.clone(),
            scope: Scope::Specific,
            detail: if c.as_str() == "other" { other.clone() } else { None },
            suggestion: suggestion.clone(),
            source: Source::Survey,
            day,
            recorded_by: "survey".into(),
            cause: None,
            wont_return: come_back == ComeBack::No,
        })
        .collect();
    let stored = Answers {
        categories: cats.iter().map(|c| c.as_str().to_string()).collect(),
        other,
        suggestion,
        come_back: Some(come_back),
        channel,
    };
    let json = serde_json::to_string(&stored).map_err(|e| AppError::Invalid(e.to_string()))?;
    let ids = store.save_survey(&SurveySave {
        token_hash: &hash,
        customer_id: t.customer_id,
        campaign_id: t.campaign_id,
        answers: &json,
        come_back: come_back.as_str(),
        now,
        reasons: &reasons,
    })?;
    Ok(Submitted { reasons: ids, first_name: first_name(t.name.as_deref()), come_back })
}

/// A personal survey link for one customer (by their id in your data).
pub fn link(store: &mut dyn Store, customer: &str, url_pattern: &str) -> Result<String> {
    let token = random_hex(16);
    store.add_survey_link(&digest(&token), customer.trim(), None)?;
    Ok(url_pattern.replace("{token}", &token))
}

/// Survey answers per campaign: (campaign id, answers, said no).
pub fn by_campaign(store: &mut dyn Store) -> Result<std::collections::BTreeMap<i64, (usize, usize)>> {
    let mut out = std::collections::BTreeMap::new();
    for r in store.survey_responses()? {
        if let Some(c) = r.campaign_id {
            let e: &mut (usize, usize) = out.entry(c).or_default();
            e.0 += 1;
            e.1 += usize::from(r.come_back == "no");
        }
    }
    Ok(out)
}
