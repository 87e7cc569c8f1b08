//! Splitting delimited text into records and fields, keeping line numbers.
//!
//! The rules, chosen so that no line of a real export is ever swallowed:
//! * Lines end with LF, CRLF or a lone CR (classic Mac Excel); each counts as one
//!   line. A UTF-8 byte order mark at the start is dropped.
//! * A quote opens a quoted field only at the start of a field (after optional
//!   spaces); anywhere else it is a literal character (`27" monitor`).
//! * Inside a quoted field the delimiter and `""` are literal. A quoted field may
//!   run over line ends only when it closes and the record it completes has the
//!   expected number of fields (the header's, when known). Otherwise the record
//!   is the first physical line alone, flagged ([`Records::unclosed`]) so that the
//!   caller rejects it, and reading goes on at the next line.
//! * A quoted field may span at most [`MAX_RECORD_LINES`] lines or
//!   [`MAX_RECORD_BYTES`] bytes: a stray quote costs one bounded look-ahead.
//!
//! Runs of spaces/tabs separate fields of whitespace-separated files such as
//! CDNOW's (no quoting). Blank lines are records with no fields, so callers can
//! report them.

use std::borrow::Cow;

/// Longest run of physical lines one quoted field may span.
pub const MAX_RECORD_LINES: u64 = 10_000;
/// Longest record, in bytes, whose quoted field spans lines.
pub const MAX_RECORD_BYTES: usize = 4 << 20;

/// What separates fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    Byte(u8),
    /// One or more spaces or tabs; no quoting.
    Whitespace,
}

impl Delimiter {
    pub fn describe(self) -> String {
        match self {
            Delimiter::Byte(b'\t') => "tab".into(),
            Delimiter::Byte(b) => format!("'{}'", b as char),
            Delimiter::Whitespace => "whitespace".into(),
        }
    }
}

impl std::str::FromStr for Delimiter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tab" | "\\t" | "\t" => Ok(Delimiter::Byte(b'\t')),
            "whitespace" | "space" | "ws" => Ok(Delimiter::Whitespace),
            s if s.len() == 1 && s.is_ascii() => Ok(Delimiter::Byte(s.as_bytes()[0])),
            other => Err(format!("delimiter '{other}': give one ASCII character, 'tab' or 'whitespace'")),
        }
    }
}

/// Position just past the line end at or after `from` (LF, CRLF or CR), and the
/// position of the line end itself; `(len, len)` when the data ends first.
#[inline]
fn line_end(data: &[u8], from: usize) -> (usize, usize) {
    match memchr::memchr2(b'\n', b'\r', &data[from..]) {
        Some(i) => {
            let at = from + i;
            if data[at] == b'\r' && data.get(at + 1) == Some(&b'\n') {
                (at, at + 2)
            } else {
                (at, at + 1)
            }
        }
        None => (data.len(), data.len()),
    }
}

/// Number of line ends in `data` (LF, CRLF and lone CR each count once).
pub fn count_lines(data: &[u8]) -> u64 {
    let lf = memchr::memchr_iter(b'\n', data).count();
    let cr = memchr::memchr_iter(b'\r', data).count();
    if cr == 0 {
        return lf as u64;
    }
    let crlf = memchr::memmem::find_iter(data, b"\r\n").count();
    (lf + cr - crlf) as u64
}

/// Where a record that may hold quoted line ends stops.
enum Extent {
    /// The record's content ends at `end`; the next record starts at `next`;
    /// it spans `lines` physical lines.
    Ends { end: usize, next: usize, lines: u64 },
    /// The data ended inside a quoted field.
    RanOut,
    /// A quoted field ran past the limits.
    TooLong,
}

