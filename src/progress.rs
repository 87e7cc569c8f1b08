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
