//! Progress feedback on stderr, shown only when stderr is a terminal.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A spinner with a message while something runs; invisible when not a TTY.
pub struct Spinner(ProgressBar);

impl Spinner {
    pub fn new(msg: impl Into<String>) -> Self {
        // ProgressBar draws to stderr and hides itself when stderr is not a terminal.
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(msg.into());
        // the ticker is a thread: none when nothing would be drawn
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            pb.enable_steady_tick(Duration::from_millis(120));
        }
        Spinner(pb)
    }

    pub fn finish(self) {
        self.0.finish_and_clear();
    }
}

/// A bar over `len` items; invisible when stderr is not a terminal.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what} {{elapsed}} (eta {{eta}})"))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb
}

/// Page faults of the process so far (Linux: minor faults from
/// `/proc/self/stat`; 0 elsewhere), logged beside each stage's seconds by
/// `-v`: on a VM a fresh page costs microseconds, so the count tells where
/// memory was touched for the first time. Only read when `-v` shows it.
pub fn page_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // fields after the command name (which may hold spaces) in parentheses;
    // minflt is field 10 of the line, the 8th after the name
    stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(7)).and_then(|v| v.parse().ok()).unwrap_or(0)
}
