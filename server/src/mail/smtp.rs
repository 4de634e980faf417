//! The SMTP mailer.

use super::{Email, MailError, Mailer};
use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use std::fmt::{self, Debug};
use std::time::Duration;
use url::Url;

/// Delivers through SMTP. URL forms: `smtp://host[:port]` (plain, for a local relay),
/// `smtp://host[:port]?tls=required` (STARTTLS, refusing to continue without it),
/// `smtps://host[:port]` (implicit TLS, port 465 by default). Credentials come from the URL's
/// user info or are given separately.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl SmtpMailer {
    /// Builds a mailer from an SMTP URL, a sender address, and optional credentials that
    /// override the URL's.
    ///
    /// # Errors
    /// An unparseable URL, an unsupported scheme or `tls` value, or an invalid sender.
    pub fn from_url(
        smtp_url: &str,
        from: &str,
        credentials: Option<(String, String)>,
    ) -> Result<Self, MailError> {
        let url = Url::parse(smtp_url).map_err(|e| MailError::InvalidUrl(e.to_string()))?;
        let host = url
            .host_str()
            .ok_or_else(|| MailError::InvalidUrl("missing host".to_owned()))?
            .to_owned();
        let tls = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let tls_error = |e: lettre::transport::smtp::Error| MailError::InvalidUrl(e.to_string());
        let mut builder = match (url.scheme(), tls.as_deref()) {
            ("smtp", None | Some("none")) => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host).port(url.port().unwrap_or(25))
            }
            ("smtp", Some("required" | "starttls")) => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host)
                    .map_err(tls_error)?
                    .port(url.port().unwrap_or(587))
            }
            ("smtps", None) => AsyncSmtpTransport::<Tokio1Executor>::relay(&host)
                .map_err(tls_error)?
                .port(url.port().unwrap_or(465)),
            (scheme, tls) => {
                return Err(MailError::InvalidUrl(format!(
                    "unsupported scheme `{scheme}` or tls={} (use smtp://, smtp://…?tls=required or smtps://)",
                    tls.unwrap_or("")
                )));
            }
        }
        .timeout(Some(Duration::from_secs(10)));
        let credentials = credentials.or_else(|| {
            (!url.username().is_empty()).then(|| {
                (
                    percent_decode(url.username()),
                    percent_decode(url.password().unwrap_or_default()),
                )
            })
        });
        if let Some((user, password)) = credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| MailError::Message(e.to_string()))?;
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let to = email
            .to
            .parse::<Mailbox>()
            .map_err(|e| MailError::Message(e.to_string()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&email.subject)
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| MailError::Message(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError::Delivery(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_choose_the_transport() {
        let from = "Torii <no-reply@localhost>";
        assert!(SmtpMailer::from_url("http://x", from, None).is_err());
        assert!(SmtpMailer::from_url("not a url", from, None).is_err());
        assert!(SmtpMailer::from_url("smtp://x?tls=maybe", from, None).is_err());
        for ok in [
            "smtp://127.0.0.1:2525",
            "smtp://user:p%40ss@mail.example.com?tls=required",
            "smtps://mail.example.com",
        ] {
            assert!(SmtpMailer::from_url(ok, from, None).is_ok(), "{ok}");
        }
        assert!(SmtpMailer::from_url("smtp://x", "not an address", None).is_err());
    }

    #[test]
    fn user_info_is_percent_decoded() {
        assert_eq!(percent_decode("p%40ss%2Fword"), "p@ss/word");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
