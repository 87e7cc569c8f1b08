//! Sending a campaign: email through a [`Deliver`] (SMTP behind it), the other
//! channels to a [`TaskSink`] (a task list for people to work through).
//!
//! Each member is claimed (committed) before its message goes out and marked
//! after, so a send can be re-run after any interruption without sending twice.
//! Messages go out over several reused connections at once: one SMTP
//! connection waits on the network for most of each message (lettre writes the
//! body and the final dot separately and cannot set TCP_NODELAY, so the dot
//! waits for the server's delayed ACK), several hide that wait.

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};
use serde::Serialize;
use winback_domain::campaign::{Arm, MemberState};
use winback_domain::facts::CustomerFacts;
use winback_store::{Mark, MemberRow};

use crate::assess::World;
use crate::campaigns::{find, frozen_playbook, message, Knowledge};
use crate::{AppError, Result};

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Refused for good (a 5xx reply for this recipient, or a message the client
    /// cannot send): the member is failed.
    Refused(String),
    /// Not accepted after every try (connection refused, a 4xx reply such as
    /// greylisting, a timeout, a connection dropped mid-message): try again later.
    Later(String),
}

/// Something that delivers email. Shared by the sending threads.
pub trait Deliver: Sync {
    fn deliver(&self, msg: &Message) -> Delivery;
}

/// One contact for a person to make (phone, SMS, mail, in person).
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub campaign: String,
    pub customer: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub channel: String,
    pub strategy: String,
    pub coupon: String,
    pub subject: String,
    pub script: String,
}

/// Where tasks go.
pub trait TaskSink {
    fn write(&mut self, t: &Task) -> Result<()>;
}

/// SMTP through lettre, with a pool of reused connections and retries.
pub struct Smtp {
    transport: SmtpTransport,
    retries: u32,
    wait: Duration,
}

impl Smtp {
    /// `url` as winback reads it (see [`smtp_url`]); `connections` at most open
    /// at once. `?cafile=PATH` trusts the certificate authority in that PEM file
    /// besides the usual ones (a mail server with an internal CA).
    pub fn new(url: &str, connections: u32, retries: u32, wait: Duration) -> Result<Smtp> {
        let (url, cafile) = take_param(url, "cafile");
        let url = smtp_url(&url);
        let bad = |e: &dyn std::fmt::Display| {
            AppError::Invalid(format!(
                "SMTP URL ({e}): use smtp://host:port, smtp://user:pass@host:587 (STARTTLS required), smtps://… or ?tls=none to send in clear"
            ))
        };
        let mut builder = SmtpTransport::from_url(&url).map_err(|e| bad(&e))?;
        if let Some(path) = cafile {
            use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
            let pem =
                std::fs::read(&path).map_err(|e| AppError::File { path: path.clone(), message: e.to_string() })?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| AppError::File { path: path.clone(), message: e.to_string() })?;
            let host = url.split("://").nth(1).unwrap_or("").split(['/', '?']).next().unwrap_or("");
            let host = host.rsplit('@').next().unwrap_or("");
            let host = host.rsplit_once(':').map_or(host, |(h, _)| h).trim_start_matches('[').trim_end_matches(']');
            let params =
                TlsParameters::builder(host.to_string()).add_root_certificate(cert).build().map_err(|e| bad(&e))?;
            let tls = if url.starts_with("smtps://") {
                Tls::Wrapper(params)
            } else if url.contains("tls=required") {
                Tls::Required(params)
            } else if url.contains("tls=opportunistic") {
                Tls::Opportunistic(params)
            } else {
                Tls::None
            };
            builder = builder.tls(tls);
        }
        let transport = builder
            .timeout(Some(Duration::from_secs(30)))
            .pool_config(lettre::transport::smtp::PoolConfig::new().max_size(connections.max(1)))
            .build();
        Ok(Smtp { transport, retries, wait })
    }
}

