//! Opening input files: plain, gzip (read as a stream) and Parquet (converted to
//! CSV, so that detection, parsing and line-numbered rejects are the same).

use std::io::{Read, Seek};
use std::path::Path;

use crate::{AppError, Result};

fn file_error(path: &Path, message: impl std::fmt::Display) -> AppError {
    AppError::File { path: path.display().to_string(), message: message.to_string() }
}

/// Read a file whole; `.gz` files are decompressed, and Parquet files become CSV
/// (a header row of column names, then row N as line N + 1).
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| file_error(path, format!("cannot read it ({e})")))?;
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

/// Open a file for reading as a stream: plain files and `.gz` files are read as
/// they are parsed, never held whole; Parquet files (read whole by their nature)
/// become CSV as in [`read_file`].
pub fn open_stream(path: &Path) -> Result<Box<dyn Read + Send>> {
    let cannot = |e: std::io::Error| file_error(path, format!("cannot read it ({e})"));
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(cannot)?;
    file.rewind().map_err(cannot)?;
    let ext = |e: &str| path.extension().is_some_and(|x| x.eq_ignore_ascii_case(e));
    if (n == 4 && &magic == b"PAR1") || ext("parquet") {
        return Ok(Box::new(std::io::Cursor::new(read_file(path)?)));
    }
    if ext("gz") || magic.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 20, file));
        return Ok(Box::new(GzErrors(gz)));
    }
    Ok(Box::new(file))
}

/// A gzip stream whose errors say the file is not valid gzip.
struct GzErrors<R>(R);

impl<R: Read> Read for GzErrors<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf).map_err(|e| std::io::Error::new(e.kind(), format!("not a valid gzip file ({e})")))
    }
}