/// Follow the quoting rules from `start` to the end of the record.
fn record_extent(data: &[u8], start: usize, d: u8) -> Extent {
    let mut i = start;
    let mut lines = 1u64;
    let mut field_start = true;
    let mut quoted = false;
    while i < data.len() {
        let b = data[i];
        if quoted {
            match b {
                b'"' if data.get(i + 1) == Some(&b'"') => i += 1,
                b'"' => quoted = false,
                b'\n' => lines += 1,
                b'\r' if data.get(i + 1) != Some(&b'\n') => lines += 1,
                _ => {}
            }
            if lines > MAX_RECORD_LINES || i - start > MAX_RECORD_BYTES {
                return Extent::TooLong;
            }
        } else if b == b'\n' || b == b'\r' {
            let next = if b == b'\r' && data.get(i + 1) == Some(&b'\n') { i + 2 } else { i + 1 };
            return Extent::Ends { end: i, next, lines };
        } else if b == d {
            field_start = true;
        } else if b == b'"' && field_start {
            quoted = true;
            field_start = false;
        } else if b != b' ' {
            field_start = false;
        }
        i += 1;
    }
    if quoted {
        Extent::RanOut
    } else {
        Extent::Ends { end: data.len(), next: data.len(), lines }
    }
}

/// Positions of a delimiter, LF or CR, 64 bytes at a time: each window's
/// matches as a bit mask, handed out lowest first. memchr's iterators restart
/// their search per match, which costs more than it saves when every eighth
/// byte or so is a match, as in CSV; a word of eight bytes at a time (SWAR)
/// took a refill, often mispredicted, every eighth byte (splitting the 1M log
/// alone: 55 ms that way).
pub(crate) struct Structural<'a> {
    data: &'a [u8],
    /// Start of the window `mask` describes.
    base: usize,
    /// A bit for each matching byte of that window not yet handed out.
    mask: u64,
    d: u8,
}

impl<'a> Structural<'a> {
    pub(crate) fn new(data: &'a [u8], d: u8) -> Self {
        let mut s = Structural { data, base: 0, mask: 0, d };
        s.mask = s.window_mask(0);
        s
    }

    fn window_mask(&self, at: usize) -> u64 {
        match self.data.get(at..at + 64).and_then(|w| <&[u8; 64]>::try_from(w).ok()) {
            Some(w) => matches64(w, self.d),
            None => {
                // the last, short window: padded with bytes that never match
                let tail = self.data.get(at..).unwrap_or(&[]);
                let mut w = [0u8; 64];
                w[..tail.len()].copy_from_slice(tail);
                matches64(&w, self.d) & ((1u64 << tail.len()) - 1)
            }
        }
    }
}

/// A bit for each byte of `w` that is `d`, LF or CR.
#[cfg(target_arch = "x86_64")]
#[inline]
fn matches64(w: &[u8; 64], d: u8) -> u64 {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    let mut m = 0u64;
    // SAFETY: SSE2 is part of every x86-64 CPU (the target's baseline
    // features), and each load reads 16 of the 64 bytes `w` refers to.
    unsafe {
        let (sd, lf, cr) = (_mm_set1_epi8(d as i8), _mm_set1_epi8(b'\n' as i8), _mm_set1_epi8(b'\r' as i8));
        for k in 0..4 {
            let v = _mm_loadu_si128(w.as_ptr().add(16 * k).cast());
            let e = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, sd), _mm_cmpeq_epi8(v, lf)), _mm_cmpeq_epi8(v, cr));
            m |= u64::from(_mm_movemask_epi8(e) as u16) << (16 * k);
        }
    }
    m
}

#[cfg(not(target_arch = "x86_64"))]
fn matches64(w: &[u8; 64], d: u8) -> u64 {
    w.iter().enumerate().fold(0, |m, (i, &b)| m | (u64::from(b == d || b == b'\n' || b == b'\r') << i))
}

impl Iterator for Structural<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += 64;
            if self.base >= self.data.len() {
                return None;
            }
            self.mask = self.window_mask(self.base);
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }
}

/// Records of `data`, one at a time, with the line each starts on.
pub struct Records<'a> {
    data: &'a [u8],
    pos: usize,
    line: u64,
    delimiter: Delimiter,
    expected: Option<usize>,
    at_end: bool,
    unclosed: bool,
    /// For data without a quote: every delimiter and line end, found in one
    /// SIMD pass over the data instead of searches line by line and field by field.
    structural: Option<Structural<'a>>,
}

