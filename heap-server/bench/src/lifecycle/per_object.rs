//! The arithmetic of the reports: signed differences of byte counts, bytes per object, ratios,
//! and how sizes are written for people (MiB with one decimal).

/// `after - before`, signed: memory may shrink.
pub fn delta(after: u64, before: u64) -> i64 {
    let difference = i128::from(after) - i128::from(before);
    difference.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// `bytes` spread over `objects`; 0 for no objects.
pub fn per_object(bytes: i64, objects: u64) -> f64 {
    if objects == 0 {
        return 0.0;
    }
    bytes as f64 / objects as f64
}

/// `part / whole`; 0 when `whole` is 0.
pub fn ratio(part: f64, whole: f64) -> f64 {
    if whole == 0.0 {
        return 0.0;
    }
    part / whole
}

/// Bytes as MiB with one decimal, e.g. `41.5 MiB`.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_are_signed_and_per_object_divides_by_the_count() {
        assert_eq!(delta(300, 100), 200);
        assert_eq!(delta(100, 300), -200);
        assert_eq!(delta(u64::MAX, 0), i64::MAX, "clamped, not wrapped");
        assert_eq!(per_object(300_000_000, 1_000_000), 300.0);
        assert_eq!(per_object(-50, 10), -5.0);
        assert_eq!(per_object(12, 0), 0.0, "no objects is no figure, not infinity");
    }

    #[test]
    fn ratios_and_sizes_read_as_people_expect() {
        assert_eq!(ratio(9.0, 10.0), 0.9);
        assert_eq!(ratio(1.0, 0.0), 0.0);
        assert_eq!(mib(43_515_904), "41.5 MiB");
    }
}
