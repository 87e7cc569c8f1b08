//! Opening input files: plain, gzip (read as a stream) and Parquet (converted to
//! CSV, so that detection, parsing and line-numbered rejects are the same).

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::{AppError, Result};

fn file_error(path: &Path, message: impl std::fmt::Display) -> AppError {
    AppError::File { path: path.display().to_string(), message: message.to_string() }
}

/// `-` names standard input, as it does for most command-line tools.
fn is_stdin(path: &Path) -> bool {
    path == Path::new("-")
}

/// How a text file's bytes are read. UTF-16 with a byte-order mark is read
/// as such whatever is asked (the mark is unambiguous).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8, unless the megabyte from the first byte that is not ASCII says
    /// a Windows code page (before it, the two read the same).
    #[default]
    Auto,
    /// UTF-8: lines that are not are rejected.
    Utf8,
    /// Windows-1252 (also what latin-1 files are read as).
    Windows1252,
}

impl std::str::FromStr for Encoding {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "auto" => Ok(Encoding::Auto),
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "windows-1252" | "cp1252" | "latin1" | "latin-1" | "iso-8859-1" | "ansi" => Ok(Encoding::Windows1252),
            other => Err(format!("'{other}': expected auto, utf-8 or windows-1252 (latin1)")),
        }
    }
}

/// How a text was read, known once it has been: whether a Windows code page
/// was guessed (the user is told, and can say otherwise).
#[derive(Debug, Clone, Default)]
pub struct Decoding(Arc<AtomicBool>);

impl Decoding {
    fn guessed(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// What to tell the user, once the text is read.
    pub fn note(&self) -> Option<&'static str> {
        self.0.load(Ordering::Relaxed).then_some(CP1252_NOTE)
    }
}

/// Read a file whole (`-`: standard input); `.gz` files are decompressed,
/// and Parquet files become CSV (a header row of column names, then row N as
/// line N + 1).
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    read_text(path, Encoding::Auto).map(|(text, _)| text)
}

/// [`read_file`], its text read as `encoding` says, with what to tell the
/// user about how (a guessed Windows code page).
pub fn read_text(path: &Path, encoding: Encoding) -> Result<(Vec<u8>, Option<&'static str>)> {
    let cannot = |e: std::io::Error| file_error(path, format!("cannot read it ({e})"));
    let raw = if is_stdin(path) {
        let mut raw = Vec::new();
        std::io::stdin().lock().read_to_end(&mut raw).map_err(cannot)?;
        raw
    } else {
        std::fs::read(path).map_err(cannot)?
    };
    let decoding = Decoding::default();
    let text = decoded(path, raw, encoding, &decoding)?;
    Ok((text, decoding.note()))
}

/// A file's bytes as CSV: Parquet converted, gzip decompressed, text as
/// `encoding` says.
fn decoded(path: &Path, raw: Vec<u8>, encoding: Encoding, decoding: &Decoding) -> Result<Vec<u8>> {
    if winback_ingest::parquet::is_parquet(&raw) || path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    {
        return winback_ingest::parquet::to_csv(raw).map_err(|e| file_error(path, e));
    }
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz")) || raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 4);
        text(GzErrors(flate2::read::MultiGzDecoder::new(&raw[..])), encoding, decoding)
            .read_to_end(&mut out)
            .map_err(|e| file_error(path, e))?;
        return Ok(out);
    }
    workbook(path, &raw)?;
    if let Some(big_endian) = utf16_bom(&raw) {
        let mut out = Vec::with_capacity(raw.len());
        Utf16::new(&raw[2..], big_endian).read_to_end(&mut out).map_err(|e| file_error(path, e))?;
        return Ok(out);
    }
    let single = match encoding {
        Encoding::Utf8 => false,
        Encoding::Windows1252 => true,
        Encoding::Auto => first_non_ascii(&raw).is_some_and(|p| {
            let window = &raw[p..raw.len().min(p + SNIFF)];
            single_byte(window, p + window.len() == raw.len())
        }),
    };
    if !single {
        return Ok(raw);
    }
    if encoding == Encoding::Auto {
        decoding.guessed();
    }
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 8);
    cp1252(&raw[..]).read_to_end(&mut out).map_err(|e| file_error(path, e))?;
    Ok(out)
}

