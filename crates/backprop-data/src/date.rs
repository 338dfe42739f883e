//! ISO-8601 dates and timestamps in text cells, turned into numeric features.
//!
//! A text column whose cells all [`parse`] is a date column; each cell becomes the
//! [`FEATURES`] (calendar parts for seasonality, a day count for trends) instead of one
//! one-hot category per distinct date.
//!
//! ```
//! use backprop_data::date::{parse, FEATURES};
//!
//! let d = parse("2024-03-10T01:30:00+02:00").unwrap(); // 2024-03-09 23:30 UTC
//! assert_eq!((d.year, d.month, d.day, d.seconds_of_day), (2024, 3, 9, 84_600.0));
//! assert_eq!(FEATURES[3], "weekday");
//! assert_eq!(d.features()[3], 5.0); // a Saturday
//! assert!(parse("2023-02-29").is_none());
//! ```

/// The names of [`DateTime::features`], in its order.
pub const FEATURES: [&str; 5] = ["year", "month", "day", "weekday", "days"];

const SECONDS_PER_DAY: i64 = 86_400;

/// A moment in UTC, as read from a cell by [`parse`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DateTime {
    /// The year of the proleptic Gregorian calendar (0 to 9999 as written; one more or less
    /// when an offset moves the moment across New Year).
    pub year: i32,
    /// The month, 1 (January) to 12.
    pub month: u32,
    /// The day of the month, 1 to 31.
    pub day: u32,
    /// Seconds since midnight UTC, in `[0, 86400)`; 0 for a bare date.
    pub seconds_of_day: f64,
}

impl DateTime {
    /// The day of the week: 0 = Monday … 6 = Sunday.
    pub fn weekday(&self) -> u32 {
        weekday(self.day_number())
    }

    /// Days since 1970-01-01 00:00 UTC, with the time of day as the fraction
    /// (1969-12-31 is -1, `1970-01-02T12:00Z` is 1.5).
    pub fn days_since_epoch(&self) -> f64 {
        self.day_number() as f64 + self.seconds_of_day / SECONDS_PER_DAY as f64
    }

    /// `[year, month, day, weekday, days since epoch]`, named by [`FEATURES`].
    pub fn features(&self) -> [f64; 5] {
        [
            f64::from(self.year),
            f64::from(self.month),
            f64::from(self.day),
            f64::from(self.weekday()),
            self.days_since_epoch(),
        ]
    }

    fn day_number(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }
}

