//! The domain knowledge: which kernel APIs borrow an address space, and
//! which grant, drop or test which reference count of `struct mm_struct`.
//!
//! Everything the analyzer knows about kernel APIs is in [`BUILTIN`] (and
//! what an `--api` file adds, see [`ApiTable`]). Code elsewhere asks this
//! table by role; it never names an API itself. Rows name kernel *APIs*
//! only, never a driver, file or struct. (The checks a report applies are
//! `report::Rule`; a row of this table is an [`Api`].)

use serde::Serialize;

/// The two reference counts of `struct mm_struct`, plus the states a value
/// can be in when it reaches a borrow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[derive(Default)]
pub enum RefKind {
    /// An `mm_users` reference: the page tables stay alive.
    MmUsers,
    /// The caller's own address space (`current->mm`).
    Owner,
    /// Only `mm_count`: the struct lives, the page tables may not.
    MmCount,
    /// No reference at all.
    None,
    /// The origin could not be followed to the end.
    #[default]
    Unknown,
    /// The path passes NULL to a borrow that only runs on a non-NULL mm:
    /// nothing is borrowed on it.
    NotBorrowed,
    /// A statically allocated `struct mm_struct` (`&init_mm`): never
    /// freed.
    Permanent,
}

impl RefKind {
    /// The name used in reports and in the JSON contract.
    pub fn as_str(self) -> &'static str {
        match self {
            RefKind::MmUsers => "mm_users",
            RefKind::Owner => "owner",
            RefKind::MmCount => "mm_count",
            RefKind::None => "none",
            RefKind::Unknown => "unknown",
            RefKind::NotBorrowed => "not_borrowed",
            RefKind::Permanent => "permanent",
        }
    }

    /// How bad a path holding this is, for putting the worst first (0:
    /// it keeps the page tables alive).
    pub fn badness(self) -> u8 {
        match self {
            RefKind::None => 4,
            RefKind::MmCount => 3,
            RefKind::Unknown => 2,
            RefKind::MmUsers | RefKind::Owner | RefKind::NotBorrowed | RefKind::Permanent => 0,
        }
    }

    /// True if a path holding this does not keep the page tables alive
    /// (or nobody could tell).
    pub fn is_bad(self) -> bool {
        matches!(self, RefKind::MmCount | RefKind::None | RefKind::Unknown)
    }
}

/// What an API does to, or needs from, an mm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Starts a borrow window on its argument (`kthread_use_mm`).
    BorrowStart,
    /// Ends a borrow window on its argument (`kthread_unuse_mm`).
    BorrowEnd,
    /// Returns a fresh `mm_users` reference, or NULL (`get_task_mm`).
    ReturnsMmUsers,
    /// Takes an `mm_users` reference on its argument unconditionally.
    TakesMmUsers,
    /// Takes an `mm_users` reference on its argument if it returns true.
    TriesMmUsers,
    /// Drops an `mm_users` reference (`mmput`).
    DropsMmUsers,
    /// Takes an `mm_count` reference (`mmgrab`).
    TakesMmCount,
    /// Drops an `mm_count` reference (`mmdrop`).
    DropsMmCount,
    /// Registers an mmu_notifier (argument 0, `&obj->mn`, whose `.ops` is
    /// set beforehand) on the mm argument.
    RegistersNotifier,
    /// Gets an mmu_notifier for the ops table in argument 0 on the mm
    /// argument.
    GetsNotifier,
    /// Waits for, or cancels, the work item (or thread) in argument 0.
    StopsWork,
    /// Waits for every work item on the queue in argument 0.
    StopsQueue,
    /// Binds the function in argument 1 to the work item in argument 0.
    BindsWork,
    /// Tells that the `struct kiocb` in argument 0 is asynchronous I/O.
    MarksAsyncIo,
    /// Looks up a task by pid: the liveness check of a task that may exit.
    ChecksTaskLiveness,
    /// Returns the truth of its argument (`unlikely(x)`, `WARN_ON(x)`): a
    /// condition is read through it.
    PassesTruth,
    /// Makes an error value (`ERR_PTR(-ENOMEM)`): a function returning it
    /// fails.
    MakesError,
    /// Frees the object in its `mm_arg` argument (`kfree(obj)`).
    Frees,
    /// True if its argument is an error pointer (`IS_ERR(p)`), or that or
    /// NULL (`IS_ERR_OR_NULL(p)`): where it is false, the argument is an
    /// object, as where a NULL test is.
    TestsError,
    /// Returns a VMA of its mm argument (`find_vma(mm, addr)`): that VMA's
    /// `vm_mm` is that mm.
    FindsVma,
    /// Takes the mmap lock of its mm argument (`mmap_read_lock`): with a
    /// VMA lookup or an access before the `pair` unlock, the locked section
    /// is an access to that mm.
    LocksMm,
    /// Releases the mmap lock (`mmap_read_unlock`).
    UnlocksMm,
    /// Reads or changes the page tables, pages or VMAs of its mm argument
    /// for the length of the call (`get_user_pages_remote()`): it needs
    /// `mm_users` held across the call, as a borrow needs it across its
    /// window.
    Accesses,
}

