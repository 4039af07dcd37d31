//! Durations written as humantime strings (`"30m"`, `"1d"`, `"1h 30m"`) or whole seconds.

use std::time::Duration;

use figment::value::{Num, Value};
use serde::{Deserialize, Deserializer, Serializer, de};

const EXPECTED: &str = "a duration such as \"30m\", \"12h\" or \"1d\" (or a number of seconds)";

pub(crate) fn parse(value: Value) -> Result<Duration, String> {
    match value {
        Value::String(_, text) => humantime::parse_duration(text.trim())
            .map_err(|err| format!("expected {EXPECTED}: {err}")),
        Value::Num(_, num) => match num {
            Num::U8(n) => Ok(Duration::from_secs(n.into())),
            Num::U16(n) => Ok(Duration::from_secs(n.into())),
            Num::U32(n) => Ok(Duration::from_secs(n.into())),
            Num::U64(n) => Ok(Duration::from_secs(n)),
            Num::USize(n) => Ok(Duration::from_secs(n as u64)),
            Num::I8(n) if n >= 0 => Ok(Duration::from_secs(n.unsigned_abs().into())),
            Num::I16(n) if n >= 0 => Ok(Duration::from_secs(n.unsigned_abs().into())),
            Num::I32(n) if n >= 0 => Ok(Duration::from_secs(n.unsigned_abs().into())),
            Num::I64(n) if n >= 0 => Ok(Duration::from_secs(n.unsigned_abs())),
            _ => Err(format!(
                "expected {EXPECTED}, found a negative or fractional number"
            )),
        },
        _ => Err(format!("expected {EXPECTED}")),
    }
}

pub(crate) fn format(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

/// `serde(with)` for a `Duration`.
pub(crate) mod required {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*d))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        parse(<Value as Deserialize>::deserialize(d)?).map_err(de::Error::custom)
    }
}

/// `serde(with)` for an `Option<Duration>` (absent means `None`).
pub(crate) mod optional {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&format(*d)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        parse(<Value as Deserialize>::deserialize(d)?)
            .map(Some)
            .map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humantime_and_seconds() {
        let string = |s: &str| Value::from(s.to_owned());
        assert_eq!(parse(string("1d")), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse(string("1h 30m")), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse(Value::from(90u64)), Ok(Duration::from_secs(90)));
        assert!(parse(string("7 parsecs")).is_err());
        assert!(parse(Value::from(-1i64)).is_err());
        assert_eq!(
            parse(string(&format(Duration::from_secs(86_400)))),
            Ok(Duration::from_secs(86_400))
        );
    }
}
