//! The identifier keys of a text with AVX-512, where the CPU has it: the
//! same keys as [`super::keys`], in another order.
//!
//! The plain scan spends most of its time on branches that depend on the
//! text (where a name ends, how long it is, whether a member operator
//! precedes it). Here the text goes in two passes over chunks that stay
//! in the L1 cache:
//!
//! 1. Each 64-byte block gives masks of identifier bytes, digits and
//!    member operators. From them come the offsets where names start and
//!    end (numbers left out, runs across blocks carried), compressed into
//!    arrays, and a flag per start telling whether `.` or `->` precedes it.
//!    The names that get no key (short ones, not members) are then
//!    dropped from the arrays, sixteen at a time.
//! 2. Eight names at a time: their first and last eight bytes gathered,
//!    hashed and mixed in vector lanes, exactly as [`super::raw_hash`] and
//!    [`super::finish`] do one at a time. Only setting the filter bits is
//!    done lane by lane.
//!
//! A name too close to either end of the text for the gathers (which read
//! eight bytes around it) takes the scalar path.

use super::{
    DEFINE_RAW, Form, GOLDEN, INCLUDE_RAW, MAX_UNINDEXED_LEN, MIX1, MIX2, STRUCT_RAW, WORD_SHIFT,
    insert, name_keys, struct_tag_key, tag_keys,
};
use std::arch::x86_64::*;
use std::sync::OnceLock;

/// Bytes of text per chunk: its offsets (at most one start and one end
/// per two bytes, four bytes each) and flags fit in the L1 cache with it.
const CHUNK: usize = 4096;
/// Room past a chunk's offsets for the vector stores, which write whole
/// vectors whatever the count.
const SLACK: usize = 64;

/// Whether this CPU has the AVX-512 subsets used here (checked once).
pub(super) fn available() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx512vbmi")
            && is_x86_feature_detected!("avx512vbmi2")
    })
}

/// [`super::code_lines_ok`] over the 64-byte blocks of `code`: `None` if
/// they hold a `(` or a line start that is not `#`, `//` or empty,
/// else how many bytes the blocks cover (0 without AVX-512); a line
/// start in the last two bytes is not judged.
pub(super) fn lines_ok_in_blocks(code: &[u8]) -> Option<usize> {
    if !available() {
        return Some(0);
    }
    // SAFETY: the features were detected above.
    unsafe { lines_ok_avx512(code) }
}

#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi,avx512vbmi2")]
fn lines_ok_avx512(code: &[u8]) -> Option<usize> {
    let (mut at, mut after_nl, mut after_slash_start) = (0, 0u64, 0u64);
    while at + 64 <= code.len() {
        // SAFETY: the load reads the 64 bytes at `at`, inside `code`.
        let v = unsafe { _mm512_loadu_si512(code.as_ptr().add(at).cast()) };
        let is = |c: u8| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c as i8));
        let (nl, hash, slash, paren) = (is(b'\n'), is(b'#'), is(b'/'), is(b'('));
        // Bit i: byte i starts a line / starts a line with `/`.
        let starts = (nl << 1) | after_nl;
        let slash_starts = starts & slash;
        let bad = paren
            | (starts & !(hash | nl | slash))
            | ((slash_starts << 1 | after_slash_start) & !slash);
        if bad != 0 {
            return None;
        }
        after_nl = nl >> 63;
        after_slash_start = slash_starts >> 63;
        at += 64;
    }
    Some(at)
}

/// The offsets of one chunk's names: `starts[i]..ends[i]` is the i-th,
/// `member[i]` is 1 if `.` or `->` precedes it.
/// The `kept_*` arrays are the same for the names that get a key in pass
/// 2, with each one's index in the others.
struct Runs {
    starts: Vec<u32>,
    ends: Vec<u32>,
    member: Vec<u8>,
    kept_starts: Vec<u32>,
    kept_ends: Vec<u32>,
    kept_member: Vec<u8>,
    kept_index: Vec<u32>,
}

thread_local! {
    static RUNS: std::cell::RefCell<Runs> = std::cell::RefCell::new(Runs {
        starts: vec![0; CHUNK / 2 + 2 * SLACK],
        ends: vec![0; CHUNK / 2 + 2 * SLACK],
        member: vec![0; CHUNK / 2 + 2 * SLACK],
        kept_starts: vec![0; CHUNK / 2 + 2 * SLACK],
        kept_ends: vec![0; CHUNK / 2 + 2 * SLACK],
        kept_member: vec![0; CHUNK / 2 + 2 * SLACK],
        kept_index: vec![0; CHUNK / 2 + 2 * SLACK],
    });
}

