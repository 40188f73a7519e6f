//! What an audit produces, as data: one [`Site`] per borrow (one per macro
//! expansion), each with its verdict, the chains of evidence behind it and
//! the findings it raises. Renderers turn this into text; nothing here
//! prints and nothing here analyzes.

use crate::api::RefKind;
use crate::source::{FileId, Skipped};
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
    /// Not known: the borrow was not analyzed.
    Unknown,
    /// No window: the site is one call that needs the reference for its
    /// own length (an access).
    SingleCall,
}

impl Pairing {
    /// The name used in the JSON output.
    pub fn as_str(&self) -> &'static str {
        match self {
            Pairing::Paired(_) => "paired",
            Pairing::Unpaired { .. } => "unpaired",
            Pairing::Mismatched { .. } => "mismatched",
            Pairing::Adopted => "adopted",
            Pairing::Unknown => "unknown",
            Pairing::SingleCall => "single_call",
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
    /// What kind of evidence it is: fixes and messages are derived from
    /// this, never from the note.
    pub kind: StepKind,
}

/// The kinds of [`Step`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StepKind {
    /// A struct field is read.
    Read,
    /// A local (or a field, in the same body) is assigned.
    Assign,
    /// A value is stored into a struct field.
    Store,
    /// The value is a function's parameter.
    Parameter,
    /// A caller passes the value (directly or through a function pointer).
    Call,
    /// A function the value comes from returns it.
    Return,
    /// A borrowing macro's body, or one of its expansions.
    Macro,
    /// A test that makes the path hold a reference (`mmget_not_zero()`).
    Guard,
    /// An `mm_users` reference is taken (or returned by a call).
    Get,
    /// Only `mm_count` is taken (`mmgrab()`).
    Grab,
    /// An `mm_users` reference is dropped (`mmput()`).
    Put,
    /// The reference is released at teardown.
    Teardown,
    /// The running task's own address space.
    Owner,
    /// A statically allocated mm.
    Permanent,
    /// `NULL`: no mm.
    Null,
    /// The borrow does not run on this path.
    NotBorrowed,
    /// A store another path's condition rules out.
    Exclusion,
    /// The chain could not be followed further, and why.
    Unknown,
    /// Paths not listed one by one.
    Summary,
}

impl StepKind {
    /// The name used in the JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Read => "read",
            StepKind::Assign => "assign",
            StepKind::Store => "store",
            StepKind::Parameter => "parameter",
            StepKind::Call => "call",
            StepKind::Return => "return",
            StepKind::Macro => "macro",
            StepKind::Guard => "guard",
            StepKind::Get => "get",
            StepKind::Grab => "grab",
            StepKind::Put => "put",
            StepKind::Teardown => "teardown",
            StepKind::Owner => "owner",
            StepKind::Permanent => "permanent",
            StepKind::Null => "null",
            StepKind::NotBorrowed => "not_borrowed",
            StepKind::Exclusion => "exclusion",
            StepKind::Unknown => "unknown",
            StepKind::Summary => "summary",
        }
    }
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
    /// The origin is `current->mm`: the mm of whoever ran that code.
    pub owner_origin: bool,
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

impl FieldKey {
    /// The name of the field itself: `mm` for `snap[].mm`.
    pub fn last_field(&self) -> &str {
        self.path.rsplit(['.', '>']).next().unwrap_or(&self.path)
    }
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

/// A kind of alternative lifetime guarantee (other than `mm_users`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GuaranteeKind {
    /// The owner registers an mmu_notifier on the mm; its `.release` runs
    /// in `exit_mmap()` before the page tables go.
    MmuNotifierRelease,
    /// `current->mm` captured at asynchronous I/O submission: `exit_aio()`
    /// waits for in-flight requests before `exit_mmap()`.
    AioTeardown,
    /// The owning task is checked to be alive before the borrow (racy).
    TaskLiveness,
    /// The borrow is behind a test of `current->mm`: it says who the
    /// caller is, not how long the mm lives.
    CallerContext,
}

impl GuaranteeKind {
    /// The stable name used in reports and the JSON `guarantees` list.
    pub fn as_str(self) -> &'static str {
        match self {
            GuaranteeKind::MmuNotifierRelease => "mmu_notifier_release",
            GuaranteeKind::AioTeardown => "aio_teardown",
            GuaranteeKind::TaskLiveness => "task_liveness",
            GuaranteeKind::CallerContext => "caller_context",
        }
    }
}

/// An alternative guarantee found for a site, and whether it holds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Guarantee {
    /// What kind.
    pub kind: GuaranteeKind,
    /// True if it keeps the page tables alive for the window (when it is
    /// true); false if it is racy or does not stop the borrower.
    pub effective: bool,
    /// Where the evidence is.
    pub loc: Loc,
    /// What was found, in a sentence.
    pub note: String,
}

