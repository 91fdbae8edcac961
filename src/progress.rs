//! Progress lines for long paginations and `tcr.map`, drawn on stderr by indicatif.
//!
//! Shown only when stderr is a terminal and the user did not ask for `--quiet`; never in the
//! daemon. The terminal is one per process, so the switch is too. Script output (`print`) and
//! log lines go through [`suspend`] so they are not drawn over a bar.

use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};

static BARS: OnceLock<Option<MultiProgress>> = OnceLock::new();

/// Turn progress lines on when stderr is a terminal and `quiet` is false. The first call wins;
/// without a call there are none.
pub fn init(quiet: bool) {
    let enabled = !quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = BARS.get_or_init(|| {
        enabled.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10)))
    });
}

fn bars() -> Option<&'static MultiProgress> {
    BARS.get().and_then(Option::as_ref)
}

/// Whether progress lines are drawn in this process.
pub fn enabled() -> bool {
    bars().is_some()
}

/// A new progress line, or `None` when progress is off. `total` is `None` while unknown.
/// Dropping the bar clears its line.
pub fn bar(label: &str, total: Option<u64>) -> Option<ProgressBar> {
    let multi = bars()?;
    let style = |template: &str| {
        ProgressStyle::with_template(template)
            .expect("the template is valid")
            .with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0}/s", state.per_sec());
                },
            )
            .progress_chars("=> ")
    };
    let bar = match total {
        Some(n) => ProgressBar::new(n).with_style(style(
            "{prefix} [{bar:30}] {human_pos}/{human_len} items, {rate}, {elapsed}",
        )),
        None => ProgressBar::no_length()
            .with_style(style("{prefix} {human_pos} items, {rate}, {elapsed}")),
    };
    let bar = multi.add(
        bar.with_prefix(label.to_string())
            .with_finish(ProgressFinish::AndClear),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    Some(bar)
}

/// Run `write` with the progress lines lifted off the terminal, so output lands above them.
pub fn suspend<R>(write: impl FnOnce() -> R) -> R {
    match bars() {
        Some(multi) => multi.suspend(write),
        None => write(),
    }
}
