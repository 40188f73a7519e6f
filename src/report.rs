//! What an audit produces, as data: one [`Site`] per borrow (one per macro
//! expansion), each with its verdict, the chains of evidence behind it and
//! the findings it raises. Renderers turn this into text; nothing here
//! prints and nothing here analyzes.

use crate::rules::RefKind;
use crate::source::FileId;
use crate::walk::Skipped;
use serde::Serialize;

/// A position in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    /// The file.
    pub file: FileId,
    /// Byte offset.
    pub offset: usize,
}

/// The verdict on one borrow site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// An `mm_users` reference (or the caller's own mm) covers the window.
    Ok,
    /// Only `mm_count`, or no reference, on some path.
    Wrong,
    /// No `mm_users` reference but an alternative guarantee (reserved).
    Suspect,
    /// Some origin could not be followed.
    Unresolved,
}

impl Verdict {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Wrong => "wrong",
            Verdict::Suspect => "suspect",
            Verdict::Unresolved => "unresolved",
        }
    }
}

/// How the borrow window is closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pairing {
    /// An unuse of the same mm ends the window on every path.
    Paired(Loc),
    /// Some path leaves the window without an unuse.
    Unpaired { why: String, at: Option<Loc> },
    /// The unuse found is of another mm.
    Mismatched { other: String, at: Loc },
    /// Never unused on purpose: the thread keeps a fresh `mm_users`
    /// reference for the rest of its life and drops it when it exits.
    Adopted,
}

impl Pairing {
    /// The name used in the JSON output.
    pub fn as_str(&self) -> &'static str {
        match self {
            Pairing::Paired(_) => "paired",
            Pairing::Unpaired { .. } => "unpaired",
            Pairing::Mismatched { .. } => "mismatched",
            Pairing::Adopted => "adopted",
        }
    }
}

/// One step of a chain of evidence.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Step {
    /// Where.
    pub loc: Loc,
    /// What happens there, in a few words.
    pub note: String,
}

/// One way the mm reaches the borrow, from the site back to an origin.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Chain {
    /// The reference this chain holds at the borrow.
    pub reference: RefKind,
    /// Site first, origin last.
    pub steps: Vec<Step>,
    /// The outermost caller on the chain: the function that handed the mm
    /// down towards the borrow (for a report that names it).
    pub via: Option<Via>,
    /// The struct fields the mm is read from on the way, nearest first.
    pub fields: Vec<FieldKey>,
    /// Where the mm is stored into those fields, nearest first.
    pub stores: Vec<Loc>,
}

/// A struct field, named by the struct type it belongs to and the access
/// path below it (`snap[].mm` for `s->snap[i].mm`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldKey {
    /// The struct tag.
    pub struct_name: String,
    /// The access path from that struct.
    pub path: String,
}

impl std::fmt::Display for FieldKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "struct {}.{}", self.struct_name, self.path)
    }
}

/// A function a chain passes through, and where it makes the call.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Via {
    /// The calling function.
    pub function: String,
    /// The call.
    pub loc: Loc,
}

/// A kind of finding. Codes and names are stable: CI greps for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Rule {
    /// The borrowed mm holds only `mm_count`, or no reference, on some path.
    BorrowWithoutMmUsers,
    /// The origin of the borrowed mm could not be followed.
    UnresolvedOrigin,
    /// The borrow window is not closed on some path.
    UnpairedBorrow,
    /// The window is closed with a different mm.
    MismatchedUnuse,
}

