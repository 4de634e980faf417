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
    /// again) overlaps the request.
    fn fault_of(&self, record: &Record) -> Option<&'a Fault> {
        self.faults
            .iter()
            .find(|f| record.start <= f.end + GRACE && record.end >= f.start)
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