/// How much text, from its first byte that is not ASCII, tells UTF-8 from a
/// single-byte code page.
const SNIFF: usize = 1 << 20;

/// Where the first byte that is not ASCII is (a block at a time: `is_ascii`
/// runs a word at a time).
fn first_non_ascii(b: &[u8]) -> Option<usize> {
    let block = b.chunks(4096).position(|c| !c.is_ascii())?;
    let at = block * 4096;
    b[at..].iter().position(|c| !c.is_ascii()).map(|p| at + p)
}

/// What is suggested when lines were rejected as not UTF-8.
pub const ENCODING_HINT: &str = "; lines that are not UTF-8 read with --encoding windows-1252 if the file was saved in a Windows code page (Excel's \"CSV (Comma delimited)\")";

/// What is said when a file is read as Windows-1252.
pub const CP1252_NOTE: &str = "the file is not UTF-8 but a Windows code page (as Excel on Windows saves \"CSV (Comma delimited)\"): read as Windows-1252, so é, ü and € come through (--encoding utf-8 rejects such lines instead)";

/// Whether `head` is text in a single-byte code page rather than UTF-8:
/// bytes that cannot be UTF-8, and not one multi-byte UTF-8 character (a
/// UTF-8 file with a corrupt line has those, and keeps its rejects). An
/// incomplete character cut off at the end of `head` does not count unless
/// `head` is the whole rest of the text (`complete`).
fn single_byte(head: &[u8], complete: bool) -> bool {
    let mut invalid = false;
    let mut chunks = head.utf8_chunks().peekable();
    while let Some(c) = chunks.next() {
        if !c.valid().is_ascii() {
            return false;
        }
        let cut_off = chunks.peek().is_none() && c.invalid().len() < 4 && !complete;
        invalid |= !c.invalid().is_empty() && !cut_off;
    }
    invalid
}

/// Windows-1252 (WHATWG's mapping, which latin-1 labels also mean in
/// browsers) for 0x80–0x9F; 0xA0–0xFF are U+00A0–U+00FF.
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘', '’',
    '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

/// Windows-1252 text read as UTF-8, a block at a time.
struct Cp1252<R> {
    inner: R,
    out: Vec<u8>,
    at: usize,
}

fn cp1252<R: Read>(inner: R) -> Cp1252<R> {
    Cp1252 { inner, out: Vec::new(), at: 0 }
}

impl<R: Read> Read for Cp1252<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.out.len() {
            let mut raw = [0u8; 16384];
            let n = loop {
                match self.inner.read(&mut raw) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    other => break other?,
                }
            };
            self.out.clear();
            self.at = 0;
            for &b in &raw[..n] {
                let c = match b {
                    0..=0x7f => {
                        self.out.push(b);
                        continue;
                    }
                    0x80..=0x9f => CP1252_HIGH[usize::from(b - 0x80)],
                    _ => char::from(b),
                };
                let mut e = [0u8; 4];
                self.out.extend_from_slice(c.encode_utf8(&mut e).as_bytes());
            }
        }
        let k = buf.len().min(self.out.len() - self.at);
        buf[..k].copy_from_slice(&self.out[self.at..self.at + k]);
        self.at += k;
        Ok(k)
    }
}

/// A spreadsheet workbook rather than its text: refused with what to do. (A
/// zip, as .xlsx, .ods and .numbers are, or the old .xls's OLE header.)
/// Told by the bytes, not the name: a CSV file named .xlsx is read.
fn workbook(path: &Path, magic: &[u8]) -> Result<()> {
    let zip = magic.starts_with(b"PK\x03\x04");
    let ole = magic.starts_with(&[0xd0, 0xcf, 0x11, 0xe0]);
    if zip || ole {
        return Err(file_error(
            path,
            "a spreadsheet workbook, not a text file: winback reads CSV or tab-separated text, Parquet, and either gzipped; save the sheet as CSV (Excel: File → Save As → CSV UTF-8) and give that file",
        ));
    }
    Ok(())
}

/// The byte-order mark of UTF-16 text (Excel's "Unicode Text"): whether it
/// is big-endian.
fn utf16_bom(magic: &[u8]) -> Option<bool> {
    match magic {
        [0xff, 0xfe, ..] => Some(false),
        [0xfe, 0xff, ..] => Some(true),
        _ => None,
    }
}

