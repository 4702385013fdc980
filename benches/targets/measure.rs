//! Timing and the result rows every section produces.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Median and 99th percentile of single measurements.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    pub median: Duration,
    pub p99: Duration,
}

pub fn stats(mut times: Vec<Duration>) -> Stats {
    assert!(!times.is_empty(), "no measurements");
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    Stats {
        median: at(0.5),
        p99: at(0.99),
    }
}

/// Run `a` and `b` alternately `rounds` times (after `warm_up` untimed rounds of each), so
/// that both see the same noise of a shared machine; the single timings of each.
pub fn interleaved(
    warm_up: usize,
    rounds: usize,
    mut a: impl FnMut(usize),
    mut b: impl FnMut(usize),
) -> (Stats, Stats) {
    for k in 0..warm_up {
        a(k);
        b(k);
    }
    let (mut ta, mut tb) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for k in 0..rounds {
        let t = Instant::now();
        a(k);
        ta.push(t.elapsed());
        let t = Instant::now();
        b(k);
        tb.push(t.elapsed());
    }
    (stats(ta), stats(tb))
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One line of BENCHMARKS.md: a measurement, its baseline from the same run, the target.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    pub section: String,
    pub what: String,
    pub unit: String,
    pub median: f64,
    pub p99: Option<f64>,
    pub baseline: Option<Baseline>,
    /// measurement / baseline (medians); for rates, the measured rate / the baseline's.
    pub ratio: Option<f64>,
    pub target: String,
    /// `None`: reported for context, no target of its own.
    pub met: Option<bool>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Baseline {
    pub what: String,
    pub median: f64,
    pub p99: Option<f64>,
}

impl Row {
    /// A timing in milliseconds beside a baseline timing.
    pub fn timed(section: &str, what: &str, s: Stats, base: Option<(&str, Stats)>) -> Row {
        Row {
            section: section.into(),
            what: what.into(),
            unit: "ms".into(),
            median: ms(s.median),
            p99: Some(ms(s.p99)),
            ratio: base.map(|(_, b)| ms(s.median) / ms(b.median)),
            baseline: base.map(|(w, b)| Baseline {
                what: w.into(),
                median: ms(b.median),
                p99: Some(ms(b.p99)),
            }),
            target: String::new(),
            met: None,
        }
    }

    /// Met when the ratio to the baseline is at most `max`.
    pub fn ratio_at_most(mut self, max: f64) -> Row {
        self.target = format!("≤ {max}× baseline");
        self.met = self.ratio.map(|r| r <= max);
        self
    }

    /// Met when the median is within `limit` milliseconds.
    pub fn median_within_ms(mut self, limit: f64) -> Row {
        self.target = format!("median ≤ {limit} ms");
        self.met = Some(self.median <= limit);
        self
    }

    /// Met when the p99 (the slow ones a clerk notices) is within `limit` milliseconds.
    pub fn p99_within_ms(mut self, limit: f64) -> Row {
        self.target = format!("p99 ≤ {limit} ms");
        self.met = self.p99.map(|p| p <= limit);
        self
    }
}
