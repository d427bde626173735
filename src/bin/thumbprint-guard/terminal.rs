//! What the CLI's output goes to: the table's width and colour for stdout, ANSI in the logs on
//! stderr, and the progress line while the issuers are probed. Detection is anstream's (TTY,
//! `NO_COLOR`, `CLICOLOR`, `CLICOLOR_FORCE`, `TERM`) and console's (width); drawing is indicatif's.

use std::io::IsTerminal as _;
use std::time::Duration;

use anstream::{AutoStream, ColorChoice};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use thumbprint_guard::render::{count, Terminal};

/// How long a sweep runs before the progress line appears (a quick one never shows it).
const PROGRESS_AFTER: Duration = Duration::from_secs(1);

/// The table's terminal: stdout's width when it is a terminal, colour when anstream says so for
/// stdout (never with `NO_COLOR` set and not empty).
pub fn stdout_terminal() -> Terminal {
    Terminal {
        width: console::Term::stdout()
            .size_checked()
            .map(|(_rows, columns)| columns),
        colour: AutoStream::choice(&std::io::stdout()) != ColorChoice::Never,
    }
}

/// Whether the logs on stderr may carry ANSI colour: stderr is a terminal and colour is wanted.
pub fn stderr_ansi() -> bool {
    AutoStream::choice(&std::io::stderr()) != ColorChoice::Never
}

/// The progress line of one sweep on stderr; hidden unless stderr is a terminal and the sweep
/// has run for [`PROGRESS_AFTER`]. [`SweepProgress::clear`] removes it before the table prints.
pub struct SweepProgress {
    bar: ProgressBar,
}

impl SweepProgress {
    /// A hidden progress line that shows itself after [`PROGRESS_AFTER`] when stderr is a
    /// terminal. Call inside the runtime (it spawns the timer).
    pub fn start() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message("reading the account's OIDC providers, clusters and roles");
        if std::io::stderr().is_terminal() {
            let later = bar.clone();
            tokio::spawn(async move {
                tokio::time::sleep(PROGRESS_AFTER).await;
                if !later.is_finished() {
                    later.set_draw_target(ProgressDrawTarget::stderr());
                    later.enable_steady_tick(Duration::from_millis(120));
                }
            });
        }
        SweepProgress { bar }
    }

    /// The run's progress watcher: the line says how many providers' issuers are probed.
    pub fn hook(&self) -> impl Fn(usize, usize) + Sync + Send {
        let bar = self.bar.clone();
        move |done, total| {
            bar.set_message(format!(
                "probing issuers: {done} of {} done",
                count(total, "provider", "providers")
            ));
        }
    }

    /// Removes the line (and stops its timer) before anything else is printed.
    pub fn clear(&self) {
        self.bar.finish_and_clear();
    }
}