impl<'a> Records<'a> {
    /// `first_line` is the line number of `data[0]` (1-based). The data is taken
    /// to end where the input ends; see [`Records::partial`].
    /// A file's first line that is Excel's delimiter directive (`sep=;`) is
    /// not a record: reading starts on line 2.
    pub fn new(data: &'a [u8], delimiter: Delimiter, first_line: u64) -> Self {
        let mut data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        let mut first_line = first_line;
        if let Some((_, len)) = (first_line == 1).then(|| excel_sep(data)).flatten() {
            data = &data[len..];
            first_line = 2;
        }
        let structural = match delimiter {
            // (a line end given as the delimiter takes the general path)
            Delimiter::Byte(d) if d != b'\n' && d != b'\r' && memchr::memchr(b'"', data).is_none() => {
                Some(Structural::new(data, d))
            }
            _ => None,
        };
        Records { data, pos: 0, line: first_line, delimiter, expected: None, at_end: true, unclosed: false, structural }
    }

    /// Records spanning lines must have this many fields (the header's).
    pub fn expect_fields(mut self, n: usize) -> Self {
        self.expected = Some(n);
        self
    }

    /// The data is a block of a longer input: a quoted field still open at its
    /// end makes the record run to the end of the block (the caller reads it
    /// again with more data) instead of being cut back to one line.
    pub fn partial(mut self, partial: bool) -> Self {
        self.at_end = !partial;
        self
    }

    /// The line number of the next record.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// Whether the record last returned is a line whose quoted field did not
    /// close (or closed into a record of the wrong width): the caller should
    /// reject it.
    pub fn unclosed(&self) -> bool {
        self.unclosed
    }

    /// The next record: its line number, and its fields written into `fields`.
    /// Returns None at the end of the data.
    pub fn next_into(&mut self, fields: &mut Vec<Cow<'a, [u8]>>) -> Option<u64> {
        if self.pos >= self.data.len() {
            return None;
        }
        fields.clear();
        self.unclosed = false;
        if let (Some(it), Delimiter::Byte(d)) = (self.structural.as_mut(), self.delimiter) {
            // no quotes anywhere: a record is a line, fields end at delimiters
            let data = self.data;
            let (start, line) = (self.pos, self.line);
            let mut field = start;
            let (end, next) = loop {
                match it.next() {
                    Some(p) if data[p] == d => {
                        fields.push(Cow::Borrowed(trim(&data[field..p])));
                        field = p + 1;
                    }
                    Some(p) if data[p] == b'\r' && data.get(p + 1) == Some(&b'\n') => {
                        it.next(); // the LF of this CRLF
                        break (p, p + 2);
                    }
                    Some(p) => break (p, p + 1),
                    None => break (data.len(), data.len()),
                }
            };
            fields.push(Cow::Borrowed(trim(&data[field..end])));
            if fields.len() == 1 && fields[0].is_empty() {
                fields.clear(); // a blank line
            }
            self.drop_trailing(fields);
            self.pos = next;
            self.line += 1;
            return Some(line);
        }
        let data = self.data;
        let start = self.pos;
        let line = self.line;
        let (mut end, mut next) = line_end(data, start);
        if let Delimiter::Byte(d) = self.delimiter {
            if memchr::memchr(b'"', &data[start..end]).is_some() {
                match record_extent(data, start, d) {
                    Extent::Ends { end: e, .. } if e == data.len() && !self.at_end => {
                        // cut off by the end of the block: read again with more
                        self.pos = data.len();
                        self.line += count_lines(&data[start..]);
                        return Some(line);
                    }
                    Extent::Ends { end: e, next: n, lines: l } if l > 1 => {
                        split_quoted(&data[start..e], d, fields);
                        self.drop_trailing(fields);
                        if self.expected.is_none_or(|x| x == fields.len()) {
                            self.pos = n;
                            self.line += l;
                            return Some(line);
                        }
                        // closed, but into a record of the wrong width: the
                        // quote belonged to this line alone
                        fields.clear();
                        self.unclosed = true;
                    }
                    Extent::Ends { end: e, next: n, .. } => (end, next) = (e, n),
                    Extent::RanOut if !self.at_end => {
                        // the rest of the block may be this record: let the
                        // caller read it again with the next block
                        self.pos = data.len();
                        self.line += count_lines(&data[start..]);
                        return Some(line);
                    }
                    Extent::RanOut | Extent::TooLong => self.unclosed = true,
                }
            }
        }
        self.pos = next;
        self.line += 1;
        let rec = &data[start..end];
        if rec.iter().all(|b| b.is_ascii_whitespace()) {
            return Some(line);
        }
        match self.delimiter {
            Delimiter::Whitespace => {
                fields.extend(rec.split(|b| *b == b' ' || *b == b'\t').filter(|f| !f.is_empty()).map(Cow::Borrowed))
            }
            Delimiter::Byte(d) => split_quoted(rec, d, fields),
        }
        self.drop_trailing(fields);
        Some(line)
    }

