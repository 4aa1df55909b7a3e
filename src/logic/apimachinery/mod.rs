//! The API types themselves, as `k8s.io/apimachinery` defines them: label keys, values and
//! selectors, resource quantities, and the differences between the supported API levels.

pub mod compat;
pub mod labels;
pub mod quantity;
