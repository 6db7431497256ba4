//! Diagnostics: one line per problem, naming file, line, document and
//! object, in the form compilers use so editors can jump to it.

use std::fmt;

use crate::yaml::Loc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    pub loc: Loc,
    /// 1-based document number within the file, when the problem belongs to
    /// one document.
    pub document: Option<usize>,
    /// `VirtualService bookinfo/reviews`, when the object is known.
    pub object: Option<String>,
    /// The field path, e.g. `spec.http[0].route`; empty for whole documents.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.loc.line > 0 {
            write!(f, ":{}:{}", self.loc.line, self.loc.col)?;
        }
        write!(f, ": {}: ", self.severity)?;
        match (&self.object, self.document) {
            (Some(o), Some(d)) => write!(f, "{o} (document {d}): ")?,
            (None, Some(d)) => write!(f, "document {d}: ")?,
            (Some(o), None) => write!(f, "{o}: ")?,
            (None, None) => {}
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        // Multi-line messages would break the one-line-per-problem promise.
        write!(f, "{}", self.message.replace('\n', " "))
    }
}