/// UTF-16 text read as UTF-8, a block at a time. A unit that is not valid
/// UTF-16 (a lone surrogate, an odd last byte) becomes a byte that is not
/// valid UTF-8, so its line is rejected as such rather than read with a
/// replacement character.
struct Utf16<R> {
    inner: R,
    big_endian: bool,
    /// An odd byte left over from the last read, and a high surrogate
    /// waiting for its low half.
    odd: Option<u8>,
    high: Option<u16>,
    out: Vec<u8>,
    at: usize,
    done: bool,
}

impl<R: Read> Utf16<R> {
    fn new(inner: R, big_endian: bool) -> Self {
        Utf16 { inner, big_endian, odd: None, high: None, out: Vec::new(), at: 0, done: false }
    }

    fn push(&mut self, c: Option<char>) {
        match c {
            Some(c) => {
                let mut b = [0u8; 4];
                self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
            None => self.out.push(0xff),
        }
    }

    fn unit(&mut self, u: u16) {
        match (self.high.take(), u) {
            (Some(h), 0xdc00..=0xdfff) => {
                let c = 0x10000 + ((u32::from(h) - 0xd800) << 10) + (u32::from(u) - 0xdc00);
                self.push(char::from_u32(c));
            }
            (h, _) => {
                if h.is_some() {
                    self.push(None);
                }
                match u {
                    0xd800..=0xdbff => self.high = Some(u),
                    0xdc00..=0xdfff => self.push(None),
                    _ => self.push(char::from_u32(u32::from(u))),
                }
            }
        }
    }

    fn fill(&mut self) -> std::io::Result<()> {
        self.out.clear();
        self.at = 0;
        let mut raw = vec![0u8; 1 << 16];
        let n = loop {
            match self.inner.read(&mut raw) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                other => break other?,
            }
        };
        if n == 0 {
            self.done = true;
            if self.odd.take().is_some() || self.high.take().is_some() {
                self.push(None);
            }
            return Ok(());
        }
        let mut bytes = raw[..n].iter().copied();
        let pair = |first: u8, second: u8, me: &mut Self| {
            let u =
                if me.big_endian { u16::from_be_bytes([first, second]) } else { u16::from_le_bytes([first, second]) };
            me.unit(u);
        };
        if let Some(first) = self.odd.take() {
            match bytes.next() {
                Some(second) => pair(first, second, self),
                None => self.odd = Some(first),
            }
        }
        while let Some(first) = bytes.next() {
            match bytes.next() {
                Some(second) => pair(first, second, self),
                None => self.odd = Some(first),
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for Utf16<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.fill()?;
        }
        let k = buf.len().min(self.out.len() - self.at);
        buf[..k].copy_from_slice(&self.out[self.at..self.at + k]);
        self.at += k;
        Ok(k)
    }
}

/// Open a file for reading as a stream (`-`: standard input): gzip is
/// decompressed as it is read; Parquet, which cannot be streamed, is read
/// whole and converted. Pipes work as files do (`<(zcat …)`, a FIFO): the
/// first bytes, read to tell the format, are put back in front of the rest
/// rather than sought back to.
pub fn open_stream(path: &Path) -> Result<Box<dyn Read + Send>> {
    open_text(path, Encoding::Auto).map(|(r, _)| r)
}

/// [`open_stream`], its text read as `encoding` says, with how the bytes were
/// read (a guessed Windows code page), known once the stream has been read.
pub fn open_text(path: &Path, encoding: Encoding) -> Result<(Box<dyn Read + Send>, Decoding)> {
    let cannot = |e: std::io::Error| file_error(path, format!("cannot read it ({e})"));
    let mut input: Box<dyn Read + Send> =
        if is_stdin(path) { Box::new(std::io::stdin()) } else { Box::new(std::fs::File::open(path).map_err(cannot)?) };
    let mut magic = [0u8; 4];
    let mut n = 0;
    // (a pipe may hand over fewer bytes than asked)
    while n < magic.len() {
        match input.read(&mut magic[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(cannot(e)),
        }
    }
    let mut whole = std::io::Cursor::new(magic).take(n as u64).chain(input);
    let ext = |e: &str| path.extension().is_some_and(|x| x.eq_ignore_ascii_case(e));
    if (n == 4 && &magic == b"PAR1") || ext("parquet") {
        let mut raw = Vec::new();
        whole.read_to_end(&mut raw).map_err(cannot)?;
        let decoding = Decoding::default();
        return Ok((Box::new(std::io::Cursor::new(decoded(path, raw, encoding, &decoding)?)), decoding));
    }
    let decoding = Decoding::default();
    if ext("gz") || magic[..n].starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 20, whole));
        return Ok((text(GzErrors(gz), encoding, &decoding), decoding));
    }
    workbook(path, &magic[..n])?;
    if let Some(big_endian) = utf16_bom(&magic[..n]) {
        // the mark's two bytes are not text
        let mut skip = [0u8; 2];
        whole.read_exact(&mut skip).map_err(cannot)?;
        return Ok((Box::new(Utf16::new(std::io::BufReader::with_capacity(1 << 16, whole), big_endian)), decoding));
    }
    Ok((text(whole, encoding, &decoding), decoding))
}

