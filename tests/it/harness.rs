//! Test harness: an emulator on 127.0.0.1:0 in this process, a temporary home and work folder,
//! and the real `tcrl` binary run against them with a clean environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tcrl::emulator::store::Store;
use tcrl::emulator::{demo, Options, RunningEmulator};

/// A fake secret key used by tests that must prove it never appears in any output.
pub const FAKE_SECRET_KEY: &str = "fakeSECRETkey-do-not-print-0123456789";
pub const FAKE_SECRET_ID: &str = "AKIDfakeTESTid0123456789abcdefghij";
pub const FAKE_TOKEN: &str = "fakeSESSIONtoken-never-print-987654321";

/// A fixed demo anchor so test expectations do not depend on the day.
pub const ANCHOR: i64 = 1_790_000_000;

pub struct Env {
    pub rt: tokio::runtime::Runtime,
    pub emulator: Option<RunningEmulator>,
    pub dir: tempfile::TempDir,
}

impl Env {
    /// Demo data, demo credentials.
    pub fn demo() -> Self {
        Self::with(demo::demo(ANCHOR), Options::default())
    }

    pub fn with(store: Store, options: Options) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let emulator = rt
            .block_on(RunningEmulator::start(store, options))
            .expect("emulator starts");
        Env {
            rt,
            emulator: Some(emulator),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// No emulator, just a temporary home (for tests that need no network).
    pub fn offline() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Env {
            rt,
            emulator: None,
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn emulator(&self) -> &RunningEmulator {
        self.emulator.as_ref().expect("this env has an emulator")
    }

    pub fn endpoint(&self) -> String {
        self.emulator().endpoint()
    }

    pub fn home(&self) -> PathBuf {
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        home
    }

    /// Write a script file and return its path.
    pub fn script(&self, name: &str, code: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, code).unwrap();
        path
    }

    /// The binary with a clean environment: no credentials, a temporary HOME.
    pub fn tcrl(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tcrl"));
        for (k, _) in std::env::vars() {
            if k.starts_with("TENCENTCLOUD_") || k.starts_with("TCRL_") || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        cmd.env("HOME", self.home())
            .env("TCRL_METADATA_ENDPOINT", "http://127.0.0.1:9")
            .current_dir(self.dir.path());
        cmd
    }

    /// `tcrl run SCRIPT` against the emulator with the demo credentials, plus `extra` args.
    pub fn run_demo(&self, script: &Path, extra: &[&str]) -> Run {
        let mut cmd = self.tcrl();
        cmd.arg("run")
            .arg(script)
            .args(["--endpoint", &self.endpoint()])
            .env("TENCENTCLOUD_SECRET_ID", tcrl::emulator::DEMO_SECRET_ID)
            .env("TENCENTCLOUD_SECRET_KEY", tcrl::emulator::DEMO_SECRET_KEY)
            .args(extra);
        Run::of(&mut cmd)
    }

    /// Run a script (given as code) against the emulator with the demo credentials.
    pub fn lua(&self, code: &str) -> Run {
        let path = self.script("test.lua", code);
        self.run_demo(&path, &[])
    }
}

/// The outcome of one process run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(cmd: &mut Command) -> Run {
        let Output {
            status,
            stdout,
            stderr,
        } = cmd.output().expect("tcrl runs");
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// Assert success and return stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Assert exit `code` and return stderr.
    #[track_caller]
    pub fn fails(&self, code: i32) -> &str {
        assert_eq!(
            self.code, code,
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        &self.stderr
    }
}

impl Env {
    /// Call the emulator with the project's client (TC3, POST) as the demo account.
    pub fn call(
        &self,
        action: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, tcrl::Error> {
        self.call_with(
            action,
            params,
            tcrl::sign::SignMethod::Tc3,
            tcrl::api::HttpMethod::Post,
        )
    }

    /// Call with a chosen signature and HTTP method.
    pub fn call_with(
        &self,
        action: &str,
        params: serde_json::Value,
        sign_method: tcrl::sign::SignMethod,
        http_method: tcrl::api::HttpMethod,
    ) -> Result<serde_json::Value, tcrl::Error> {
        use std::sync::Arc;
        use tcrl::credentials::CredentialProvider;
        let provider = CredentialProvider::fixed(tcrl::emulator::demo_credentials(), "test");
        let limits = tcrl::api::ratelimit::RateLimits::new(0, Default::default());
        let client = tcrl::api::Client::new(
            Arc::new(provider),
            std::time::Duration::from_secs(5),
            limits,
        )
        .unwrap();
        let opts = self.call_options(sign_method, http_method);
        self.rt.block_on(client.call(action, &params, &opts))
    }

    pub fn call_options(
        &self,
        sign_method: tcrl::sign::SignMethod,
        http_method: tcrl::api::HttpMethod,
    ) -> tcrl::api::CallOptions {
        tcrl::api::CallOptions {
            service: "tcr".into(),
            version: "2019-09-24".into(),
            region: "ap-guangzhou".into(),
            endpoint: tcrl::region::Endpoint::parse(&self.endpoint(), false).unwrap(),
            timeout: std::time::Duration::from_secs(10),
            sign_method,
            http_method,
            language: None,
            // The emulator tests check single answers: no retries.
            retry: tcrl::api::retry::RetryPolicy {
                retries: 0,
                ..Default::default()
            },
        }
    }

    /// The API error code of a failed call.
    #[track_caller]
    pub fn error_code(&self, action: &str, params: serde_json::Value) -> (String, String) {
        match self.call(action, params) {
            Err(tcrl::Error::Api { code, message, .. }) => (code, message),
            other => panic!("expected an API error, got {other:?}"),
        }
    }
}
