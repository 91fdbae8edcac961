//! Cron schedules that mean what crontab users think they mean.
//!
//! Accepted: standard 5-field crontab (`min hour dom mon dow`), 6 fields with seconds first,
//! 7 with a year, and `@yearly`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`.
//! The `cron` crate numbers weekdays 1-7 with Sunday = 1; crontab numbers them 0-7 with 0 and
//! 7 = Sunday. Numeric day-of-week fields are therefore rewritten as day names (`1-5` becomes
//! `MON,TUE,WED,THU,FRI`) before the crate sees them; names (`MON-FRI`) pass through.
//!
//! Day-of-month and day-of-week both restricted (`0 0 13 * 5`) are refused: crontab runs on
//! either day, the crate only when both match, and a nightly job must not silently pick one.
//! Times are computed in the job's IANA time zone (UTC by default).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// A parsed schedule in its time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// As the user wrote it.
    pub text: String,
    pub timezone: Tz,
    cron: cron::Schedule,
}

impl Schedule {
    /// Parse `text` in `timezone` (IANA name, default UTC).
    ///
    /// # Errors
    /// A message naming the field that is wrong, or saying the schedule never fires.
    pub fn parse(text: &str, timezone: Option<&str>) -> Result<Self, String> {
        let timezone = match timezone {
            None => Tz::UTC,
            Some(name) => Tz::from_str(name).map_err(|_| {
                format!("unknown time zone {name:?} (expected an IANA name such as Asia/Shanghai)")
            })?,
        };
        let normalized = normalize(text)?;
        let cron = cron::Schedule::from_str(&normalized)
            .map_err(|e| format!("invalid schedule {text:?}: {e}"))?;
        let schedule = Schedule {
            text: text.to_string(),
            timezone,
            cron,
        };
        if schedule.next_after(Utc::now()).is_none() {
            return Err(format!("schedule {text:?} never fires"));
        }
        Ok(schedule)
    }

    /// The first fire time strictly after `now`.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .after(&now.with_timezone(&self.timezone))
            .next()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The next `n` fire times after `now`, in the schedule's time zone.
    pub fn upcoming(&self, now: DateTime<Utc>, n: usize) -> Vec<DateTime<Tz>> {
        self.cron
            .after(&now.with_timezone(&self.timezone))
            .take(n)
            .collect()
    }
}

/// Rewrite crontab syntax into the 6- or 7-field syntax of the `cron` crate.
///
/// # Errors
/// Wrong field count, bad day-of-week values, or day-of-month and day-of-week both restricted.
pub fn normalize(text: &str) -> Result<String, String> {
    let t = text.trim();
    let expanded = match t {
        "@yearly" | "@annually" => "0 0 0 1 1 *",
        "@monthly" => "0 0 0 1 * *",
        "@weekly" => "0 0 0 * * SUN",
        "@daily" | "@midnight" => "0 0 0 * * *",
        "@hourly" => "0 0 * * * *",
        other if other.starts_with('@') => {
            return Err(format!("unknown schedule shortcut {other:?}"))
        }
        other => other,
    };
    let mut fields: Vec<String> = expanded.split_whitespace().map(str::to_string).collect();
    match fields.len() {
        5 => fields.insert(0, "0".to_string()),
        6 | 7 => {}
        n => {
            return Err(format!(
                "schedule {text:?} has {n} fields; expected 5 (min hour day month weekday), 6 (with seconds first) or 7 (with a year)"
            ))
        }
    }
    fields[5] =
        day_of_week(&fields[5]).map_err(|e| format!("schedule {text:?}: day of week: {e}"))?;
    let restricted = |f: &str| f != "*" && f != "?";
    if restricted(&fields[3]) && restricted(&fields[5]) {
        return Err(format!(
            "schedule {text:?} restricts both day of month and day of week; crontab runs on either, \
             this scheduler would need both: use one of them (or two jobs)"
        ));
    }
    Ok(fields.join(" "))
}

/// Crontab day-of-week (0-7, 0 and 7 = Sunday, names, ranges, steps) as a list of names.
fn day_of_week(field: &str) -> Result<String, String> {
    if field == "*" || field == "?" {
        return Ok(field.to_string());
    }
    let mut days: Vec<usize> = Vec::new();
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<usize>()
                    .map_err(|_| format!("bad step in {item:?}"))?,
            ),
            None => (item, 1),
        };
        if step == 0 {
            return Err(format!("step 0 in {item:?}"));
        }
        let (start, end) = match range {
            "*" => (0, 6),
            r => match r.split_once('-') {
                Some((a, b)) => (day_number(a)?, day_number(b)?),
                None if step > 1 => (day_number(r)?, 6),
                None => (day_number(r)?, day_number(r)?),
            },
        };
        // 7 is Sunday too: `5-7` is Friday to Sunday.
        let end = if end < start && end == 0 { 7 } else { end };
        if end < start {
            return Err(format!("range {range:?} runs backwards"));
        }
        days.extend((start..=end).step_by(step).map(|d| d % 7));
    }
    days.sort_unstable();
    days.dedup();
    Ok(days
        .iter()
        .map(|d| DAY_NAMES[*d])
        .collect::<Vec<_>>()
        .join(","))
}

