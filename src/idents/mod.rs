//! What identifiers a file holds, as a Bloom filter built while the walk
//! has the file's bytes anyway.
//!
//! The analysis asks for names late (callers, fields, struct definitions);
//! without this, every such question meant reading again each file the
//! prefilter dropped. With it, only the files whose set may hold a
//! demanded name are read again, and the answer is then checked on the
//! text (`audit::meets`), so a false positive costs one read and a false
//! negative cannot happen: every key a text can satisfy is inserted, but
//! for the few kinds of names that are never asked for by key (short
//! names, `define`, `include`: see [`key`]), which every set may hold.
//!
//! Three forms of an identifier are told apart, as the demands need:
//! any use ([`Form::Word`]), a member after `->` or `.` ([`Form::Member`]),
//! and the tag of a definition `struct name {` ([`Form::StructTag`]).
//! Every tag after `struct` also has its word key, short ones included,
//! so that the files that use a struct type can be found ([`type_key`]).
//!
//! The name scan ([`spans`], [`keys`], and `avx512.rs`) and the line
//! checks of [`defines_only`], 64 bytes at a time by masks, are
//! hand-written here instead of built on [`crate::lex`], which owns every
//! other reading of C text: they are measured faster, and the walk's time
//! depends on them. Their scalar parts use `lex` ([`is_ident_byte`], the
//! leading comments of `defines_only`).

use crate::lex::{self, after_member_op, is_ident_byte};

/// The form of an identifier occurrence that a key stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// Any whole-word occurrence.
    Word,
    /// Right after `->` or `.`.
    Member,
    /// After the keyword `struct` and before `{` (whitespace between).
    StructTag,
}

impl Form {
    /// What a finished key is xored with for this form (a finished key
    /// is mixed already, so the forms of a name need one finish between
    /// them). The bits above [`WORD_SHIFT`] are odd, so that the three
    /// forms of a name fall in different words of any filter.
    fn salt(self) -> u64 {
        match self {
            Form::Word => 0,
            Form::Member => 0x6d65_6d62_6572_2e2e,
            Form::StructTag => 0x7374_7275_6374_7b7b,
        }
    }
}

/// The key of `name` in the form `form`; `None` if the sets do not hold
/// every such occurrence (short names that are no member, `define` and
/// `include` get no word key): a text may then hold it
/// whatever its set says.
pub fn key(name: &[u8], form: Form) -> Option<u64> {
    let raw = raw_hash(name, 0, name.len());
    (form != Form::Word || word_indexed(name.len(), raw, false)).then(|| finish(raw) ^ form.salt())
}

/// The key that the set of every text using `struct name` (whitespace
/// between) holds: its [`Form::Word`] key, which the tag of a `struct`
/// gets whatever its length (`struct mm`, `struct kvm`).
pub fn type_key(name: &[u8]) -> u64 {
    finish(raw_hash(name, 0, name.len()))
}

/// Whether a name of `len` bytes and raw hash `raw` gets its
/// [`Form::Word`] key. Not if it is short and no member (`i`, `if`, `int`,
/// `ret`: a quarter of all names, and never a function that is asked for),
/// nor `define` or `include` (most names of generated headers): the
/// filter work goes to the names that demands ask for. (A member name of
/// any length gets its word key and its member key; a `struct` tag, its
/// tag key.)
#[inline(always)]
fn word_indexed(len: usize, raw: u64, member: bool) -> bool {
    member
        || (len > MAX_UNINDEXED_LEN
            && !(len == 6 && raw == DEFINE_RAW)
            && !(len == 7 && raw == INCLUDE_RAW))
}

/// Names up to this long get no [`Form::Word`] key unless they are members.
const MAX_UNINDEXED_LEN: usize = 3;

/// Filter bits per distinct key. A sweep asks for dozens of names at once,
/// so the share of files that wrongly may hold an absent name, times that,
/// is how many dropped files it reads again for nothing; 24 bits keep that
/// share near 0.05% of a kernel tree's files for about 75 MB of sets
/// (`bench/NOTES.md` has the trade-off measured). Filters are sized by
/// their keys, not their bytes: small files are dense, register headers
/// sparse. See [`BITS_SET`] for the bits each key sets.
const BITS_PER_KEY: usize = 24;
/// Texts shorter than this get two bits per byte in the filter under
/// construction, longer ones one: the densest files are small (about 18
/// bytes per distinct key under 4 KB), and a larger scratch for long
/// texts costs more to size, fold and clear than it saves. The keys are
/// then counted from the set bits with the collisions allowed for (see
/// [`distinct_keys`]).
const DENSE_BELOW: usize = 16 << 10;
/// Smallest filter, in 64-bit words.
const MIN_WORDS: usize = 4;

/// A Bloom filter of a file's identifier keys. It is blocked: the bits of
/// a key lie in one 64-bit word, so an insertion touches one word.
/// Its size is a power of two words, chosen by the number of distinct keys
/// (a file's bytes say little: generated register headers repeat a few
/// names for megabytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentSet {
    words: Box<[u64]>,
}

