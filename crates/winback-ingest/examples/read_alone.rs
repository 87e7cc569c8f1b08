//! The reader's parts on their own, on one thread, best of 7 (bench/README's
//! split and single-threaded read figures):
//!
//!     cargo run --release -p winback-ingest --example read_alone -- bench/out/log_1000000.csv
//!
//! `split`: every record of the file split into fields (`Records::next_into`);
//! `read`: the whole read (`read_blocks`) in 1 MB blocks parsed on one thread.
use winback_ingest::split::{detect_delimiter, Records};
use winback_ingest::transactions::{read_blocks, Blocking, LogOptions};

fn best(mut f: impl FnMut()) -> f64 {
    (0..7)
        .map(|_| {
            let t = std::time::Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("give a transaction log")?;
    let data = std::fs::read(path)?;
    let d = detect_delimiter(&data);
    let split = best(|| {
        let (mut r, mut f) = (Records::new(&data, d, 1), Vec::new());
        let mut fields = 0usize;
        while r.next_into(&mut f).is_some() {
            fields += f.len();
        }
        std::hint::black_box(fields);
    });
    let blocking = Blocking { block: 1 << 20, split_min: usize::MAX, part: 1 << 20 };
    let read = best(|| {
        let r = read_blocks(&data[..], &LogOptions::default(), blocking);
        std::hint::black_box(r.map(|(log, _, _)| log.len()).unwrap_or(0));
    });
    println!("split {split:.4} s, read {read:.4} s (one thread, best of 7)");
    Ok(())
}
