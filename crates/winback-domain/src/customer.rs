//! Customers and their touchpoints as a CRM or help desk exports them.
//! Days are day numbers ([`crate::period::day_number`]).

/// A customer as imported from a CRM export; `None` leaves a stored value as is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerRecord {
    pub line: u64,
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub preferred_channel: Option<String>,
    pub consent_email: Option<bool>,
    pub consent_sms: Option<bool>,
    pub consent_phone: Option<bool>,
    pub consent_mail: Option<bool>,
    pub do_not_contact: Option<bool>,
    pub flags: Option<String>,
    pub cost_to_serve: Option<f64>,
    pub segment: Option<String>,
    pub tags: Option<String>,
    pub contract_start: Option<i32>,
    pub contract_end: Option<i32>,
}

impl CustomerRecord {
    /// Whether the record says anything beyond the customer's id.
    pub fn has_fields(&self) -> bool {
        *self != CustomerRecord { line: self.line, external_id: self.external_id.clone(), ..Default::default() }
    }
}

/// A touchpoint: support ticket, complaint, late delivery, return, call…
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub line: u64,
    pub customer: String,
    pub day: i32,
    pub kind: String,
    /// Other columns, as a JSON object.
    pub attributes: String,
}
