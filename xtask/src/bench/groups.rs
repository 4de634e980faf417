//! Which parts of the bench a run does: all by default, or those `--only` names.

use anyhow::{Result, bail};

/// A part of the bench that `--only` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    /// The baselines, `/me` on database sessions (SQLite, PostgreSQL) and JWT sessions.
    Load,
    /// `/me` on PostgreSQL at 10,000, 100,000 and 1,000,000 sessions (with the baselines).
    Scale,
    /// A revocation on one node seen by another, on PostgreSQL and MariaDB.
    Propagation,
    /// Sign-ins one at a time, then the storm.
    SignIn,
    /// The WebAssembly bundles' sizes.
    Bundles,
}

const ALL: [(Group, &str); 5] = [
    (Group::Load, "load"),
    (Group::Scale, "scale"),
    (Group::Propagation, "propagation"),
    (Group::SignIn, "sign-in"),
    (Group::Bundles, "bundles"),
];

/// The groups a run does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Groups {
    chosen: Vec<Group>,
}

impl Groups {
    /// `[]` is every group; `--only a,b` (or `--only=a,b`, repeatable) those named.
    pub(crate) fn parse(args: &[String]) -> Result<Self> {
        let mut chosen = Vec::new();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let list = match arg.strip_prefix("--only") {
                Some("") => match args.next() {
                    Some(list) => list.as_str(),
                    None => bail!("`--only` needs a list of groups: {}", names()),
                },
                Some(rest) if rest.starts_with('=') => rest.trim_start_matches('='),
                _ => bail!("unknown argument `{arg}` (try `--only {}`)", names()),
            };
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let Some((group, _)) = ALL.iter().find(|(_, known)| *known == name) else {
                    bail!("unknown bench group `{name}`; the groups are {}", names());
                };
                if !chosen.contains(group) {
                    chosen.push(*group);
                }
            }
        }
        if chosen.is_empty() {
            chosen = ALL.iter().map(|(group, _)| *group).collect();
        }
        Ok(Self { chosen })
    }

    pub(crate) fn has(&self, group: Group) -> bool {
        self.chosen.contains(&group)
    }

    /// Every group: the run whose figures go to `bench/results.*`.
    pub(crate) fn is_full(&self) -> bool {
        ALL.iter().all(|(group, _)| self.has(*group))
    }

    /// The chosen groups' names, for the report.
    pub(crate) fn names(&self) -> Vec<&'static str> {
        ALL.iter()
            .filter(|(group, _)| self.has(*group))
            .map(|(_, name)| *name)
            .collect()
    }
}

fn names() -> String {
    ALL.iter()
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Groups> {
        Groups::parse(&args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn no_argument_is_the_full_run() {
        let groups = parse(&[]).unwrap();
        assert!(groups.is_full());
        assert_eq!(
            groups.names(),
            ["load", "scale", "propagation", "sign-in", "bundles"]
        );
    }

    #[test]
    fn only_names_groups() {
        let groups = parse(&["--only", "scale,propagation"]).unwrap();
        assert!(groups.has(Group::Scale) && groups.has(Group::Propagation));
        assert!(!groups.has(Group::Load) && !groups.is_full());
        assert_eq!(groups.names(), ["scale", "propagation"]);
        let groups = parse(&["--only=sign-in", "--only", "bundles,sign-in"]).unwrap();
        assert_eq!(groups.names(), ["sign-in", "bundles"]);
    }

    #[test]
    fn unknown_groups_and_arguments_are_refused() {
        assert!(parse(&["--only", "everything"]).is_err());
        assert!(parse(&["--only"]).is_err());
        assert!(parse(&["--fast"]).is_err());
    }
}
