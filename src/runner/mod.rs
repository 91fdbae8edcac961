//! Run modes. Each builds Lua states from one shared [`crate::lua::Runtime`].

pub mod daemon;
pub mod job;
pub mod oneoff;
pub mod repl;
pub mod repl_complete;
pub mod schedule;
