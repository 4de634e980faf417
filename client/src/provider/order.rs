//! [`AnswerOrder`]: which answer about the session may replace the state.
//!
//! Answers race: a `/me` read started on tab focus may finish after a sign-in that finished
//! later than it started. Every operation takes a ticket from one counter (reads when they
//! start, sign-in, sign-up and sign-out when they finish), and an answer is applied only when
//! its ticket is newer than the one last applied: a read begun before a sign-in finished never
//! undoes it. Background reads (focus and visibility usually fire together) run one at a time;
//! a refocus while one is in flight asks for one more read after it, never for none, since
//! the read in flight may have been answered before what the refocus is about.

/// The ticket counter of one provider.
#[derive(Debug, Default)]
pub(super) struct AnswerOrder {
    issued: u64,
    applied: u64,
    background_read: bool,
    read_again: bool,
}

impl AnswerOrder {
    /// A ticket for an operation: newer than every ticket issued before.
    pub(super) fn issue(&mut self) -> u64 {
        self.issued += 1;
        self.issued
    }

    /// Whether the answer that took `ticket` may replace the state: only when it is newer
    /// than the last one applied (it then becomes the last applied).
    pub(super) fn admit(&mut self, ticket: u64) -> bool {
        let newer = ticket > self.applied;
        if newer {
            self.applied = ticket;
        }
        newer
    }

    /// Starts a background read unless one runs already; then that one reads once more when
    /// it ends.
    pub(super) fn begin_background_read(&mut self) -> bool {
        if self.background_read {
            self.read_again = true;
            return false;
        }
        self.background_read = true;
        true
    }

    /// The background read ended (whatever its outcome): true when it must read once more
    /// (it stays the one running).
    pub(super) fn end_background_read(&mut self) -> bool {
        if self.read_again {
            self.read_again = false;
            return true;
        }
        self.background_read = false;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_started_before_a_sign_in_never_undoes_it() {
        let mut order = AnswerOrder::default();
        // A focus read starts, then a sign-in finishes while it is in flight.
        let read = order.issue();
        let sign_in = order.issue();
        assert!(order.admit(sign_in));
        // The read's older answer arrives last: it must not replace the signed-in state.
        assert!(!order.admit(read));
        // A read started after the sign-in is newer: it applies.
        let later = order.issue();
        assert!(order.admit(later));
    }

    #[test]
    fn answers_in_order_all_apply_and_one_ticket_applies_once() {
        let mut order = AnswerOrder::default();
        let tickets: Vec<u64> = (0..3).map(|_| order.issue()).collect();
        assert_eq!(tickets, [1, 2, 3]);
        assert!(tickets.iter().all(|&ticket| order.admit(ticket)));
        assert!(!order.admit(3), "the same answer twice");
    }

    #[test]
    fn background_reads_run_one_at_a_time_and_a_refocus_meanwhile_reads_once_more() {
        let mut order = AnswerOrder::default();
        assert!(order.begin_background_read());
        assert!(
            !order.begin_background_read(),
            "focus and visibility together"
        );
        assert!(
            !order.begin_background_read(),
            "any number of them: one more read"
        );
        assert!(
            order.end_background_read(),
            "the read in flight reads again"
        );
        assert!(!order.begin_background_read(), "still one at a time");
        assert!(order.end_background_read());
        assert!(!order.end_background_read(), "then it is done");
        assert!(order.begin_background_read(), "and the next refocus reads");
        assert!(!order.end_background_read());
        assert!(
            !order.end_background_read(),
            "an extra end never blocks reads"
        );
        assert!(order.begin_background_read());
    }
}
