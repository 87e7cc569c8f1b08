//! The playbook: rules mapping a customer's reasons, decision, value tier and
//! segment to a strategy (steps, channel order, template, incentive), and the
//! message templates. Parsed from TOML with every error tied to its line.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::reasons::Taxonomy;

/// The commented default playbook (`winback playbook init` writes it).
pub const DEFAULT: &str = include_str!("../playbook.default.toml");

pub const STEPS: &[&str] = &["ask_why", "apologise", "announce_fix", "incentive", "personal_call", "check_in"];
pub const CHANNELS: &[&str] = &["email", "sms", "phone", "mail", "in_person"];

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(default = "default_sender")]
    pub sender: String,
    #[serde(default = "default_unsubscribe")]
    pub unsubscribe_url: String,
    /// The customer's exit survey; `{token}` as in `unsubscribe_url`.
    #[serde(default = "default_survey")]
    pub survey_url: String,
}

fn default_sender() -> String {
    "winback <winback@localhost>".into()
}
fn default_unsubscribe() -> String {
    "http://localhost:8080/u/{token}".into()
}
fn default_survey() -> String {
    "http://localhost:8080/s/{token}".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    #[serde(default)]
    pub decisions: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub tiers: Vec<String>,
    #[serde(default)]
    pub segments: Vec<String>,
    #[serde(default = "gone")]
    pub audience: String,
    /// `false`: only customers who have not told us why they left (ask them
    /// first); `true`: only those who have.
    #[serde(default)]
    pub reason_known: Option<bool>,
    pub strategy: String,
}