/// Sets in `words` (a power of two of them) the bits of every key of `d`,
/// as [`super::keys`] would give them, and returns true; or returns false
/// without touching `words` if the CPU lacks AVX-512 or the text is too
/// long for 32-bit offsets.
pub fn insert_keys(d: &[u8], words: &mut [u64]) -> bool {
    if !available() || d.len() >= u32::MAX as usize - CHUNK {
        return false;
    }
    RUNS.with_borrow_mut(|runs| {
        // SAFETY: the features were detected above.
        unsafe { insert_keys_avx512(d, runs, words) }
    });
    true
}

/// What pass 1 carries from one block to the next.
#[derive(Default)]
struct Carry {
    /// The last byte was an identifier byte.
    ident: u64,
    /// A number runs on into this block.
    number: u64,
    /// The last byte was `.`, `-`, or the `>` of `->`.
    dot: u64,
    minus: u64,
    arrow: u64,
    /// A name started and has not ended: its start and member flag.
    open: Option<(u32, u8)>,
}

#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi,avx512vbmi2")]
fn insert_keys_avx512(d: &[u8], runs: &mut Runs, words: &mut [u64]) {
    let whole = d.len() / 64 * 64;
    let mut carry = Carry::default();
    let mut at = 0;
    while at < whole {
        let to = (at + CHUNK).min(whole);
        let n = find_names(d, at, to, &mut carry, runs);
        let kept = keep_names(runs, n);
        hash_names(d, runs, n, kept, words);
        at = to;
    }
    // The last partial block, byte by byte, as the plain scan does; a
    // name still open from the blocks ends in it.
    let mut open = carry.open.map(|(s, _)| s as usize);
    let mut in_number = carry.number == 1;
    let mut emit = |s: usize, e: usize| plain_keys(d, s, e, words);
    for (i, &b) in d.iter().enumerate().skip(whole) {
        let ident = super::is_ident_byte(b);
        if in_number {
            in_number = ident;
            continue;
        }
        match (open, ident) {
            (None, true) if b.is_ascii_digit() => in_number = true,
            (None, true) => open = Some(i),
            (Some(s), false) => {
                emit(s, i);
                open = None;
            }
            _ => {}
        }
    }
    if let Some(s) = open {
        emit(s, d.len());
    }
}

/// The keys of one name, one at a time, into the filter.
#[inline(always)]
fn plain_keys(d: &[u8], s: usize, e: usize, words: &mut [u64]) {
    name_keys(d, s, e, &mut |k| insert(words, k));
}