/// Where a comment was found, relative to the site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CommentPlace {
    /// At the borrow (same function, near the window).
    Borrow,
    /// At a store of the mm into a field.
    Store,
    /// On the declaration of a field the mm is read from.
    Field,
    /// On the borrowing macro.
    Macro,
}

impl CommentPlace {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CommentPlace::Borrow => "borrow",
            CommentPlace::Store => "store",
            CommentPlace::Field => "field",
            CommentPlace::Macro => "macro",
        }
    }
}

/// A comment about the mm's lifetime, quoted.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LifetimeComment {
    /// Where it was found.
    pub place: CommentPlace,
    /// Where it starts.
    pub loc: Loc,
    /// Its words, on one line.
    pub text: String,
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
    /// No `mm_users` reference, but an alternative guarantee that holds:
    /// it should be proven in a comment.
    UnprovenGuarantee,
    /// A comment says the mm is held without a reference (or must not be
    /// dereferenced), yet it flows into a borrow.
    ContradictingComment,
    /// An `mm_users` reference on the borrowed mm is dropped before the
    /// window is closed.
    DroppedInWindow,
    /// A call that reaches into another mm's page tables or VMAs
    /// (`get_user_pages_remote()`, ...) on an mm that holds only
    /// `mm_count`, or no reference, on some path.
    AccessWithoutMmUsers,
}

impl Rule {
    /// Every rule, in code order.
    pub const ALL: [Rule; 8] = [
        Rule::BorrowWithoutMmUsers,
        Rule::UnresolvedOrigin,
        Rule::UnpairedBorrow,
        Rule::MismatchedUnuse,
        Rule::UnprovenGuarantee,
        Rule::ContradictingComment,
        Rule::DroppedInWindow,
        Rule::AccessWithoutMmUsers,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Rule::BorrowWithoutMmUsers => "MM001",
            Rule::UnresolvedOrigin => "MM002",
            Rule::UnpairedBorrow => "MM003",
            Rule::MismatchedUnuse => "MM004",
            Rule::UnprovenGuarantee => "MM005",
            Rule::ContradictingComment => "MM006",
            Rule::DroppedInWindow => "MM007",
            Rule::AccessWithoutMmUsers => "MM008",
        }
    }

    /// The stable kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Rule::BorrowWithoutMmUsers => "borrow-without-mm-users",
            Rule::UnresolvedOrigin => "unresolved-origin",
            Rule::UnpairedBorrow => "unpaired-borrow",
            Rule::MismatchedUnuse => "mismatched-unuse",
            Rule::UnprovenGuarantee => "borrow-relies-on-other-guarantee",
            Rule::ContradictingComment => "contradicting-lifetime-comment",
            Rule::DroppedInWindow => "mm-users-dropped-in-window",
            Rule::AccessWithoutMmUsers => "access-without-mm-users",
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
            Rule::UnprovenGuarantee => {
                "What: kthread_use_mm() on an mm that holds no mm_users reference, but with another \
                 guarantee that can keep the page tables alive: an mmu_notifier whose .release stops \
                 the borrower, or current->mm captured at asynchronous I/O submission (exit_aio() \
                 waits for in-flight requests before exit_mmap()).\n\
                 Why: such a guarantee depends on teardown ordering elsewhere in the kernel, which \
                 nobody sees at the call. It is acceptable only when a comment at the borrow, the \
                 store or the field proves it; the report says whether one was found (`documented`).\n\
                 Fix: to make it unconditionally right, take mmgrab() where the mm is stored and \
                 borrow inside if (mmget_not_zero(mm)) { ...; mmput(mm); }. Otherwise, write the \
                 comment that proves the ordering."
            }
            Rule::ContradictingComment => {
                "What: a comment on the field (or the store) says the mm is held without a reference, \
                 or must never be dereferenced, and yet the mm flows into kthread_use_mm().\n\
                 Why: either the comment or the code is wrong; borrowing an mm dereferences its page \
                 tables.\n\
                 Fix: take a reference (mmgrab() at the store, mmget_not_zero() around the borrow) \
                 and update the comment, or stop borrowing that mm."
            }
            Rule::DroppedInWindow => {
                "What: on some path between kthread_use_mm(mm) and the kthread_unuse_mm(mm) that \
                 closes the window, mmput() (or mmput_async()) drops an mm_users reference on the \
                 same mm (or on a local that holds it).\n\
                 Why: if that was the reference that kept the address space alive, mmput() may tear \
                 down the page tables while the thread still runs on them.\n\
                 Fix: drop the reference only after the window is closed: \
                 kthread_unuse_mm(mm); mmput(mm);"
            }
            Rule::AccessWithoutMmUsers => {
                "What: a call that reads or changes another process's pages, page tables or VMAs \
                 (get_user_pages_remote(), pin_user_pages_remote(), fixup_user_fault(), \
                 access_remote_vm(), walk_page_range(), mpol_rebind_mm(), \
                 mmu_interval_notifier_insert(), ...) on an mm for which some path holds only \
                 mm_count (mmgrab) or no reference at all.\n\
                 Why: when the last mm_users reference goes, exit_mmap() unmaps the VMAs and frees \
                 the page tables, holding the mmap lock only for read while it unmaps: the mmap \
                 lock alone does not keep them, and the call faults into or walks freed memory.\n\
                 Fix: take the reference around the call: if (!mmget_not_zero(mm)) fail; \
                 mmap_read_lock(mm); ...call...; mmap_read_unlock(mm); mmput(mm); (or get the mm \
                 with get_task_mm()/mm_access(), which take it)."
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

/// What a site is: a window, or a single access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SiteKind {
    /// `kthread_use_mm()` .. `kthread_unuse_mm()`.
    Window,
    /// One call that reaches into the mm (`get_user_pages_remote()`).
    Access,
}

