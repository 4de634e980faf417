//! The fleet's table (requests by kind, failures by cause, latency, what each fault cost) and
//! the judgement of every failure against the fault it happened in.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::workload::{Failure, Kind, Outcome, Record};
use super::{Fault, GRACE};

#[derive(Debug)]
pub struct Report<'a> {
    records: &'a [Record],
    faults: &'a [Fault],
    outcome: &'a Outcome,
    took: Duration,
}

impl<'a> Report<'a> {
    pub fn new(
        records: &'a [Record],
        faults: &'a [Fault],
        outcome: &'a Outcome,
        took: Duration,
    ) -> Self {
        Self {
            records,
            faults,
            outcome,
            took,
        }
    }

    /// The fault whose window (from its start until `GRACE` after every node was ready
    /// again) the request ended in: a failure is seen when its request ends, and one in flight
    /// when a node is killed belongs to the kill, not to whatever came before. The windows
    /// never overlap (a fault starts after the previous window), so there is one at most.
    fn fault_of(&self, record: &Record) -> Option<&'a Fault> {
        self.faults
            .iter()
            .find(|f| record.end >= f.start && record.end <= f.end + GRACE)
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\nfleet: {} requests in {:.1}s through HAProxy to three nodes\n",
            self.records.len(),
            self.took.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "| request | sent | ok | failed | p50 | p99 |\n|---|---:|---:|---:|---:|---:|"
        );
        let mut rows: Vec<(String, Vec<&Record>)> = Kind::ALL
            .iter()
            .map(|kind| {
                let of_kind = self.records.iter().filter(|r| r.kind == *kind).collect();
                (kind.label().to_owned(), of_kind)
            })
            .collect();
        rows.push(("all".to_owned(), self.records.iter().collect()));
        for (label, records) in rows {
            let failed = records.iter().filter(|r| r.failure.is_some()).count();
            let mut latencies: Vec<Duration> = records.iter().map(|r| r.end - r.start).collect();
            latencies.sort_unstable();
            let _ = writeln!(
                out,
                "| {label} | {} | {} | {failed} | {} | {} |",
                records.len(),
                records.len() - failed,
                millis(percentile(&latencies, 50)),
                millis(percentile(&latencies, 99)),
            );
        }

        let mut causes: BTreeMap<(String, &str), usize> = BTreeMap::new();
        for record in self.records {
            if let Some(failure) = &record.failure {
                let during = self.fault_of(record).map_or("no fault", |f| f.name);
                *causes.entry((failure.cause(), during)).or_default() += 1;
            }
        }
        let _ = writeln!(
            out,
            "\n| failure cause | during | requests |\n|---|---|---:|"
        );
        if causes.is_empty() {
            let _ = writeln!(out, "| (none) | | 0 |");
        }
        for ((cause, during), count) in &causes {
            let _ = writeln!(out, "| {cause} | {during} | {count} |");
        }

        let _ = writeln!(
            out,
            "\n| fault | failed requests | until every node was ready again |\n|---|---:|---:|"
        );
        for fault in self.faults {
            let failed = self
                .records
                .iter()
                .filter(|r| {
                    r.failure.is_some() && self.fault_of(r).is_some_and(|f| f.name == fault.name)
                })
                .count();
            let _ = writeln!(
                out,
                "| {} | {failed} | {:.1}s |",
                fault.name,
                (fault.end - fault.start).as_secs_f64()
            );
        }
        if !self.outcome.lost_emails.is_empty() {
            let _ = writeln!(
                out,
                "\nemails that never reached a log: {}",
                self.outcome.lost_emails.len()
            );
        }
        let _ = writeln!(
            out,
            "\nsign-ups completed {}, interrupted {}; sessions held {}, signed out {}; \
             sign-in links used {}",
            self.outcome.completed_sign_ups.len(),
            self.outcome.uncertain_sign_ups.len(),
            self.outcome.held.len(),
            self.outcome.signed_out.len(),
            self.outcome.links_used.len()
        );
        out
    }

    /// Every failure that no fault allows, and a kill costing more than the requests that can
    /// be in flight at once.
    pub fn problems(&self, workers: usize) -> Vec<String> {
        let mut problems = Vec::new();
        for record in self.records {
            let Some(failure) = &record.failure else {
                continue;
            };
            let at = record.start.as_secs_f64();
            match (failure, self.fault_of(record)) {
                (Failure::Wrong(what), _) => problems.push(format!("at {at:.2}s: {what}")),
                (_, None) => problems.push(format!(
                    "at {at:.2}s: {} failed ({}) while no fault was under way",
                    record.kind.label(),
                    failure.cause()
                )),
                (_, Some(fault)) if !(fault.allowed)(failure) => problems.push(format!(
                    "at {at:.2}s: {} failed ({}) during `{}`, which must cost none of that",
                    record.kind.label(),
                    failure.cause(),
                    fault.name
                )),
                _ => {}
            }
        }
        for fault in self.faults.iter().filter(|f| f.name.contains("SIGKILL")) {
            let failed = self
                .records
                .iter()
                .filter(|r| {
                    r.failure.is_some() && self.fault_of(r).is_some_and(|f| f.name == fault.name)
                })
                .count();
            if failed > workers {
                problems.push(format!(
                    "`{}` cost {failed} requests, more than the {workers} that can be in flight",
                    fault.name
                ));
            }
        }
        for (asked, email) in &self.outcome.lost_emails {
            // A sign-in link is sent after the answer: a node killed just then takes it along.
            let killed = self.faults.iter().any(|f| {
                f.name.contains("SIGKILL") && *asked <= f.end && *asked + GRACE >= f.start
            });
            if !killed {
                problems.push(format!(
                    "the email to {email} (asked at {:.2}s) never reached a log",
                    asked.as_secs_f64()
                ));
            }
        }
        problems
    }
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = (sorted.len() * p).div_ceil(100).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}