    /// A record with one field more than expected, that last one empty, ends
    /// in a delimiter (as some software ends every line): the empty field is
    /// not a value.
    fn drop_trailing(&self, fields: &mut Vec<Cow<'a, [u8]>>) {
        if self.expected.is_some_and(|n| n > 0 && fields.len() == n + 1) && fields.last().is_some_and(|f| f.is_empty())
        {
            fields.pop();
        }
    }
}

fn trim(f: &[u8]) -> &[u8] {
    f.trim_ascii()
}

/// Fields of one record. A quote opens a quoted field only at the field's start
/// (after spaces); a quoted field left open runs to the end of `rec`.
fn split_quoted<'a>(rec: &'a [u8], d: u8, fields: &mut Vec<Cow<'a, [u8]>>) {
    if memchr::memchr(b'"', rec).is_none() {
        fields.extend(rec.split(|b| *b == d).map(|f| Cow::Borrowed(trim(f))));
        return;
    }
    let mut i = 0;
    loop {
        // skip leading spaces before a possible opening quote
        let mut j = i;
        while j < rec.len() && rec[j] == b' ' {
            j += 1;
        }
        if j < rec.len() && rec[j] == b'"' {
            let mut out = Vec::new();
            let mut k = j + 1;
            while k < rec.len() {
                if rec[k] == b'"' {
                    if rec.get(k + 1) == Some(&b'"') {
                        out.push(b'"');
                        k += 2;
                        continue;
                    }
                    k += 1;
                    break;
                }
                out.push(rec[k]);
                k += 1;
            }
            // anything after the closing quote up to the delimiter is kept verbatim
            let next = memchr::memchr(d, &rec[k.min(rec.len())..]).map(|p| k + p);
            out.extend_from_slice(trim(&rec[k.min(rec.len())..next.unwrap_or(rec.len())]));
            fields.push(Cow::Owned(out));
            match next {
                Some(p) => i = p + 1,
                None => return,
            }
        } else {
            let next = memchr::memchr(d, &rec[i..]).map(|p| i + p);
            fields.push(Cow::Borrowed(trim(&rec[i..next.unwrap_or(rec.len())])));
            match next {
                Some(p) => i = p + 1,
                None => return,
            }
        }
    }
}

/// Excel's delimiter directive, when it is the text's first line (`sep=;`,
/// which Excel writes and reads so that a file opens in columns whatever the
/// locale's list separator): the delimiter and where the next line starts.
pub fn excel_sep(whole: &[u8]) -> Option<(u8, usize)> {
    let data = whole.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(whole);
    let bom = whole.len() - data.len();
    // (CR LF, LF or a lone CR ends the line)
    let (line, end) = match memchr::memchr2(b'\n', b'\r', data) {
        Some(p) if data[p] == b'\r' && data.get(p + 1) == Some(&b'\n') => (&data[..p], p + 2),
        Some(p) => (&data[..p], p + 1),
        None => (data, data.len()),
    };
    let line = line.strip_prefix(b"\"").and_then(|l| l.strip_suffix(b"\"")).unwrap_or(line);
    match line {
        [s, e, p, b'=', d] if [*s, *e, *p].eq_ignore_ascii_case(b"sep") && !d.is_ascii_alphanumeric() && *d != b'"' => {
            Some((*d, bom + end))
        }
        _ => None,
    }
}

