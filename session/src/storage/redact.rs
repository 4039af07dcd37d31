//! [`redact_url`]: store URLs as they may be shown in `Debug` output, logs and errors.

/// The query parameters that carry a password (compared without regard to ASCII case).
const PASSWORD_PARAMS: [&str; 2] = ["pass", "password"];

/// Returns `url` with its password replaced by `***`, so that it can be shown in `Debug`
/// output, logs and error messages.
///
/// - The user name is kept and the password hidden: `redis://user:secret@host` becomes
///   `redis://user:***@host`.
/// - User info without a `:` is a password alone (as Redis reads it): `redis://secret@host`
///   becomes `redis://***@host`.
/// - The values of `pass` and `password` query parameters are hidden too:
///   `redis+unix:///run/redis.sock?db=1&pass=secret` becomes
///   `redis+unix:///run/redis.sock?db=1&pass=***`.
/// - Anything without `://` (such as `host:port`) is returned unchanged.
///
/// ```
/// use session::storage::redact_url;
///
/// assert_eq!(
///     redact_url("rediss://admin:hunter2@cache.internal:6380/0"),
///     "rediss://admin:***@cache.internal:6380/0"
/// );
/// assert_eq!(redact_url("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
/// ```
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("***@{host}"),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => format!("{path}?{}", redact_query(query)),
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// The query string with the values of the password parameters replaced by `***`.
fn redact_query(query: &str) -> String {
    let params: Vec<String> = query
        .split('&')
        .map(|param| match param.split_once('=') {
            Some((name, _))
                if PASSWORD_PARAMS
                    .iter()
                    .any(|secret| name.eq_ignore_ascii_case(secret)) =>
            {
                format!("{name}=***")
            }
            _ => param.to_owned(),
        })
        .collect();
    params.join("&")
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("redis://user:s3cret@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(redact_url("rediss://:s3cret@host"), "rediss://:***@host");
        assert_eq!(redact_url("redis://s3cret@host"), "redis://***@host");
        assert_eq!(redact_url("redis://host:6379"), "redis://host:6379");
        assert_eq!(
            redact_url("redis+unix:///tmp/r.sock?db=1&pass=s3cret"),
            "redis+unix:///tmp/r.sock?db=1&pass=***"
        );
        assert_eq!(redact_url("host:6379"), "host:6379");
    }
}
