//! `winback campaign send`: email over SMTP, a task list for the other channels.
//! Each member is claimed (committed) before its message goes out and marked
//! after, so a send can be re-run after any interruption without sending twice.

use std::collections::HashMap;
use std::path::Path;
use winback_domain::campaign::{Arm, MemberState};

use anyhow::{bail, Context, Result};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};
use winback_domain::facts::CustomerFacts;
use winback_domain::period::day_number;
use winback_store::{Mark, MemberRow};

use super::campaign::{find, load_playbook_text, message, today};
use crate::cli::CampaignSendArgs;
use crate::output::emit;

/// RFC 2369 List-Unsubscribe, with RFC 8058 one-click POST.
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> std::result::Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> std::result::Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}

const TASK_HEADER: [&str; 10] =
    ["campaign", "customer", "name", "phone", "email", "channel", "strategy", "coupon", "subject", "script"];

/// What became of one message.
enum Delivery {
    Sent,
    /// Refused for good (a 5xx reply for this recipient, or a message the client
    /// cannot send): the member is failed.
    Refused(String),
    /// Not accepted after every try (connection refused, a 4xx reply such as
    /// greylisting, a timeout, a connection dropped mid-message): try again later.
    Later(String),
}

/// Send with retries: transient failures wait `wait`, then twice that, and so on.
/// A connection dropped after the message's final dot may have delivered it;
/// SMTP gives no way to know (RFC 5321 §6.1 accepts the duplicate), so it is
/// retried like any transient failure.
fn deliver(t: &SmtpTransport, msg: &Message, retries: u32, wait: std::time::Duration) -> Delivery {
    let mut delay = wait;
    let mut tries = 0;
    loop {
        match t.send(msg) {
            Ok(_) => return Delivery::Sent,
            Err(e) if e.is_permanent() || e.is_client() => return Delivery::Refused(e.to_string()),
            Err(e) if tries >= retries => return Delivery::Later(e.to_string()),
            Err(e) => {
                tracing::info!(error = %e, tries, "transient SMTP failure, retrying");
                std::thread::sleep(delay);
                delay = delay.saturating_mul(2);
                tries += 1;
            }
        }
    }
}

/// The SMTP URL with winback's TLS policy: STARTTLS whenever the server offers
/// it, required when the URL carries credentials (never sent in clear), plain
/// only with an explicit `tls=none`. Without a port, `smtp://` means port 25.
fn smtp_url(url: &str) -> String {
    let Some(rest) = url.strip_prefix("smtp://") else { return url.to_owned() };
    let (base, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    let tls = params.iter().find_map(|p| p.strip_prefix("tls="));
    let authority = base.split('/').next().unwrap_or("");
    let has_credentials = authority.contains('@');
    let host = authority.rsplit('@').next().unwrap_or("");
    let has_port = host.rsplit_once(':').is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty())
        && !host.ends_with(']');
    let base = if has_port {
        base.to_owned()
    } else {
        match base.split_once('/') {
            Some((a, path)) => format!("{a}:25/{path}"),
            None => format!("{base}:25"),
        }
    };
    match tls {
        Some("none") => params.retain(|p| !p.starts_with("tls=")),
        Some(_) => {}
        None if has_credentials => params.push("tls=required"),
        None => params.push("tls=opportunistic"),
    }
    if params.is_empty() {
        format!("smtp://{base}")
    } else {
        format!("smtp://{base}?{}", params.join("&"))
    }
}

/// A display name safe for a header: control characters (CR, LF…) become
/// spaces; `None` when nothing is left.
fn clean_name(name: &str) -> Option<String> {
    let s = clean_line(name);
    (!s.is_empty()).then_some(s)
}