/// Reads an ISO-8601 date or timestamp, or `None` if `text` is anything else.
///
/// Accepted: `YYYY-MM-DD`, then optionally `T` (or a space) and `HH:MM` or `HH:MM:SS`, the
/// seconds optionally with a fraction (`.f…`, kept to the nanosecond), then optionally `Z` or
/// an offset `±HH:MM`, which is subtracted to give UTC (so the date may change). A time without
/// an offset is taken as UTC. Rejected: invalid dates (month 13, April 31, February 29 of a
/// non-leap year), hour 24, leap second 60, surrounding spaces, a missing zero (`2024-1-05`),
/// other separators, and an offset on a bare date.
pub fn parse(text: &str) -> Option<DateTime> {
    let mut c = Cursor(text.as_bytes());
    let year = c.digits(4)? as i32;
    c.expect(b'-')?;
    let month = c.digits(2)?;
    c.expect(b'-')?;
    let day = c.digits(2)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if c.0.is_empty() {
        return Some(DateTime {
            year,
            month,
            day,
            seconds_of_day: 0.0,
        });
    }
    if !(c.eat(b'T') || c.eat(b' ')) {
        return None;
    }
    let hour = c.digits(2)?;
    c.expect(b':')?;
    let minute = c.digits(2)?;
    let (mut second, mut fraction) = (0, 0.0);
    if c.eat(b':') {
        second = c.digits(2)?;
        if c.eat(b'.') {
            fraction = c.fraction()?;
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let offset = match c.next() {
        None | Some(b'Z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let h = c.digits(2)?;
            c.expect(b':')?;
            let m = c.digits(2)?;
            if h > 23 || m > 59 {
                return None;
            }
            let seconds = i64::from(h * 3600 + m * 60);
            if sign == b'+' {
                seconds
            } else {
                -seconds
            }
        }
        Some(_) => return None,
    };
    if !c.0.is_empty() {
        return None;
    }
    // Whole seconds in integers, so the day shift and the remainder are exact; the fraction
    // (< 1) is added last and cannot carry into the next day.
    let utc = i64::from(hour * 3600 + minute * 60 + second) - offset;
    let days = days_from_civil(year, month, day) + utc.div_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let seconds_of_day = utc.rem_euclid(SECONDS_PER_DAY) as f64 + fraction;
    Some(DateTime {
        year,
        month,
        day,
        seconds_of_day,
    })
}

/// The unread rest of the text.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.0.first() == Some(&byte);
        if found {
            self.0 = &self.0[1..];
        }
        found
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    /// Exactly `n` ASCII digits (not `char::is_numeric`, which takes other scripts' digits).
    fn digits(&mut self, n: usize) -> Option<u32> {
        let head = self.0.get(..n)?;
        if !head.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.0 = &self.0[n..];
        Some(head.iter().fold(0, |v, &b| v * 10 + u32::from(b - b'0')))
    }

    /// One or more digits after the decimal point, as a value in `[0, 1)`. Only the first nine
    /// count: rounding more of them could reach 1.0 and push the time into the next day.
    fn fraction(&mut self) -> Option<f64> {
        let len = self.0.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        let kept = len.min(9);
        let nanos = self.digits(kept)? * 10u32.pow((9 - kept) as u32);
        self.0 = &self.0[len - kept..];
        Some(f64::from(nanos) / 1e9)
    }
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// The two conversions below are Howard Hinnant's `days_from_civil` and `civil_from_days`
// ("chrono-Compatible Low-Level Date Algorithms", howardhinnant.github.io/date_algorithms.html):
// the year is shifted to start on March 1, so the leap day is the last day of a year, and
// counted in 400-year eras of 146 097 days. `div_euclid` stands in for his adjustment of `/`
// on negative years.

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = i64::from((month + 9) % 12); // March = 0 … February = 11
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468 // 719 468 days from 0000-03-01 to 1970-01-01
}

/// The proleptic Gregorian date `days` after 1970-01-01 (before it when negative).
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year as i32, month, day)
}