/// Bytes read as text in `encoding`; `Auto` decides at the first byte that is
/// not ASCII (so a Windows code page far into a file is still told).
fn text<'a, R: Read + Send + 'a>(inner: R, encoding: Encoding, decoding: &Decoding) -> Box<dyn Read + Send + 'a> {
    match encoding {
        Encoding::Utf8 => Box::new(inner),
        Encoding::Windows1252 => Box::new(cp1252(std::io::BufReader::with_capacity(1 << 16, inner))),
        Encoding::Auto => Box::new(Guess::Ascii(inner, decoding.clone())),
    }
}

/// A text read as UTF-8 until a byte that is not ASCII, then as what the
/// megabyte from there says ([`single_byte`]).
enum Guess<R> {
    Ascii(R, Decoding),
    Utf8(std::io::Chain<std::io::Cursor<Vec<u8>>, R>),
    Cp1252(Cp1252<std::io::Chain<std::io::Cursor<Vec<u8>>, R>>),
    Failed,
}

impl<R: Read> Read for Guess<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let (n, p) = match self {
            Guess::Utf8(r) => return r.read(buf),
            Guess::Cp1252(r) => return r.read(buf),
            Guess::Failed => return Err(std::io::Error::other("an earlier read failed")),
            Guess::Ascii(inner, _) => {
                let n = inner.read(buf)?;
                match first_non_ascii(&buf[..n]) {
                    None => return Ok(n),
                    Some(p) => (n, p),
                }
            }
        };
        let Guess::Ascii(mut inner, decoding) = std::mem::replace(self, Guess::Failed) else {
            unreachable!("matched above")
        };
        let mut window = buf[p..n].to_vec();
        (&mut inner).take((SNIFF - window.len().min(SNIFF)) as u64).read_to_end(&mut window)?;
        let complete = window.len() < SNIFF;
        let single = single_byte(&window, complete);
        let rest = std::io::Cursor::new(window).chain(inner);
        *self = if single {
            decoding.guessed();
            Guess::Cp1252(cp1252(rest))
        } else {
            Guess::Utf8(rest)
        };
        if p > 0 {
            Ok(p)
        } else {
            self.read(buf)
        }
    }
}

/// A gzip stream whose errors say the file is not valid gzip.
struct GzErrors<R>(R);

