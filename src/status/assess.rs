//! The status table of LANGUAGE.md §6, as a pure function of numbers.

use serde::Serialize;

use crate::spec::model::Direction;

pub use crate::spec::model::Status;

/// Where the as-of date falls in the target's period.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Phase {
    NotStarted,
    /// The share of the period's days up to and including the as-of date (0 < e < 1).
    InProgress(f64),
    Over,
}

/// What the assessment found.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Assessment {
    pub status: Status,
    /// How far towards the target, 100% when it is met: actual / target
    /// (`direction: up`), target / actual (`down`: a sales cycle of 45 days
    /// against a 30-day target is 67% of the way, 25 days is 120%).
    pub progress: Option<f64>,
    /// Where an additive KPI should be by now (target × elapsed).
    pub expected: Option<f64>,
    /// Where an additive KPI will end at this pace (actual / elapsed).
    pub projected: Option<f64>,
    /// How far the value that counts (projected, or actual) is from the target,
    /// positive when short of it.
    pub gap: Option<f64>,
}

fn meets(direction: Direction, value: f64, target: f64) -> bool {
    match direction {
        Direction::Up => value >= target,
        Direction::Down => value <= target,
    }
}

/// Within the tolerance band: short of the target by at most `tolerance` of it.
fn within(direction: Direction, value: f64, target: f64, tolerance: f64) -> bool {
    let band = target.abs() * tolerance;
    match direction {
        Direction::Up => value >= target - band,
        Direction::Down => value <= target + band,
    }
}

fn shortfall(direction: Direction, value: f64, target: f64) -> f64 {
    match direction {
        Direction::Up => target - value,
        Direction::Down => value - target,
    }
}

/// The status of one target instance. A missing actual (no data) is treated
/// as not meeting the target.
pub fn assess(
    direction: Direction,
    additive: bool,
    target: f64,
    actual: Option<f64>,
    phase: Phase,
    tolerance: f64,
) -> Assessment {
    let progress = actual.and_then(|a| match direction {
        Direction::Up => (target != 0.0).then(|| a / target),
        Direction::Down => (a != 0.0).then(|| target / a),
    });
    let mut out = Assessment {
        status: Status::Upcoming,
        progress,
        expected: None,
        projected: None,
        gap: None,
    };
    match phase {
        Phase::NotStarted => out,
        Phase::Over => {
            out.gap = actual.map(|a| shortfall(direction, a, target));
            out.status = match actual {
                Some(a) if meets(direction, a, target) => Status::Achieved,
                _ => Status::Missed,
            };
            out
        }
        Phase::InProgress(elapsed) => {
            let value = if additive {
                out.expected = Some(target * elapsed);
                out.projected = actual.map(|a| a / elapsed);
                out.projected
            } else {
                actual
            };
            out.gap = value.map(|v| shortfall(direction, v, target));
            out.status = match value {
                Some(v) if meets(direction, v, target) => Status::OnTrack,
                Some(v) if within(direction, v, target, tolerance) => Status::AtRisk,
                _ => Status::OffTrack,
            };
            out
        }
    }
}

/// How a value moved from the previous period's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trend {
    Up,
    Down,
    /// Within 1%, or no value to compare.
    Flat,
}

impl Trend {
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Up => "up",
            Trend::Down => "down",
            Trend::Flat => "flat",
        }
    }
}