impl Role {
    /// True if a body that calls an API of this role can matter to an
    /// mm's flow by that alone. Condition wrappers, error values and frees
    /// are everywhere; a parse need not keep a body for them.
    pub fn marks_relevant(self) -> bool {
        !matches!(
            self,
            Role::PassesTruth | Role::MakesError | Role::Frees | Role::TestsError
        )
    }
}

/// One row of the API table.
#[derive(Debug)]
pub struct Api {
    /// The function or macro name as called.
    pub name: &'static str,
    /// What it does.
    pub role: Role,
    /// How many arguments a call of the real API has. A call with another
    /// count is a look-alike (a static function of the same name).
    pub arity: usize,
    /// Which argument is the mm (for roles that act on an mm argument).
    pub mm_arg: usize,
    /// For borrow APIs: the API that ends the window this one starts.
    pub pair: Option<&'static str>,
    /// For the APIs that make a site (borrows and accesses): which kind of
    /// access to an address space it is.
    pub family: Option<Family>,
}

impl Api {
    /// True if a call of it is a site the audit judges.
    pub fn makes_site(&self) -> bool {
        matches!(
            self.role,
            Role::BorrowStart | Role::Accesses | Role::LocksMm
        )
    }
}

/// The kinds of access to another address space a site can be: the
/// `family` of a report, and what `--select`/`--ignore` name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// A borrow window: `kthread_use_mm()` .. `kthread_unuse_mm()`.
    Window,
    /// Faulting in or pinning another mm's pages (`get_user_pages_remote()`).
    Gup,
    /// Copying to or from another mm (`access_remote_vm()`).
    RemoteVm,
    /// Walking another mm's VMAs and page tables (`walk_page_range()`).
    PageWalk,
    /// Rebinding another mm's memory policies (`mpol_rebind_mm()`).
    Mempolicy,
    /// Registering an mmu notifier on another mm.
    Notifier,
    /// A section under another mm's mmap lock that looks up VMAs or
    /// reaches into the mm.
    MmapLock,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 7] = [
        Family::Window,
        Family::Gup,
        Family::RemoteVm,
        Family::PageWalk,
        Family::Mempolicy,
        Family::Notifier,
        Family::MmapLock,
    ];

    /// The name in reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Window => "window",
            Family::Gup => "gup",
            Family::RemoteVm => "remote_vm",
            Family::PageWalk => "page_walk",
            Family::Mempolicy => "mempolicy",
            Family::Notifier => "notifier",
            Family::MmapLock => "mmap_lock",
        }
    }

    /// Looks a family up by name.
    pub fn find(s: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

const fn row(name: &'static str, role: Role, arity: usize) -> Api {
    Api {
        name,
        role,
        arity,
        mm_arg: 0,
        pair: None,
        family: None,
    }
}

/// A borrow API and the API that ends its window.
const fn borrow(name: &'static str, pair: &'static str) -> Api {
    Api {
        pair: Some(pair),
        family: Some(Family::Window),
        ..row(name, Role::BorrowStart, 1)
    }
}

/// An API that takes an mm's mmap lock, and the API that releases it.
const fn lock(name: &'static str, unlock: &'static str) -> Api {
    Api {
        pair: Some(unlock),
        family: Some(Family::MmapLock),
        ..row(name, Role::LocksMm, 1)
    }
}

/// An API that reaches into its mm argument `mm_arg` for the call. Older
/// trees' signatures (`(tsk, mm, ...)`) are rows of their own, told apart
/// by arity.
const fn access(name: &'static str, arity: usize, mm_arg: usize, family: Family) -> Api {
    Api {
        mm_arg,
        family: Some(family),
        ..row(name, Role::Accesses, arity)
    }
}

/// An API that registers an mmu_notifier on its second argument.
const fn notifier_api(name: &'static str, role: Role) -> Api {
    Api {
        mm_arg: 1,
        ..row(name, role, 2)
    }
}

/// Every kernel API mmaudit knows about.
pub static BUILTIN: &[Api] = &[
    borrow("kthread_use_mm", "kthread_unuse_mm"),
    borrow("use_mm", "unuse_mm"),
    row("kthread_unuse_mm", Role::BorrowEnd, 1),
    row("unuse_mm", Role::BorrowEnd, 1),
    // Accesses: 6.5+, 5.9-6.4 (with `vmas`), before 5.9 (`tsk` first).
    access("get_user_pages_remote", 6, 0, Family::Gup),
    access("get_user_pages_remote", 7, 0, Family::Gup),
    access("get_user_pages_remote", 8, 1, Family::Gup),
    access("pin_user_pages_remote", 6, 0, Family::Gup),
    access("pin_user_pages_remote", 7, 0, Family::Gup),
    access("pin_user_pages_remote", 8, 1, Family::Gup),
    access("get_user_page_vma_remote", 4, 0, Family::Gup),
    access("fixup_user_fault", 4, 0, Family::Gup),
    access("fixup_user_fault", 5, 1, Family::Gup),
    access("access_remote_vm", 5, 0, Family::RemoteVm),
    access("__access_remote_vm", 5, 0, Family::RemoteVm),
    access("__access_remote_vm", 6, 1, Family::RemoteVm),
    access("walk_page_range", 5, 0, Family::PageWalk),
    access("mpol_rebind_mm", 2, 0, Family::Mempolicy),
    access("mmu_interval_notifier_insert", 5, 1, Family::Notifier),
    lock("mmap_read_lock", "mmap_read_unlock"),
    lock("mmap_read_lock_killable", "mmap_read_unlock"),
    lock("mmap_write_lock", "mmap_write_unlock"),
    lock("mmap_write_lock_killable", "mmap_write_unlock"),
    row("mmap_read_unlock", Role::UnlocksMm, 1),
    row("mmap_write_unlock", Role::UnlocksMm, 1),
    // VMA lookups: the VMA found belongs to the mm searched.
    row("find_vma", Role::FindsVma, 2),
    row("vma_lookup", Role::FindsVma, 2),
    row("find_vma_intersection", Role::FindsVma, 3),
    row("find_vma_prev", Role::FindsVma, 3),
    row("find_extend_vma", Role::FindsVma, 2),
    row("find_extend_vma_locked", Role::FindsVma, 2),
    row("get_task_mm", Role::ReturnsMmUsers, 1),
    // An mm with mm_users, or an error pointer.
    row("mm_access", Role::ReturnsMmUsers, 2),
    row("mm_alloc", Role::ReturnsMmUsers, 0),
    row("mmget", Role::TakesMmUsers, 1),
    row("mmget_not_zero", Role::TriesMmUsers, 1),
    row("mmput", Role::DropsMmUsers, 1),
    row("mmput_async", Role::DropsMmUsers, 1),
    row("mmgrab", Role::TakesMmCount, 1),
    row("mmgrab_lazy_tlb", Role::TakesMmCount, 1),
    row("mmdrop", Role::DropsMmCount, 1),
    row("mmdrop_async", Role::DropsMmCount, 1),
    row("mmdrop_lazy_tlb", Role::DropsMmCount, 1),
    // Alternative guarantees (see `analysis::guarantees`).
    notifier_api("mmu_notifier_register", Role::RegistersNotifier),
    notifier_api("__mmu_notifier_register", Role::RegistersNotifier),
    notifier_api("mmu_notifier_get", Role::GetsNotifier),
    notifier_api("mmu_notifier_get_locked", Role::GetsNotifier),
    row("cancel_work_sync", Role::StopsWork, 1),
    row("cancel_delayed_work_sync", Role::StopsWork, 1),
    row("flush_work", Role::StopsWork, 1),
    row("flush_delayed_work", Role::StopsWork, 1),
    row("kthread_stop", Role::StopsWork, 1),
    row("kthread_flush_work", Role::StopsWork, 1),
    row("kthread_cancel_work_sync", Role::StopsWork, 1),
    row("kthread_cancel_delayed_work_sync", Role::StopsWork, 1),
    row("flush_workqueue", Role::StopsQueue, 1),
    row("drain_workqueue", Role::StopsQueue, 1),
    row("destroy_workqueue", Role::StopsQueue, 1),
    row("kthread_flush_worker", Role::StopsQueue, 1),
    row("kthread_destroy_worker", Role::StopsQueue, 1),
    row("INIT_WORK", Role::BindsWork, 2),
    row("INIT_DELAYED_WORK", Role::BindsWork, 2),
    row("INIT_WORK_ONSTACK", Role::BindsWork, 2),
    row("kthread_init_work", Role::BindsWork, 2),
    row("is_sync_kiocb", Role::MarksAsyncIo, 1),
    row("kiocb_set_cancel_fn", Role::MarksAsyncIo, 2),
    row("get_pid_task", Role::ChecksTaskLiveness, 2),
    row("pid_task", Role::ChecksTaskLiveness, 2),
    row("likely", Role::PassesTruth, 1),
    row("unlikely", Role::PassesTruth, 1),
    row("WARN_ON", Role::PassesTruth, 1),
    row("WARN_ON_ONCE", Role::PassesTruth, 1),
    row("ERR_PTR", Role::MakesError, 1),
    row("ERR_CAST", Role::MakesError, 1),
    row("IS_ERR", Role::TestsError, 1),
    row("IS_ERR_OR_NULL", Role::TestsError, 1),
    row("kfree", Role::Frees, 1),
    row("kvfree", Role::Frees, 1),
    row("kfree_sensitive", Role::Frees, 1),
];

/// The struct of an mmu_notifier's callbacks, and the callback that runs in
/// `exit_mmap()` before the page tables go.
pub const NOTIFIER_OPS_STRUCT: &str = "mmu_notifier_ops";
/// The field of `struct mmu_notifier` that points at its ops.
pub const NOTIFIER_OPS_FIELD: &str = "ops";
/// The release callback's field in the ops.
pub const NOTIFIER_RELEASE_FIELD: &str = "release";

/// The struct type of an I/O request; asynchronous ones are waited for by
/// `exit_aio()` before `exit_mmap()`.
pub const AIO_REQUEST_STRUCT: &str = "kiocb";

/// Task flags whose test is a liveness check (racy on its own).
pub const TASK_EXITING_FLAGS: &[&str] = &["PF_EXITING"];

/// Words that make a comment talk about an mm's lifetime (matched in lower
/// case, as substrings).
pub const LIFETIME_WORDS: &[&str] = &[
    "reference",
    "refcount",
    "refs ",
    "mmget",
    "mmgrab",
    "mmput",
    "mmdrop",
    "get_task_mm",
    "alive",
    "lifetime",
    "life time",
    "teardown",
    "tear down",
    "torn down",
    "exit_aio",
    "exit_mmap",
    "outlive",
    "freed",
    "go away",
    "goes away",
    "drop the",
    "dropped",
    "released",
    "waits for",
    "stays valid",
    "remains valid",
    "valid until",
];

/// Phrases of a comment that says the mm is held without a reference
/// (matched in lower case, as substrings).
pub const NO_REFERENCE_PHRASES: &[&str] = &[
    "no reference",
    "not hold a reference",
    "not take a reference",
    "without a reference",
    "without taking a reference",
    "not refcounted",
    "not reference counted",
    "no refcount",
    "never dereference",
    "not dereference",
    "don't dereference",
    "not be dereferenced",
    "never be dereferenced",
    "only for comparison",
    "only used for comparison",
    "only as a cookie",
];

/// The APIs one audit knows: the built-in table, then the entries a
/// API file adds (`--api FILE`). Passed to every stage that names an
/// API, so two audits in one process may know different APIs.
#[derive(Clone, Copy, Debug)]
pub struct ApiTable {
    /// The added entries (leaked once, so that rows are `'static` like the
    /// built-in ones that sites point at).
    added: &'static [Api],
    /// The families whose calls are sites (`--select`/`--ignore`).
    selected: FamilySet,
}

impl Default for ApiTable {
    fn default() -> Self {
        ApiTable {
            added: &[],
            selected: FamilySet::DEFAULT,
        }
    }
}

/// A set of [`Family`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FamilySet(u8);

impl FamilySet {
    /// What an audit looks at unless told otherwise: borrow windows. The
    /// access families are audited when selected (`--select gup`, or
    /// `--select ALL`) until their verdicts on real trees are reviewed
    /// (issue 21: a first run over every access of 6.12 takes 25x longer
    /// than one over its windows, and VMA-derived mms are not followed).
    pub const DEFAULT: FamilySet = FamilySet(1 << Family::Window as u8);
    /// Every family.
    pub const ALL: FamilySet = FamilySet((1 << Family::ALL.len()) - 1);
    /// No family.
    pub const NONE: FamilySet = FamilySet(0);

    pub fn contains(self, f: Family) -> bool {
        self.0 & (1 << f as u8) != 0
    }

    pub fn with(self, f: Family) -> FamilySet {
        FamilySet(self.0 | (1 << f as u8))
    }

    pub fn without(self, f: Family) -> FamilySet {
        FamilySet(self.0 & !(1 << f as u8))
    }
}

impl ApiTable {
    /// The built-in table plus `added`.
    pub fn with(added: Vec<Api>) -> ApiTable {
        ApiTable {
            added: Box::leak(added.into_boxed_slice()),
            ..ApiTable::default()
        }
    }

    /// The same table with `families` the ones whose calls are sites.
    pub fn selecting(self, families: FamilySet) -> ApiTable {
        ApiTable {
            selected: families,
            ..self
        }
    }

    /// The families whose calls are sites.
    pub fn selected(&self) -> FamilySet {
        self.selected
    }

    /// True if a call of `r` is a site this audit judges: it makes one,
    /// and its family is selected.
    pub fn makes_site(&self, r: &Api) -> bool {
        r.makes_site() && r.family.is_some_and(|f| self.selected.contains(f))
    }

    /// Every row: the built-in table, then the added ones.
    pub fn all(&self) -> impl Iterator<Item = &'static Api> + use<> {
        BUILTIN.iter().chain(self.added.iter())
    }

    /// Looks up a row by the called name and the number of arguments; a
    /// call with the wrong argument count is not the API.
    pub fn lookup(&self, name: &str, argc: usize) -> Option<&'static Api> {
        self.all().find(|r| r.name == name && r.arity == argc)
    }

    /// Looks up a row by name only (for macro bodies and prefilters).
    pub fn by_name(&self, name: &str) -> Option<&'static Api> {
        self.all().find(|r| r.name == name)
    }

    /// The names of every added API (the prefilter keeps files naming
    /// them).
    pub fn added_names(&self) -> Vec<&'static str> {
        self.added.iter().map(|r| r.name).collect()
    }
}

