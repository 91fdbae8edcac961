//! From parsed arguments to a running command: settings, credentials, runtime, exit code.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::api::Client;
use crate::cli::{Cli, Command, ConnectArgs, RunArgs};
use crate::credentials::{ChainInputs, CredentialProvider};
use crate::error::{Error, Result};
use crate::lua::Runtime;
use crate::region::{self, Endpoint, EndpointPolicy};
use crate::settings::Settings;

/// Run the parsed command line to completion.
///
/// # Errors
/// Whatever the command fails with; `Error::exit_code` maps it to the process exit code.
pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run_script(args).await,
    }
}

async fn run_script(args: RunArgs) -> Result<()> {
    let script_args: BTreeMap<String, String> = args.args.into_iter().collect();
    let runtime = build_runtime(&args.connect, script_args)?;
    crate::runner::oneoff::run_file(runtime, &args.script).await
}

/// Settings from the connection flags (and their environment variables).
///
/// # Errors
/// `UnknownRegion`, or `Config` for a bad endpoint.
pub fn settings_from(connect: &ConnectArgs) -> Result<Settings> {
    let mut settings = Settings::default();
    if let Some(r) = &connect.region {
        region::lookup(r)?;
        settings.region = r.clone();
    }
    settings.insecure_http = connect.insecure_http;
    if let Some(e) = &connect.endpoint {
        settings.endpoint = Some(Endpoint::parse(e, connect.insecure_http)?);
    }
    settings.policy = EndpointPolicy {
        root_domain: connect
            .root_domain
            .clone()
            .unwrap_or_else(|| region::DEFAULT_ROOT_DOMAIN.to_string()),
        regional: connect.regional,
    };
    settings.connect_timeout = connect.connect_timeout;
    settings.request_timeout = connect.request_timeout;
    if let Some(lang) = &connect.language {
        if lang != "zh-CN" && lang != "en-US" {
            return Err(Error::Config(format!(
                "--language {lang:?}: expected zh-CN or en-US"
            )));
        }
        settings.language = Some(lang.clone());
    }
    Ok(settings)
}

fn build_runtime(connect: &ConnectArgs, args: BTreeMap<String, String>) -> Result<Arc<Runtime>> {
    let settings = settings_from(connect)?;
    let inputs = ChainInputs::from_process(
        connect.secret_id.clone(),
        connect.secret_key.clone(),
        connect.profile.clone(),
    );
    let credentials = Arc::new(CredentialProvider::from_chain(&inputs)?);
    tracing::debug!(?credentials, region = %settings.region, "runtime ready");
    let client = Client::new(credentials, settings.connect_timeout)?;
    Ok(Arc::new(Runtime {
        settings,
        client,
        args,
    }))
}