/// The URL without query parameter `name`, and its value.
fn take_param(url: &str, name: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else { return (url.to_owned(), None) };
    let mut value = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|p| match p.strip_prefix(name).and_then(|v| v.strip_prefix('=')) {
            Some(v) => {
                value = Some(v.to_string());
                false
            }
            None => true,
        })
        .collect();
    if rest.is_empty() {
        (base.to_owned(), value)
    } else {
        (format!("{base}?{}", rest.join("&")), value)
    }
}

impl Deliver for Smtp {
    /// Transient failures wait `wait`, then twice that, and so on. A connection
    /// dropped after the message's final dot may have delivered it; SMTP gives no
    /// way to know (RFC 5321 §6.1 accepts the duplicate), so it is retried like
    /// any transient failure.
    fn deliver(&self, msg: &Message) -> Delivery {
        let mut delay = self.wait;
        let mut tries = 0;
        loop {
            match self.transport.send(msg) {
                Ok(_) => return Delivery::Sent,
                Err(e) if e.is_permanent() || e.is_client() => return Delivery::Refused(e.to_string()),
                Err(e) if tries >= self.retries => return Delivery::Later(e.to_string()),
                Err(e) => {
                    tracing::info!(error = %e, tries, "transient SMTP failure, retrying");
                    std::thread::sleep(delay);
                    delay = delay.saturating_mul(2);
                    tries += 1;
                }
            }
        }
    }
}

const TASK_HEADER: [&str; 10] =
    ["campaign", "customer", "name", "phone", "email", "channel", "strategy", "coupon", "subject", "script"];

/// A task list as CSV, appended to; no cell can run as a spreadsheet formula.
pub struct CsvTasks(csv::Writer<std::fs::File>);

impl CsvTasks {
    /// Open (or create with its header) the task list: done before anyone is
    /// claimed, so a path that cannot be written leaves nobody claimed.
    pub fn open(path: &Path) -> Result<CsvTasks> {
        let new = !path.exists();
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| AppError::File {
            path: path.display().to_string(),
            message: format!("cannot write the task list: {e}"),
        })?;
        let mut w = csv::Writer::from_writer(file);
        if new {
            w.write_record(TASK_HEADER).map_err(|e| task_error(path, e))?;
        }
        Ok(CsvTasks(w))
    }
}

fn task_error(path: &Path, e: impl std::fmt::Display) -> AppError {
    AppError::File { path: path.display().to_string(), message: e.to_string() }
}

impl TaskSink for CsvTasks {
    fn write(&mut self, t: &Task) -> Result<()> {
        let safe = |s: &str| crate::import::csv_safe(s).into_owned();
        let rec = [
            &t.campaign,
            &t.customer,
            &t.name,
            &t.phone,
            &t.email,
            &t.channel,
            &t.strategy,
            &t.coupon,
            &t.subject,
            &t.script,
        ]
        .map(|s| safe(s));
        self.0.write_record(rec).map_err(|e| task_error(Path::new("task list"), e))?;
        self.0.flush().map_err(|e| task_error(Path::new("task list"), e))
    }
}