impl SiteKind {
    /// The name in the JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            SiteKind::Window => "window",
            SiteKind::Access => "access",
        }
    }
}

/// One site: a borrow window or an access to an mm (one per macro
/// expansion of a macro that holds one).
#[derive(Clone, Debug)]
pub struct Site {
    /// A window or an access.
    pub kind: SiteKind,
    /// Which kind of access (`window`, `gup`, ...).
    pub family: crate::api::Family,
    /// Where the borrow is (for a macro: where the macro is expanded).
    pub loc: Loc,
    /// The enclosing function; `None` for a macro body with no expansion.
    pub function: Option<String>,
    /// The borrowing macro, if the borrow is in one.
    pub macro_name: Option<String>,
    /// The borrow call inside the macro body.
    pub macro_loc: Option<Loc>,
    /// The API called: `kthread_use_mm`, `get_user_pages_remote`, ...
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
    /// Where an `mm_users` reference on the borrowed mm is dropped inside
    /// the window, if it is on some path.
    pub dropped_in_window: Option<Loc>,
    /// What would make the site right.
    pub fix: Option<String>,
    /// The findings this site raises (empty when all is well).
    pub findings: Vec<Rule>,
    /// Alternative guarantees found (only for sites whose worst chain
    /// holds no `mm_users` reference).
    pub guarantees: Vec<Guarantee>,
    /// Comments about the mm's lifetime near the borrow, the stores, the
    /// fields and the macro.
    pub comments: Vec<LifetimeComment>,
    /// A comment contradicted by the flow into the borrow.
    pub contradiction: Option<LifetimeComment>,
}

impl Site {
    /// True if a lifetime comment was found.
    pub fn documented(&self) -> bool {
        !self.comments.is_empty()
    }

    /// How one of the site's findings is labelled: a guarantee proven in a
    /// comment is a note.
    pub fn finding_severity(&self, rule: Rule) -> Severity {
        match rule {
            Rule::UnprovenGuarantee if self.documented() => Severity::Note,
            _ => Severity::Warning,
        }
    }

    /// The site's severity: a wrong verdict is an error, otherwise its
    /// worst finding's.
    pub fn severity(&self) -> Severity {
        let findings = self.findings.iter().map(|&r| self.finding_severity(r));
        match self.verdict {
            Verdict::Wrong => Severity::Error,
            _ => findings.min().unwrap_or(Severity::None),
        }
    }
}

/// How serious a finding or a site is, worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Note,
    /// A site with no finding.
    None,
}

impl Severity {
    /// The word reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
            Severity::None => "none",
        }
    }
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
    /// Findings left out because a baseline records them.
    pub baselined: u64,
    /// Wall time of the audit, milliseconds (not in snapshot tests).
    pub elapsed_ms: u64,
    /// Files that could not be audited.
    pub skipped: Vec<Skipped>,
    /// Files audited with a caveat (not UTF-8).
    pub warnings: Vec<Skipped>,
    /// The rounds were replayed from the cache. Not in the JSON: cached
    /// and uncached reports are the same.
    #[serde(skip)]
    pub replayed: bool,
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

    /// A key for each finding that survives line shifts: rule, file,
    /// function, macro, mm expression, and an ordinal among sites with the
    /// same key (in file order). Baselines and SARIF fingerprints use it.
    pub fn finding_keys(&self) -> Vec<Vec<String>> {
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        self.sites
            .iter()
            .map(|s| {
                s.findings
                    .iter()
                    .map(|r| {
                        let base = format!(
                            "{}|{}|{}|{}|{}",
                            r.name(),
                            self.files[s.loc.file as usize].path,
                            s.function.as_deref().unwrap_or("-"),
                            s.macro_name.as_deref().unwrap_or("-"),
                            s.mm
                        );
                        let n = seen.entry(base.clone()).or_default();
                        *n += 1;
                        format!("{base}|{n}")
                    })
                    .collect()
            })
            .collect()
    }
}

