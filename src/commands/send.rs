//! `winback campaign send`: the SMTP server and the task list opened from the
//! arguments, the application layer's send called, its report printed.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Result};
use winback_app::send::{self, CsvTasks, SendRequest, Smtp};
use winback_domain::period::day_number;

use crate::cli::CampaignSendArgs;
use crate::output::emit;

pub fn run(db: &str, config: Option<&Path>, a: &CampaignSendArgs) -> Result<()> {
    let mut w = super::assess::load(db, config)?;
    let (email, tasks) = send::needs(&mut w, &a.name, a.limit, a.release_unconfirmed)?;
    let retry_wait = Duration::from_secs_f64(a.retry_wait.clamp(0.0, 600.0));
    let smtp = match (&a.smtp, email) {
        (Some(url), true) => Some(Smtp::new(url, a.connections.clamp(1, 64) as u32, a.retries, retry_wait)?),
        _ => None,
    };
    // the task list is opened before anyone is claimed: a path that cannot be
    // written stops the send with nobody left claimed
    let tasks_path = a.tasks.clone().unwrap_or_else(|| format!("{}.tasks.csv", send::file_safe(&a.name)).into());
    let mut sink = if tasks { Some(CsvTasks::open(&tasks_path)?) } else { None };
    let req = SendRequest {
        campaign: &a.name,
        day: a.date.map_or_else(winback_app::campaigns::today, day_number),
        limit: a.limit,
        release_unconfirmed: a.release_unconfirmed,
        rate: a.rate,
        connections: a.connections,
        pause: None,
    };
    let bar = crate::progress::bar(0, "messages");
    let mut progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let r = send::send(
        &mut w,
        &req,
        smtp.as_ref().map(|s| s as &dyn send::Deliver),
        sink.as_mut().map(|s| s as &mut dyn send::TaskSink),
        &mut progress,
    );
    bar.finish_and_clear();
    let r = r?;
    if r.released > 0 {
        eprintln!("released {} unconfirmed members back to pending", r.released);
    }
    let mut s = format!("campaign '{}': {} emails sent, {} tasks", r.campaign, r.sent, r.tasks);
    if r.tasks > 0 {
        s += &format!(" (in {})", tasks_path.display());
    }
    s += &format!(", {} skipped (opted out since), {} refused by the mail server (not retried)", r.skipped, r.failed);
    if r.later > 0 {
        s += &format!(", {} not accepted yet (pending again)", r.later);
    }
    s += ".\n";
    if r.unconfirmed > 0 {
        s += &format!(
            "{} members were claimed by an earlier send that stopped before confirming; they are not sent again (never twice). Check the mail server's log; --release-unconfirmed sends to them after all.\n",
            r.unconfirmed
        );
    }
    if r.still_pending > 0 {
        s += &format!("{} still pending: run send again.\n", r.still_pending);
    }
    if let Some(e) = &r.stopped {
        emit(&s)?;
        bail!(
            "the SMTP server failed three members in a row after {} tries each (last: {e}); they and the rest stay pending. Sent so far: {}. Run send again when the server is back.",
            a.retries + 1,
            r.sent
        );
    }
    emit(&s)
}