/// Pass 1 over the 64-byte blocks of `d[from..to]`: the names that end in
/// them, into `runs` (a name still open at `to` is left in `carry`).
/// Returns how many.
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi,avx512vbmi2")]
fn find_names(d: &[u8], from: usize, to: usize, carry: &mut Carry, runs: &mut Runs) -> usize {
    let iota = _mm512_set_epi8(
        63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41,
        40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18,
        17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
    );
    let ones = _mm512_set1_epi8(1);
    let (mut ns, mut ne) = (0usize, 0usize);
    if let Some((s, m)) = carry.open.take() {
        runs.starts[0] = s;
        runs.member[0] = m;
        ns = 1;
    }
    let mut i = from;
    while i < to {
        let block: &[u8; 64] = d[i..i + 64].try_into().expect("64 bytes");
        // SAFETY: the load reads the 64 bytes of `block`.
        let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
        let lower = _mm512_or_si512(v, _mm512_set1_epi8(0x20));
        let alpha = _mm512_cmplt_epu8_mask(
            _mm512_sub_epi8(lower, _mm512_set1_epi8(b'a' as i8)),
            _mm512_set1_epi8(26),
        );
        let digit = _mm512_cmplt_epu8_mask(
            _mm512_sub_epi8(v, _mm512_set1_epi8(b'0' as i8)),
            _mm512_set1_epi8(10),
        );
        let under = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'_' as i8));
        let dot = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'.' as i8));
        let minus = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'-' as i8));
        let gt = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'>' as i8));
        let m = alpha | digit | under;

        let shifted = (m << 1) | carry.ident;
        let run_start = m & !shifted;
        // Adding a run's first bit carries through the run to the byte
        // after it: so the ends of the runs that start with a digit (and
        // of one that runs on from the last block) are found at once.
        let (sum, over1) = m.overflowing_add(run_start & digit);
        let (sum, over2) = sum.overflowing_add(carry.number);
        let number_ends = sum & !m;
        let starts = run_start & !digit;
        let ends = !m & shifted & !number_ends;
        let arrow = gt & ((minus << 1) | carry.minus);
        let member = ((dot << 1) | carry.dot | (arrow << 1) | carry.arrow) & starts;
        carry.ident = m >> 63;
        carry.number = u64::from(over1 | over2);
        carry.dot = dot >> 63;
        carry.minus = minus >> 63;
        carry.arrow = arrow >> 63;

        let base = _mm512_set1_epi32(i as i32);
        // SAFETY: each store writes at most 64 lanes past the count, and
        // the arrays hold a chunk's worth of names plus 2 * SLACK.
        unsafe {
            let flags = _mm512_maskz_compress_epi8(starts, _mm512_maskz_mov_epi8(member, ones));
            _mm512_storeu_si512(runs.member.as_mut_ptr().add(ns).cast(), flags);
            store_offsets(
                _mm512_maskz_compress_epi8(starts, iota),
                starts.count_ones() as usize,
                base,
                runs.starts.as_mut_ptr().add(ns),
            );
            store_offsets(
                _mm512_maskz_compress_epi8(ends, iota),
                ends.count_ones() as usize,
                base,
                runs.ends.as_mut_ptr().add(ne),
            );
        }
        ns += starts.count_ones() as usize;
        ne += ends.count_ones() as usize;
        i += 64;
    }
    debug_assert!(ns == ne || ns == ne + 1);
    if ns > ne {
        carry.open = Some((runs.starts[ne], runs.member[ne]));
    }
    ne
}

/// Stores the first `count` bytes of `idx` plus `base` as u32s at `out`,
/// sixteen at a time.
///
/// # Safety
/// `out` must have room for `count` rounded up to 16.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi,avx512vbmi2")]
unsafe fn store_offsets(idx: __m512i, count: usize, base: __m512i, out: *mut u32) {
    let mut k = 0;
    while k < count {
        let lane = match k {
            0 => _mm512_castsi512_si128(idx),
            16 => _mm512_extracti32x4_epi32::<1>(idx),
            32 => _mm512_extracti32x4_epi32::<2>(idx),
            _ => _mm512_extracti32x4_epi32::<3>(idx),
        };
        let wide = _mm512_add_epi32(_mm512_cvtepu8_epi32(lane), base);
        // SAFETY: the caller gives room for `count` rounded up to 16.
        unsafe { _mm512_storeu_si512(out.add(k).cast(), wide) };
        k += 16;
    }
}

/// Between the passes: copies to the `kept_*` arrays the first `n` names
/// that get a key (members, and names longer than [`MAX_UNINDEXED_LEN`]:
/// see `super::word_indexed`), sixteen at a time, and returns how many.
/// A quarter of all names are short: pass 2 never sees them.
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi,avx512vbmi2")]
fn keep_names(runs: &mut Runs, n: usize) -> usize {
    let iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    let max = _mm512_set1_epi32(MAX_UNINDEXED_LEN as i32);
    let (mut i, mut k) = (0, 0);
    while i < n {
        let lanes: __mmask16 = if n - i >= 16 {
            0xffff
        } else {
            (1u16 << (n - i)) - 1
        };
        // SAFETY: the masked loads read only lanes below `n`; each store
        // writes sixteen lanes from `k <= i`, inside the arrays' slack.
        unsafe {
            let s = _mm512_maskz_loadu_epi32(lanes, runs.starts.as_ptr().add(i).cast());
            let e = _mm512_maskz_loadu_epi32(lanes, runs.ends.as_ptr().add(i).cast());
            let m = _mm_maskz_loadu_epi8(lanes, runs.member.as_ptr().add(i).cast());
            let keep = lanes
                & (_mm512_cmpgt_epu32_mask(_mm512_sub_epi32(e, s), max) | _mm_test_epi8_mask(m, m));
            let index = _mm512_add_epi32(iota, _mm512_set1_epi32(i as i32));
            let out = |v: &mut Vec<u32>, x: __m512i| {
                _mm512_storeu_si512(
                    v.as_mut_ptr().add(k).cast(),
                    _mm512_maskz_compress_epi32(keep, x),
                );
            };
            out(&mut runs.kept_starts, s);
            out(&mut runs.kept_ends, e);
            out(&mut runs.kept_index, index);
            _mm_storeu_si128(
                runs.kept_member.as_mut_ptr().add(k).cast(),
                _mm_maskz_compress_epi8(keep, m),
            );
            k += keep.count_ones() as usize;
        }
        i += 16;
    }
    k
}