thread_local! {
    /// Each thread's filter under construction, folded down to size once
    /// the keys are counted (a reused buffer: no fresh memory per file).
    static SCRATCH: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl IdentSet {
    /// The set of every key in `data`.
    pub fn of(data: &[u8]) -> IdentSet {
        Self::build(data, true)
    }

    /// [`IdentSet::of`] by the plain scan alone, never the SIMD one: the
    /// two must give the same set.
    pub(crate) fn of_plain_scan(data: &[u8]) -> IdentSet {
        Self::build(data, false)
    }

    /// The set of a text in which nothing can matter (see
    /// [`defines_only`]): it holds no key, not even the names that get
    /// none (see [`IdentSet::holds_nothing`]).
    pub fn none() -> IdentSet {
        IdentSet {
            words: Box::new([]),
        }
    }

    /// True for [`IdentSet::none`]: a demand for a name that gets no key
    /// (which any other text may hold) has nothing to find there either.
    pub fn holds_nothing(&self) -> bool {
        self.words.is_empty()
    }

    fn build(data: &[u8], simd: bool) -> IdentSet {
        if defines_only(data) {
            return IdentSet::none();
        }
        SCRATCH.with_borrow_mut(|scratch| {
            let mut per_byte = if data.len() < DENSE_BELOW { 2 } else { 1 };
            let (n, m) = loop {
                let n = (data.len() * per_byte / 64)
                    .max(MIN_WORDS)
                    .next_power_of_two();
                if scratch.len() < n {
                    scratch.resize(n, 0);
                }
                let words = &mut scratch[..n];
                insert_all(data, words, simd);
                // The set bits count the distinct keys (see
                // [`distinct_keys`]), whatever the order of insertion: both
                // scans size alike.
                let set_bits: usize = words.iter().map(|w| w.count_ones() as usize).sum();
                let want = (distinct_keys(set_bits, n * 64) * BITS_PER_KEY).div_ceil(64);
                // A long text this dense is filled again at two bits a byte.
                if want > n && per_byte == 1 {
                    words.fill(0);
                    per_byte = 2;
                    continue;
                }
                break (n, want.max(MIN_WORDS).next_power_of_two().min(n));
            };
            // Folding halves is inserting into the smaller filter: a key's
            // word is the low bits of its word index.
            let mut out = vec![0u64; m].into_boxed_slice();
            for (i, w) in scratch[..n].iter_mut().enumerate() {
                out[i & (m - 1)] |= *w;
                *w = 0;
            }
            IdentSet { words: out }
        })
    }

    /// False if `key` was certainly not inserted.
    pub fn may_hold(&self, key: u64) -> bool {
        self.may_hold_probe(Probe::of(key))
    }

    /// [`IdentSet::may_hold`] of a key worked out beforehand: a sweep asks
    /// the same keys of some 60,000 sets.
    #[inline]
    pub fn may_hold_probe(&self, p: Probe) -> bool {
        let Some(last) = self.words.len().checked_sub(1) else {
            return false;
        };
        let w = p.word as usize & last;
        self.words[w] & p.bits == p.bits
    }

    /// The size of the filter in bytes.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.words.len() * 8
    }
}

/// True if `d` holds nothing but object-like macro definitions and other
/// preprocessor lines: past the comments it starts with, every line starts
/// with `#` or `//` or is empty, and there is no `(` and no `struct`.
/// Nothing in such a text is read by the analysis (no function or
/// function-like macro, no statement, struct or initializer; a macro's
/// value is opaque to the parser), so a demand it satisfies by its words
/// would bring in a file that adds no facts: its set holds no key.
/// Generated register headers are like this: a third of the bytes of a
/// kernel tree, which the sets need not scan.
///
/// The test is conservative: anything else on a line (a continued macro,
/// a block comment, a `(` in a comment) makes the text an ordinary one.
pub fn defines_only(d: &[u8]) -> bool {
    code_start(d, true).is_some_and(|at| {
        let code = &d[at..];
        // (A line of `/` alone at the very end starts no `//`.)
        code_lines_ok(code) && STRUCT.find(code).is_none() && !code.ends_with(b"\n/")
    })
}

/// Finds `struct`, built once (each file asks for it).
static STRUCT: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"struct"));

/// Where the code of `d` starts, past the comments (a licence, an SPDX
/// line) and blank lines it starts with, if it starts with `#` (or `d`
/// ends first); `None` if it starts otherwise. `whole`: `d` is the whole
/// text; if not, `None` also where the leading part runs to its end.
fn code_start(d: &[u8], whole: bool) -> Option<usize> {
    let mut at = 0;
    loop {
        at = lex::skip_whitespace(d, at);
        let rest = &d[at..];
        // (A leading `/*/` is read as a whole comment, as it always was.)
        let end = if rest.starts_with(b"/*") {
            lex::block_comment_close_sharing_star(rest, 0)?
        } else if rest.starts_with(b"//") {
            lex::line_comment_close(rest, 0).or(whole.then_some(rest.len()))?
        } else if rest.is_empty() && !whole {
            return None;
        } else {
            break;
        };
        // A block comment must end its line.
        let line_end = match memchr::memchr(b'\n', &rest[end..]) {
            Some(n) => end + n,
            None if whole => rest.len(),
            None => return None,
        };
        if !rest[end..line_end].iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        at += line_end;
    }
    (d.get(at).is_none_or(|&b| b == b'#')).then_some(at)
}

