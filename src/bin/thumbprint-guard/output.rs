//! Writing to stdout.

/// Writes the report to stdout. A closed pipe (`sweep --json | head`) is not a failure of the
/// sweep: the exit code still says what was found, and SNS still gets the report.
pub fn write_stdout(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("thumbprint-guard: cannot write the report to stdout: {e}");
        }
    }
}
