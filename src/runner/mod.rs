//! Run modes. Each builds Lua states from one shared [`crate::lua::Runtime`].

pub mod oneoff;
