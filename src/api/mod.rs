//! Talking to the Tencent Cloud API: the action catalog, parameter encoding, and the client
//! that builds, signs, sends and decodes requests.

pub mod catalog;
pub mod client;
pub mod paginate;
pub mod params;
pub mod ratelimit;
pub mod retry;
pub mod tls;

pub use client::{CallOptions, Client, HttpMethod, PreparedRequest};
