//! Remediation builders.