/// Guess the delimiter from the first lines: the candidate that appears the same
/// non-zero number of times on each line, most often; else whitespace when lines
/// hold several space-separated tokens; else comma (a one-column file). A
/// `sep=` first line (Excel's) says it outright.
pub fn detect_delimiter(data: &[u8]) -> Delimiter {
    if let Some((d, _)) = excel_sep(data) {
        return Delimiter::Byte(d);
    }
    let lines: Vec<&[u8]> =
        data.split(|b| *b == b'\n' || *b == b'\r').filter(|l| !l.trim_ascii().is_empty()).take(20).collect();
    let mut best: Option<(u8, usize)> = None;
    for cand in [b',', b'\t', b';', b'|'] {
        let counts: Vec<usize> = lines.iter().map(|l| count_outside_quotes(l, cand)).collect();
        let first = counts.first().copied().unwrap_or(0);
        let consistent = first > 0 && counts.iter().all(|&c| c == first);
        if consistent && best.is_none_or(|(_, n)| first > n) {
            best = Some((cand, first));
        }
    }
    if let Some((b, _)) = best {
        return Delimiter::Byte(b);
    }
    // no consistent candidate: fall back to the most frequent one on the first line
    for cand in [b',', b'\t', b';', b'|'] {
        if lines.first().is_some_and(|l| count_outside_quotes(l, cand) > 0) {
            return Delimiter::Byte(cand);
        }
    }
    if lines
        .first()
        .is_some_and(|l| l.trim_ascii().split(|b| *b == b' ' || *b == b'\t').filter(|f| !f.is_empty()).count() > 1)
    {
        return Delimiter::Whitespace;
    }
    Delimiter::Byte(b',')
}