impl std::fmt::Display for Trend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Trend {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Whether a move is an improvement for a KPI of `direction` (a falling
/// sales cycle is); `None` when flat.
pub fn improving(direction: Direction, trend: Trend) -> Option<bool> {
    match (trend, direction) {
        (Trend::Up, Direction::Up) | (Trend::Down, Direction::Down) => Some(true),
        (Trend::Up, Direction::Down) | (Trend::Down, Direction::Up) => Some(false),
        (Trend::Flat, _) => None,
    }
}

/// Up, down or flat (within 1%) from the previous period's value.
pub fn trend(current: Option<f64>, previous: Option<f64>) -> Trend {
    match (current, previous) {
        (Some(c), Some(p)) if (c - p).abs() <= 0.01 * p.abs().max(f64::EPSILON) => Trend::Flat,
        (Some(c), Some(p)) if c > p => Trend::Up,
        (Some(_), Some(_)) => Trend::Down,
        _ => Trend::Flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UP: Direction = Direction::Up;
    const DOWN: Direction = Direction::Down;

    #[test]
    fn before_and_after() {
        assert_eq!(
            assess(UP, true, 100.0, None, Phase::NotStarted, 0.1).status,
            Status::Upcoming
        );
        assert_eq!(
            assess(UP, true, 100.0, Some(100.0), Phase::Over, 0.1).status,
            Status::Achieved
        );
        assert_eq!(
            assess(UP, true, 100.0, Some(99.0), Phase::Over, 0.1).status,
            Status::Missed
        );
        assert_eq!(
            assess(DOWN, false, 0.02, Some(0.019), Phase::Over, 0.1).status,
            Status::Achieved
        );
        assert_eq!(
            assess(UP, true, 100.0, None, Phase::Over, 0.1).status,
            Status::Missed
        );
    }

    #[test]
    fn additive_kpis_are_paced() {
        // 40 of 100 after a third of the period: projected 120, on track.
        let a = assess(UP, true, 100.0, Some(40.0), Phase::InProgress(1.0 / 3.0), 0.1);
        assert_eq!(a.status, Status::OnTrack);
        assert!((a.projected.unwrap() - 120.0).abs() < 1e-9);
        assert!((a.expected.unwrap() - 100.0 / 3.0).abs() < 1e-9);
        // 30 after a third: projected 90, within 10% of 100: at risk.
        assert_eq!(
            assess(UP, true, 100.0, Some(30.0), Phase::InProgress(1.0 / 3.0), 0.1).status,
            Status::AtRisk
        );
        // 20 after a third: projected 60: off track.
        assert_eq!(
            assess(UP, true, 100.0, Some(20.0), Phase::InProgress(1.0 / 3.0), 0.1).status,
            Status::OffTrack
        );
        // Spend to stay under 300: 120 after half is projected 240, on track; 160 is 320, at risk.
        assert_eq!(
            assess(DOWN, true, 300.0, Some(120.0), Phase::InProgress(0.5), 0.1).status,
            Status::OnTrack
        );
        assert_eq!(
            assess(DOWN, true, 300.0, Some(160.0), Phase::InProgress(0.5), 0.1).status,
            Status::AtRisk
        );
        assert_eq!(
            assess(DOWN, true, 300.0, Some(170.0), Phase::InProgress(0.5), 0.1).status,
            Status::OffTrack
        );
    }

    #[test]
    fn non_additive_kpis_compare_the_current_value() {
        // A 25% win rate target: 26% on track, 23% at risk (within 10% of 25%), 20% off track.
        assert_eq!(
            assess(UP, false, 0.25, Some(0.26), Phase::InProgress(0.5), 0.1).status,
            Status::OnTrack
        );
        assert_eq!(
            assess(UP, false, 0.25, Some(0.23), Phase::InProgress(0.5), 0.1).status,
            Status::AtRisk
        );
        assert_eq!(
            assess(UP, false, 0.25, Some(0.20), Phase::InProgress(0.5), 0.1).status,
            Status::OffTrack
        );
        // Churn at most 2%: 2.1% at risk, 2.5% off track.
        assert_eq!(
            assess(DOWN, false, 0.02, Some(0.021), Phase::InProgress(0.5), 0.1).status,
            Status::AtRisk
        );
        assert_eq!(
            assess(DOWN, false, 0.02, Some(0.025), Phase::InProgress(0.5), 0.1).status,
            Status::OffTrack
        );
        let a = assess(UP, false, 0.25, Some(0.20), Phase::InProgress(0.5), 0.1);
        assert_eq!((a.expected, a.projected), (None, None));
    }

    #[test]
    fn progress_reads_the_way_of_the_direction() {
        // A 30-day sales cycle: 45 days is two thirds of the way, 25 days beats it.
        let p = |a| assess(DOWN, false, 30.0, Some(a), Phase::InProgress(0.5), 0.1).progress;
        assert!((p(45.0).unwrap() - 30.0 / 45.0).abs() < 1e-12);
        assert!((p(25.0).unwrap() - 1.2).abs() < 1e-12);
        assert_eq!(p(0.0), None);
        let up = assess(UP, true, 200.0, Some(50.0), Phase::Over, 0.1);
        assert_eq!(up.progress, Some(0.25));
        assert_eq!(improving(DOWN, Trend::Down), Some(true));
        assert_eq!(improving(DOWN, Trend::Up), Some(false));
        assert_eq!(improving(UP, Trend::Up), Some(true));
        assert_eq!(improving(UP, Trend::Flat), None);
    }

    #[test]
    fn trends() {
        assert_eq!(trend(Some(110.0), Some(100.0)), Trend::Up);
        assert_eq!(trend(Some(90.0), Some(100.0)), Trend::Down);
        assert_eq!(trend(Some(100.5), Some(100.0)), Trend::Flat);
        assert_eq!(trend(None, Some(100.0)), Trend::Flat);
    }
}
