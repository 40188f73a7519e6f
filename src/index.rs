//! The global index: every parsed file's facts, merged into look-up tables
//! by name, so the analysis can ask "who calls `f`", "who stores into
//! `.mm`", "what type is `struct s`'s field `f`" across the whole tree.
//!
//! The index holds no analysis results and makes no judgement.

use crate::facts::{Body, BodyKind, EventKind, Expr, FileFacts, StructDef};
use crate::source::{FileId, SourceFile};
use rustc_hash::FxHashMap as HashMap;

/// A body somewhere in the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BodyRef {
    /// The file.
    pub file: FileId,
    /// Index into that file's `bodies`.
    pub body: usize,
}

/// An event (assignment or call) in some body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventRef {
    /// The body.
    pub at: BodyRef,
    /// Index into the body's `events`.
    pub event: usize,
}

/// A store into a struct field: an assignment or a designated initializer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreRef {
    /// `lhs->field = rhs` inside a body.
    Assign(EventRef),
    /// `{ .field = value }`: file and index into `field_inits`.
    Init(FileId, usize),
}

/// All files, and the facts of those that were parsed.
pub struct Index {
    /// Every prefiltered file, by id.
    files: Vec<SourceFile>,
    /// Facts per file; `None` if the file was not parsed.
    facts: Vec<Option<FileFacts>>,
    bodies_by_name: HashMap<String, Vec<BodyRef>>,
    calls_by_name: HashMap<String, Vec<EventRef>>,
    calls_by_field: HashMap<String, Vec<EventRef>>,
    stores_by_field: HashMap<String, Vec<StoreRef>>,
    fn_values: HashMap<String, Vec<StoreRef>>,
    arg_idents: HashMap<String, Vec<EventRef>>,
    structs: HashMap<String, (FileId, StructDef)>,
    /// File-scope objects of a struct type, by name: the file and index.
    objects: HashMap<String, Vec<(FileId, usize)>>,
    /// The files whose facts were taken out since the tables were built
    /// (their entries are still in the tables).
    taken: Vec<FileId>,
}

impl Index {
    /// Builds the tables from the parsed files.
    pub fn new(files: Vec<SourceFile>, facts: Vec<Option<FileFacts>>) -> Index {
        let mut ix = Index {
            files,
            facts,
            bodies_by_name: HashMap::default(),
            calls_by_name: HashMap::default(),
            calls_by_field: HashMap::default(),
            stores_by_field: HashMap::default(),
            fn_values: HashMap::default(),
            arg_idents: HashMap::default(),
            structs: HashMap::default(),
            objects: HashMap::default(),
            taken: Vec::new(),
        };
        ix.rebuild();
        ix
    }

    /// Builds every table again from the facts.
    fn rebuild(&mut self) {
        self.taken.clear();
        self.bodies_by_name.clear();
        self.calls_by_name.clear();
        self.calls_by_field.clear();
        self.stores_by_field.clear();
        self.fn_values.clear();
        self.arg_idents.clear();
        self.structs.clear();
        self.objects.clear();
        for fid in 0..self.facts.len() {
            self.index_file(fid as FileId);
        }
        self.sort();
    }

