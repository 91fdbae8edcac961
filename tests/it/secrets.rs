//! A known fake secret key and session token never appear in stdout, stderr or logs, whatever
//! the script does and however verbose the logging.

use tcrl::credentials::Credentials;
use tcrl::emulator::{demo, Options};

use crate::harness::{Env, Run, ANCHOR, FAKE_SECRET_ID, FAKE_SECRET_KEY, FAKE_TOKEN};

fn assert_clean(out: &Run) {
    for secret in [FAKE_SECRET_KEY, FAKE_TOKEN] {
        assert!(
            !out.stdout.contains(secret),
            "secret in stdout:\n{}",
            out.stdout
        );
        assert!(
            !out.stderr.contains(secret),
            "secret in stderr:\n{}",
            out.stderr
        );
    }
}

#[test]
fn fake_secret_never_appears_in_any_output() {
    let env = Env::with(
        demo::demo(ANCHOR),
        Options {
            accounts: vec![Credentials::new(
                FAKE_SECRET_ID,
                FAKE_SECRET_KEY,
                Some(FAKE_TOKEN),
            )],
            ..Default::default()
        },
    );
    let scripts = [
        // Success with the most verbose logs.
        "print(tcr.call('DescribeInstances').TotalCount)",
        // A script that tries to print the key and token from the environment.
        "print(os.getenv('TENCENTCLOUD_SECRET_KEY'), os.getenv('TENCENTCLOUD_TOKEN'))",
        "tcr.log.error('leak?', {k = os.getenv('TENCENTCLOUD_SECRET_KEY')})",
        "error('boom ' .. os.getenv('TENCENTCLOUD_SECRET_KEY'))",
        "error(os.getenv('TENCENTCLOUD_TOKEN'))",
        // API errors, local errors, tcr.sign.
        "tcr.call('DescribeImages', {RegistryId = 'x', NamespaceName = 'y', RepositoryName = 'z'})",
        "tcr.call('DescribeImages', {X = print})",
        "local r = tcr.sign({action = 'DescribeInstances'}) for k, v in pairs(r.headers) do print(k, v) end",
        "for _, m in ipairs({'HmacSHA1', 'HmacSHA256'}) do print(tcr.call('DescribeInstances', {}, {sign_method = m, http_method = 'GET'}).TotalCount) end",
    ];
    for code in scripts {
        let path = env.script("secret.lua", code);
        let mut cmd = env.tcrl();
        cmd.arg("run")
            .arg(&path)
            .args(["--endpoint", &env.endpoint(), "-vv"])
            .env("TENCENTCLOUD_SECRET_ID", FAKE_SECRET_ID)
            .env("TENCENTCLOUD_SECRET_KEY", FAKE_SECRET_KEY)
            .env("TENCENTCLOUD_TOKEN", FAKE_TOKEN);
        let out = Run::of(&mut cmd);
        assert_clean(&out);
        for json in ["--log-format", "json"].chunks(2) {
            let out = Run::of(cmd.args(json));
            assert_clean(&out);
        }
    }
    // The calls really were made and accepted with that key and token.
    let ok = env
        .emulator()
        .emulator
        .requests()
        .iter()
        .filter(|r| r.code == "ok")
        .count();
    assert!(ok >= 6, "{ok} successful calls");
}

#[test]
fn secret_given_as_flag_is_not_printed_either() {
    let env = Env::with(
        demo::demo(ANCHOR),
        Options {
            accounts: vec![Credentials::new(FAKE_SECRET_ID, FAKE_SECRET_KEY, None)],
            ..Default::default()
        },
    );
    let path = env.script(
        "flag.lua",
        "print(tcr.call('DescribeInstances').TotalCount) error('done')",
    );
    let out = Run::of(env.tcrl().arg("run").arg(&path).args([
        "--endpoint",
        &env.endpoint(),
        "-vv",
        "--secret-id",
        FAKE_SECRET_ID,
        "--secret-key",
        FAKE_SECRET_KEY,
    ]));
    assert_eq!(out.stdout, "1\n");
    assert_clean(&out);
}