/// The SMTP URL with winback's TLS policy: STARTTLS whenever the server offers
/// it, required when the URL carries credentials (never sent in clear), plain
/// only with an explicit `tls=none`. Without a port, `smtp://` means port 25.
pub fn smtp_url(url: &str) -> String {
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
pub fn clean_name(name: &str) -> Option<String> {
    let s = clean_line(name);
    (!s.is_empty()).then_some(s)
}

/// One line of header text: control characters become spaces, runs collapse.
pub fn clean_line(s: &str) -> String {
    s.split(|c: char| c.is_control() || c.is_whitespace()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// A campaign name as a file name: anything but letters, digits, `-`, `_` and
/// `.` becomes `_`, and no leading dot (`../../x` → `.._.._x` → `_.._.._x`).
pub fn file_safe(name: &str) -> String {
    let s: String =
        name.chars().map(|c| if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect();
    if s.starts_with('.') || s.is_empty() {
        format!("_{s}")
    } else {
        s
    }
}

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

/// What to send.
#[derive(Debug, Clone)]
pub struct SendRequest<'a> {
    pub campaign: &'a str,
    /// The day the contacts happen.
    pub day: i32,
    /// Send at most this many now.
    pub limit: Option<usize>,
    /// Hand members claimed by a send that stopped before confirming back to
    /// pending first (after checking the mail log that they got nothing).
    pub release_unconfirmed: bool,
    /// At most this many messages a second.
    pub rate: Option<f64>,
    /// Messages in flight at once (one per SMTP connection).
    pub connections: usize,
    /// Set to pause: no member is claimed after it; those not reached stay
    /// pending and the next send goes on from there.
    pub pause: Option<&'a std::sync::atomic::AtomicBool>,
}

/// What a send did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SendReport {
    pub campaign: String,
    pub sent: usize,
    pub tasks: usize,
    /// Opted out or lost consent since the campaign was frozen.
    pub skipped: usize,
    /// Refused for good, or a message that could not be built (not retried).
    pub failed: usize,
    /// Not accepted yet: pending again, for the next run.
    pub later: usize,
    pub released: usize,
    /// Claimed by an earlier send that never confirmed: not sent again.
    pub unconfirmed: usize,
    /// Pending members beyond `limit`, or not reached because the send stopped.
    pub still_pending: usize,
    /// Why the send stopped early (the server failed members three in a row).
    pub stopped: Option<String>,
    /// Paused on request; the rest are pending.
    pub paused: bool,
}

/// Which sinks a send of this campaign needs (email, tasks), so that the
/// caller opens only those, before anyone is claimed.
/// `release`: members claimed but unconfirmed count as pending.
pub fn needs(w: &mut World, campaign: &str, limit: Option<usize>, release: bool) -> Result<(bool, bool)> {
    let c = find(w.store.as_mut(), campaign)?;
    let pending = pending_members(w.store.campaign_members(c.id)?, limit, release);
    Ok((pending.iter().any(|m| m.m.channel == "email"), pending.iter().any(|m| m.m.channel != "email")))
}

fn pending_members(mut members: Vec<MemberRow>, limit: Option<usize>, released: bool) -> Vec<MemberRow> {
    members.sort_by(|x, y| y.m.value_if_won.total_cmp(&x.m.value_if_won).then(x.m.customer_id.cmp(&y.m.customer_id)));
    let mut p: Vec<MemberRow> = members
        .into_iter()
        .filter(|m| {
            m.m.arm == Arm::Treatment
                && (m.m.state == MemberState::Pending || (released && m.m.state == MemberState::Claimed))
        })
        .collect();
    p.truncate(limit.unwrap_or(usize::MAX));
    p
}

fn mark(state: MemberState, day: Option<i32>, message_id: Option<String>, error: Option<String>) -> Mark {
    Mark { state, day, message_id, error }
}

/// A message handed to a sending thread.
struct Job {
    customer_id: i64,
    message_id: String,
    msg: Message,
}

/// Send a campaign's pending treatment members. `progress(done, total)`.
pub fn send(
    w: &mut World,
    req: &SendRequest,
    mail: Option<&dyn Deliver>,
    mut tasks: Option<&mut dyn TaskSink>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<SendReport> {
    let c = find(w.store.as_mut(), req.campaign)?;
    let pb = frozen_playbook(&c, &w.config.taxonomy)?;
    let mut report = SendReport { campaign: c.c.name.clone(), ..SendReport::default() };
    let mut members = w.store.campaign_members(c.id)?;
    if req.release_unconfirmed {
        for m in members.iter().filter(|m| m.m.state == MemberState::Claimed) {
            w.store.mark(c.id, m.m.customer_id, &mark(MemberState::Pending, None, None, None))?;
            report.released += 1;
        }
        members = w.store.campaign_members(c.id)?;
    }
    report.unconfirmed = members.iter().filter(|m| m.m.state == MemberState::Claimed).count();
    let pending = pending_members(members, req.limit, false);
    if pending.iter().any(|m| m.m.channel == "email") && mail.is_none() {
        return Err(AppError::Invalid(
            "this campaign sends email: give the SMTP server with --smtp or WINBACK_SMTP_URL (e.g. smtp://127.0.0.1:25, smtps://user:pass@host:465)".into(),
        ));
    }
    if pending.iter().any(|m| m.m.channel != "email") && tasks.is_none() {
        return Err(AppError::Invalid("this campaign has phone, SMS or mail contacts: give a task list".into()));
    }
    let from: Mailbox = pb
        .defaults
        .sender
        .parse()
        .map_err(|e| AppError::Invalid(format!("playbook sender '{}': {e}", pb.defaults.sender)))?;
    let opted: Vec<(i64, String)> = w.store.opt_outs()?;
    let total = pending.len() as u64;
    let pause = req.rate.filter(|r| *r > 0.0).map(|r| Duration::from_secs_f64(1.0 / r));
    let connections = req.connections.clamp(1, 64);
    let know = Knowledge { reasons: &w.reasons, causes: &w.causes, taxonomy: &w.config.taxonomy };
    let facts: HashMap<i64, &CustomerFacts> = w.facts.customers.iter().map(|f| (f.id, f)).collect();
    let store = &mut w.store;

    // The store is used from this thread only: claims, builds and marks happen
    // here, the sending threads only talk SMTP.
    let (job_tx, job_rx) = mpsc::sync_channel::<Job>(connections);
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (done_tx, done_rx) = mpsc::channel::<(i64, String, Delivery)>();
    let mut in_flight = 0usize;
    let mut in_a_row = 0usize;
    let mut done = 0u64;
    let result: Result<()> = std::thread::scope(|s| {
        if let Some(mail) = mail {
            for _ in 0..connections {
                let rx = Arc::clone(&job_rx);
                let tx = done_tx.clone();
                s.spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    let d = mail.deliver(&job.msg);
                    if tx.send((job.customer_id, job.message_id, d)).is_err() {
                        return;
                    }
                });
            }
        }
        drop(done_tx);
        let settle = |store: &mut Box<dyn winback_store::Store>,
                      (customer, id, d): (i64, String, Delivery),
                      report: &mut SendReport,
                      in_a_row: &mut usize|
         -> Result<()> {
            match d {
                Delivery::Sent => {
                    store.mark(c.id, customer, &mark(MemberState::Sent, Some(req.day), Some(id), None))?;
                    report.sent += 1;
                    *in_a_row = 0;
                }
                // this recipient is refused for good (5xx): the others still go
                Delivery::Refused(e) => {
                    store.mark(c.id, customer, &mark(MemberState::Failed, None, None, Some(e)))?;
                    report.failed += 1;
                }
                // not accepted (server down, 4xx, a dropped connection): back to
                // pending, for the next run
                Delivery::Later(e) => {
                    store.mark(c.id, customer, &mark(MemberState::Pending, None, None, Some(e.clone())))?;
                    report.later += 1;
                    *in_a_row += 1;
                    if *in_a_row >= 3 && report.stopped.is_none() {
                        report.stopped = Some(e);
                    }
                }
            }
            Ok(())
        };
        // each message's links carry a fresh token; the store keeps its hash
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng();
        let run = (|| -> Result<()> {
            for m in &pending {
                // settle what has come back, without waiting
                while let Ok(r) = done_rx.try_recv() {
                    in_flight -= 1;
                    done += 1;
                    progress(done, total);
                    settle(store, r, &mut report, &mut in_a_row)?;
                }
                if report.stopped.is_some() {
                    break;
                }
                if req.pause.is_some_and(|p| p.load(std::sync::atomic::Ordering::Relaxed)) {
                    report.paused = true;
                    break;
                }
                let Some(f) = facts.get(&m.m.customer_id) else { continue };
                let token = crate::campaigns::member_token(&mut rng);
                if !store.claim(c.id, m.m.customer_id, req.day, &token)? {
                    continue; // another send took it
                }
                let mut mine = m.clone();
                mine.m.unsubscribe_token = token;
                let m = &mine;
                let out = opted.iter().any(|(c, ch)| *c == f.id && *ch == m.m.channel);
                if out || f.do_not_contact || !f.reachable(&m.m.channel) {
                    let why = if f.do_not_contact {
                        "do not contact"
                    } else {
                        "opted out or consent withdrawn since the campaign was frozen"
                    };
                    store.mark(c.id, m.m.customer_id, &mark(MemberState::Skipped, None, None, Some(why.into())))?;
                    report.skipped += 1;
                    done += 1;
                    progress(done, total);
                    continue;
                }
                // a member whose message cannot be built (a template that fails on
                // their data, an address that does not parse) is failed; the send goes on
                let built = message(&know, &c, &pb, m, f).and_then(|(subject, body)| {
                    if m.m.channel != "email" {
                        return Ok((subject, body, None));
                    }
                    let id = format!("<{}.{}@winback>", c.id, m.m.unsubscribe_token);
                    let unsubscribe = pb.defaults.unsubscribe_url.replace("{token}", &m.m.unsubscribe_token);
                    let addr = f
                        .email
                        .as_deref()
                        .unwrap_or_default()
                        .parse()
                        .map_err(|e| AppError::Invalid(format!("email address: {e}")))?;
                    let msg = Message::builder()
                        .from(from.clone())
                        .to(Mailbox::new(f.name.as_deref().and_then(clean_name), addr))
                        .subject(clean_line(&subject))
                        .message_id(Some(id.clone()))
                        .header(ListUnsubscribe(format!("<{unsubscribe}>")))
                        .header(ListUnsubscribePost)
                        .header(ContentType::TEXT_PLAIN)
                        .body(body.clone())
                        .map_err(|e| AppError::Invalid(format!("message: {e}")))?;
                    Ok((subject, body, Some((id, msg))))
                });
                let (subject, body, email) = match built {
                    Ok(x) => x,
                    Err(e) => {
                        store.mark(
                            c.id,
                            m.m.customer_id,
                            &mark(MemberState::Failed, None, None, Some(e.to_string())),
                        )?;
                        report.failed += 1;
                        done += 1;
                        progress(done, total);
                        continue;
                    }
                };
                match email {
                    Some((message_id, msg)) => {
                        job_tx
                            .send(Job { customer_id: m.m.customer_id, message_id, msg })
                            .map_err(|_| AppError::Invalid("the sending threads stopped".into()))?;
                        in_flight += 1;
                    }
                    None => {
                        let Some(t) = tasks.as_deref_mut() else {
                            return Err(AppError::Invalid("no task list".into()));
                        };
                        t.write(&Task {
                            campaign: c.c.name.clone(),
                            customer: f.external_id.clone(),
                            name: f.name.clone().unwrap_or_default(),
                            phone: f.phone.clone().unwrap_or_default(),
                            email: f.email.clone().unwrap_or_default(),
                            channel: m.m.channel.clone(),
                            strategy: m.m.strategy.clone(),
                            coupon: m.m.coupon.clone().unwrap_or_default(),
                            subject,
                            script: body,
                        })?;
                        store.mark(c.id, m.m.customer_id, &mark(MemberState::Task, Some(req.day), None, None))?;
                        report.tasks += 1;
                        done += 1;
                        progress(done, total);
                    }
                }
                if let Some(p) = pause {
                    std::thread::sleep(p);
                }
            }
            Ok(())
        })();
        // every message handed out is settled, whatever happened above
        drop(job_tx);
        let mut first_err = run.err();
        while in_flight > 0 {
            let Ok(r) = done_rx.recv() else { break };
            in_flight -= 1;
            done += 1;
            progress(done, total);
            if let Err(e) = settle(store, r, &mut report, &mut in_a_row) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    });
    result?;
    let members = w.store.campaign_members(c.id)?;
    report.still_pending =
        members.iter().filter(|m| m.m.arm == Arm::Treatment && m.m.state == MemberState::Pending).count();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cafile_parameter() {
        assert_eq!(take_param("smtp://h:25?cafile=/x.pem", "cafile"), ("smtp://h:25".into(), Some("/x.pem".into())));
        assert_eq!(
            take_param("smtp://h:25?tls=none&cafile=/x.pem", "cafile"),
            ("smtp://h:25?tls=none".into(), Some("/x.pem".into()))
        );
        assert_eq!(take_param("smtp://h:25", "cafile"), ("smtp://h:25".into(), None));
    }

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
