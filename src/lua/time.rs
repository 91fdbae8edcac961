//! `tcr.time`: the timestamp formats TCR actions return, as Unix seconds (UTC), and durations.
//!
//! Formats seen in TCR responses: `2022-07-19 15:16:17` (UTC), Go's
//! `2022-07-16 10:34:42.697947 +0000 UTC`, RFC 3339 (`2024-12-10T14:04:56Z`,
//! `2024-07-19T15:33:22+08:00`), the personal edition's `2025-01-02 15:14:45 +0800 CST`, and a
//! bare date `2021-02-03`.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use mlua::{Lua, Table};

use super::runtime_error;
use crate::settings::parse_duration;

/// Parse any TCR timestamp into Unix seconds.
///
/// # Errors
/// A message quoting the text when no known format matches.
pub fn parse_timestamp(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.timestamp());
    }
    // Go's time.String(): "2006-01-02 15:04:05.999999999 -0700 MST" (zone name ignored).
    let without_zone_name = match t.rsplit_once(' ') {
        Some((head, name)) if name.chars().all(|c| c.is_ascii_alphabetic()) => head,
        _ => t,
    };
    for format in ["%Y-%m-%d %H:%M:%S%.f %z", "%Y-%m-%d %H:%M:%S %z"] {
        if let Ok(dt) = DateTime::parse_from_str(without_zone_name, format) {
            return Ok(dt.timestamp());
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, format) {
            return Ok(dt.and_utc().timestamp());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp());
    }
    Err(format!("unrecognised timestamp {text:?}"))
}

/// Build the `tcr.time` table.
pub fn create(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "parse",
        lua.create_function(|_, text: String| {
            parse_timestamp(&text).map_err(|e| runtime_error(format!("tcr.time.parse: {e}")))
        })?,
    )?;
    t.set(
        "now",
        lua.create_function(|_, ()| Ok(chrono::Utc::now().timestamp()))?,
    )?;
    t.set(
        "age",
        lua.create_function(|_, text: String| {
            let ts =
                parse_timestamp(&text).map_err(|e| runtime_error(format!("tcr.time.age: {e}")))?;
            Ok(chrono::Utc::now().timestamp() - ts)
        })?,
    )?;
    t.set(
        "duration",
        lua.create_function(|_, text: String| {
            parse_duration(&text)
                .map(|d| d.as_secs_f64())
                .map_err(|e| runtime_error(format!("tcr.time.duration: {e}")))
        })?,
    )?;
    t.set(
        "format",
        lua.create_function(|_, ts: i64| {
            Ok(DateTime::from_timestamp(ts, 0)
                .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default())
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tcr_timestamp_format_parses_to_the_same_instant() {
        let expected = 1_658_243_777; // 2022-07-19 15:16:17 UTC
        for text in [
            "2022-07-19 15:16:17",
            "2022-07-19 15:16:17.000000 +0000 UTC",
            "2022-07-19 15:16:17.697947 +0000 UTC",
            "2022-07-19T15:16:17Z",
            "2022-07-19T23:16:17+08:00",
            "2022-07-19 23:16:17 +0800 CST",
        ] {
            assert_eq!(parse_timestamp(text), Ok(expected), "{text}");
        }
        assert_eq!(parse_timestamp("2021-02-03"), Ok(1_612_310_400));
        assert!(parse_timestamp("yesterday").is_err());
    }
}