/// Pass 2: the keys of the `kept` names of the `n` in `runs`, eight at a
/// time.
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi,avx512vbmi2")]
fn hash_names(d: &[u8], runs: &Runs, n: usize, kept: usize, words: &mut [u64]) {
    let len = _mm512_set1_epi64(d.len() as i64);
    let eight = _mm512_set1_epi64(8);
    let golden = _mm512_set1_epi64(GOLDEN as i64);
    let member_salt = _mm512_set1_epi64(Form::Member.salt() as i64);
    let struct_raw = _mm512_set1_epi64(STRUCT_RAW as i64);
    let define_raw = _mm512_set1_epi64(DEFINE_RAW as i64);
    let include_raw = _mm512_set1_epi64(INCLUDE_RAW as i64);
    let max_unindexed = _mm512_set1_epi64(MAX_UNINDEXED_LEN as i64);
    let base = d.as_ptr();
    let mut j = 0;
    while j < kept {
        let lanes: __mmask8 = if kept - j >= 8 {
            0xff
        } else {
            (1u8 << (kept - j)) - 1
        };
        // SAFETY: the masked loads read only lanes below `kept`, inside
        // the arrays.
        let (s, e, flag) = unsafe {
            (
                _mm512_cvtepu32_epi64(_mm256_maskz_loadu_epi32(
                    lanes,
                    runs.kept_starts.as_ptr().add(j).cast(),
                )),
                _mm512_cvtepu32_epi64(_mm256_maskz_loadu_epi32(
                    lanes,
                    runs.kept_ends.as_ptr().add(j).cast(),
                )),
                _mm512_cvtepu8_epi64(_mm_maskz_loadu_epi8(
                    lanes as u16,
                    runs.kept_member.as_ptr().add(j).cast(),
                )),
            )
        };
        // Gathers read d[s..s + 8] and d[e - 8..e]: only names with room
        // on both sides.
        let roomy = lanes
            & _mm512_cmple_epu64_mask(_mm512_add_epi64(s, eight), len)
            & _mm512_cmpge_epu64_mask(e, eight);
        // SAFETY: the gathers read, for the lanes in `roomy` only, eight
        // bytes inside `d` (checked just above).
        let (first, last) = unsafe {
            (
                _mm512_mask_i64gather_epi64::<1>(_mm512_setzero_si512(), roomy, s, base.cast()),
                _mm512_mask_i64gather_epi64::<1>(
                    _mm512_setzero_si512(),
                    roomy,
                    _mm512_sub_epi64(e, eight),
                    base.cast(),
                ),
            )
        };
        let n_bytes = _mm512_sub_epi64(e, s);
        // The first min(n, 8) bytes; the last eight only when n > 8.
        let first_shift =
            _mm512_slli_epi64::<3>(_mm512_sub_epi64(eight, _mm512_min_epu64(n_bytes, eight)));
        let first = _mm512_and_si512(first, _mm512_srlv_epi64(_mm512_set1_epi64(-1), first_shift));
        let last = _mm512_maskz_mov_epi64(_mm512_cmpgt_epu64_mask(n_bytes, eight), last);
        let raw = _mm512_xor_si512(
            _mm512_xor_si512(first, _mm512_rol_epi64::<23>(last)),
            _mm512_mullo_epi64(n_bytes, golden),
        );
        // As `super::word_indexed`: not short non-members, `define` or
        // `include`.
        let members = roomy & _mm512_test_epi64_mask(flag, flag);
        let long = _mm512_cmpgt_epu64_mask(n_bytes, max_unindexed);
        let define = _mm512_cmpeq_epi64_mask(raw, define_raw)
            & _mm512_cmpeq_epi64_mask(n_bytes, _mm512_set1_epi64(6));
        let include = _mm512_cmpeq_epi64_mask(raw, include_raw)
            & _mm512_cmpeq_epi64_mask(n_bytes, _mm512_set1_epi64(7));
        let k = finish(raw);
        set_bits(words, k, roomy & (members | (long & !define & !include)));
        if members != 0 {
            set_bits(words, _mm512_xor_si512(k, member_salt), members);
        }
        let structs = roomy & _mm512_cmpeq_epi64_mask(raw, struct_raw);
        if structs != 0 {
            for_lanes(structs, |l| {
                let i = runs.kept_index[j + l] as usize;
                let e = runs.ends[i] as usize;
                match runs.starts.get(i + 1).filter(|_| i + 1 < n) {
                    // The next name is known: no scan for where it ends.
                    Some(&next) => {
                        let (s, end) = (next as usize, runs.ends[i + 1] as usize);
                        if d[e..s].iter().all(u8::is_ascii_whitespace) {
                            tag_keys(d, s, end, &mut |k| insert(words, k));
                        }
                    }
                    None => struct_tag_key(d, e, &mut |k| insert(words, k)),
                }
            });
        }
        for_lanes(lanes & !roomy, |l| {
            plain_keys(
                d,
                runs.kept_starts[j + l] as usize,
                runs.kept_ends[j + l] as usize,
                words,
            );
        });
        j += 8;
    }
}

