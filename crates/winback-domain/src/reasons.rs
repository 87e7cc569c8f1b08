//! Why customers left: a taxonomy of reason categories (extendable per business),
//! and reasons as recorded from calls, emails, surveys and imports.

use serde::{Deserialize, Serialize};

/// A reason category known to the taxonomy, by its key (`price`, `delivery`…).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Category(String);

impl Category {
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// A category read back from the store, where it was checked on the way in.
    pub fn stored(key: String) -> Self {
        Category(key)
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One entry of the taxonomy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CategoryDef {
    pub key: String,
    pub label: String,
    /// A lost customer with this reason should be kept in touch with rather than
    /// chased (they outgrew us, moved, no longer need what we sell).
    #[serde(default)]
    pub keep_in_touch: bool,
}

fn def(key: &str, label: &str, keep_in_touch: bool) -> CategoryDef {
    CategoryDef { key: key.into(), label: label.into(), keep_in_touch }
}

/// The reason categories a business uses: the defaults plus its own.
#[derive(Debug, Clone, Serialize)]
pub struct Taxonomy {
    pub categories: Vec<CategoryDef>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReasonError {
    #[error("unknown reason category '{0}'; known: {1}")]
    UnknownCategory(String, String),
    #[error("unknown {what} '{given}'; expected one of: {expected}")]
    UnknownValue { what: &'static str, given: String, expected: &'static str },
}

impl Default for Taxonomy {
    /// The default taxonomy, after the reasons win-back guides list most often.
    fn default() -> Self {
        Taxonomy {
            categories: vec![
                def("poor_service", "Poor service", false),
                def("product_quality", "Product quality", false),
                def("price", "Price", false),
                def("competitor", "Competitor's offer", false),
                def("unmet_need", "Unmet need", false),
                def("staff", "Rude or unhelpful staff", false),
                def("indifference", "Felt unvalued (indifference)", false),
                def("outgrew_us", "Outgrew us", true),
                def("moved", "Moved or no longer needs", true),
                def("billing", "Billing", false),
                def("delivery", "Delivery", false),
                def("other", "Other", false),
            ],
        }
    }
}

impl Taxonomy {
    /// The defaults extended (or relabelled) by a business's own categories.
    pub fn with(extra: &[CategoryDef]) -> Self {
        let mut t = Taxonomy::default();
        for e in extra {
            match t.categories.iter_mut().find(|c| c.key == e.key) {
                Some(c) => *c = e.clone(),
                None => t.categories.push(e.clone()),
            }
        }
        t
    }

    /// Parse a category key (case-insensitive; spaces and dashes read as `_`).
    pub fn parse(&self, s: &str) -> Result<Category, ReasonError> {
        let key: String = s.trim().to_lowercase().chars().map(|c| if c == ' ' || c == '-' { '_' } else { c }).collect();
        if self.categories.iter().any(|c| c.key == key) {
            Ok(Category(key))
        } else {
            let known: Vec<&str> = self.categories.iter().map(|c| c.key.as_str()).collect();
            Err(ReasonError::UnknownCategory(s.trim().to_string(), known.join(", ")))
        }
    }

    pub fn label(&self, c: &Category) -> String {
        self.categories.iter().find(|d| d.key == c.0).map_or_else(|| c.0.clone(), |d| d.label.clone())
    }

    pub fn keep_in_touch(&self, c: &Category) -> bool {
        self.categories.iter().any(|d| d.key == c.0 && d.keep_in_touch)
    }
}

/// Whether a reason is about this one customer's experience or something many
/// customers meet (a process, a policy, a product line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Systemic,
    Specific,
}

/// How a reason reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Call,
    Email,
    Survey,
    InPerson,
    Import,
}

macro_rules! names {
    ($t:ty, $what:literal, $expected:literal, $($v:ident => $s:literal),+) => {
        impl $t {
            pub fn name(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
        }
        impl std::str::FromStr for $t {
            type Err = ReasonError;
            fn from_str(s: &str) -> Result<Self, ReasonError> {
                match s.trim().to_lowercase().replace(['-', ' '], "_").as_str() {
                    $($s => Ok(Self::$v),)+
                    _ => Err(ReasonError::UnknownValue { what: $what, given: s.trim().into(), expected: $expected }),
                }
            }
        }
    };
}
pub(crate) use names;

names!(Scope, "scope", "systemic, specific", Systemic => "systemic", Specific => "specific");
names!(Source, "source", "call, email, survey, in_person, import",
    Call => "call", Email => "email", Survey => "survey", InPerson => "in_person", Import => "import");

/// A reason to record. The customer is an external id; the store resolves it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReason {
    /// Input line (imports), 0 when typed at the command line.
    pub line: u64,
    pub customer: String,
    pub category: Category,
    pub scope: Scope,
    pub detail: Option<String>,
    pub suggestion: Option<String>,
    pub source: Source,
    /// Day the customer gave the reason (day number).
    pub day: i32,
    pub recorded_by: String,
    /// Root cause to link to; `None` links to an unfixed cause covering the category, if any.
    pub cause: Option<i64>,
    /// The customer said they would not come back (the exit survey's "no").
    pub wont_return: bool,
}

/// A stored reason.
#[derive(Debug, Clone, Serialize)]
pub struct Reason {
    pub id: i64,
    pub customer_id: i64,
    pub customer: String,
    pub category: Category,
    pub scope: Scope,
    pub detail: Option<String>,
    pub suggestion: Option<String>,
    pub source: Source,
    #[serde(serialize_with = "crate::period::iso_day")]
    pub day: i32,
    pub recorded_by: String,
    pub recorded_at: String,
    pub cause: Option<i64>,
    /// The customer said they would not come back: keep in touch, don't chase.
    pub wont_return: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_categories_loosely_and_rejects_unknown_ones() {
        let t = Taxonomy::default();
        assert_eq!(t.parse(" Poor Service ").unwrap().as_str(), "poor_service");
        assert_eq!(t.parse("outgrew-us").unwrap().as_str(), "outgrew_us");
        let e = t.parse("weather").unwrap_err().to_string();
        assert!(e.contains("unknown reason category 'weather'") && e.contains("price"), "{e}");
        let t = Taxonomy::with(&[def("parking", "No parking", false), def("price", "Too expensive", false)]);
        assert!(t.parse("parking").is_ok());
        assert_eq!(t.label(&t.parse("price").unwrap()), "Too expensive");
        assert!(t.keep_in_touch(&t.parse("moved").unwrap()));
        assert_eq!("in person".parse::<Source>().unwrap(), Source::InPerson);
        assert!("fax".parse::<Source>().is_err());
    }
}
