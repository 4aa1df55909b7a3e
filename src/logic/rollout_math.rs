//! maxUnavailable / maxSurge arithmetic (`intstr.GetScaledValueFromIntOrPercent` with round-up,
//! as `util.UnavailableCount` and `util.SurgeCount` use it).

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// An int, or a percentage of `total` rounded up. Malformed percentages count as 0.
pub fn scaled(v: &IntOrString, total: i32) -> i32 {
    match v {
        IntOrString::Int(n) => *n,
        IntOrString::String(s) => s
            .strip_suffix('%')
            .and_then(|p| p.parse::<i64>().ok())
            .map(|p| ((p * i64::from(total) + 99) / 100) as i32)
            .unwrap_or(0),
    }
}