fn gone() -> String {
    "gone".into()
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Incentive {
    pub percent: Option<f64>,
    pub amount: Option<f64>,
    pub expiry_days: i32,
    pub cap: Option<f64>,
}

impl Incentive {
    /// "20% off your next order (up to 60.00)" or "5.00 off your next order".
    pub fn text(&self) -> String {
        match (self.percent, self.amount) {
            (Some(p), _) => format!(
                "{p}% off your next order{}",
                self.cap.map_or(String::new(), |c| format!(" (up to {})", crate::decision::format_money(c)))
            ),
            (None, Some(a)) => format!("{} off your next order", crate::decision::format_money(a)),
            _ => String::new(),
        }
    }

    /// What redeeming it on an order of `amount` costs the shop.
    pub fn cost(&self, amount: f64) -> f64 {
        let c = match (self.percent, self.amount) {
            (Some(p), _) => amount * p / 100.0,
            (None, Some(a)) => a.min(amount),
            _ => 0.0,
        };
        self.cap.map_or(c, |cap| c.min(cap))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Strategy {
    pub steps: Vec<String>,
    pub channels: Vec<String>,
    pub template: String,
    pub incentive: Option<Incentive>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    defaults: Option<Defaults>,
    rules: Vec<Spanned<Rule>>,
    #[serde(default)]
    strategies: BTreeMap<String, Spanned<Strategy>>,
    #[serde(default)]
    templates: BTreeMap<String, Spanned<Template>>,
}

/// A checked playbook.
#[derive(Debug, Clone, Serialize)]
pub struct Playbook {
    pub defaults: Defaults,
    pub rules: Vec<Rule>,
    pub strategies: BTreeMap<String, Strategy>,
    pub templates: BTreeMap<String, Template>,
}

/// A problem in a playbook file, at a line (1-based; 0 when unknown).
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

/// Who a rule is being matched for.
#[derive(Debug, Clone)]
pub struct Audience<'a> {
    /// "gone" or "at_risk".
    pub audience: &'a str,
    pub decision: Option<&'a str>,
    pub categories: &'a [String],
    pub tier: &'a str,
    pub segment: Option<&'a str>,
}

impl Playbook {
    /// Parse and check `text`; every problem found, each with its line.
    pub fn parse(text: &str, taxonomy: &Taxonomy) -> Result<Playbook, Vec<Problem>> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            vec![Problem {
                line: e.span().map_or(0, |s| line_of(text, s.start)),
                message: e.message().trim().to_string(),
            }]
        })?;
        let mut p = Vec::new();
        let at = |s: std::ops::Range<usize>| line_of(text, s.start);
        for r in &raw.rules {
            let line = at(r.span());
            let rule = r.get_ref();
            let mut bad = |m: String| p.push(Problem { line, message: format!("rule '{}': {m}", rule.name) });
            if !raw.strategies.contains_key(&rule.strategy) {
                bad(format!("no strategy '{}' (defined: {})", rule.strategy, keys(&raw.strategies)));
            }
            for d in &rule.decisions {
                if d == "walk_away" {
                    bad("walk_away customers are never contacted; remove it".into());
                } else if d != "win_back" && d != "keep_in_touch" {
                    bad(format!("unknown decision '{d}' (win_back, keep_in_touch)"));
                }
            }
            for c in &rule.categories {
                if let Err(e) = taxonomy.parse(c) {
                    bad(e.to_string());
                }
            }
            for t in &rule.tiers {
                if !["top", "mid", "low"].contains(&t.as_str()) {
                    bad(format!("unknown tier '{t}' (top, mid, low)"));
                }
            }
            if rule.audience != "gone" && rule.audience != "at_risk" {
                bad(format!("unknown audience '{}' (gone, at_risk)", rule.audience));
            }
        }
        if raw.rules.is_empty() {
            p.push(Problem { line: 0, message: "no [[rules]]: nobody would get a strategy".into() });
        }
        for (name, s) in &raw.strategies {
            let line = at(s.span());
            let st = s.get_ref();
            let mut bad = |m: String| p.push(Problem { line, message: format!("strategy '{name}': {m}") });
            for x in &st.steps {
                if !STEPS.contains(&x.as_str()) {
                    bad(format!("unknown step '{x}' ({})", STEPS.join(", ")));
                }
            }
            if st.channels.is_empty() {
                bad("no channels".into());
            }
            for c in &st.channels {
                if !CHANNELS.contains(&c.as_str()) {
                    bad(format!("unknown channel '{c}' ({})", CHANNELS.join(", ")));
                }
            }
            if !raw.templates.contains_key(&st.template) {
                bad(format!("no template '{}' (defined: {})", st.template, keys(&raw.templates)));
            }
            if let Some(i) = st.incentive {
                match (i.percent, i.amount) {
                    (Some(x), None) if x > 0.0 && x <= 100.0 => {}
                    (None, Some(x)) if x > 0.0 => {}
                    _ => bad("incentive: give either percent (0–100] or a positive amount".into()),
                }
                if i.expiry_days <= 0 || i.cap.is_some_and(|c| !(c > 0.0)) {
                    bad("incentive: expiry_days and cap must be positive".into());
                }
            }
        }
        for (name, t) in &raw.templates {
            let tl = t.get_ref();
            for (part, src) in [("subject", &tl.subject), ("body", &tl.body)] {
                let start = text[t.span().start..].find(src.as_str()).map_or(t.span().start, |o| t.span().start + o);
                if let Err(e) = check_template(src) {
                    let line = line_of(text, start) + e.1.saturating_sub(1);
                    p.push(Problem { line, message: format!("template '{name}' {part}: {}", e.0) });
                }
            }
        }
        if !p.is_empty() {
            p.sort_by_key(|x| x.line);
            return Err(p);
        }
        Ok(Playbook {
            defaults: raw.defaults.unwrap_or_else(|| Defaults {
                sender: default_sender(),
                unsubscribe_url: default_unsubscribe(),
                survey_url: default_survey(),
            }),
            rules: raw.rules.into_iter().map(Spanned::into_inner).collect(),
            strategies: raw.strategies.into_iter().map(|(k, v)| (k, v.into_inner())).collect(),
            templates: raw.templates.into_iter().map(|(k, v)| (k, v.into_inner())).collect(),
        })
    }

    /// The first rule that matches, and its strategy.
    pub fn choose(&self, a: &Audience) -> Option<(&Rule, &Strategy)> {
        let any = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == v);
        self.rules
            .iter()
            .find(|r| {
                r.audience == a.audience
                    && (r.decisions.is_empty() || a.decision.is_some_and(|d| any(&r.decisions, d)))
                    && (r.categories.is_empty() || a.categories.iter().any(|c| r.categories.contains(c)))
                    && any(&r.tiers, a.tier)
                    && (r.segments.is_empty() || a.segment.is_some_and(|s| any(&r.segments, s)))
                    && r.reason_known.is_none_or(|known| known != a.categories.is_empty())
            })
            .and_then(|r| self.strategies.get(&r.strategy).map(|s| (r, s)))
    }

    /// Render a template with `context` (see the default playbook for the fields).
    pub fn render(&self, template: &str, context: &serde_json::Value) -> Result<(String, String), String> {
        let t = self.templates.get(template).ok_or_else(|| format!("no template '{template}'"))?;
        Ok((render(&t.subject, context)?.trim().to_string(), render(&t.body, context)?.trim().to_string() + "\n"))
    }
}

fn keys<T>(m: &BTreeMap<String, T>) -> String {
    m.keys().cloned().collect::<Vec<_>>().join(", ")
}

fn env() -> minijinja::Environment<'static> {
    let mut e = minijinja::Environment::new();
    e.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    e
}