/// One `[[api]]` entry of an API file: the same fields as [`Api`].
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiEntry {
    name: String,
    role: Role,
    arity: usize,
    #[serde(default)]
    mm_arg: usize,
    pair: Option<String>,
    family: Option<Family>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiFile {
    api: Vec<ApiEntry>,
}

/// Parses an API file (TOML, `[[api]]` tables in the form of the built-in
/// table) into rows.
pub fn parse_file(text: &str) -> Result<Vec<Api>, String> {
    let file: ApiFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let mut out = Vec::new();
    for e in file.api {
        if e.name.is_empty()
            || !e
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(format!("`{}` is not a C identifier", e.name));
        }
        if e.arity > 0 && e.mm_arg >= e.arity {
            return Err(format!(
                "{}: mm_arg {} but arity {}",
                e.name, e.mm_arg, e.arity
            ));
        }
        if e.role == Role::BorrowStart && e.pair.is_none() {
            return Err(format!(
                "{}: a borrow_start needs the `pair` that ends it",
                e.name
            ));
        }
        if e.role == Role::Accesses && e.family.is_none() {
            return Err(format!(
                "{}: an `accesses` API needs its `family` ({})",
                e.name,
                Family::ALL.map(Family::as_str).join(", ")
            ));
        }
        if e.role == Role::LocksMm && e.pair.is_none() {
            return Err(format!(
                "{}: a locks_mm needs the `pair` that unlocks",
                e.name
            ));
        }
        let family = match e.role {
            Role::BorrowStart => Some(Family::Window),
            Role::LocksMm => Some(Family::MmapLock),
            Role::Accesses => e.family,
            _ => None,
        };
        out.push(Api {
            name: leak(e.name),
            role: e.role,
            arity: e.arity,
            mm_arg: e.mm_arg,
            pair: e.pair.map(leak),
            family,
        });
    }
    Ok(out)
}

