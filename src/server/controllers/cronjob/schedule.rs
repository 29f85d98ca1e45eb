//! CronJob schedules: standard five-field cron lines and the @yearly, @annually, @monthly,
//! @weekly, @daily, @midnight and @hourly macros (parsed by the `croner` crate), evaluated in
//! the CronJob's `timeZone` (UTC when unset), and which start time is due now.

use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

/// More missed start times than this are reported as a likely clock or schedule problem.
pub const TOO_MANY_MISSED: usize = 100;

pub struct Schedule {
    cron: Cron,
    zone: TimeZone,
}

impl Schedule {
    /// Parses `schedule`, to be read in the zone named `time_zone`.
    pub fn parse(schedule: &str, time_zone: Option<&str>) -> Result<Self, String> {
        let text = schedule.trim();
        if text.starts_with("TZ=") || text.starts_with("CRON_TZ=") {
            return Err("cannot use TZ or CRON_TZ in schedule, use timeZone field instead".into());
        }
        if text.starts_with("@every") {
            return Err(format!("unsupported schedule {text:?}: @every is not supported, use a cron line"));
        }
        // `croner` does not know this synonym of @daily.
        let text = if text.eq_ignore_ascii_case("@midnight") { "@daily" } else { text };
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(text)
            .map_err(|err| format!("unparseable schedule {schedule:?}: {err}"))?;
        let zone = match time_zone {
            None => TimeZone::UTC,
            Some(name) => TimeZone::get(name).map_err(|_| format!("unknown time zone {name:?}"))?,
        };
        Ok(Self { cron, zone })
    }

    /// The first start time strictly after `after`.
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        let zoned = after.to_zoned(self.zone.clone());
        self.cron.find_next_occurrence(&zoned, false).ok().map(|z: Zoned| z.timestamp())
    }

    /// The latest start time in `(earliest, now]` and how many start times that range holds
    /// (counting stops past [`TOO_MANY_MISSED`]).
    pub fn most_recent(&self, earliest: Timestamp, now: Timestamp) -> (Option<Timestamp>, usize) {
        let Some(first) = self.next_after(earliest).filter(|t| *t <= now) else { return (None, 0) };
        let mut missed = 1;
        let mut latest = first;
        while missed <= TOO_MANY_MISSED {
            match self.next_after(latest).filter(|t| *t <= now) {
                Some(t) => {
                    latest = t;
                    missed += 1;
                }
                None => return (Some(latest), missed),
            }
        }
        // Many missed: find the latest directly.
        let at_now = now.to_zoned(self.zone.clone());
        let latest = self.cron.find_previous_occurrence(&at_now, true).ok().map(|z: Zoned| z.timestamp());
        (latest.filter(|t| *t > earliest).or(Some(first)), missed)
    }

    /// The start time as the `batch.kubernetes.io/cronjob-scheduled-timestamp` annotation
    /// writes it: RFC 3339 in the schedule's zone.
    pub fn format_in_zone(&self, at: Timestamp) -> String {
        at.to_zoned(self.zone.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string().replace("+00:00", "Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn five_fields_and_macros() {
        let every_five = Schedule::parse("*/5 * * * *", None).unwrap();
        assert_eq!(every_five.next_after(at("2024-01-01T00:03:00Z")), Some(at("2024-01-01T00:05:00Z")));
        assert_eq!(every_five.next_after(at("2024-01-01T00:05:00Z")), Some(at("2024-01-01T00:10:00Z")));
        let hourly = Schedule::parse("@hourly", None).unwrap();
        assert_eq!(hourly.next_after(at("2024-01-01T00:03:00Z")), Some(at("2024-01-01T01:00:00Z")));
        let midnight = Schedule::parse("@midnight", None).unwrap();
        assert_eq!(midnight.next_after(at("2024-01-01T00:03:00Z")), Some(at("2024-01-02T00:00:00Z")));
        let weekly = Schedule::parse("@weekly", None).unwrap();
        // 2024-01-01 is a Monday: the next Sunday midnight is the 7th.
        assert_eq!(weekly.next_after(at("2024-01-01T00:00:00Z")), Some(at("2024-01-07T00:00:00Z")));
        for bad in ["* * * *", "0 0 * * * *", "61 * * * *", "@every 1h", "TZ=UTC * * * * *", "@sometimes", ""] {
            assert!(Schedule::parse(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn day_of_month_and_weekday_are_alternatives() {
        // The 13th, or any Friday (Vixie cron rules).
        let s = Schedule::parse("0 0 13 * 5", None).unwrap();
        assert_eq!(s.next_after(at("2024-01-01T00:00:00Z")), Some(at("2024-01-05T00:00:00Z")));
        assert_eq!(s.next_after(at("2024-01-12T00:00:00Z")), Some(at("2024-01-13T00:00:00Z")));
    }

    #[test]
    fn time_zones_shift_the_schedule() {
        let s = Schedule::parse("0 9 * * *", Some("Europe/Berlin")).unwrap();
        assert_eq!(s.next_after(at("2024-01-01T00:00:00Z")), Some(at("2024-01-01T08:00:00Z")));
        // Summer time.
        assert_eq!(s.next_after(at("2024-07-01T00:00:00Z")), Some(at("2024-07-01T07:00:00Z")));
        assert_eq!(s.format_in_zone(at("2024-07-01T07:00:00Z")), "2024-07-01T09:00:00+02:00");
        assert_eq!(
            Schedule::parse("0 9 * * *", None).unwrap().format_in_zone(at("2024-07-01T07:00:00Z")),
            "2024-07-01T07:00:00Z"
        );
        assert!(Schedule::parse("0 9 * * *", Some("Mars/Olympus")).is_err());
    }

    #[test]
    fn the_most_recent_start_time_is_due() {
        let s = Schedule::parse("*/1 * * * *", None).unwrap();
        assert_eq!(s.most_recent(at("2024-01-01T00:00:00Z"), at("2024-01-01T00:00:59Z")), (None, 0));
        assert_eq!(
            s.most_recent(at("2024-01-01T00:00:00Z"), at("2024-01-01T00:01:30Z")),
            (Some(at("2024-01-01T00:01:00Z")), 1)
        );
        assert_eq!(
            s.most_recent(at("2024-01-01T00:00:00Z"), at("2024-01-01T00:03:00Z")),
            (Some(at("2024-01-01T00:03:00Z")), 3)
        );
        let (latest, missed) = s.most_recent(at("2024-01-01T00:00:00Z"), at("2024-01-02T00:00:30Z"));
        assert_eq!(latest, Some(at("2024-01-02T00:00:00Z")));
        assert!(missed > TOO_MANY_MISSED);
    }
}