fn millis(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(start_ms: u64, end_ms: u64, failure: Option<Failure>) -> Record {
        Record {
            kind: Kind::Me,
            start: Duration::from_millis(start_ms),
            end: Duration::from_millis(end_ms),
            failure,
        }
    }

    fn faults() -> Vec<Fault> {
        vec![
            Fault {
                name: "node1 restarted (SIGTERM)",
                start: Duration::from_secs(10),
                end: Duration::from_secs(12),
                allowed: |_| false,
            },
            Fault {
                name: "node2 killed (SIGKILL)",
                start: Duration::from_secs(20),
                end: Duration::from_secs(22),
                allowed: |f| matches!(f, Failure::Transport | Failure::Balancer(_)),
            },
        ]
    }

    #[test]
    fn failures_are_judged_by_the_fault_they_overlap() {
        let faults = faults();
        let outcome = Outcome::default();
        let records = vec![
            record(1_000, 1_010, None),
            // In flight when the node was killed, started in the graceful restart's last
            // second: the kill's, and allowed.
            record(12_990, 20_010, Some(Failure::Balancer(502))),
            // Within the second after the kill's recovery: still the kill's.
            record(22_500, 22_510, Some(Failure::Transport)),
        ];
        let report = Report::new(&records, &faults, &outcome, Duration::from_secs(30));
        assert!(report.problems(4).is_empty(), "{:?}", report.problems(4));

        let records = vec![
            // The graceful restart allows nothing.
            record(11_000, 11_010, Some(Failure::Balancer(502))),
            // No fault under way.
            record(15_000, 15_010, Some(Failure::Transport)),
            // A wrong answer is never allowed, even during a kill.
            record(
                20_500,
                20_510,
                Some(Failure::Wrong("GET /me answered 500".to_owned())),
            ),
        ];
        let report = Report::new(&records, &faults, &outcome, Duration::from_secs(30));
        let problems = report.problems(4);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("must cost none"), "{problems:?}");
        assert!(problems[1].contains("no fault"), "{problems:?}");
        assert!(problems[2].contains("answered 500"), "{problems:?}");
    }

    #[test]
    fn a_kill_may_cost_only_what_was_in_flight() {
        let faults = faults();
        let outcome = Outcome::default();
        let records: Vec<Record> = (0..5)
            .map(|i| record(20_000 + i, 20_100, Some(Failure::Transport)))
            .collect();
        let report = Report::new(&records, &faults, &outcome, Duration::from_secs(30));
        assert!(report.problems(5).is_empty());
        let problems = report.problems(4);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("more than the 4"), "{problems:?}");
    }

    #[test]
    fn percentiles_pick_the_rank_at_or_above() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 50), Duration::from_millis(50));
        assert_eq!(percentile(&sorted, 99), Duration::from_millis(99));
        assert_eq!(percentile(&[], 99), Duration::ZERO);
    }
}