fn count_outside_quotes(line: &[u8], d: u8) -> usize {
    let mut inside = false;
    let mut field_start = true;
    let mut n = 0;
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if inside {
            if b == b'"' {
                if line.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    inside = false;
                }
            }
        } else if b == d {
            n += 1;
            field_start = true;
        } else if b == b'"' && field_start {
            inside = true;
            field_start = false;
        } else if b != b' ' {
            field_start = false;
        }
        i += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &[u8], d: Delimiter) -> Vec<(u64, Vec<String>)> {
        let mut r = Records::new(data, d, 1);
        let mut f = Vec::new();
        let mut out = Vec::new();
        while let Some(line) = r.next_into(&mut f) {
            out.push((line, f.iter().map(|x| String::from_utf8_lossy(x).into_owned()).collect()));
        }
        out
    }

    #[test]
    fn quoting_blank_lines_and_line_numbers() {
        let data = b"a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n\"two\nlines\",3\nlast,4";
        let r = all(data, Delimiter::Byte(b','));
        assert_eq!(r[0], (1, vec!["a".into(), "b".into()]));
        assert_eq!(r[1], (2, vec!["x, y".into(), "say \"hi\"".into()]));
        assert_eq!(r[2], (3, vec![]));
        assert_eq!(r[3], (4, vec!["two\nlines".into(), "3".into()]));
        assert_eq!(r[4], (6, vec!["last".into(), "4".into()]));
        assert_eq!(r.len(), 5);
    }

    fn all_expect(data: &[u8], n: usize) -> Vec<(u64, bool, Vec<String>)> {
        let mut r = Records::new(data, Delimiter::Byte(b','), 1).expect_fields(n);
        let mut f = Vec::new();
        let mut out = Vec::new();
        while let Some(line) = r.next_into(&mut f) {
            out.push((line, r.unclosed(), f.iter().map(|x| String::from_utf8_lossy(x).into_owned()).collect()));
        }
        out
    }

    #[test]
    fn a_stray_quote_is_a_literal_character() {
        let r = all(b"id,name,n\n1,27\" monitor,5\n2,x,6\n", Delimiter::Byte(b','));
        assert_eq!(r.len(), 3);
        assert_eq!(r[1], (2, vec!["1".into(), "27\" monitor".into(), "5".into()]));
        assert_eq!(r[2], (3, vec!["2".into(), "x".into(), "6".into()]));
    }

    #[test]
    fn cr_lf_and_crlf_line_ends() {
        let r = all(b"a,b\r1,2\r\n3,4\n5,6\r", Delimiter::Byte(b','));
        let lines: Vec<u64> = r.iter().map(|x| x.0).collect();
        assert_eq!(lines, vec![1, 2, 3, 4]);
        assert_eq!(r[3].1, vec!["5", "6"]);
        assert_eq!(count_lines(b"a\rb\r\nc\nd"), 3);
        assert_eq!(detect_delimiter(b"a;b\r1;2\r3;4\r"), Delimiter::Byte(b';'));
    }

    #[test]
    fn an_unclosed_quote_costs_its_own_line_only() {
        // the quote on line 2 never closes: line 2 is flagged, line 3 is read
        let r = all_expect(b"a,b,c\n1,\"x,2\n3,y,4\n", 3);
        assert_eq!(r.len(), 3);
        assert!(r[1].1 && r[1].0 == 2);
        assert_eq!(r[2], (3, false, vec!["3".into(), "y".into(), "4".into()]));
        // it closes on line 3, but the record is not three fields wide
        let r = all_expect(b"a,b,c\n1,\"x,2\n3,y\",4,5\n6,7,8\n", 3);
        assert_eq!(
            r.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(),
            vec![(1, false), (2, true), (3, false), (4, false)]
        );
        // a field over two lines that closes into a full record is one record
        let r = all_expect(b"a,b\n\"x\ny\",1\nz,2\n", 2);
        assert_eq!(r[1], (2, false, vec!["x\ny".into(), "1".into()]));
        assert_eq!(r[2], (4, false, vec!["z".into(), "2".into()]));
    }

    #[test]
    fn whitespace_and_detection() {
        let cdnow = b" 00004 0001 19970101  2   29.33\r\n 00004 0001 19970118  2   29.73\r\n";
        assert_eq!(detect_delimiter(cdnow), Delimiter::Whitespace);
        assert_eq!(all(cdnow, Delimiter::Whitespace)[1].1, vec!["00004", "0001", "19970118", "2", "29.73"]);
        assert_eq!(detect_delimiter(b"id;date;total\n1;2020-01-01;3,50\n"), Delimiter::Byte(b';'));
        assert_eq!(detect_delimiter(b"id\tdate\n1\t2020-01-01\n"), Delimiter::Byte(b'\t'));
        assert_eq!(detect_delimiter(b"\"a,b\",c\n\"d,e\",f\n"), Delimiter::Byte(b','));
    }

    /// The word-at-a-time path for quote-free data splits exactly as the
    /// line-by-line path does: same records, fields, line numbers and positions.
    #[test]
    fn quote_free_fast_path_splits_as_the_general_path() {
        let alphabet = b"ab,,;\n\r \t1.";
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for case in 0..3000 {
            // (past two 64-byte windows)
            let len = case % 200;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            for d in [b',', b';'] {
                let run = |fast: bool| {
                    let mut r = Records::new(&data, Delimiter::Byte(d), 1);
                    assert!(r.structural.is_some());
                    if !fast {
                        r.structural = None;
                    }
                    let mut f = Vec::new();
                    let mut out = Vec::new();
                    while let Some(line) = r.next_into(&mut f) {
                        out.push((line, f.iter().map(|x| x.to_vec()).collect::<Vec<_>>(), r.remaining()));
                    }
                    (out, r.line())
                };
                assert_eq!(run(true), run(false), "{:?}", String::from_utf8_lossy(&data));
            }
        }
    }

    #[test]
    fn structural_positions_are_every_delimiter_and_line_end() {
        for len in 0..200 {
            let data: Vec<u8> = (0..len).map(|i| b"x,\ny\rz"[i % 6]).collect();
            let want: Vec<usize> = (0..len).filter(|&i| matches!(data[i], b',' | b'\n' | b'\r')).collect();
            assert_eq!(Structural::new(&data, b',').collect::<Vec<_>>(), want);
        }
    }
}
