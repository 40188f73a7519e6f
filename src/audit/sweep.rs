//! Sweeps: the files the prefilter dropped, searched again for what the
//! analysis still wants once the kept files hold nothing more (a caller
//! passing `NULL`, or a field with another name, mentions no mm token).

use super::demands::DemandMatcher;
use super::typed::TypedNames;
use super::{Context, Lists};
use crate::demand::Demand;
use crate::source::{Skipped, SourceFile};
use crate::walk::{self, Dropped};
use rayon::prelude::*;
use std::collections::BTreeSet;

/// How many times the dropped files may be searched again.
pub(super) const MAX_SWEEPS: u32 = 4;

/// Reads the dropped files again and takes out those that can satisfy a
/// demand (narrowed by `typed`). Returns them (sorted by path) and the
/// files that could not be read this time; records in `lists`, per demand,
/// every dropped file that satisfies it, not narrowed (for the cache: what
/// `typed` knows depends on other files).
///
/// With a cache that knows every pending demand, only the files it lists
/// and the files new or changed since are read.
pub(super) fn sweep(
    ctx: &Context,
    dropped: &mut Vec<Dropped>,
    pending: &BTreeSet<Demand>,
    typed: &TypedNames,
    lists: &mut Lists,
) -> (Vec<SourceFile>, Vec<Skipped>) {
    let (root, pool, cache) = (ctx.root, ctx.pool, ctx.cache);
    let matcher = DemandMatcher::new(pending);
    let narrowed = DemandMatcher::new(pending).typed(typed);
    let pending: Vec<&Demand> = pending.iter().collect();
    // Per demand, the dropped files it matched last time.
    let known = cache.and_then(|c| c.lists(pending.iter().map(|d| d.cache_key())));
    type Outcome = Result<(Vec<usize>, Option<SourceFile>), Skipped>;
    let results: Vec<Outcome> = pool.install(|| {
        dropped
            .par_iter()
            .map(|d| {
                if let Some(set) = &d.idents
                    && !matcher.may_hit(set)
                {
                    return Ok((vec![], None));
                }
                let listed: Option<Vec<usize>> =
                    known.as_ref().filter(|_| d.idents.is_none()).map(|k| {
                        (0..pending.len())
                            .filter(|&i| k[i].contains(d.path.as_str()))
                            .collect()
                    });
                if listed.as_ref().is_some_and(Vec::is_empty) {
                    return Ok((vec![], None));
                }
                let abs_path = d.abs_path(root);
                // Read into the thread's buffer: most files read again hold
                // nothing wanted (their filter was wrong), and are dropped.
                let (hits, text) = walk::read_with(&abs_path, |data| {
                    let hits = match listed {
                        Some(l) => l,
                        None => matcher.hits(data, &pending),
                    };
                    let text = (!hits.is_empty() && narrowed.hit(data))
                        .then(|| walk::decode(data.to_vec()));
                    (hits, text)
                })
                .map_err(|err| walk::unreadable(&d.path, &err))?;
                let file = text.map(|t| SourceFile::new(d.path.clone(), abs_path, t));
                Ok((hits, file))
            })
            .collect()
    });
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let mut keep = Vec::with_capacity(dropped.len());
    let mut per_demand: Vec<Vec<String>> = vec![Vec::new(); pending.len()];
    for (d, r) in dropped.drain(..).zip(results) {
        match r {
            Ok((hits, file)) => {
                for i in hits {
                    per_demand[i].push(d.path.clone());
                }
                match file {
                    Some(f) => found.push(f),
                    None => keep.push(d),
                }
            }
            Err(e) => errors.push(e),
        }
    }
    for (d, files) in pending.iter().zip(per_demand) {
        lists.insert(d.cache_key(), files);
    }
    *dropped = keep;
    (found, errors)
}