/// One line of header text: control characters become spaces, runs collapse.
fn clean_line(s: &str) -> String {
    s.split(|c: char| c.is_control() || c.is_whitespace()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// A campaign name as a file name: anything but letters, digits, `-`, `_` and
/// `.` becomes `_`, and no leading dot (`../../x` → `.._.._x` → `_.._.._x`).
fn file_safe(name: &str) -> String {
    let s: String =
        name.chars().map(|c| if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect();
    if s.starts_with('.') || s.is_empty() {
        format!("_{s}")
    } else {
        s
    }
}

pub fn run(db: &str, config: Option<&Path>, a: &CampaignSendArgs) -> Result<()> {
    let mut w = super::assess::load(db, config)?;
    let c = find(w.store.as_mut(), &a.name)?;
    let pb = load_playbook_text(&c.c.playbook, &w.config.taxonomy)?;
    let day = a.date.map_or_else(today, day_number);
    let mut members = w.store.campaign_members(c.id)?;
    if a.release_unconfirmed {
        let mut released = 0;
        for m in members.iter().filter(|m| m.m.state == MemberState::Claimed) {
            w.store.mark(
                c.id,
                m.m.customer_id,
                &Mark { state: MemberState::Pending, day: None, message_id: None, error: None },
            )?;
            released += 1;
        }
        eprintln!("released {released} unconfirmed members back to pending");
        members = w.store.campaign_members(c.id)?;
    }
    members.sort_by(|x, y| y.m.value_if_won.total_cmp(&x.m.value_if_won).then(x.m.customer_id.cmp(&y.m.customer_id)));
    let unconfirmed = members.iter().filter(|m| m.m.state == MemberState::Claimed).count();
    let pending: Vec<&MemberRow> =
        members.iter().filter(|m| m.m.arm == Arm::Treatment && m.m.state == MemberState::Pending).collect();
    let pending = &pending[..pending.len().min(a.limit.unwrap_or(usize::MAX))];
    let transport = if pending.iter().any(|m| m.m.channel == "email") {
        let Some(url) = &a.smtp else {
            bail!("this campaign sends email: give the SMTP server with --smtp or WINBACK_SMTP_URL (e.g. smtp://127.0.0.1:25, smtps://user:pass@host:465)");
        };
        Some(
            SmtpTransport::from_url(&smtp_url(url))
                .with_context(|| "SMTP URL: use smtp://host:port, smtp://user:pass@host:587 (STARTTLS required), smtps://… or ?tls=none to send in clear")?
                .timeout(Some(std::time::Duration::from_secs(30)))
                .build(),
        )
    } else {
        None
    };
    let from: Mailbox =
        pb.defaults.sender.parse().with_context(|| format!("playbook sender '{}'", pb.defaults.sender))?;
    let facts: HashMap<i64, &CustomerFacts> = w.facts.customers.iter().map(|f| (f.id, f)).collect();
    let opted: Vec<(i64, String)> = w.store.opt_outs()?;
    // the task list is opened before anyone is claimed: a path that cannot be
    // written stops the send with nobody left claimed
    let tasks_path = a.tasks.clone().unwrap_or_else(|| format!("{}.tasks.csv", file_safe(&a.name)).into());
    let mut tasks: Option<csv::Writer<std::fs::File>> = None;
    if pending.iter().any(|m| m.m.channel != "email") {
        let new = !tasks_path.exists();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&tasks_path)
            .with_context(|| format!("cannot write the task list {}", tasks_path.display()))?;
        let mut wr = csv::Writer::from_writer(file);
        if new {
            wr.write_record(TASK_HEADER)?;
        }
        tasks = Some(wr);
    }
    let pb_bar = crate::progress::bar(pending.len() as u64, "messages");
    let (mut sent, mut tasked, mut failed, mut skipped, mut in_a_row, mut later) = (0, 0, 0, 0, 0, 0);
    let retry_wait = std::time::Duration::from_secs_f64(a.retry_wait.clamp(0.0, 600.0));
    let pause = a.rate.filter(|r| *r > 0.0).map(|r| std::time::Duration::from_secs_f64(1.0 / r));
    for m in pending {
        pb_bar.inc(1);
        let Some(f) = facts.get(&m.m.customer_id) else { continue };
        let out = opted.iter().any(|(c, ch)| *c == f.id && *ch == m.m.channel);
        if !w.store.claim(c.id, m.m.customer_id, day)? {
            continue; // another send took it
        }
        if out || f.do_not_contact || !f.reachable(&m.m.channel) {
            let why = if f.do_not_contact {
                "do not contact"
            } else {
                "opted out or consent withdrawn since the campaign was frozen"
            };
            w.store.mark(
                c.id,
                m.m.customer_id,
                &Mark { state: MemberState::Skipped, day: None, message_id: None, error: Some(why.into()) },
            )?;
            skipped += 1;
            continue;
        }
        // a member whose message cannot be built (a template that fails on their
        // data, an address that does not parse) is marked failed, and the send goes on
        let fail = |store: &mut dyn winback_store::Store, e: String| {
            store.mark(
                c.id,
                m.m.customer_id,
                &Mark { state: MemberState::Failed, day: None, message_id: None, error: Some(e) },
            )
        };
        let (subject, body) = match message(&w, &c, &pb, m, f) {
            Ok(x) => x,
            Err(e) => {
                fail(w.store.as_mut(), format!("{e:#}"))?;
                failed += 1;
                continue;
            }
        };
        if m.m.channel == "email" {
            let unsubscribe = pb.defaults.unsubscribe_url.replace("{token}", &m.m.unsubscribe_token);
            let id = format!("<{}.{}@winback>", c.id, m.m.unsubscribe_token);
            let built =
                f.email.as_deref().unwrap_or_default().parse().map_err(|e| format!("email address: {e}")).and_then(
                    |addr| {
                        Message::builder()
                            .from(from.clone())
                            .to(Mailbox::new(f.name.as_deref().and_then(clean_name), addr))
                            .subject(clean_line(&subject))
                            .message_id(Some(id.clone()))
                            .header(ListUnsubscribe(format!("<{unsubscribe}>")))
                            .header(ListUnsubscribePost)
                            .header(ContentType::TEXT_PLAIN)
                            .body(body)
                            .map_err(|e| format!("message: {e}"))
                    },
                );
            let msg = match built {
                Ok(msg) => msg,
                Err(e) => {
                    fail(w.store.as_mut(), e)?;
                    failed += 1;
                    continue;
                }
            };
            let Some(t) = transport.as_ref() else { bail!("no SMTP transport for an email member") };
            match deliver(t, &msg, a.retries, retry_wait) {
                Delivery::Sent => {
                    w.store.mark(
                        c.id,
                        m.m.customer_id,
                        &Mark { state: MemberState::Sent, day: Some(day), message_id: Some(id), error: None },
                    )?;
                    sent += 1;
                    in_a_row = 0;
                }
                Delivery::Refused(e) => {
                    // this recipient is refused for good (5xx): the others still go
                    fail(w.store.as_mut(), e)?;
                    failed += 1;
                }
                Delivery::Later(e) => {
                    // not accepted (server down, 4xx, a dropped connection): back to
                    // pending, for the next run
                    w.store.mark(
                        c.id,
                        m.m.customer_id,
                        &Mark { state: MemberState::Pending, day: None, message_id: None, error: Some(e.clone()) },
                    )?;
                    later += 1;
                    in_a_row += 1;
                    if in_a_row >= 3 {
                        pb_bar.finish_and_clear();
                        bail!(
                            "the SMTP server failed three members in a row after {} tries each (last: {e}); they and the rest stay pending. Sent so far: {sent}. Run send again when the server is back.",
                            a.retries + 1
                        );
                    }
                }
            }
        } else {
            let Some(t) = tasks.as_mut() else { bail!("the task list is not open") };
            // names and ids come from imported files: no cell may run as a formula
            let safe = |s: &str| crate::output::csv_safe(s).into_owned();
            t.write_record([
                safe(c.c.name.as_str()),
                safe(&f.external_id),
                safe(f.name.as_deref().unwrap_or("")),
                safe(f.phone.as_deref().unwrap_or("")),
                safe(f.email.as_deref().unwrap_or("")),
                safe(&m.m.channel),
                safe(&m.m.strategy),
                safe(m.m.coupon.as_deref().unwrap_or("")),
                safe(&subject),
                safe(&body),
            ])?;
            t.flush()?;
            w.store.mark(
                c.id,
                m.m.customer_id,
                &Mark { state: MemberState::Task, day: Some(day), message_id: None, error: None },
            )?;
            tasked += 1;
        }
        if let Some(p) = pause {
            std::thread::sleep(p);
        }
    }
    pb_bar.finish_and_clear();
    let mut s = format!("campaign '{}': {sent} emails sent, {tasked} tasks", c.c.name);
    if tasked > 0 {
        s += &format!(" (in {})", tasks_path.display());
    }
    s += &format!(", {skipped} skipped (opted out since), {failed} refused by the mail server (not retried)");
    if later > 0 {
        s += &format!(", {later} not accepted yet (pending again)");
    }
    s += ".\n";
    if unconfirmed > 0 {
        s += &format!(
            "{unconfirmed} members were claimed by an earlier send that stopped before confirming; they are not sent again (never twice). Check the mail server's log; --release-unconfirmed sends to them after all.\n"
        );
    }
    let left = members.iter().filter(|m| m.m.state == MemberState::Pending).count().saturating_sub(pending.len());
    if left > 0 {
        s += &format!("{left} still pending: run send again.\n");
    }
    emit(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_policy() {
        assert_eq!(smtp_url("smtp://127.0.0.1:2525"), "smtp://127.0.0.1:2525?tls=opportunistic");
        assert_eq!(smtp_url("smtp://mail.example.com"), "smtp://mail.example.com:25?tls=opportunistic");
        assert_eq!(smtp_url("smtp://u:p@mail.example.com:587"), "smtp://u:p@mail.example.com:587?tls=required");
        assert_eq!(smtp_url("smtp://u:p@host:25?tls=none"), "smtp://u:p@host:25");
        assert_eq!(smtp_url("smtp://host:25?tls=required"), "smtp://host:25?tls=required");
        assert_eq!(smtp_url("smtps://u:p@host"), "smtps://u:p@host");
    }

    #[test]
    fn names_and_files() {
        assert_eq!(clean_name("Ada\r\nBcc: x@y"), Some("Ada Bcc: x@y".into()));
        assert_eq!(clean_name("\r\n"), None);
        assert_eq!(file_safe("../../x"), "_.._.._x");
        assert_eq!(file_safe("spring 2025"), "spring_2025");
    }
}
