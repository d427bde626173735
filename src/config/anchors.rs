//! `EXTRA_TRUST_ANCHORS_PEM`: a regular file of at most 1 MiB, checked before it is opened so a
//! FIFO, a device such as `/dev/zero` or a huge file is refused at once instead of hanging the run
//! or filling its memory.

use std::fs::Metadata;
use std::io::Read;
use std::path::Path;

use super::error::ConfigError;

/// The variable naming the file.
pub const TRUST_ANCHORS_VAR: &str = "EXTRA_TRUST_ANCHORS_PEM";

/// Largest trust-anchor file read (1 MiB).
pub const MAX_TRUST_ANCHORS_BYTES: u64 = 1024 * 1024;

fn file_error(path: &Path, problem: String) -> ConfigError {
    ConfigError::File {
        var: TRUST_ANCHORS_VAR,
        path: path.to_path_buf(),
        problem,
    }
}

fn check_metadata(path: &Path, metadata: &Metadata) -> Result<(), ConfigError> {
    let kind = metadata.file_type();
    if !kind.is_file() {
        let what = if kind.is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(file_error(
            path,
            format!("must be a regular PEM file of at most 1 MiB; it is {what}"),
        ));
    }
    if metadata.len() > MAX_TRUST_ANCHORS_BYTES {
        return Err(file_error(
            path,
            format!(
                "must be a regular PEM file of at most 1 MiB; it has {} bytes",
                metadata.len()
            ),
        ));
    }
    Ok(())
}

/// Checks, without opening it, that `path` is a regular file of at most 1 MiB (symbolic links
/// followed).
pub fn check_trust_anchors_file(path: &Path) -> Result<(), ConfigError> {
    let metadata =
        std::fs::metadata(path).map_err(|e| file_error(path, format!("cannot be read: {e}")))?;
    check_metadata(path, &metadata)
}

/// Reads the trust-anchor file: checks it as [`check_trust_anchors_file`] does, opens it, checks
/// the opened file again (it may have been replaced meanwhile) and reads at most 1 MiB + 1 bytes,
/// so nothing larger is ever held in memory.
pub fn read_trust_anchors_pem(path: &Path) -> Result<Vec<u8>, ConfigError> {
    check_trust_anchors_file(path)?;
    let file =
        std::fs::File::open(path).map_err(|e| file_error(path, format!("cannot be read: {e}")))?;
    let metadata = file
        .metadata()
        .map_err(|e| file_error(path, format!("cannot be read: {e}")))?;
    check_metadata(path, &metadata)?;
    let mut pem = Vec::new();
    file.take(MAX_TRUST_ANCHORS_BYTES + 1)
        .read_to_end(&mut pem)
        .map_err(|e| file_error(path, format!("cannot be read: {e}")))?;
    if pem.len() as u64 > MAX_TRUST_ANCHORS_BYTES {
        return Err(file_error(
            path,
            "must be a regular PEM file of at most 1 MiB; it grew past 1 MiB while being read"
                .to_string(),
        ));
    }
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_refused(path: &Path, says: &str) {
        for err in [
            check_trust_anchors_file(path).unwrap_err(),
            read_trust_anchors_pem(path).unwrap_err(),
        ] {
            let text = err.to_string();
            assert!(text.starts_with("EXTRA_TRUST_ANCHORS_PEM: "), "{text}");
            assert!(text.contains(&path.display().to_string()), "{text}");
            assert!(text.contains(says), "{text}");
        }
    }

    #[test]
    fn dev_zero_is_refused_without_reading() {
        assert_refused(Path::new("/dev/zero"), "not a regular file");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_opening() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("anchors.pem");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Opening a FIFO without a writer would block this test forever: a pass proves no open.
        assert_refused(&fifo, "not a regular file");
    }

    #[test]
    fn a_directory_and_a_missing_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_refused(dir.path(), "a directory");
        assert_refused(&dir.path().join("missing.pem"), "cannot be read");
    }

    #[test]
    fn a_two_mib_file_is_refused_and_one_mib_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.pem");
        std::fs::write(&big, vec![b'A'; 2 * 1024 * 1024]).unwrap();
        assert_refused(&big, "it has 2097152 bytes");
        let limit = dir.path().join("limit.pem");
        std::fs::write(&limit, vec![b'A'; MAX_TRUST_ANCHORS_BYTES as usize]).unwrap();
        assert_eq!(
            read_trust_anchors_pem(&limit).unwrap().len() as u64,
            MAX_TRUST_ANCHORS_BYTES
        );
        let over = dir.path().join("over.pem");
        std::fs::write(&over, vec![b'A'; MAX_TRUST_ANCHORS_BYTES as usize + 1]).unwrap();
        assert_refused(&over, "it has 1048577 bytes");
    }
}