fn day_number(text: &str) -> Result<usize, String> {
    if let Ok(n) = text.parse::<usize>() {
        return if n <= 7 {
            Ok(n)
        } else {
            Err(format!("{n} is not a weekday (0-7, 0 and 7 are Sunday)"))
        };
    }
    let upper = text.to_ascii_uppercase();
    DAY_NAMES
        .iter()
        .position(|d| upper == *d)
        .ok_or_else(|| format!("{text:?} is not a weekday (0-7 or SUN-SAT)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn next(text: &str, tz: Option<&str>, from: &str) -> Vec<String> {
        let s = Schedule::parse(text, tz).unwrap();
        let now = DateTime::parse_from_rfc3339(from)
            .unwrap()
            .with_timezone(&Utc);
        s.upcoming(now, 3)
            .iter()
            .map(|t| t.format("%a %Y-%m-%d %H:%M:%S %Z").to_string())
            .collect()
    }

    #[test]
    fn five_and_six_field_schedules() {
        assert_eq!(
            next("0 3 * * *", None, "2026-12-04T10:00:00Z"),
            [
                "Sat 2026-12-05 03:00:00 UTC",
                "Sun 2026-12-06 03:00:00 UTC",
                "Mon 2026-12-07 03:00:00 UTC"
            ]
        );
        assert_eq!(
            next("*/20 * * * * *", None, "2026-12-04T10:00:00Z"),
            [
                "Fri 2026-12-04 10:00:20 UTC",
                "Fri 2026-12-04 10:00:40 UTC",
                "Fri 2026-12-04 10:01:00 UTC"
            ]
        );
        assert_eq!(
            next("@hourly", None, "2026-12-04T10:30:00Z")[0],
            "Fri 2026-12-04 11:00:00 UTC"
        );
        assert_eq!(
            next("@weekly", None, "2026-12-04T10:30:00Z")[0],
            "Sun 2026-12-06 00:00:00 UTC"
        );
    }

    #[test]
    fn weekdays_use_crontab_numbering() {
        // 2026-12-04 is a Friday.
        assert_eq!(
            next("0 9 * * 1", None, "2026-12-04T10:00:00Z")[0],
            "Mon 2026-12-07 09:00:00 UTC"
        );
        assert_eq!(
            next("0 9 * * 0", None, "2026-12-04T10:00:00Z")[0],
            "Sun 2026-12-06 09:00:00 UTC"
        );
        assert_eq!(
            next("0 9 * * 7", None, "2026-12-04T10:00:00Z")[0],
            "Sun 2026-12-06 09:00:00 UTC"
        );
        assert_eq!(
            next("0 9 * * 1-5", None, "2026-12-04T10:00:00Z"),
            [
                "Mon 2026-12-07 09:00:00 UTC",
                "Tue 2026-12-08 09:00:00 UTC",
                "Wed 2026-12-09 09:00:00 UTC"
            ]
        );
        assert_eq!(
            next("0 9 * * MON-FRI", None, "2026-12-04T08:00:00Z")[0],
            "Fri 2026-12-04 09:00:00 UTC"
        );
        assert_eq!(
            next("0 9 * * 5-7", None, "2026-12-04T10:00:00Z")[..2],
            ["Sat 2026-12-05 09:00:00 UTC", "Sun 2026-12-06 09:00:00 UTC"]
        );
        assert_eq!(
            normalize("0 0 * * */2").unwrap(),
            "0 0 0 * * SUN,TUE,THU,SAT"
        );
    }

    #[test]
    fn timezones_shift_fire_times() {
        assert_eq!(
            next("0 3 * * *", Some("Asia/Shanghai"), "2026-12-04T10:00:00Z")[0],
            "Sat 2026-12-05 03:00:00 CST"
        );
        let s = Schedule::parse("0 3 * * *", Some("Asia/Shanghai")).unwrap();
        let utc = s
            .next_after(Utc.with_ymd_and_hms(2026, 12, 4, 10, 0, 0).unwrap())
            .unwrap();
        assert_eq!(utc.to_rfc3339(), "2026-12-04T19:00:00+00:00");
    }

    #[test]
    fn bad_and_ambiguous_schedules_are_refused() {
        for (text, tz, fragment) in [
            ("0 3 * *", None, "has 4 fields"),
            (
                "0 0 13 * 5",
                None,
                "restricts both day of month and day of week",
            ),
            ("0 9 * * 8", None, "8 is not a weekday"),
            ("0 9 * * FUNDAY", None, "is not a weekday"),
            ("0 0 30 2 *", None, "never fires"),
            ("61 * * * *", None, "invalid schedule"),
            ("@often", None, "unknown schedule shortcut"),
            ("0 3 * * *", Some("Mars/Olympus"), "unknown time zone"),
        ] {
            let err = Schedule::parse(text, tz).unwrap_err();
            assert!(err.contains(fragment), "{text}: {err}");
        }
    }
}
