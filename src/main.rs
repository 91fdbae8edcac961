//! The `tcrl` binary: parse arguments, set up logging, run, map the outcome to an exit code.

use clap::Parser;

fn main() {
    let cli = tcrl::cli::Cli::parse();
    tcrl::logging::init(cli.verbose, cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(tcrl::error::EXIT_FAILURE);
        }
    };
    let outcome = runtime.block_on(tcrl::app::run(cli));
    // Everything the command owns is finished and dropped inside `run`; what is left is idle
    // worker threads. Exiting without joining them saves about a millisecond per run.
    std::mem::forget(runtime);
    if let Err(e) = outcome {
        eprintln!("error: {}", tcrl::redact::redact(&e.to_string()));
        std::process::exit(e.exit_code());
    }
    std::process::exit(0);
}