/// A stable 64-bit FNV-1a hash, as 16 hex digits.
pub fn stable_hash(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// What `--select` and `--ignore` choose: the families of sites audited,
/// and the rules whose findings are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection {
    pub families: crate::api::FamilySet,
    /// The rules reported, by bit of their place in [`Rule::ALL`].
    rules: u32,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            families: crate::api::FamilySet::DEFAULT,
            rules: u32::MAX,
        }
    }
}

impl Selection {
    /// From the items of `--select` and `--ignore`: rule codes (`MM008`)
    /// or names, families (`gup`, `window`), or `ALL`. Families named in
    /// `--select` replace the default ones (windows), rules named there
    /// replace all rules; `--ignore` then takes away.
    pub fn parse(select: &[String], ignore: &[String]) -> Result<Selection, String> {
        use crate::api::{Family, FamilySet};
        enum Item {
            All,
            Family(Family),
            Rule(Rule),
        }
        let item = |s: &String| {
            let s = s.trim();
            if s.eq_ignore_ascii_case("all") {
                Ok(Item::All)
            } else if let Some(f) = Family::find(s) {
                Ok(Item::Family(f))
            } else if let Some(r) = Rule::find(s) {
                Ok(Item::Rule(r))
            } else {
                Err(format!(
                    "`{s}` is no rule code, rule name or family (families: {}; rules: MM001-MM{:03}; or ALL)",
                    Family::ALL.map(Family::as_str).join(", "),
                    Rule::ALL.len()
                ))
            }
        };
        let bit = |r: Rule| 1u32 << Rule::ALL.iter().position(|&x| x == r).unwrap_or(0);
        let mut out = Selection::default();
        let (mut families, mut rules) = (None::<FamilySet>, None::<u32>);
        for s in select {
            match item(s)? {
                Item::All => {
                    families = Some(FamilySet::ALL);
                    rules = Some(u32::MAX);
                }
                Item::Family(f) => families = Some(families.unwrap_or(FamilySet::NONE).with(f)),
                Item::Rule(r) => rules = Some(rules.unwrap_or(0) | bit(r)),
            }
        }
        out.families = families.unwrap_or(out.families);
        out.rules = rules.unwrap_or(out.rules);
        for s in ignore {
            match item(s)? {
                Item::All => (out.families, out.rules) = (FamilySet::NONE, 0),
                Item::Family(f) => out.families = out.families.without(f),
                Item::Rule(r) => out.rules &= !bit(r),
            }
        }
        Ok(out)
    }

    /// True if findings of `rule` are reported.
    pub fn reports(&self, rule: Rule) -> bool {
        let i = Rule::ALL.iter().position(|&x| x == rule).unwrap_or(0);
        self.rules & (1 << i) != 0
    }

    /// Drops the findings of rules not selected.
    pub fn keep_selected(&self, report: &mut Report) {
        for s in &mut report.sites {
            s.findings.retain(|&r| self.reports(r));
        }
    }
}

#[cfg(test)]
mod selection_tests {
    use super::*;
    use crate::api::{Family, FamilySet};

    #[test]
    fn select_replaces_and_ignore_takes_away() {
        let s = |sel: &[&str], ign: &[&str]| {
            let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            Selection::parse(&v(sel), &v(ign))
        };
        assert_eq!(s(&[], &[]).unwrap(), Selection::default());
        let gup = s(&["gup"], &[]).unwrap();
        assert!(gup.families.contains(Family::Gup) && !gup.families.contains(Family::Window));
        assert!(gup.reports(Rule::AccessWithoutMmUsers));
        let all = s(&["ALL"], &["MM003", "page_walk"]).unwrap();
        assert!(!all.families.contains(Family::PageWalk) && all.families.contains(Family::Gup));
        assert!(!all.reports(Rule::UnpairedBorrow) && all.reports(Rule::BorrowWithoutMmUsers));
        let only = s(&["unresolved-origin"], &[]).unwrap();
        assert_eq!(only.families, FamilySet::DEFAULT);
        assert!(only.reports(Rule::UnresolvedOrigin) && !only.reports(Rule::BorrowWithoutMmUsers));
        assert!(s(&["MM999"], &[]).is_err());
    }
}