/// Literal byte strings of which every built-in site API's name (and
/// every window end's) holds one: a file without any of them holds no
/// site, which the prefilter finds without a look at whole words.
pub const SITE_TOKENS: &[&str] = &[
    "use_mm",
    "mmap_",
    "_remote",
    "user_fault",
    "walk_page_range",
    "rebind_mm",
    "notifier_insert",
];

/// Tokens that a file must contain for it to take part in an mm's flow at
/// all: declare, store, pass, reference or borrow an mm. Files without any
/// of them are never parsed.
pub const FLOW_TOKENS: &[&str] = &[
    "use_mm",
    "mm_struct",
    "->mm",
    ".mm",
    "mmgrab",
    "mmget",
    "mmput",
    "mmdrop",
    "mm_alloc",
];

/// The expression that names the running task's own address space.
pub const CURRENT_MM: &str = "current->mm";

/// The running task.
pub const CURRENT: &str = "current";

/// The struct of an address space: an object of it that is not a pointer
/// (`static struct mm_struct efi_mm`) is allocated statically.
pub const MM_STRUCT: &str = "mm_struct";

/// The struct of a task, and its fields that point at an address space:
/// read from a task that is not `current`, they give no reference
/// (`get_task_mm()` takes one).
pub const TASK_STRUCT: &str = "task_struct";
/// The struct of a VMA, and its field that says whose address space it
/// is: set when the VMA is made, by the kernel, so its stores are no
/// driver's origin; the mm is the one the VMA was found in.
pub const VMA_STRUCT: &str = "vm_area_struct";
pub const VMA_MM_FIELD: &str = "vm_mm";
pub const TASK_MM_FIELDS: &[&str] = &["mm", "active_mm"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_borrow_start_has_a_pair_that_ends_it() {
        for r in BUILTIN.iter().filter(|r| r.role == Role::BorrowStart) {
            let end = ApiTable::default().by_name(r.pair.unwrap()).unwrap();
            assert_eq!(end.role, Role::BorrowEnd, "{}", r.name);
        }
    }

    #[test]
    fn every_site_api_holds_a_site_token() {
        let sites = BUILTIN
            .iter()
            .filter(|r| r.makes_site() || r.role == Role::BorrowEnd);
        for r in sites {
            assert!(SITE_TOKENS.iter().any(|t| r.name.contains(t)), "{}", r.name);
            assert!(
                r.family.is_some() || r.role == Role::BorrowEnd,
                "{}",
                r.name
            );
        }
    }

    #[test]
    fn api_files_are_checked() {
        let ok = parse_file(
            "[[api]]\nname = \"my_use\"\nrole = \"borrow_start\"\narity = 1\npair = \"my_unuse\"\n",
        )
        .unwrap();
        assert_eq!(ok[0].role, Role::BorrowStart);
        assert!(parse_file("[[api]]\nname = \"x\"\nrole = \"eats_mm\"\narity = 1\n").is_err());
        assert!(parse_file("[[api]]\nname = \"x\"\nrole = \"borrow_start\"\narity = 1\n").is_err());
        assert!(parse_file("[[api]]\nname = \"a b\"\nrole = \"mmput\"\narity = 1\n").is_err());
    }

    #[test]
    fn lookalike_with_other_arity_is_not_the_api() {
        let api = ApiTable::default();
        assert!(api.lookup("unuse_mm", 1).is_some());
        assert!(api.lookup("unuse_mm", 2).is_none());
    }
}
