//! Mails sent in the background, so that a request does not wait for the SMTP server.

use super::{Email, Notice, security_notice};
use std::sync::Arc;

/// Mails sent in the background, counted so that a shutdown (or a test) can wait for them.
#[derive(Debug, Default)]
pub(crate) struct Deliveries {
    pending: std::sync::atomic::AtomicUsize,
    settled: tokio::sync::Notify,
}

impl crate::Torii {
    /// Tells `to` about a change to their account in environment `environment_id`, in the
    /// background: the change is made whatever the mail server does, and a failure is logged.
    pub(crate) fn notify(&self, environment_id: &str, to: &str, notice: &Notice) {
        match security_notice(&self.app_name(environment_id), to, notice) {
            Ok(email) => self.deliver_in_background(email, notice.subject),
            Err(error) => tracing::warn!(%error, notice = notice.subject, "notice not rendered"),
        }
    }

    /// The name an environment's emails go out under.
    pub(crate) fn app_name(&self, environment_id: &str) -> String {
        self.environments()
            .iter()
            .find(|env| env.id == environment_id)
            .map_or_else(|| "Torii".to_owned(), |env| env.name.clone())
    }

    /// Sends a mail without making the request wait for it. Used where the answer must not
    /// depend on whether an account exists (sign-in links, password reset): the SMTP round
    /// trip would otherwise tell, by its time or by its failure. A failure is logged.
    pub(crate) fn deliver_in_background(&self, email: Email, what: &'static str) {
        let deliveries = Arc::clone(self.deliveries());
        let mailer = self.mailer_arc();
        deliveries
            .pending
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::spawn(async move {
            if let Err(error) = mailer.send(&email).await {
                tracing::warn!(error = %crate::log::escaped(&error), what, "mail not sent");
            }
            if deliveries
                .pending
                .fetch_sub(1, std::sync::atomic::Ordering::SeqCst)
                == 1
            {
                deliveries.settled.notify_waiters();
            }
        });
    }

    /// Waits until every mail handed to the background has been sent (or has failed).
    pub async fn mail_settled(&self) {
        let deliveries = self.deliveries();
        loop {
            let settled = deliveries.settled.notified();
            if deliveries.pending.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                return;
            }
            settled.await;
        }
    }
}
