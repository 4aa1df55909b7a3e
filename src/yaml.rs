//! Every YAML read and write of the crate goes through here, so the YAML library can be swapped
//! in one place.

use serde::Serialize;
use serde::de::DeserializeOwned;

pub fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
    serde_yaml::to_string(value).map_err(|e| e.to_string())
}

pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_yaml::from_str(text).map_err(|e| e.to_string())
}