impl Rule {
    /// Every rule, in code order.
    pub const ALL: [Rule; 4] = [
        Rule::BorrowWithoutMmUsers,
        Rule::UnresolvedOrigin,
        Rule::UnpairedBorrow,
        Rule::MismatchedUnuse,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Rule::BorrowWithoutMmUsers => "MM001",
            Rule::UnresolvedOrigin => "MM002",
            Rule::UnpairedBorrow => "MM003",
            Rule::MismatchedUnuse => "MM004",
        }
    }

    /// The stable kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Rule::BorrowWithoutMmUsers => "borrow-without-mm-users",
            Rule::UnresolvedOrigin => "unresolved-origin",
            Rule::UnpairedBorrow => "unpaired-borrow",
            Rule::MismatchedUnuse => "mismatched-unuse",
        }
    }

    /// What the rule checks, why, and how to fix a finding.
    pub fn explain(self) -> &'static str {
        match self {
            Rule::BorrowWithoutMmUsers => {
                "What: kthread_use_mm()/use_mm() on an mm for which some path holds only an mm_count \
                 reference (mmgrab) or no reference at all.\n\
                 Why: mmgrab() keeps the struct mm_struct, not the address space. When the last \
                 mm_users reference goes, mmput() tears down the VMAs and page tables, and the \
                 borrowing thread then walks freed page tables.\n\
                 Fix: keep mmgrab() where the mm is stored (mmdrop() at teardown) and borrow only \
                 inside if (mmget_not_zero(mm)) { kthread_use_mm(mm); ...; kthread_unuse_mm(mm); mmput(mm); }."
            }
            Rule::UnresolvedOrigin => {
                "What: mmaudit could not follow the borrowed mm back to where it was obtained.\n\
                 Why: without the origin nobody can tell which reference is held.\n\
                 Fix: none needed in the code if it is right; the report says how far the chain got. \
                 Taking mmget_not_zero()/mmput() around the borrow makes the site right whatever the origin."
            }
            Rule::UnpairedBorrow => {
                "What: a path leaves the function after kthread_use_mm() without kthread_unuse_mm().\n\
                 Why: the thread keeps running on the borrowed address space, past any reference the \
                 caller holds.\n\
                 Fix: call kthread_unuse_mm() on every path out of the window (a common exit label)."
            }
            Rule::MismatchedUnuse => {
                "What: the window is closed with kthread_unuse_mm() on a different mm expression.\n\
                 Why: the borrowed mm stays installed, or the wrong one is dropped.\n\
                 Fix: unuse exactly the mm that was used."
            }
        }
    }

    /// Looks a rule up by code or name.
    pub fn find(s: &str) -> Option<Rule> {
        Rule::ALL
            .into_iter()
            .find(|r| r.code().eq_ignore_ascii_case(s) || r.name() == s)
    }
}

/// One borrow site (one macro expansion of a borrowing macro).
#[derive(Clone, Debug)]
pub struct Site {
    /// Where the borrow is (for a macro: where the macro is expanded).
    pub loc: Loc,
    /// The enclosing function; `None` for a macro body with no expansion.
    pub function: Option<String>,
    /// The borrowing macro, if the borrow is in one.
    pub macro_name: Option<String>,
    /// The borrow call inside the macro body.
    pub macro_loc: Option<Loc>,
    /// `kthread_use_mm` or `use_mm`.
    pub api: &'static str,
    /// The mm expression, as written at `loc`.
    pub mm: String,
    /// The verdict, the worst chain deciding.
    pub verdict: Verdict,
    /// The reference of the worst chain.
    pub reference: RefKind,
    /// Every chain, worst first.
    pub chains: Vec<Chain>,
    /// How the window is closed.
    pub pairing: Pairing,
    /// What would make the site right.
    pub fix: Option<String>,
    /// The findings this site raises (empty when all is well).
    pub findings: Vec<Rule>,
}

/// Counters for the `stats` object.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    /// `.c`/`.h` files walked.
    pub files_walked: u64,
    /// Bytes read by the prefilter.
    pub bytes_scanned: u64,
    /// Files kept by the prefilter.
    pub files_prefiltered: u64,
    /// Files parsed.
    pub files_parsed: u64,
    /// Bytes parsed.
    pub bytes_parsed: u64,
    /// Demand-driven parse rounds.
    pub rounds: u32,
    /// Times the files the prefilter dropped were searched again for
    /// identifiers the analysis wanted.
    pub sweeps: u32,
    /// Files brought in by those searches.
    pub files_swept: u64,
    /// Borrow sites reported.
    pub sites: u64,
    /// Sites with at least one finding.
    pub findings: u64,
    /// Wall time of the audit, milliseconds (not in snapshot tests).
    pub elapsed_ms: u64,
    /// Files that could not be audited.
    pub skipped: Vec<Skipped>,
}

/// A whole audit.
pub struct Report {
    /// The audited root as given.
    pub root: String,
    /// Every site, sorted by file and position.
    pub sites: Vec<Site>,
    /// Counters.
    pub stats: Stats,
    /// The files that locations point into.
    pub files: Vec<crate::source::SourceFile>,
}

impl Report {
    /// True if any site has a finding.
    pub fn has_findings(&self) -> bool {
        self.sites.iter().any(|s| !s.findings.is_empty())
    }
}
