//! The bearer token: where it comes from, and checking a request's in constant time.

use crate::error::{ApiError, ServeError};
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The environment variable holding the token when no token file is given.
pub const TOKEN_ENV: &str = "DIALECT_SERVE_TOKEN";

/// The fewest characters a token may have.
const MIN_TOKEN_CHARS: usize = 16;

/// A bearer token, kept only as its SHA-256 digest: comparing digests takes the same
/// time whatever a guess has in common with the token, and its length leaks nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    digest: [u8; 32],
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(hidden)")
    }
}

impl Token {
    /// A token from its text (surrounding whitespace removed); `Err` says why it is
    /// unusable.
    pub fn new(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let chars = text.chars().count();
        if chars < MIN_TOKEN_CHARS {
            return Err(format!(
                "the token has {chars} characters: use at least {MIN_TOKEN_CHARS} (e.g. the output of `openssl rand -hex 32`)"
            ));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("the token has spaces or control characters inside: use one word".into());
        }
        Ok(Self {
            digest: Sha256::digest(text.as_bytes()).into(),
        })
    }

    /// The token in `file` when given, else in `env` (the value of [`TOKEN_ENV`]),
    /// else none.
    pub fn from_sources(
        file: Option<&Path>,
        env: Option<String>,
    ) -> Result<Option<Self>, ServeError> {
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| ServeError::TokenFile {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
            return Self::new(&text)
                .map(Some)
                .map_err(|message| ServeError::TokenFile {
                    path: path.to_path_buf(),
                    message,
                });
        }
        env.map(|text| Self::new(&text).map_err(ServeError::TokenEnv))
            .transpose()
    }

    /// Whether `candidate` is this token, in time independent of where they differ.
    pub fn matches(&self, candidate: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
        self.digest.ct_eq(&digest).into()
    }
}

/// Middleware: pass requests whose `Authorization: Bearer …` carries `token`; answer
/// the others 401.
pub async fn require_bearer(
    State(token): State<Arc<Token>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let given = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match given {
        Some(candidate) if token.matches(candidate.trim()) => Ok(next.run(request).await),
        Some(_) => Err(ApiError::unauthorized("the bearer token is wrong")),
        None => Err(ApiError::unauthorized(
            "this service needs a token: send the header 'Authorization: Bearer TOKEN'",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef-secret";

    #[test]
    fn a_token_matches_itself_only() {
        let token = Token::new(SECRET).unwrap();
        assert!(token.matches(SECRET));
        assert!(!token.matches("0123456789abcdef-secreT"));
        assert!(!token.matches(&SECRET[..SECRET.len() - 1]));
        assert!(!token.matches(""));
        assert_eq!(format!("{token:?}"), "Token(hidden)");
    }

    #[test]
    fn short_or_spaced_tokens_are_refused_saying_why() {
        assert!(Token::new("short").unwrap_err().contains("at least 16"));
        assert!(Token::new("two words that are long")
            .unwrap_err()
            .contains("spaces"));
        // A trailing newline, as `echo secret > file` writes, is not part of the token.
        assert!(Token::new(&format!("{SECRET}\n")).unwrap().matches(SECRET));
    }

    #[test]
    fn the_file_wins_over_the_environment_and_names_itself_when_unusable() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, format!("{SECRET}\n")).unwrap();
        let from_file = Token::from_sources(Some(&file), Some("other-token-from-env".into()))
            .unwrap()
            .unwrap();
        assert!(from_file.matches(SECRET));

        let from_env = Token::from_sources(None, Some(SECRET.into()))
            .unwrap()
            .unwrap();
        assert!(from_env.matches(SECRET));
        assert!(Token::from_sources(None, None).unwrap().is_none());

        std::fs::write(&file, "short").unwrap();
        let err = Token::from_sources(Some(&file), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("token file {}", file.display())),
            "{err}"
        );
        let missing = dir.path().join("missing");
        assert!(Token::from_sources(Some(&missing), None).is_err());
        let err = Token::from_sources(None, Some("x".into()))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("DIALECT_SERVE_TOKEN"), "{err}");
    }
}
