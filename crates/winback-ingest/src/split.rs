//! Splitting delimited text into records and fields, keeping line numbers.
//! RFC 4180 quoting for byte delimiters (quoted fields may hold the delimiter,
//! `""` and newlines); runs of spaces/tabs for whitespace-separated files such as
//! CDNOW's. Blank lines are records with no fields, so callers can report them.

use std::borrow::Cow;

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

/// Records of `data`, one at a time, with the line each starts on.
pub struct Records<'a> {
    data: &'a [u8],
    pos: usize,
    line: u64,
    delimiter: Delimiter,
}

impl<'a> Records<'a> {
    /// `first_line` is the line number of `data[0]` (1-based).
    pub fn new(data: &'a [u8], delimiter: Delimiter, first_line: u64) -> Self {
        let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        Records { data, pos: 0, line: first_line, delimiter }
    }

    /// Bytes not yet read.
    /// The line number of the next record.
    pub fn line(&self) -> u64 {
        self.line
    }

    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// The next record: its line number, and its fields written into `fields`.
    /// Returns None at the end of the data.
    pub fn next_into(&mut self, fields: &mut Vec<Cow<'a, [u8]>>) -> Option<u64> {
        if self.pos >= self.data.len() {
            return None;
        }
        fields.clear();
        let start = self.pos;
        let line = self.line;
        let rest = &self.data[start..];
        let mut end = memchr::memchr(b'\n', rest).map_or(self.data.len(), |i| start + i);
        self.line += 1;
        if let Delimiter::Byte(_) = self.delimiter {
            // A quoted field may run over newlines: extend while quotes are unbalanced.
            while memchr::memchr_iter(b'"', &self.data[start..end]).count() % 2 == 1 && end < self.data.len() {
                let more = memchr::memchr(b'\n', &self.data[end + 1..]).map_or(self.data.len(), |i| end + 1 + i);
                end = more;
                self.line += 1;
            }
        }
        self.pos = end + 1;
        let mut rec = &self.data[start..end.min(self.data.len())];
        if let Some(r) = rec.strip_suffix(b"\r") {
            rec = r;
        }
        if rec.iter().all(|b| b.is_ascii_whitespace()) {
            return Some(line);
        }
        match self.delimiter {
            Delimiter::Whitespace => {
                fields.extend(rec.split(|b| *b == b' ' || *b == b'\t').filter(|f| !f.is_empty()).map(Cow::Borrowed))
            }
            Delimiter::Byte(d) => split_quoted(rec, d, fields),
        }
        Some(line)
    }
}

fn trim(f: &[u8]) -> &[u8] {
    f.trim_ascii()
}

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

/// Guess the delimiter from the first lines: the candidate that appears the same
/// non-zero number of times on each line, most often; else whitespace when lines
/// hold several space-separated tokens; else comma (a one-column file).
pub fn detect_delimiter(data: &[u8]) -> Delimiter {
    let lines: Vec<&[u8]> = data.split(|b| *b == b'\n').filter(|l| !l.trim_ascii().is_empty()).take(20).collect();
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
    let mut n = 0;
    for &b in line {
        if b == b'"' {
            inside = !inside;
        } else if b == d && !inside {
            n += 1;
        }
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

    #[test]
    fn whitespace_and_detection() {
        let cdnow = b" 00004 0001 19970101  2   29.33\r\n 00004 0001 19970118  2   29.73\r\n";
        assert_eq!(detect_delimiter(cdnow), Delimiter::Whitespace);
        assert_eq!(all(cdnow, Delimiter::Whitespace)[1].1, vec!["00004", "0001", "19970118", "2", "29.73"]);
        assert_eq!(detect_delimiter(b"id;date;total\n1;2020-01-01;3,50\n"), Delimiter::Byte(b';'));
        assert_eq!(detect_delimiter(b"id\tdate\n1\t2020-01-01\n"), Delimiter::Byte(b'\t'));
        assert_eq!(detect_delimiter(b"\"a,b\",c\n\"d,e\",f\n"), Delimiter::Byte(b','));
    }
}
