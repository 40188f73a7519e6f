//! mmaudit: audits how Linux kernel C code borrows other processes'
//! address spaces (`kthread_use_mm`/`use_mm`). See ARCHITECTURE.md.

pub mod facts;
pub mod parse;
pub mod rules;
pub mod source;
pub mod prefilter;
pub mod walk;
pub mod analysis;
pub mod index;
pub mod report;
pub mod audit;
pub mod render;