/// False if some line of `code` that it holds the start of is not empty
/// and starts with neither `#` nor `//`, or `code` holds a `(`. A line
/// start whose bytes `code` ends before is not judged.
fn code_lines_ok(code: &[u8]) -> bool {
    // With AVX-512, 64 bytes at a time by masks (a register header's line
    // is 40 to 80 bytes: a search stopping at each cost more than all the
    // rest of the test); the rest, from the last two bytes of the blocks,
    // a line at a time.
    #[cfg(target_arch = "x86_64")]
    let from = match avx512::lines_ok_in_blocks(code) {
        Some(done) => done.saturating_sub(2),
        None => return false,
    };
    #[cfg(not(target_arch = "x86_64"))]
    let from = 0;
    lines_ok_plain(&code[from..])
}

/// [`code_lines_ok`] a line at a time.
fn lines_ok_plain(code: &[u8]) -> bool {
    memchr::memchr2_iter(b'\n', b'(', code).all(|i| {
        code[i] == b'\n'
            && match code.get(i + 1) {
                None | Some(b'#' | b'\n') => true,
                Some(b'/') => code.get(i + 2).is_none_or(|&b| b == b'/'),
                Some(_) => false,
            }
    })
}

/// [`defines_only`] of a text read a piece at a time, so that a large
/// file need not be held whole: [`DefinesOnlyPieces::finish`] says true
/// only where `defines_only` of the whole text is true. (If the comments
/// it starts with run past the first piece, it says false: the caller
/// reads the text whole and asks again.)
#[derive(Default)]
pub struct DefinesOnlyPieces {
    /// A piece was fed: the code has started.
    started: bool,
    /// Not (or not known to be) such a text.
    failed: bool,
    /// The last bytes of the code so far: a `struct`, or a line start
    /// whose first bytes are in the next piece.
    carry: Vec<u8>,
}

impl DefinesOnlyPieces {
    /// Takes the next piece of the text; false once the text is known
    /// not to be such a text (or cannot be told so from pieces).
    pub fn feed(&mut self, piece: &[u8]) -> bool {
        if self.failed || piece.is_empty() {
            return !self.failed;
        }
        let code = if self.started {
            piece
        } else {
            self.started = true;
            match code_start(piece, false) {
                Some(at) => &piece[at..],
                None => return self.fail(),
            }
        };
        // What runs across from the last piece: the carried bytes and the
        // first bytes of this one, judged at the carried positions only.
        let mut joined = std::mem::take(&mut self.carry);
        let carried = joined.len();
        joined.extend_from_slice(&code[..code.len().min(8)]);
        let across_ok = (0..carried).all(|i| {
            (joined[i] != b'\n' || code_lines_ok(&joined[i..]))
                && !joined[i..].starts_with(b"struct")
        });
        if !across_ok || !code_lines_ok(code) || STRUCT.find(code).is_some() {
            return self.fail();
        }
        // The last five bytes of everything so far: `joined` ends where
        // `code` does unless `code` is longer than what it took of it.
        let tail: &[u8] = if code.len() > 8 { code } else { &joined };
        self.carry = tail[tail.len().saturating_sub(5)..].to_vec();
        true
    }

    /// True if the whole text fed was such a text.
    pub fn finish(self) -> bool {
        !self.failed && !self.carry.ends_with(b"\n/")
    }

    fn fail(&mut self) -> bool {
        self.failed = true;
        false
    }
}

/// How many distinct keys set `set` of the `bits` bits of a filter. A key
/// sets [`BITS_SET`] bits of one word, one in each byte (never the same
/// bit twice), some set by other keys already, so `k` keys leave about
/// `bits * (1 - e^(-k * BITS_SET / bits))` set. A function of the final
/// bits only, so both scans size alike.
fn distinct_keys(set: usize, bits: usize) -> usize {
    let per_key = f64::from(BITS_SET);
    let full = (set as f64 / bits as f64).min(0.999);
    (-(bits as f64) / per_key * (1.0 - full).ln()).round() as usize
}

/// Sets the bits of every key of `data` in `words` (a power of two of
/// them), by the SIMD scan where `simd` asks for it and the CPU has one.
fn insert_all(data: &[u8], words: &mut [u64], simd: bool) {
    #[cfg(target_arch = "x86_64")]
    let done = simd && avx512::insert_keys(data, words);
    #[cfg(not(target_arch = "x86_64"))]
    let done = simd && false;
    if !done {
        keys(data, |k| insert(words, k));
    }
}

/// A key as the filters look it up: its bits, and its word before the
/// filter's size is applied.
#[derive(Clone, Copy, Debug)]
pub struct Probe {
    word: u64,
    bits: u64,
}

impl Probe {
    /// The probe of `key`.
    pub fn of(key: u64) -> Probe {
        let (_, bits) = slot(key, 1);
        Probe {
            word: key >> WORD_SHIFT,
            bits,
        }
    }
}

/// Sets the bits of key `k` in `words` (a power of two of them).
#[inline(always)]
fn insert(words: &mut [u64], k: u64) {
    let (w, bits) = slot(k, words.len());
    words[w] |= bits;
}

/// The word (of `n`, a power of two) and the bits a key sets: in byte `i`
/// of the word, the bit that the key's `i`-th 3-bit field names (so
/// [`avx512`] finds all eight with one byte shuffle); the word from the
/// bits above those fields.
#[inline(always)]
fn slot(k: u64, n: usize) -> (usize, u64) {
    let w = (k >> WORD_SHIFT) as usize & (n - 1);
    let mut bits = 0u64;
    for i in 0..BITS_SET {
        bits |= 1u64 << (8 * i + ((k >> (3 * i)) & 7) as u32);
    }
    (w, bits)
}

