//! `cargo lambda watch` in its own process group, stopped with everything it started.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::moto::{self};
use crate::{Mismatch, FUNCTION};

/// `cargo lambda watch` in its own process group, with its output (the function's logs included)
/// in a file; the whole group is stopped when dropped.
pub struct Watch {
    pub child: Child,
    pub log: PathBuf,
    pub address: SocketAddr,
}

impl Watch {
    pub fn start(
        cargo_lambda: &Path,
        release: bool,
        env: &[(String, String)],
        log: PathBuf,
    ) -> Result<Watch, Mismatch> {
        let address = free_loopback_address()?;
        let out = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new(cargo_lambda);
        command
            .args(["lambda", "watch", "--ignore-changes", "--bin", FUNCTION])
            .args(release.then_some("--release"))
            .args(["--invoke-address", &address.ip().to_string()])
            .args(["--invoke-port", &address.port().to_string()])
            .current_dir(moto::root())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        for (key, value) in env {
            command
                .env(key, value)
                .arg("--env-var")
                .arg(format!("{key}={value}"));
        }
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", cargo_lambda.display()))?;
        Ok(Watch {
            child,
            log,
            address,
        })
    }

    /// Waits until the invoke port accepts connections.
    pub fn wait_until_listening(&mut self) -> Result<(), Mismatch> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "cargo lambda watch exited ({status}) before serving:\n{}",
                    self.output()
                ));
            }
            if TcpStream::connect_timeout(&self.address, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!(
            "cargo lambda watch did not listen on {} within 120 s:\n{}",
            self.address,
            self.output()
        ))
    }

    /// Peak resident memory (VmHWM, KiB) of the function process watch started, if it runs.
    pub fn function_peak_rss_kib(&self) -> Option<u64> {
        descendants(self.child.id()).into_iter().find_map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let name = status.lines().find_map(|l| l.strip_prefix("Name:"))?.trim();
            if !FUNCTION.starts_with(name) {
                return None;
            }
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        })
    }

    /// Everything watch and the function printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // Watch's group holds watch and the cargo build it may run; the function process runs in
        // a session of its own, so it is stopped by its id.
        let mut targets = vec![format!("-{}", self.child.id())];
        targets.extend(descendants(self.child.id()).iter().map(u32::to_string));
        let kill = |signal: &str| {
            for target in &targets {
                let _ = Command::new("kill")
                    .args([signal, "--", target])
                    .stderr(Stdio::null())
                    .status();
            }
        };
        kill("-TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        kill("-KILL");
        let _ = self.child.wait();
    }
}

/// Every process below `pid` (children, their children, ...), from `/proc/*/stat`.
pub fn descendants(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|dir| {
            dir.flatten()
                .filter_map(|entry| {
                    let child: u32 = entry.file_name().to_str()?.parse().ok()?;
                    let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
                    // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
                    let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
                    Some((child, ppid.parse().ok()?))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut found = vec![pid];
    let mut index = 0;
    while index < found.len() {
        let parent = found[index];
        found.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        index += 1;
    }
    found.remove(0);
    found
}

pub fn free_loopback_address() -> Result<SocketAddr, Mismatch> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|e| format!("no free loopback port: {e}"))
}
