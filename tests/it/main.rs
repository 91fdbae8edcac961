//! Integration tests: the real `tcrl` binary and the emulator over HTTP on 127.0.0.1.

mod harness;

mod cli_run;
mod credentials_chain;
mod daemon;
mod editor;
mod emulator_actions;
mod emulator_auth;
mod emulator_paging;
mod emulator_server;
mod pagination;
mod progress;
mod properties;
mod repl;
mod retention;
mod safety;
mod scripts;
mod secrets;