/// How many bits a key sets in its word: one in each of its eight bytes.
/// One bit per byte never sets the same bit twice, so it wrongly matches
/// fewer absent names than as many bits drawn anywhere in the word, and
/// the AVX-512 scan finds all eight with one multishift and one byte
/// shuffle (`bench/NOTES.md` has the comparison).
const BITS_SET: u32 = 8;
/// Where a key's word index starts: past its eight 3-bit fields.
const WORD_SHIFT: u32 = 3 * BITS_SET;

/// 2^64 divided by the golden ratio: an odd multiplier that spreads bits.
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;
/// The multipliers of splitmix64's finalizer.
const MIX1: u64 = 0xbf58_476d_1ce4_e5b9;
const MIX2: u64 = 0x94d0_49bb_1331_11eb;

/// Mixes every bit of a raw hash into every bit of the key, with only the
/// low halves of products, which SIMD multiplies give too (see
/// [`avx512`]).
#[inline(always)]
fn finish(x: u64) -> u64 {
    let x = (x ^ (x >> 32)).wrapping_mul(MIX1);
    let x = (x ^ (x >> 29)).wrapping_mul(MIX2);
    x ^ (x >> 32)
}

#[inline(always)]
fn load8(d: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[at..at + 8]);
    u64::from_le_bytes(b)
}

/// A hash of `d[s..e]` before finishing: its first and last eight bytes
/// and its length. Without branches on the length (which varies at random
/// from one identifier to the next), except near the end of the text.
#[inline(always)]
fn raw_hash(d: &[u8], s: usize, e: usize) -> u64 {
    let n = e - s;
    let len = (n as u64).wrapping_mul(GOLDEN);
    if s + 8 > d.len() || e < 8 {
        return short_tail_hash(d, s, e, len);
    }
    // The first min(n, 8) bytes; the last eight only when n > 8 (else they
    // would take in bytes before the identifier).
    let first_mask = u64::MAX >> (8 * (8 - n.min(8)));
    let last_mask = 0u64.wrapping_sub(u64::from(n > 8));
    let first = load8(d, s) & first_mask;
    let last = load8(d, e - 8) & last_mask;
    first ^ last.rotate_left(23) ^ len
}

/// [`raw_hash`] where eight bytes cannot be loaded around the identifier.
#[cold]
fn short_tail_hash(d: &[u8], s: usize, e: usize, len: u64) -> u64 {
    let n = e - s;
    let mut b = [0u8; 8];
    let k = n.min(8);
    b[..k].copy_from_slice(&d[s..s + k]);
    let first = u64::from_le_bytes(b);
    let last = if n > 8 { load8(d, e - 8) } else { 0 };
    first ^ last.rotate_left(23) ^ len
}

/// The raw hash of the keyword `struct`: exact, since a name of up to
/// eight bytes hashes to its bytes and its length.
const STRUCT_RAW: u64 = u64::from_le_bytes(*b"struct\0\0") ^ 6u64.wrapping_mul(GOLDEN);
/// The raw hashes of `define` and `include`, exact as [`STRUCT_RAW`].
const DEFINE_RAW: u64 = u64::from_le_bytes(*b"define\0\0") ^ 6u64.wrapping_mul(GOLDEN);
const INCLUDE_RAW: u64 = u64::from_le_bytes(*b"include\0") ^ 7u64.wrapping_mul(GOLDEN);

/// Calls `f` with the key of every identifier occurrence in `d`, in each
/// form it takes there.
#[inline(always)]
pub fn keys(d: &[u8], mut f: impl FnMut(u64)) {
    spans(d, |s, e| name_keys(d, s, e, &mut f));
}

/// Calls `f` with the keys of the name at `d[s..e]`, in each form it takes
/// there.
#[inline(always)]
fn name_keys(d: &[u8], s: usize, e: usize, f: &mut impl FnMut(u64)) {
    let raw = raw_hash(d, s, e);
    let member = after_member_op(d, s);
    if word_indexed(e - s, raw, member) {
        f(finish(raw));
    }
    if member {
        f(finish(raw) ^ Form::Member.salt());
    }
    if raw == STRUCT_RAW {
        struct_tag_key(d, e, f);
    }
}

/// After the keyword `struct` ending at `e`: the keys of the tag that
/// follows (whitespace between), see [`tag_keys`].
#[inline(never)]
fn struct_tag_key(d: &[u8], e: usize, f: &mut impl FnMut(u64)) {
    let s = lex::skip_whitespace(d, e);
    if s == e || s == d.len() || d[s].is_ascii_digit() {
        return;
    }
    let end = lex::ident_end(d, s);
    if end > s {
        tag_keys(d, s, end, f);
    }
}

/// The keys of the tag `d[s..e]` of a `struct`: its [`Form::StructTag`]
/// key if a `{` follows it (whitespace between), and its word key if the
/// name itself gets none (see [`type_key`]).
#[inline]
fn tag_keys(d: &[u8], s: usize, e: usize, f: &mut impl FnMut(u64)) {
    let raw = raw_hash(d, s, e);
    if !word_indexed(e - s, raw, false) {
        f(finish(raw));
    }
    if lex::next_non_whitespace(d, e) == Some(b'{') {
        f(finish(raw) ^ Form::StructTag.salt());
    }
}