/// 0 = Monday … 6 = Sunday; day 0, 1970-01-01, was a Thursday.
fn weekday(days: i64) -> u32 {
    (days + 3).rem_euclid(7) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(text: &str) -> DateTime {
        parse(text).unwrap_or_else(|| panic!("{text:?} should parse"))
    }

    #[test]
    fn known_dates() {
        let epoch = date("1970-01-01");
        assert_eq!((epoch.days_since_epoch(), epoch.weekday()), (0.0, 3)); // Thursday
        let eve = date("1969-12-31");
        assert_eq!((eve.days_since_epoch(), eve.weekday()), (-1.0, 2)); // Wednesday

        // Unix times / 86 400: 951 782 400 (2000-02-29), 1 704 067 200 (2024-01-01).
        let leap = date("2000-02-29");
        assert_eq!((leap.days_since_epoch(), leap.weekday()), (11_016.0, 1)); // Tuesday
        assert_eq!(date("2024-01-01").days_since_epoch(), 19_723.0);
        assert_eq!(date("2024-12-31").weekday(), 1); // Tuesday
        assert_eq!(date("2024-12-29").weekday(), 6); // Sunday
        assert_eq!(date("0000-03-01").days_since_epoch(), -719_468.0);
        assert_eq!(
            date("2024-12-31").features(),
            [2024.0, 12.0, 31.0, 1.0, 20_088.0]
        );
    }

    #[test]
    fn times_and_offsets() {
        assert_eq!(date("1970-01-02T12:00").days_since_epoch(), 1.5);
        assert_eq!(date("1970-01-02 12:00:00Z").days_since_epoch(), 1.5);
        let t = date("2024-05-06T07:08:09.25");
        assert_eq!((t.day, t.seconds_of_day), (6, 25_689.25));
        // East of Greenwich: back across midnight, into a Saturday.
        let east = date("2024-03-10T01:30:00+02:00");
        assert_eq!((east.year, east.month, east.day), (2024, 3, 9));
        assert_eq!((east.seconds_of_day, east.weekday()), (84_600.0, 5));
        // West: forward across New Year.
        let west = date("2024-12-31T23:30-01:00");
        assert_eq!(
            (west.year, west.month, west.day, west.seconds_of_day),
            (2025, 1, 1, 1_800.0)
        );
        assert_eq!(date("2024-01-01T00:00:00-00:00"), date("2024-01-01"));
        // Twelve digits: only nanoseconds count, and the time stays inside the day.
        let late = date("1999-12-31T23:59:59.999999999999");
        assert_eq!((late.year, late.day), (1999, 31));
        assert!(late.seconds_of_day < 86_400.0);
        assert_eq!(late.seconds_of_day, 86_399.999_999_999);
    }

    #[test]
    fn rejects() {
        for text in [
            "",
            "2024",
            "2024-01",
            "20240101",
            "2024-1-05",
            "24-01-05",
            "+2024-01-05",
            "2024/01/05",
            " 2024-01-05",
            "2024-01-05 ",
            "2024-00-10",
            "2024-13-01",
            "2024-01-00",
            "2024-01-32",
            "2024-04-31",
            "2024-02-30",
            "2023-02-29",
            "1900-02-29",
            "2024-01-05Z",
            "2024-01-05T",
            "2024-01-05t10:00",
            "2024-01-05T10",
            "2024-01-05T10:00:",
            "2024-01-05T10:0",
            "2024-01-05T24:00",
            "2024-01-05T23:60",
            "2024-01-05T23:59:60",
            "2024-01-05T10:00.5",
            "2024-01-05T10:00:00.",
            "2024-01-05T10:00:00,5",
            "2024-01-05T10:00+01",
            "2024-01-05T10:00+0100",
            "2024-01-05T10:00+24:00",
            "2024-01-05T10:00+01:60",
            "2024-01-05T10:00Zjunk",
            "2024-01-05T10:00:00Z ",
            "٢٠٢٤-01-05",
            "yesterday",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    /// Every day of 1900-2100 through both conversions and the parser, checked against a
    /// calendar that simply counts: one day more each step, the weekday one further.
    #[test]
    fn every_day_from_1900_to_2100() {
        let first = days_from_civil(1900, 1, 1);
        assert_eq!(first, -25_567); // -2 208 988 800 s
        let (mut y, mut m, mut d) = (1900, 1, 1);
        for days in first..=days_from_civil(2100, 12, 31) {
            assert_eq!(civil_from_days(days), (y, m, d));
            assert_eq!(days_from_civil(y, m, d), days);
            let parsed = date(&format!("{y:04}-{m:02}-{d:02}"));
            assert_eq!(parsed.days_since_epoch(), days as f64);
            assert_eq!(
                parsed.weekday(),
                (weekday(first) + (days - first) as u32) % 7
            );
            d += 1;
            if d > days_in_month(y, m) {
                (m, d) = (m + 1, 1);
                if m > 12 {
                    (y, m) = (y + 1, 1);
                }
            }
        }
        assert_eq!((y, m, d), (2101, 1, 1));
        assert_eq!(weekday(first), 0); // 1900-01-01 was a Monday
    }

    proptest! {
        #[test]
        fn days_round_trip(days in -10_000_000i64..10_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert!((1..=12).contains(&m) && (1..=days_in_month(y, m)).contains(&d));
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }

        #[test]
        fn written_timestamps_read_back(
            year in 0i32..=9999,
            month in 1u32..=12,
            day in 1u32..=31,
            (hour, minute, second, millis) in (0u32..24, 0u32..60, 0u32..60, 0u32..1000),
            offset_minutes in -(23 * 60 + 59)..=(23 * 60 + 59i64),
        ) {
            let day = day.min(days_in_month(year, month));
            let local = format!(
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}"
            );
            let t = date(&local);
            let seconds =
                f64::from(hour * 3600 + minute * 60 + second) + f64::from(millis) / 1e3;
            prop_assert_eq!(
                (t.year, t.month, t.day, t.seconds_of_day),
                (year, month, day, seconds)
            );

            let sign = if offset_minutes < 0 { '-' } else { '+' };
            let (oh, om) = (offset_minutes.abs() / 60, offset_minutes.abs() % 60);
            let shifted = date(&format!("{local}{sign}{oh:02}:{om:02}"));
            prop_assert!((0.0..86_400.0).contains(&shifted.seconds_of_day));
            let expected = t.days_since_epoch() - offset_minutes as f64 / 1440.0;
            prop_assert!((shifted.days_since_epoch() - expected).abs() < 1e-9);
        }

        #[test]
        fn any_text_is_read_or_refused_without_panic(text in "\\PC{0,40}|[0-9T:+Z. -]{0,30}") {
            let _ = parse(&text);
        }
    }
}
