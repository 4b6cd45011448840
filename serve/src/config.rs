//! What the service listens on, who may use it, and how much it takes at once.

use crate::auth::Token;
use crate::error::ServeError;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// The address served by default: loopback only, port 8080.
pub const DEFAULT_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);

/// How the service is reached and bounded.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The address to listen on ([`DEFAULT_BIND`] unless given).
    pub bind: SocketAddr,
    /// The bearer token every request but `/healthz` must carry; required off loopback.
    pub token: Option<Token>,
    /// Sizes and concurrency.
    pub limits: Limits,
}

/// The service's bounds: what one request may carry, how many are worked on, and how
/// many connections are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Texts one request may classify.
    pub max_batch: usize,
    /// Predictions computed at the same time (each on a blocking thread).
    pub max_concurrent: usize,
    /// Requests admitted to wait for a prediction slot; past it, 503 with `Retry-After`.
    pub max_queue: usize,
    /// Bytes one request body may have.
    pub max_body_bytes: usize,
    /// Connections open at once; past it, new connections wait in the kernel's listen
    /// backlog until one closes.
    pub max_connections: usize,
    /// Time a client has to send a request's headers (on an idle connection: from when
    /// it opened or its last answer), and then its body; a slower connection is closed
    /// (a late body is answered 408).
    pub read_timeout: Duration,
}

impl Default for Limits {
    /// 64 texts a request (one prediction batch), 2 predictions at once (each already
    /// uses every core for its matrix products), 32 waiting, 1 MiB bodies, 256
    /// connections, 10 s to send a request.
    fn default() -> Self {
        Self {
            max_batch: 64,
            max_concurrent: 2,
            max_queue: 32,
            max_body_bytes: 1 << 20,
            max_connections: 256,
            read_timeout: Duration::from_secs(10),
        }
    }
}

/// The largest value any count limit may take: more would only queue memory.
const MAX_COUNT: usize = 4096;
/// The largest request body: 64 MiB.
const MAX_BODY: usize = 64 << 20;
/// The most connections open at once (each holds a socket and a task).
const MAX_CONNECTIONS: usize = 65_536;
/// The shortest and longest read timeouts.
const READ_TIMEOUT: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(600));

impl Limits {
    /// Check each limit is within its bounds.
    pub fn check(&self) -> Result<(), ServeError> {
        let counts = [
            ("--max-batch", self.max_batch, 1, MAX_COUNT),
            ("--max-concurrent", self.max_concurrent, 1, MAX_COUNT),
            ("--max-queue", self.max_queue, 0, MAX_COUNT),
            (
                "--max-connections",
                self.max_connections,
                1,
                MAX_CONNECTIONS,
            ),
        ];
        for (name, value, least, most) in counts {
            if !(least..=most).contains(&value) {
                return Err(ServeError::Limit {
                    name,
                    message: format!("{value} is out of bounds: use {least} to {most}"),
                });
            }
        }
        let (shortest, longest) = READ_TIMEOUT;
        if !(shortest..=longest).contains(&self.read_timeout) {
            return Err(ServeError::Limit {
                name: "--read-timeout",
                message: format!(
                    "{} s is out of bounds: use {} to {} seconds",
                    self.read_timeout.as_secs_f64(),
                    shortest.as_secs_f64(),
                    longest.as_secs_f64()
                ),
            });
        }
        if !(1024..=MAX_BODY).contains(&self.max_body_bytes) {
            return Err(ServeError::Limit {
                name: "max body size",
                message: format!(
                    "{} bytes is out of bounds: use 1024 to {MAX_BODY}",
                    self.max_body_bytes
                ),
            });
        }
        Ok(())
    }
}

impl ServeConfig {
    /// Check the limits, and that an address other machines can reach has a token.
    pub fn check(&self) -> Result<(), ServeError> {
        self.limits.check()?;
        require_token_off_loopback(self.bind, self.token.as_ref())
    }
}

/// The exposure rule: serving on any address but loopback needs a token.
pub fn require_token_off_loopback(
    bind: SocketAddr,
    token: Option<&Token>,
) -> Result<(), ServeError> {
    if bind.ip().is_loopback() || token.is_some() {
        Ok(())
    } else {
        Err(ServeError::Unprotected { addr: bind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> Token {
        Token::new("a-long-enough-secret").unwrap()
    }

    #[test]
    fn loopback_needs_no_token_and_other_addresses_do() {
        let loopback: [SocketAddr; 2] = [
            "127.0.0.1:8080".parse().unwrap(),
            "[::1]:0".parse().unwrap(),
        ];
        for addr in loopback {
            assert!(require_token_off_loopback(addr, None).is_ok(), "{addr}");
        }
        for addr in ["0.0.0.0:8080", "[::]:8080", "192.168.1.20:80"] {
            let addr: SocketAddr = addr.parse().unwrap();
            let refused = require_token_off_loopback(addr, None).unwrap_err();
            assert!(matches!(refused, ServeError::Unprotected { .. }), "{addr}");
            assert!(refused.to_string().contains("DIALECT_SERVE_TOKEN"));
            assert!(require_token_off_loopback(addr, Some(&token())).is_ok());
        }
    }

    #[test]
    fn limits_out_of_bounds_name_the_option() {
        assert!(Limits::default().check().is_ok());
        let zero_batch = Limits {
            max_batch: 0,
            ..Limits::default()
        };
        let err = zero_batch.check().unwrap_err().to_string();
        assert!(err.starts_with("--max-batch: 0 is out of bounds"), "{err}");
        let no_queue = Limits {
            max_queue: 0,
            ..Limits::default()
        };
        assert!(no_queue.check().is_ok(), "a queue of 0 refuses at once");
        let huge = Limits {
            max_concurrent: MAX_COUNT + 1,
            ..Limits::default()
        };
        assert!(huge
            .check()
            .unwrap_err()
            .to_string()
            .starts_with("--max-concurrent"));
        let no_connections = Limits {
            max_connections: 0,
            ..Limits::default()
        };
        let err = no_connections.check().unwrap_err().to_string();
        assert_eq!(err, "--max-connections: 0 is out of bounds: use 1 to 65536");
        let instant = Limits {
            read_timeout: Duration::from_millis(10),
            ..Limits::default()
        };
        let err = instant.check().unwrap_err().to_string();
        assert_eq!(
            err,
            "--read-timeout: 0.01 s is out of bounds: use 0.1 to 600 seconds"
        );
    }
}
