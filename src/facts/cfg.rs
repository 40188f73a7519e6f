//! The control-flow graph of one body, as plain data in the facts.
//!
//! Lowered from the syntax tree by `extract` (see `extract/lower.rs`):
//! basic blocks of [`Event`](super::Event)s, and edges for `if`/`else`,
//! `switch` with fall-through, loops with `break` and `continue`,
//! `goto`, `return`, and the loops of iteration macros
//! (`list_for_each_entry(...) { ... }`). Conditions are split at `&&`,
//! `||`, `!` and `?:`, so that each edge tests one condition, an *atom*,
//! for one truth value; a constant atom (`while (1)`, `do { } while (0)`)
//! gets only the edge it takes. Which calls merely pass their argument's
//! truth on (`unlikely()`, `WARN_ON()`) is kernel knowledge: the analysis
//! sees through them with the API table, not the facts.

use super::Expr;
use serde::{Deserialize, Serialize};

/// A block's index in [`Cfg::blocks`].
pub type BlockId = u32;

/// The control-flow graph of a body.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Cfg {
    /// The basic blocks: [`Cfg::ENTRY`] first, then [`Cfg::EXIT`], which
    /// every `return` and the end of the body lead to; the others in the
    /// order they were made. A block nothing leads to is unreachable
    /// code (after a `return`, or a label no `goto` names).
    pub blocks: Vec<BasicBlock>,
    /// The conditions the edges test, by [`Edge::when`].
    pub conds: Vec<Cond>,
}

/// A run of events with one way in and the edges out.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BasicBlock {
    /// The events that run in it, as indices into the body's events, in
    /// source order.
    pub events: Vec<u32>,
    /// Where control goes next (none for the exit).
    pub succs: Vec<Edge>,
}

/// An edge between blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    pub to: BlockId,
    /// The condition (an index into [`Cfg::conds`]) and the value it has
    /// on this edge; `None` for an edge taken whatever holds.
    pub when: Option<(u32, bool)>,
}

/// A condition an edge tests: an expression that is no `&&`, `||`, `!` or
/// `?:`, and where it is written.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cond {
    pub expr: Expr,
    pub offset: usize,
}

impl Cfg {
    /// The block control enters the body by.
    pub const ENTRY: BlockId = 0;
    /// The block every way out of the body ends in.
    pub const EXIT: BlockId = 1;

    /// The blocks that lead to each block, by block.
    pub fn predecessors(&self) -> Vec<Vec<BlockId>> {
        let mut preds = vec![Vec::new(); self.blocks.len()];
        for (from, b) in self.blocks.iter().enumerate() {
            for e in &b.succs {
                preds[e.to as usize].push(from as BlockId);
            }
        }
        preds
    }

    /// The block that runs event `event`, if one does.
    pub fn block_of(&self, event: u32) -> Option<BlockId> {
        (self.blocks.iter())
            .position(|b| b.events.contains(&event))
            .map(|b| b as BlockId)
    }
}