impl<R: Read> Read for GzErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf).map_err(|e| std::io::Error::new(e.kind(), format!("not a valid gzip file ({e})")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands over one byte at a time, so every unit and
    /// surrogate pair is split across reads.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), buf.is_empty()) {
                (Some((b, rest)), false) => {
                    buf[0] = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    fn utf16(text: &[u16], big_endian: bool) -> Vec<u8> {
        text.iter().flat_map(|u| if big_endian { u.to_be_bytes() } else { u.to_le_bytes() }).collect()
    }

    #[test]
    fn utf16_reads_as_utf8_and_bad_units_stay_bad() {
        let text = "id\tdate\nZoë 😀,2024-01-01\n";
        let units: Vec<u16> = text.encode_utf16().collect();
        for big_endian in [false, true] {
            let mut out = Vec::new();
            Utf16::new(Trickle(&utf16(&units, big_endian)), big_endian).read_to_end(&mut out).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), text);
        }
        // a lone high surrogate, a lone low one, an odd last byte: each a byte
        // that is not UTF-8, so the line is rejected, not silently changed
        let mut bad = utf16(&[0x61, 0xd83d, 0x62, 0xde00, 0x63], false);
        bad.push(0x64);
        let mut out = Vec::new();
        Utf16::new(Trickle(&bad), false).read_to_end(&mut out).unwrap();
        assert_eq!(out, [b'a', 0xff, b'b', 0xff, b'c', 0xff]);
    }

    #[test]
    fn a_windows_code_page_is_told_from_utf8_and_read() {
        assert!(single_byte(b"id,name\n1,Zo\xeb\n", true));
        assert!(!single_byte(b"id,name\n1,Zoe\n", true), "ASCII is UTF-8");
        assert!(!single_byte("id,name\n1,Zoë\n2,\u{20ac}\n".as_bytes(), true));
        // a UTF-8 file with one corrupt field stays UTF-8 (and the field is rejected)
        assert!(!single_byte(b"id,name\n1,Zo\xc3\xab\n2,\xff\n", true));
        // a character cut off by the window's end is not counted, unless the text ends there
        assert!(!single_byte(b"1,Zo\xc3", false));
        assert!(single_byte(b"1,Zo\xc3", true));
        let mut out = Vec::new();
        cp1252(Trickle(b"\x80 \x85 caf\xe9 \x9f \x81 \xff")).read_to_end(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "€ … café Ÿ \u{81} ÿ");
        // every byte maps to one character, so every line survives
        let all: Vec<u8> = (0..=255).collect();
        let mut out = Vec::new();
        cp1252(&all[..]).read_to_end(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap().chars().count(), 256);
    }

    fn guessed(bytes: &[u8]) -> (String, Option<&'static str>) {
        let d = Decoding::default();
        let mut out = Vec::new();
        Guess::Ascii(Trickle(bytes), d.clone()).read_to_end(&mut out).unwrap();
        let whole = decoded(Path::new("x.csv"), bytes.to_vec(), Encoding::Auto, &Decoding::default()).unwrap();
        assert_eq!(out, whole, "streamed and whole reads agree");
        (String::from_utf8_lossy(&out).into_owned(), d.note())
    }

    #[test]
    fn the_code_page_is_told_where_the_text_first_leaves_ascii() {
        // two megabytes of ASCII, then a Windows-1252 line: the line is read, with the note
        let mut late = "id,date\n".to_string() + &"c1,2024-01-01\n".repeat(150_000);
        late.push_str("Zo\u{eb},2024-01-02\n");
        let mut bytes = late.clone().into_bytes();
        let at = bytes.iter().position(|&b| b == 0xc3).unwrap();
        bytes.splice(at..at + 2, [0xeb]);
        assert_eq!(guessed(&bytes), (late.clone(), Some(CP1252_NOTE)));
        // the same far into a UTF-8 file: untouched, no note
        assert_eq!(guessed(late.as_bytes()), (late.clone(), None));
        // all ASCII: no note
        assert_eq!(guessed(b"id\n1\n"), ("id\n1\n".to_string(), None));
        // a UTF-8 file whose first non-ASCII field is corrupt, with UTF-8 after: stays UTF-8
        let (text, note) = guessed(b"id\n\xff\nZo\xc3\xab\n");
        assert_eq!((text.as_str(), note), ("id\n\u{fffd}\nZo\u{eb}\n", None));
        // gzip is decompressed, then told the same way
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"id\ncaf\xe9\n").unwrap();
        let d = Decoding::default();
        let out = decoded(Path::new("x.csv.gz"), gz.finish().unwrap(), Encoding::Auto, &d).unwrap();
        assert_eq!((String::from_utf8(out).unwrap().as_str(), d.note()), ("id\ncafé\n", Some(CP1252_NOTE)));
    }

    #[test]
    fn workbooks_are_told_by_their_bytes() {
        let p = Path::new("sales.xlsx");
        assert!(workbook(p, b"PK\x03\x04rest").is_err_and(|e| e.to_string().contains("save the sheet as CSV")));
        assert!(workbook(p, &[0xd0, 0xcf, 0x11, 0xe0]).is_err());
        assert!(workbook(p, b"id,date\n").is_ok());
        assert_eq!(utf16_bom(&[0xff, 0xfe, 0x69, 0]), Some(false));
        assert_eq!(utf16_bom(&[0xfe, 0xff]), Some(true));
        assert_eq!(utf16_bom(b"\xef\xbb\xbfid"), None);
    }
}