fn render(src: &str, context: &serde_json::Value) -> Result<String, String> {
    env().render_str(src, context).map_err(|e| e.to_string())
}

/// Compile, then render with a sample context so a misspelt field is caught now.
fn check_template(src: &str) -> Result<(), (String, usize)> {
    let e = env();
    let t = e.template_from_str(src).map_err(|x| (x.to_string(), x.line().unwrap_or(1)))?;
    t.render(sample_context()).map_err(|x| (x.to_string(), x.line().unwrap_or(1)))?;
    Ok(())
}

/// A context with every field a template may use.
pub fn sample_context() -> serde_json::Value {
    serde_json::json!({
        "customer": {"id": "C00042", "name": "Ada Costa", "first_name": "Ada", "email": "ada@example.com", "segment": "retail"},
        "history": {"purchases": 12, "net_revenue": 640.5, "last_purchase": "2025-03-01", "days_since": 212},
        "reasons": [{"category": "delivery", "label": "Delivery", "detail": "parcel arrived late", "suggestion": "tracking"}],
        "fix": {"title": "Late courier", "announcement": "next-day delivery with our own drivers"},
        "offer": {"code": "WB-7K3F9Q", "text": "20% off your next order", "expires": "2026-01-31"},
        "strategy": "apology_and_fix",
        "unsubscribe_url": "http://localhost:8080/u/abc",
        "survey_url": "http://localhost:8080/s/abc",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_playbook_is_valid_and_matches_in_order() {
        let p = Playbook::parse(DEFAULT, &Taxonomy::default()).unwrap();
        let cats = vec!["delivery".to_string()];
        let a =
            Audience { audience: "gone", decision: Some("win_back"), categories: &cats, tier: "mid", segment: None };
        assert_eq!(p.choose(&a).unwrap().0.strategy, "apology_and_fix");
        let top = Audience { tier: "top", ..a.clone() };
        assert_eq!(p.choose(&top).unwrap().0.strategy, "personal_call");
        // no reason known: ask first, no offer; a reason no rule names: the offer
        let none = Audience { categories: &[], ..a.clone() };
        assert_eq!(p.choose(&none).unwrap().0.strategy, "ask_why");
        assert!(p.strategies["ask_why"].incentive.is_none());
        let need = vec!["unmet_need".to_string()];
        assert_eq!(p.choose(&Audience { categories: &need, ..a.clone() }).unwrap().0.strategy, "we_miss_you");
        let (_, ask) = p.render("ask_why", &sample_context()).unwrap();
        assert!(ask.contains("http://localhost:8080/s/abc"), "{ask}");
        let risk = Audience { audience: "at_risk", decision: None, ..a };
        assert_eq!(p.choose(&risk).unwrap().0.strategy, "check_in");
        let (subject, body) = p.render("apology", &sample_context()).unwrap();
        assert_eq!(subject, "We're sorry, Ada, and we fixed it");
        assert!(body.contains("next-day delivery") && body.contains("WB-7K3F9Q") && body.contains("/u/abc"));
    }

    #[test]
    fn errors_name_their_lines() {
        let bad = "[[rules]]\nname = \"x\"\nstrategy = \"nope\"\ndecisions = [\"walk_away\"]\n\n[strategies.s]\nsteps = [\"dance\"]\nchannels = [\"email\"]\ntemplate = \"t\"\n\n[templates.t]\nsubject = \"hi\"\nbody = \"\"\"\nHello\n{{ custmer.name }}\n\"\"\"\n";
        let e = Playbook::parse(bad, &Taxonomy::default()).unwrap_err();
        let text: Vec<String> = e.iter().map(|p| p.to_string()).collect();
        assert!(text[0].starts_with("line 1: rule 'x': no strategy 'nope'"), "{text:?}");
        assert!(text.iter().any(|t| t.contains("walk_away customers are never contacted")));
        assert!(text.iter().any(|t| t.starts_with("line 6: strategy 's': unknown step 'dance'")), "{text:?}");
        assert!(
            text.iter().any(|t| t.starts_with("line 15: template 't' body") && t.contains("undefined")),
            "{text:?}"
        );
        let e = Playbook::parse("[[rules]\n", &Taxonomy::default()).unwrap_err();
        assert_eq!(e[0].line, 1, "{e:?}");
        let i = Incentive { percent: Some(20.0), amount: None, expiry_days: 30, cap: Some(60.0) };
        assert_eq!(i.cost(100.0), 20.0);
        assert_eq!(i.cost(1000.0), 60.0);
        assert_eq!(i.text(), "20% off your next order (up to 60.00)");
    }
}