/// Calls `f(start, end)` for every maximal run of identifier bytes that
/// does not start with a digit (numbers are not names).
#[inline(always)]
pub fn spans(d: &[u8], mut f: impl FnMut(usize, usize)) {
    // The plain loop's test that a run is a name, not a number.
    #[inline(always)]
    fn emit(d: &[u8], s: usize, e: usize, f: &mut impl FnMut(usize, usize)) {
        if !d[s].is_ascii_digit() {
            f(s, e)
        }
    }
    let mut open: Option<usize> = None;
    let mut i = 0;
    #[cfg(target_arch = "x86_64")]
    {
        // 64 bytes at a time: a mask of identifier bytes and one of digits.
        // A run starts where the identifier mask does and ends at the
        // first zero after it (its trailing ones); numbers are dropped
        // from the starts up front. A run reaching the end of the block
        // stays open into the next one.
        let mut prev = 0u64;
        while i + 64 <= d.len() {
            let (m, digits) = simd::ident_and_digit_masks(&d[i..i + 64]);
            let mut starts = m & !((m << 1) | prev) & !digits;
            prev = m >> 63;
            if let Some(s) = open {
                let run = m.trailing_ones() as usize;
                if run == 64 {
                    i += 64;
                    continue;
                }
                f(s, i + run);
                open = None;
            }
            while starts != 0 {
                let bit = starts.trailing_zeros();
                starts &= starts - 1;
                let run = (m >> bit).trailing_ones();
                if bit + run == 64 {
                    open = Some(i + bit as usize);
                    break;
                }
                f(i + bit as usize, i + (bit + run) as usize);
            }
            i += 64;
        }
        // A number running past the last block is not a start to the
        // plain loop below: skip the rest of it.
        if prev == 1 && open.is_none() {
            while i < d.len() && is_ident_byte(d[i]) {
                i += 1;
            }
        }
    }
    while i < d.len() {
        match (open, is_ident_byte(d[i])) {
            (None, true) => open = Some(i),
            (Some(s), false) => {
                emit(d, s, i, &mut f);
                open = None;
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(s) = open {
        emit(d, s, d.len(), &mut f);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512;

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    /// Bit `i` set if `b[i]` is `[A-Za-z0-9_]`, and a mask of digits;
    /// `b` is 64 bytes. SSE2 is part of x86_64, so no run-time check is
    /// needed.
    #[inline]
    pub fn ident_and_digit_masks(b: &[u8]) -> (u64, u64) {
        assert!(b.len() >= 64);
        let (mut m, mut dg) = (0u64, 0u64);
        for k in 0..4 {
            // SAFETY: SSE2 is always present on x86_64, and the load reads
            // 16 bytes inside `b` (asserted above); loadu needs no alignment.
            let (r, g) = unsafe {
                let v = _mm_loadu_si128(b.as_ptr().add(16 * k) as *const __m128i);
                let lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
                let alpha = in_range(lower, b'a', 26);
                let digit = in_range(v, b'0', 10);
                let under = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8));
                (
                    _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(alpha, digit), under)),
                    _mm_movemask_epi8(digit),
                )
            };
            m |= u64::from(r as u16) << (16 * k);
            dg |= u64::from(g as u16) << (16 * k);
        }
        (m, dg)
    }

    /// Lanes of `v` in `lo..lo + n` (unsigned), by shifting the range to
    /// the bottom of the signed order.
    #[inline]
    unsafe fn in_range(v: __m128i, lo: u8, n: u8) -> __m128i {
        unsafe {
            let shifted = _mm_add_epi8(v, _mm_set1_epi8(0x80u8.wrapping_sub(lo) as i8));
            _mm_cmplt_epi8(shifted, _mm_set1_epi8(0x80u8.wrapping_add(n) as i8))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar_spans(d: &[u8]) -> Vec<(usize, usize)> {
        let mut out = vec![];
        let mut i = 0;
        while i < d.len() {
            if is_ident_byte(d[i]) {
                let s = i;
                while i < d.len() && is_ident_byte(d[i]) {
                    i += 1;
                }
                if !d[s].is_ascii_digit() {
                    out.push((s, i));
                }
            } else {
                i += 1;
            }
        }
        out
    }

    #[test]
    fn spans_agree_with_a_plain_scan() {
        // Every byte value, runs across the 64-byte blocks, a run at the end.
        let mut d: Vec<u8> = (0..=255u8).collect();
        d.extend(b"x".repeat(130));
        d.extend(b" 0x12ab foo_1->bar.baz \xff\xfeq9 _z");
        for cut in [0, 1, 63, 64, 65, 127, 200, d.len()] {
            let part = &d[..cut];
            let mut got = vec![];
            spans(part, |s, e| got.push((s, e)));
            assert_eq!(got, scalar_spans(part), "cut at {cut}");
        }
    }

    #[test]
    fn a_number_across_the_last_block_is_not_a_name() {
        // `0x12abcd` runs from byte 60 into the plain loop's tail: its
        // `abcd` is no name. Likewise for a name running across.
        let mut d = b" ".repeat(60);
        d.extend(b"0x12abcd name_across_64 z");
        let mut got = vec![];
        spans(&d, |s, e| got.push(&d[s..e]));
        assert_eq!(got, [&b"name_across_64"[..], b"z"]);
        let mut d = b" ".repeat(62);
        d.extend(b"abcdef 9");
        let mut got = vec![];
        spans(&d, |s, e| got.push(&d[s..e]));
        assert_eq!(got, [&b"abcdef"[..]]);
    }

    #[test]
    fn spans_agree_on_pseudo_random_text() {
        // C-like bytes from a fixed generator: letters, digits, `_`,
        // punctuation, spaces and high bytes, in runs of any length.
        let alphabet = b"ab_Z09 ->.{}(;\n\t\x80\xff";
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut d = Vec::new();
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            d.push(alphabet[(x % alphabet.len() as u64) as usize]);
        }
        for cut in [0, 5, 64, 100, 1000, d.len()] {
            let mut got = vec![];
            spans(&d[..cut], |s, e| got.push((s, e)));
            assert_eq!(got, scalar_spans(&d[..cut]), "cut at {cut}");
            let set = IdentSet::of(&d[..cut]);
            for (s, e) in got {
                assert!(held(&set, &d[s..e], Form::Word));
            }
        }
    }

    /// A C-like text of `tokens` tokens from a fixed generator: names,
    /// numbers, `struct`, member operators, braces and whitespace, so that
    /// every kind of run lands across 64-byte blocks and 4 KB chunks.
    fn token_soup(seed: u64, tokens: usize) -> Vec<u8> {
        const VOCAB: &[&str] = &[
            "struct",
            " ",
            "\n",
            "{",
            "}",
            "foo",
            "a1",
            "0x1f",
            "->",
            ".",
            "-",
            ">",
            "_x",
            "9",
            "\t",
            "structs",
            "very_long_identifier_name",
            "(",
            "b.c",
            "p->q",
            "1e5x",
            "\u{80}",
        ];
        let mut x = seed | 1;
        let mut d = Vec::new();
        for _ in 0..tokens {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            d.extend(VOCAB[(x % VOCAB.len() as u64) as usize].as_bytes());
        }
        d
    }

    /// The filter words of every key of `data` in a filter so large that
    /// two keys rarely share a word: equal words mean equal keys.
    fn wide_filter(data: &[u8], simd: bool) -> Vec<u64> {
        let mut words = vec![0u64; 1 << 16];
        insert_all(data, &mut words, simd);
        words
    }

    #[test]
    fn the_simd_scan_finds_the_keys_the_plain_one_does() {
        #[cfg(target_arch = "x86_64")]
        if !avx512::available() {
            eprintln!("no AVX-512 here: only the plain scan runs");
        }
        for seed in 0..40u64 {
            let soup = token_soup(seed.wrapping_mul(0x9e37_79b9), 50 + 400 * seed as usize);
            for cut in [0, 1, 7, 8, 63, 64, 65, 4095, 4096, 4097, soup.len()] {
                let d = &soup[..cut.min(soup.len())];
                assert_eq!(
                    wide_filter(d, true),
                    wide_filter(d, false),
                    "seed {seed} cut {cut}"
                );
                assert_eq!(IdentSet::of(d), IdentSet::of_plain_scan(d));
            }
        }
        // Runs ending exactly at block and chunk ends, and a member
        // operator split across blocks.
        for at in [62usize, 63, 64, 4094, 4095, 4096] {
            for tail in [
                "->name ",
                ".name ",
                "123 x",
                "name{",
                "struct tag {",
                "name",
            ] {
                let mut d = b" ".repeat(at);
                d.extend(tail.as_bytes());
                d.extend(b" ".repeat(70));
                assert_eq!(
                    wide_filter(&d, true),
                    wide_filter(&d, false),
                    "{tail} at {at}"
                );
            }
        }
    }

    #[test]
    fn struct_tags_need_whitespace_and_a_brace() {
        let s = set("struct a {} struct\tb\n{ struct c; struct 9d { struct{ x.struct e {");
        for (tag, defined) in [
            ("a", true),
            ("b", true),
            ("e", true),
            ("c", false),
            ("d", false),
            ("9d", false),
        ] {
            assert_eq!(held(&s, tag.as_bytes(), Form::StructTag), defined, "{tag}");
        }
    }

    fn set(text: &str) -> IdentSet {
        IdentSet::of(text.as_bytes())
    }

    /// Whether a text with set `s` may hold `name` in `form`, as the sweeps
    /// ask it.
    fn held(s: &IdentSet, name: &[u8], form: Form) -> bool {
        key(name, form).is_none_or(|k| s.may_hold(k))
    }

    #[test]
    fn short_names_define_and_include_get_no_word_key() {
        let s = set(
            "int f(void) { if (x) return n; }\n#define NAME 1\n#include <a.h>\nops->id = y.fd;",
        );
        for w in [&b"f"[..], b"if", b"int", b"x", b"define", b"include"] {
            assert_eq!(key(w, Form::Word), None, "{w:?}");
        }
        // Asked for, they may be anywhere: every set may hold them.
        assert!(held(&set(""), b"int", Form::Word));
        // Members keep both keys whatever their length; tags keep theirs.
        for m in [&b"id"[..], b"fd"] {
            assert!(held(&s, m, Form::Member));
            assert!(s.may_hold(finish(raw_hash(m, 0, m.len()))));
        }
        assert!(!s.may_hold(finish(raw_hash(b"int", 0, 3))));
        assert!(!s.may_hold(finish(raw_hash(b"define", 0, 6))));
        assert!(held(&set("struct kvm {"), b"kvm", Form::StructTag));
        // A short tag still has its word key: the users of a type are found.
        for t in [
            "struct kvm *k;",
            "struct\tmm m;",
            "(struct io)x",
            "struct kvm {",
        ] {
            assert!(
                set(t).may_hold(type_key(b"kvm")) == t.contains("kvm"),
                "{t}"
            );
            assert!(set(t).may_hold(type_key(b"mm")) == t.contains("mm"), "{t}");
        }
        assert!(set("(struct io)x").may_hold(type_key(b"io")));
        assert!(!set("kvm = io;").may_hold(type_key(b"kvm")));
        assert!(set("struct foo_bar *b;").may_hold(type_key(b"foo_bar")));
        // Only those exact names: longer and shorter ones keep their key.
        let t = set("defines includes defin NAME");
        for w in [&b"defines"[..], b"includes", b"defin", b"NAME"] {
            assert!(key(w, Form::Word).is_some(), "{w:?}");
            assert!(held(&t, w, Form::Word), "{w:?}");
        }
    }

    #[test]
    fn forms_are_told_apart() {
        let s = set(
            "int f(void) { ops->load(x); return y.count; }\nstruct foo {\n int a; };\nstruct bar *b;",
        );
        for w in ["f", "ops", "load", "x", "y", "count", "foo", "bar", "b"] {
            assert!(held(&s, w.as_bytes(), Form::Word), "{w}");
        }
        assert!(held(&s, b"load", Form::Member));
        assert!(held(&s, b"count", Form::Member));
        assert!(held(&s, b"foo", Form::StructTag));
        // Absent names and forms (a false positive here would be a 1 in
        // millions coincidence of these fixed hashes, not flakiness).
        assert!(!held(&s, b"ops", Form::Member));
        assert!(!held(&s, b"bar", Form::StructTag));
        assert!(!held(&s, b"unload", Form::Word));
        assert!(!held(&s, b"0x12", Form::Word));
    }

    #[test]
    fn filters_are_sized_by_distinct_names_not_bytes() {
        // 2,000 lines of the same few names: a register header's shape
        // (with a function, or it would hold no name at all).
        let repeated = "int regs(void);\n".to_string()
            + &"#define REG_A 0x1\n#define REG_B 0x2\n".repeat(1000);
        let few = set(&repeated);
        assert_eq!(few.bytes(), MIN_WORDS * 8);
        assert!(held(&few, b"REG_B", Form::Word));
        // As many distinct names: a filter of 24 bits each.
        let many: String = (0..2000).map(|i| format!("int name_{i};\n")).collect();
        let many_set = set(&many);
        assert!(many_set.bytes() >= 2000 * BITS_PER_KEY / 8);
        for i in [0, 999, 1999] {
            assert!(held(&many_set, format!("name_{i}").as_bytes(), Form::Word));
        }
    }

    #[test]
    fn distinct_keys_allow_for_shared_bits() {
        // Keys set into a scratch of 2^16 bits: the count from the set bits
        // stays within 2% of the truth from sparse to half full.
        for keys in [100usize, 1000, 5000, 10_000] {
            let mut words = vec![0u64; 1024];
            for k in 0..keys {
                insert(&mut words, finish(k as u64 + 1));
            }
            let set: usize = words.iter().map(|w| w.count_ones() as usize).sum();
            let got = distinct_keys(set, 1024 * 64);
            assert!(got.abs_diff(keys) * 50 <= keys, "{keys} keys counted {got}");
        }
        assert_eq!(distinct_keys(0, 4096), 0);
    }

    #[test]
    fn the_struct_keyword_is_known_by_its_hash() {
        // Inside a long text, and as a whole short text (the tail path).
        let long = b"  struct foo_bar_baz {";
        assert_eq!(raw_hash(long, 2, 8), STRUCT_RAW);
        assert_eq!(raw_hash(b"struct", 0, 6), STRUCT_RAW);
        assert_ne!(raw_hash(b"structs", 0, 7), STRUCT_RAW);
        assert_ne!(raw_hash(b"strucT", 0, 6), STRUCT_RAW);
    }

    #[test]
    fn long_and_short_names_at_the_end_of_the_text() {
        let s = set("ab_c very_long_identifier_name_here");
        assert!(held(&s, b"ab_c", Form::Word));
        assert!(held(&s, b"very_long_identifier_name_here", Form::Word));
        assert!(!held(&s, b"very_long_identifier_name_her", Form::Word));
    }

    #[test]
    fn a_text_of_object_like_macros_holds_no_key() {
        let header = "/* SPDX-License-Identifier: MIT */\n/*\n * Licence (with parens).\n */\n\n#ifndef _REG_H\n#define _REG_H\n// block: gfx\n#define regGFX_CNTL 0x12\n#define GFX_CNTL__EN_MASK 0x1L\n\n#endif\n";
        assert!(defines_only(header.as_bytes()));
        let set = IdentSet::of(header.as_bytes());
        assert_eq!(set, IdentSet::of_plain_scan(header.as_bytes()));
        for name in ["regGFX_CNTL", "GFX_CNTL__EN_MASK", "_REG_H"] {
            assert!(
                !set.may_hold(key(name.as_bytes(), Form::Word).unwrap()),
                "{name}"
            );
        }
        assert!(defines_only(b""));
        assert!(defines_only(b"/* only a comment */\n"));
    }

    #[test]
    fn anything_but_object_like_macros_is_an_ordinary_text() {
        let ordinary = [
            // A function-like macro, a function, a struct, a call in a value.
            "#define F(x) use(x)\n",
            "#define A 1\nint f(void);\n",
            "#define A 1\n#define S struct s\n",
            "#define A f\n#define B (1)\n",
            // A continued macro, an indented line, a block comment inside.
            "#define A \\\n  1\n",
            "#define A 1\n  #define B 2\n",
            "#define A 1\n/* note */\n",
            // Code before the first directive; a comment that does not end.
            "x;\n#define A 1\n",
            "/* open\n#define A 1\n",
            "/* c */ int x;\n#define A 1\n",
        ];
        for t in ordinary {
            assert!(!defines_only(t.as_bytes()), "{t:?}");
        }
        let set = IdentSet::of(b"#define A 1\nint counter_name;\n");
        assert!(set.may_hold(key(b"counter_name", Form::Word).unwrap()));
    }

    /// [`DefinesOnlyPieces`] over `d` cut at `cuts` (sorted).
    fn pieces_say(d: &[u8], cuts: &[usize]) -> bool {
        let mut scan = DefinesOnlyPieces::default();
        let mut from = 0;
        for &c in cuts.iter().chain([&d.len()]) {
            scan.feed(&d[from..c]);
            from = c;
        }
        scan.finish()
    }

    #[test]
    fn pieces_agree_with_the_whole_text() {
        const LINES: &[&str] = &[
            "#define A 1\n",
            "#define BB 0x2L\n",
            "\n",
            "// note\n",
            "// (x)\n",
            "#if X\n",
            "#endif\n",
            "struct",
            "stru",
            "ct",
            "(",
            "/",
            "\n/",
            " x\n",
            "#define S \\\n",
        ];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let (mut agreed, mut said_yes) = (0, 0);
        for round in 0..3000 {
            let mut d = b"/* lead (c) */\n".to_vec();
            // Mostly good lines, now and then a bad one.
            for _ in 0..next(40) {
                let line = if next(8) == 0 {
                    next(LINES.len())
                } else {
                    next(4)
                };
                d.extend(LINES[line].as_bytes());
            }
            let whole = defines_only(&d);
            let lead = 15;
            let mut cuts: Vec<usize> = (0..next(4))
                .map(|_| lead + next(d.len() - lead + 1))
                .collect();
            cuts.sort();
            let pieces = pieces_say(&d, &cuts);
            assert!(
                !pieces || whole,
                "round {round}: pieces say yes, whole says no: {:?} cut at {cuts:?}",
                String::from_utf8_lossy(&d)
            );
            // Where the first piece holds the start of the code, the pieces
            // tell as much as the whole.
            let first = &d[..cuts.first().copied().unwrap_or(d.len())];
            if code_start(first, false).is_some() {
                assert_eq!(
                    pieces,
                    whole,
                    "round {round}: {:?} cut at {cuts:?}",
                    String::from_utf8_lossy(&d)
                );
            }
            agreed += 1;
            said_yes += usize::from(whole);
        }
        assert!(
            said_yes > 300 && said_yes < agreed - 300,
            "{said_yes} of {agreed}"
        );
        // Every cut, and every pair of cuts, through texts that fail only
        // across them.
        for d in [
            &b"/* l */\n#define A 1\n#define S struct x\n"[..],
            b"/* l */\n#define A 1\n x\n",
            b"/* l */\n#define A 1\n/x\n",
            b"/* l */\n#define A 1\n#define B 2\n/",
            b"/* l */\n#define A 1\n#define B (2)\n",
        ] {
            assert!(!defines_only(d));
            for a in 8..=d.len() {
                assert!(
                    !pieces_say(d, &[a]),
                    "{:?} cut at {a}",
                    String::from_utf8_lossy(d)
                );
                for b in a..=d.len() {
                    assert!(
                        !pieces_say(d, &[a, b]),
                        "{:?} cut at {a}, {b}",
                        String::from_utf8_lossy(d)
                    );
                }
            }
        }
        let good = b"/* l */\n#define A 1\n// s\n\n#define B 2\n";
        assert!(defines_only(good));
        // (The first piece holds the first byte of the code.)
        for a in 9..=good.len() {
            for b in a..=good.len() {
                assert!(pieces_say(good, &[a, b]), "cut at {a}, {b}");
            }
        }
        // A leading comment cut in two cannot be told from its pieces.
        let d = b"/* a licence */\n#define A 1\n";
        assert!(defines_only(d));
        assert!(!pieces_say(d, &[5]));
        assert!(pieces_say(d, &[20]));
    }

    #[test]
    fn line_masks_judge_as_the_plain_loop() {
        const PARTS: &[&str] = &[
            "#define A 1\n",
            "\n",
            "//",
            "/",
            "#",
            "(",
            " x",
            "\n/",
            "ab",
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut oks = 0;
        for _ in 0..2000 {
            let mut d = Vec::new();
            for _ in 0..60 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Mostly good lines.
                let i = (x % 300) as usize;
                d.extend(PARTS[if i < PARTS.len() { i } else { i % 3 }].as_bytes());
            }
            for k in 0..70.min(d.len()) {
                let c = &d[k..];
                let ok = lines_ok_plain(c);
                assert_eq!(code_lines_ok(c), ok, "{:?}", String::from_utf8_lossy(c));
                oks += usize::from(ok);
            }
        }
        assert!(oks > 10_000, "{oks}");
    }
}