    /// Adds the tables of one file's facts. Call [`Index::sort`] after a
    /// batch, so that look-ups list entries in file order.
    fn index_file(&mut self, file: FileId) {
        // Taken out while the tables borrow `self`, then put back.
        let Some(facts) = self.facts[file as usize].take() else {
            return;
        };
        {
            for (i, o) in facts.objects.iter().enumerate() {
                self.objects
                    .entry(o.name.clone())
                    .or_default()
                    .push((file, i));
            }
            for (bi, body) in facts.bodies.iter().enumerate() {
                let at = BodyRef { file, body: bi };
                self.bodies_by_name
                    .entry(body.name.clone())
                    .or_default()
                    .push(at);
                // A body the parse left out has no code.
                let Some(code) = body.code() else {
                    continue;
                };
                for (ei, ev) in code.events.iter().enumerate() {
                    let er = EventRef { at, event: ei };
                    if let EventKind::Call { args, .. } = &ev.kind {
                        for a in args.iter().filter_map(Expr::as_ident) {
                            self.arg_idents.entry(a.to_string()).or_default().push(er);
                        }
                    }
                    match &ev.kind {
                        EventKind::Call {
                            callee: Expr::Ident(n),
                            ..
                        } => self.calls_by_name.entry(n.clone()).or_default().push(er),
                        EventKind::Call {
                            callee: Expr::Field { field, .. },
                            ..
                        } => self
                            .calls_by_field
                            .entry(field.clone())
                            .or_default()
                            .push(er),
                        EventKind::Assign {
                            lhs: Expr::Field { field, .. },
                            rhs,
                        } => {
                            self.stores_by_field
                                .entry(field.clone())
                                .or_default()
                                .push(StoreRef::Assign(er));
                            if let Expr::Ident(v) = rhs {
                                self.fn_values
                                    .entry(v.clone())
                                    .or_default()
                                    .push(StoreRef::Assign(er));
                            }
                        }
                        _ => {}
                    }
                }
            }
            for (ii, init) in facts.field_inits.iter().enumerate() {
                let s = StoreRef::Init(file, ii);
                self.stores_by_field
                    .entry(init.field.clone())
                    .or_default()
                    .push(s);
                if let Expr::Ident(v) = &init.value {
                    self.fn_values.entry(v.clone()).or_default().push(s);
                }
            }
            for st in &facts.structs {
                // The first definition with fields in file order wins
                // (forward declarations have none), whatever the order in
                // which files were parsed.
                let e = self
                    .structs
                    .entry(st.name.clone())
                    .or_insert_with(|| (file, st.clone()));
                let better = !st.fields.is_empty() && (e.1.fields.is_empty() || file < e.0);
                if better {
                    *e = (file, st.clone());
                }
            }
        }
        self.facts[file as usize] = Some(facts);
    }

    /// Puts every look-up list in file order, as if built in one go.
    fn sort(&mut self) {
        self.bodies_by_name
            .values_mut()
            .for_each(|v| v.sort_unstable());
        self.calls_by_name
            .values_mut()
            .for_each(|v| v.sort_unstable());
        self.calls_by_field
            .values_mut()
            .for_each(|v| v.sort_unstable());
        self.stores_by_field
            .values_mut()
            .for_each(|v| v.sort_unstable());
        self.fn_values.values_mut().for_each(|v| v.sort_unstable());
        self.arg_idents.values_mut().for_each(|v| v.sort_unstable());
        self.objects.values_mut().for_each(|v| v.sort_unstable());
    }

    /// Adds the facts of files parsed in a later round.
    pub fn add_facts(&mut self, parsed: Vec<(usize, FileFacts)>) {
        let ids: Vec<FileId> = parsed.iter().map(|(i, _)| *i as FileId).collect();
        for (i, f) in parsed {
            self.facts[i] = Some(f);
        }
        for id in ids {
            self.index_file(id);
        }
        self.sort();
    }

    /// Sets the facts of files parsed in a later round: new ones are
    /// added; a file parsed again (its facts taken out with
    /// [`Index::take_facts`] or not) has its entries replaced.
    pub fn set_facts(&mut self, parsed: Vec<(usize, FileFacts)>) {
        for (i, _) in &parsed {
            self.take_facts(*i);
        }
        // A file whose struct won is dropped from the tables only by
        // building them again (another file's may win now).
        let taken = std::mem::take(&mut self.taken);
        if self.structs.values().any(|(f, _)| taken.contains(f)) {
            for (i, f) in parsed {
                self.facts[i] = Some(f);
            }
            return self.rebuild();
        }
        self.forget(&taken);
        self.add_facts(parsed);
    }

    /// Drops the look-up entries of `files` (none of which holds a
    /// winning struct), as if they had never been indexed.
    fn forget(&mut self, files: &[FileId]) {
        if files.is_empty() {
            return;
        }
        fn drop_from<R>(t: &mut HashMap<String, Vec<R>>, gone: impl Fn(&R) -> bool) {
            t.retain(|_, v| {
                v.retain(|r| !gone(r));
                !v.is_empty()
            });
        }
        let body = |b: &BodyRef| files.contains(&b.file);
        let event = |e: &EventRef| body(&e.at);
        let store = |s: &StoreRef| match s {
            StoreRef::Assign(e) => event(e),
            StoreRef::Init(f, _) => files.contains(f),
        };
        drop_from(&mut self.bodies_by_name, body);
        drop_from(&mut self.calls_by_name, event);
        drop_from(&mut self.calls_by_field, event);
        drop_from(&mut self.stores_by_field, store);
        drop_from(&mut self.fn_values, store);
        drop_from(&mut self.arg_idents, event);
        drop_from(&mut self.objects, |o: &(FileId, usize)| {
            files.contains(&o.0)
        });
    }

