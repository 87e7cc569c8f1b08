//! Opening input files: plain, gzip (read as a stream) and Parquet (converted to
//! CSV, so that detection, parsing and line-numbered rejects are the same).

use std::io::Read;
use std::path::Path;

use crate::{AppError, Result};

fn file_error(path: &Path, message: impl std::fmt::Display) -> AppError {
    AppError::File { path: path.display().to_string(), message: message.to_string() }
}

/// `-` names standard input, as it does for most command-line tools.
fn is_stdin(path: &Path) -> bool {
    path == Path::new("-")
}

/// Read a file whole (`-`: standard input); `.gz` files are decompressed,
/// and Parquet files become CSV (a header row of column names, then row N as
/// line N + 1).
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let cannot = |e: std::io::Error| file_error(path, format!("cannot read it ({e})"));
    let raw = if is_stdin(path) {
        let mut raw = Vec::new();
        std::io::stdin().lock().read_to_end(&mut raw).map_err(cannot)?;
        raw
    } else {
        std::fs::read(path).map_err(cannot)?
    };
    decoded(path, raw)
}

/// A file's bytes as CSV: Parquet converted, gzip decompressed.
fn decoded(path: &Path, raw: Vec<u8>) -> Result<Vec<u8>> {
    if winback_ingest::parquet::is_parquet(&raw) || path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    {
        return winback_ingest::parquet::to_csv(raw).map_err(|e| file_error(path, e));
    }
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz")) || raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 4);
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| file_error(path, format!("not a valid gzip file ({e})")))?;
        return Ok(out);
    }
    Ok(raw)
}

/// Open a file for reading as a stream (`-`: standard input): gzip is
/// decompressed as it is read; Parquet, which cannot be streamed, is read
/// whole and converted. Pipes work as files do (`<(zcat …)`, a FIFO): the
/// first bytes, read to tell the format, are put back in front of the rest
/// rather than sought back to.
pub fn open_stream(path: &Path) -> Result<Box<dyn Read + Send>> {
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
        return Ok(Box::new(std::io::Cursor::new(decoded(path, raw)?)));
    }
    if ext("gz") || magic[..n].starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 20, whole));
        return Ok(Box::new(GzErrors(gz)));
    }
    Ok(Box::new(whole))
}

/// A gzip stream whose errors say the file is not valid gzip.
struct GzErrors<R>(R);

impl<R: Read> Read for GzErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf).map_err(|e| std::io::Error::new(e.kind(), format!("not a valid gzip file ({e})")))
    }
}
