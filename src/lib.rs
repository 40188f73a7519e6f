//! mmaudit: audits how Linux kernel C code borrows other processes'
//! address spaces (`kthread_use_mm`/`use_mm`). See ARCHITECTURE.md.

pub mod analysis;
pub mod api;
pub mod audit;
pub mod baseline;
pub mod cache;
pub mod cli;
pub mod demand;
pub mod elide;
pub mod facts;
pub mod fuzzing;
pub mod idents;
pub mod index;
pub mod kbuild;
pub mod lex;
pub mod parse;
pub mod prefilter;
pub mod render;
pub mod report;
pub mod source;
pub mod walk;
