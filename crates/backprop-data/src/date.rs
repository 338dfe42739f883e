//! TEMPORARY stand-in for the date module (being written on another branch): `YYYY-MM-DD` only.
#![allow(missing_docs)]

pub const FEATURES: [&str; 5] = ["year", "month", "day", "weekday", "days"];

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DateTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub seconds_of_day: f64,
}

pub fn parse(text: &str) -> Option<DateTime> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i32 = text[..4].parse().ok()?;
    let month: u32 = text[5..7].parse().ok()?;
    let day: u32 = text[8..10].parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(DateTime {
        year,
        month,
        day,
        seconds_of_day: 0.0,
    })
}

impl DateTime {
    pub fn days_since_epoch(&self) -> f64 {
        let (y, m) = if self.month <= 2 {
            (self.year - 1, self.month + 9)
        } else {
            (self.year, self.month - 3)
        };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * m + 2) / 5 + self.day - 1;
        let doe = yoe as u32 * 365 + yoe as u32 / 4 - yoe as u32 / 100 + doy;
        (era * 146097 + doe as i32 - 719468) as f64 + self.seconds_of_day / 86400.0
    }
    pub fn weekday(&self) -> u32 {
        ((self.days_since_epoch().floor() as i64 + 3).rem_euclid(7)) as u32
    }
    pub fn features(&self) -> [f64; 5] {
        [
            self.year as f64,
            self.month as f64,
            self.day as f64,
            self.weekday() as f64,
            self.days_since_epoch(),
        ]
    }
}