    /// Takes a file's facts out, to be given back by [`Index::set_facts`]
    /// (which then replaces its entries in the tables).
    pub fn take_facts(&mut self, i: usize) -> Option<FileFacts> {
        let f = self.facts[i].take();
        if f.is_some() {
            self.taken.push(i as FileId);
        }
        f
    }

    /// Adds a file (not parsed yet); returns its id.
    pub fn add_file(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        self.facts.push(None);
        (self.files.len() - 1) as FileId
    }

    /// The body behind a reference.
    pub fn body(&self, r: BodyRef) -> &Body {
        &self.facts[r.file as usize]
            .as_ref()
            .expect("body refs point at parsed files")
            .bodies[r.body]
    }

    /// The event behind a reference.
    pub fn event(&self, r: EventRef) -> &crate::facts::Event {
        let code = self.body(r.at).code();
        &code.expect("event refs point at parsed bodies").events[r.event]
    }

    /// The file behind an id.
    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id as usize]
    }

    /// Every file, by id.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// Gives a file that was not read yet its text.
    pub fn read_file(&mut self, id: FileId, text: String) {
        let f = &mut self.files[id as usize];
        *f = SourceFile::new(f.path.clone(), f.abs_path.clone(), text);
    }

    /// The facts of a file, if it was parsed.
    pub fn facts(&self, id: FileId) -> Option<&FileFacts> {
        self.facts[id as usize].as_ref()
    }

    /// Every parsed file's id and facts, in file order.
    pub fn parsed(&self) -> impl Iterator<Item = (FileId, &FileFacts)> + '_ {
        (self.facts.iter().enumerate()).filter_map(|(i, f)| Some((i as FileId, f.as_ref()?)))
    }

    /// Takes the files out, for the report (the tables are then freed
    /// apart from them).
    pub fn take_files(&mut self) -> Vec<SourceFile> {
        std::mem::take(&mut self.files)
    }

    /// The type of the file-scope object `name` seen from `file`: its own
    /// declaration if it has one, else the first in the tree.
    pub fn object_type(&self, name: &str, file: FileId) -> Option<&str> {
        let all = self.objects.get(name)?;
        let &(f, i) = all.iter().find(|(f, _)| *f == file).or(all.first())?;
        Some(self.facts(f)?.objects.get(i)?.ty.as_str())
    }

    /// Functions and function-like macros with this name.
    pub fn bodies_named(&self, name: &str) -> impl Iterator<Item = BodyRef> + '_ {
        self.bodies_by_name.get(name).into_iter().flatten().copied()
    }

    /// Functions (not macros) with this name.
    pub fn functions(&self, name: &str) -> impl Iterator<Item = BodyRef> + '_ {
        self.bodies_by_name
            .get(name)
            .into_iter()
            .flatten()
            .copied()
            .filter(|r| matches!(self.body(*r).kind, BodyKind::Function { .. }))
    }

    /// Every body, in file order.
    pub fn all_bodies(&self) -> impl Iterator<Item = BodyRef> + '_ {
        self.facts.iter().enumerate().flat_map(|(f, facts)| {
            let n = facts.as_ref().map_or(0, |x| x.bodies.len());
            (0..n).map(move |b| BodyRef {
                file: f as FileId,
                body: b,
            })
        })
    }

    /// Calls of a plain name.
    pub fn calls_of(&self, name: &str) -> &[EventRef] {
        self.calls_by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// Calls through a struct field of that name (`x->f(...)`).
    pub fn calls_through_field(&self, field: &str) -> &[EventRef] {
        self.calls_by_field.get(field).map_or(&[], Vec::as_slice)
    }

    /// Stores into a field of that name, of any struct.
    pub fn stores_to_field(&self, field: &str) -> &[StoreRef] {
        self.stores_by_field.get(field).map_or(&[], Vec::as_slice)
    }

    /// Stores whose value is the plain name `name` (function pointers).
    pub fn stores_of_value(&self, name: &str) -> &[StoreRef] {
        self.fn_values.get(name).map_or(&[], Vec::as_slice)
    }

    /// Calls that pass the plain name `name` as an argument (a function
    /// handed to `kthread_create()`, `INIT_WORK()` ...).
    pub fn passed_as_argument(&self, name: &str) -> &[EventRef] {
        self.arg_idents.get(name).map_or(&[], Vec::as_slice)
    }

    /// A struct definition.
    pub fn struct_def(&self, name: &str) -> Option<&StructDef> {
        self.structs.get(name).map(|(_, d)| d)
    }

    /// A struct definition and the file it is in.
    pub fn struct_def_in(&self, name: &str) -> Option<(FileId, &StructDef)> {
        self.structs.get(name).map(|(f, d)| (*f, d))
    }

    /// The function (or macro) whose text holds `offset` of `file`.
    pub fn body_at(&self, file: FileId, offset: usize) -> Option<BodyRef> {
        let facts = self.facts.get(file as usize)?.as_ref()?;
        facts
            .bodies
            .iter()
            .position(|b| b.span.0 <= offset && offset < b.span.1)
            .map(|body| BodyRef { file, body })
    }

    /// The type of `struct s`'s field `field`, as written.
    pub fn field_type(&self, s: &str, field: &str) -> Option<&str> {
        self.structs
            .get(s)?
            .1
            .fields
            .iter()
            .find(|f| f.name == field)
            .map(|f| f.ty.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every table, in a fixed order.
    fn tables(ix: &Index) -> String {
        fn sorted<R: std::fmt::Debug>(t: &HashMap<String, Vec<R>>) -> String {
            let mut v: Vec<_> = t.iter().map(|(k, r)| format!("{k}:{r:?}")).collect();
            v.sort();
            v.join(";")
        }
        let mut structs: Vec<_> = ix
            .structs
            .iter()
            .map(|(k, (f, s))| format!("{k}:{f}:{}", s.fields.len()))
            .collect();
        structs.sort();
        [
            sorted(&ix.bodies_by_name),
            sorted(&ix.calls_by_name),
            sorted(&ix.calls_by_field),
            sorted(&ix.stores_by_field),
            sorted(&ix.fn_values),
            sorted(&ix.arg_idents),
            structs.join(";"),
        ]
        .join("\n")
    }

    fn file(text: &str) -> (SourceFile, FileFacts) {
        let f = SourceFile::new("f.c".into(), "f.c".into(), text.into());
        let facts = crate::facts::of_file(&f).unwrap();
        (f, facts)
    }

    #[test]
    fn a_file_parsed_again_replaces_its_entries() {
        let a = "static const struct ops t = { .run = go };\nint go(struct s *p) { p->mm = get(p); p->ops->run(p); return keep(p); }\n";
        let b = "int other(struct s *q) { q->mm = NULL; return go(q); }\n";
        let b2 = "int other(struct s *q) { q->x = go(q); return 0; }\nint more(void) { return go(0); }\n";
        let with_struct = "struct s { int x; };\nint f(void) { return go(0); }\n";
        for (second, again) in [(b, b2), (with_struct, b2), (b, with_struct)] {
            // Taken out first, or not.
            for take in [true, false] {
                let (fa, xa) = file(a);
                let (fb, xb) = file(second);
                let mut ix = Index::new(vec![fa, fb], vec![Some(xa), Some(xb)]);
                if take {
                    assert!(ix.take_facts(1).is_some());
                }
                let (fb2, xb2) = file(again);
                ix.files[1] = fb2;
                ix.set_facts(vec![(1, xb2)]);
                let (fa, xa) = file(a);
                let (fb2, xb2) = file(again);
                let fresh = Index::new(vec![fa, fb2], vec![Some(xa), Some(xb2)]);
                assert_eq!(tables(&ix), tables(&fresh), "{second} -> {again}");
            }
        }
    }
}