/// Sets the filter bits of the keys in the lanes of `mask`, as
/// [`super::slot`] places them.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi,avx512vbmi2")]
fn set_bits(words: &mut [u64], k: __m512i, mask: __mmask8) {
    // Byte i of each lane: the key's bits 3i..3i + 8, of which the low
    // three name the bit to set in that byte.
    let fields = _mm512_and_si512(
        _mm512_multishift_epi64_epi8(_mm512_set1_epi64(FIELD_OFFSETS as i64), k),
        _mm512_set1_epi8(7),
    );
    let bits = _mm512_shuffle_epi8(_mm512_set1_epi64(BIT_OF_FIELD as i64), fields);
    let at = _mm512_and_si512(
        _mm512_srlv_epi64(k, _mm512_set1_epi64(WORD_SHIFT as i64)),
        _mm512_set1_epi64(words.len() as i64 - 1),
    );
    let bits = _mm512_maskz_mov_epi64(mask, bits);
    let (mut at_lanes, mut bit_lanes) = ([0u64; 8], [0u64; 8]);
    // SAFETY: each array holds eight u64s.
    unsafe {
        _mm512_storeu_si512(at_lanes.as_mut_ptr().cast(), at);
        _mm512_storeu_si512(bit_lanes.as_mut_ptr().cast(), bits);
    }
    // Lanes out of `mask` set no bit, without a branch on which they are.
    for l in 0..8 {
        words[at_lanes[l] as usize] |= bit_lanes[l];
    }
}

/// The bit offsets of the eight 3-bit fields of a key, a byte each, for
/// `vpmultishiftqb`: 0, 3, ..., 21.
const FIELD_OFFSETS: u64 = u64::from_le_bytes([0, 3, 6, 9, 12, 15, 18, 21]);
/// `1 << i` in byte `i`, for `vpshufb` to turn a field into its bit.
const BIT_OF_FIELD: u64 = u64::from_le_bytes([1, 2, 4, 8, 16, 32, 64, 128]);

/// Calls `f` with the index of each set bit of `mask`.
#[inline(always)]
fn for_lanes(mut mask: __mmask8, mut f: impl FnMut(usize)) {
    while mask != 0 {
        f(mask.trailing_zeros() as usize);
        mask &= mask - 1;
    }
}

/// [`super::finish`] in each lane.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi,avx512vbmi2")]
fn finish(x: __m512i) -> __m512i {
    let x = _mm512_mullo_epi64(
        _mm512_xor_si512(x, _mm512_srli_epi64::<32>(x)),
        _mm512_set1_epi64(MIX1 as i64),
    );
    let x = _mm512_mullo_epi64(
        _mm512_xor_si512(x, _mm512_srli_epi64::<29>(x)),
        _mm512_set1_epi64(MIX2 as i64),
    );
    _mm512_xor_si512(x, _mm512_srli_epi64::<32>(x))
}
