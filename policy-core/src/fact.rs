//! The three states of every probed fact.

use serde::{Deserialize, Serialize};

/// An errno as the probe saw it: the symbolic name (portable across architectures) and the number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Errno {
    /// Symbolic name, e.g. `EPERM`.
    pub name: String,
    /// Numeric value on the probed architecture, e.g. 1.
    pub number: i32,
}

impl Errno {
    /// Builds an errno from its name, filling the number from the Linux generic table (x86_64/aarch64 share it).
    pub fn named(name: &str) -> Self {
        Self { name: name.to_string(), number: crate::errno::number_of(name).unwrap_or(0) }
    }
}

/// Why a fact could not be observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Unavailable {
    /// The errno that stopped the read, when there was one (e.g. EACCES on a 0600 sysctl).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno: Option<Errno>,
    /// A short reason in words, e.g. `file absent` or `systemd not running`.
    pub reason: String,
}

/// A fact: observed, unavailable (with the reason), or not probed at all.
///
/// JSON: `{"observed": VALUE}`, `{"unavailable": {"errno": …, "reason": "…"}}`, or `"not-probed"`.
/// An absent field means not probed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Fact<T> {
    /// The value the probe read.
    Observed(T),
    /// The probe tried and could not read it.
    Unavailable(Unavailable),
    /// Nobody looked.
    #[default]
    NotProbed,
}

impl<T> Fact<T> {
    /// The observed value, if any.
    pub fn get(&self) -> Option<&T> {
        match self {
            Fact::Observed(v) => Some(v),
            _ => None,
        }
    }

    /// True when the fact was not probed (absent from the report).
    pub fn is_not_probed(&self) -> bool {
        matches!(self, Fact::NotProbed)
    }

    /// Convenience constructor for an unavailable fact.
    pub fn unavailable(reason: &str, errno: Option<Errno>) -> Self {
        Fact::Unavailable(Unavailable { errno, reason: reason.to_string() })
    }
}

impl Fact<bool> {
    /// True only when observed true.
    pub fn is_true(&self) -> bool {
        matches!(self, Fact::Observed(true))
    }
    /// True only when observed false.
    pub fn is_false(&self) -> bool {
        matches!(self, Fact::Observed(false))
    }
}
