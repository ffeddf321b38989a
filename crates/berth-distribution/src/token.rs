//! Bearer tokens from a challenge's realm, as Docker's token handler gets
//! them: `GET realm?service=&scope=` (anonymous, or with Basic credentials;
//! a login also asks `offline_token=true` so that the server may hand out a
//! refresh token, Docker's `identitytoken`), or — when the credentials hold
//! a refresh token — an OAuth `POST` to the realm with
//! `grant_type=refresh_token`. A refresh token the server rotates is kept
//! for the rest of this repository's requests.

use hyper::Method;

use crate::auth::{refresh_form, token_url, Credentials, TokenResponse, CLIENT_ID};
use crate::client::{read_limited, Payload, Repository};
use crate::error::{DistributionError, RegistryErrorEntry, Result};
use crate::transport;

const MAX_TOKEN_BODY: usize = 64 << 10;

/// How a token is asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ask {
    /// For requests.
    Access,
    /// For `docker login`: also ask for a refresh token (offline access).
    Login,
}

impl Repository {
    /// A token for this repository, and with `mount_from` also for pulling
    /// from that one (a cross-repository mount needs both in one token).
    pub(crate) async fn token_for(&self, realm: &str, service: Option<&str>, mount_from: Option<&str>, ask: Ask) -> Result<String> {
        let mut scopes = vec![format!("repository:{}:{}", self.name, self.actions)];
        scopes.extend(mount_from.map(|from| format!("repository:{from}:pull")));
        let terr = |message: String| DistributionError::Token { realm: realm.to_string(), message };
        let refresh = self.refresh_token();
        let resp = match &refresh {
            Some(r) => {
                let form = refresh_form(r, service, &scopes);
                let payload = Payload {
                    content_type: "application/x-www-form-urlencoded",
                    len: form.len() as u64,
                    body: transport::full(form.into()),
                    range: None,
                };
                self.send_body(Method::POST, realm, None, None, Some(payload)).await?
            }
            None => {
                let mut url = token_url(realm, service, &scopes);
                if ask == Ask::Login {
                    url.push_str(&format!("&offline_token=true&client_id={CLIENT_ID}"));
                }
                let basic = self.creds.as_ref().filter(|c| !c.username.is_empty()).map(Credentials::basic);
                self.send_body(Method::GET, &url, None, basic.as_deref(), None).await?
            }
        };
        let status = resp.status();
        let body = read_limited(resp.into_body(), MAX_TOKEN_BODY).await.map_err(terr)?;
        if status == hyper::StatusCode::UNAUTHORIZED {
            let message = if refresh.is_some() { "the identity token was refused (log in again)" } else { "incorrect username or password" };
            return Err(DistributionError::Registry {
                status: 401,
                errors: vec![RegistryErrorEntry { code: "UNAUTHORIZED".into(), message: message.into() }],
            });
        }
        if !status.is_success() {
            let how = if refresh.is_some() { "POST (OAuth refresh token)" } else { "GET" };
            return Err(terr(format!("{how}: status {status}")));
        }
        let t: TokenResponse = serde_json::from_slice(&body).map_err(|e| terr(e.to_string()))?;
        if !t.refresh_token.is_empty() {
            self.set_refresh_token(t.refresh_token.clone());
        }
        t.into_token().ok_or_else(|| terr("no token in the response".into()))
    }
}
