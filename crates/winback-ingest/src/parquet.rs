//! Parquet files: read into CSV so that every Parquet import goes through the
//! same column detection, parsing and line-numbered rejects as CSV (row N of
//! the file is "line N + 1", the header being line 1); and write a table of
//! named columns, for `winback export --format parquet`.

use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::record::Field;
use serde_json::Value;

use crate::IngestError;

/// Is this a Parquet file (by its magic bytes)?
pub fn is_parquet(data: &[u8]) -> bool {
    data.len() >= 8 && data.starts_with(b"PAR1") && data.ends_with(b"PAR1")
}

fn cell(f: &Field) -> String {
    match f {
        Field::Null => String::new(),
        Field::Str(s) => s.clone(),
        Field::Bool(b) => b.to_string(),
        Field::Byte(x) => x.to_string(),
        Field::Short(x) => x.to_string(),
        Field::Int(x) => x.to_string(),
        Field::Long(x) => x.to_string(),
        Field::UByte(x) => x.to_string(),
        Field::UShort(x) => x.to_string(),
        Field::UInt(x) => x.to_string(),
        Field::ULong(x) => x.to_string(),
        Field::Float(x) => x.to_string(),
        Field::Double(x) => x.to_string(),
        Field::Date(days) => chrono::NaiveDate::from_num_days_from_ce_opt(719_163 + days)
            .map_or_else(|| days.to_string(), |d| d.to_string()),
        Field::TimestampMillis(ms) => {
            chrono::DateTime::from_timestamp_millis(*ms).map_or_else(|| ms.to_string(), |t| t.to_rfc3339())
        }
        Field::TimestampMicros(us) => {
            chrono::DateTime::from_timestamp_micros(*us).map_or_else(|| us.to_string(), |t| t.to_rfc3339())
        }
        Field::Bytes(b) => String::from_utf8_lossy(b.data()).into_owned(),
        other => other.to_string(),
    }
}

/// The file's rows as CSV with a header row of the column names.
pub fn to_csv(data: Vec<u8>) -> Result<Vec<u8>, IngestError> {
    let bad = |e: parquet::errors::ParquetError| IngestError::Column(format!("Parquet: {e}"));
    let reader = SerializedFileReader::new(bytes::Bytes::from(data)).map_err(bad)?;
    let schema = reader.metadata().file_metadata().schema_descr();
    let names: Vec<String> = schema.columns().iter().map(|c| c.name().to_string()).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&names).map_err(|e| IngestError::Column(e.to_string()))?;
    for row in reader.get_row_iter(None).map_err(bad)? {
        let row = row.map_err(bad)?;
        let cells: Vec<String> = row.get_column_iter().map(|(_, f)| cell(f)).collect();
        w.write_record(&cells).map_err(|e| IngestError::Column(e.to_string()))?;
    }
    w.into_inner().map_err(|e| IngestError::Column(e.to_string()))
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Int,
    Double,
    Bool,
    Text,
}

fn kind_of(rows: &[Vec<Value>], i: usize) -> Kind {
    let mut k: Option<Kind> = None;
    for v in rows.iter().map(|r| &r[i]) {
        let this = match v {
            Value::Null => continue,
            Value::Bool(_) => Kind::Bool,
            Value::Number(n) if n.is_i64() => Kind::Int,
            Value::Number(_) => Kind::Double,
            _ => Kind::Text,
        };
        k = Some(match (k, this) {
            (None, t) => t,
            (Some(a), b) if a == b => a,
            (Some(Kind::Int | Kind::Double), Kind::Int | Kind::Double) => Kind::Double,
            _ => Kind::Text,
        });
    }
    k.unwrap_or(Kind::Text)
}

/// A Snappy-compressed Parquet file of `rows` under `columns`: integers as
/// INT64, other numbers as DOUBLE, booleans, everything else UTF-8 text; every
/// column optional (null stays null).
pub fn write_table(columns: &[&str], rows: &[Vec<Value>]) -> Result<Vec<u8>, parquet::errors::ParquetError> {
    let kinds: Vec<Kind> = (0..columns.len()).map(|i| kind_of(rows, i)).collect();
    let fields: Vec<String> = columns
        .iter()
        .zip(&kinds)
        .map(|(c, k)| match k {
            Kind::Int => format!("OPTIONAL INT64 {c};"),
            Kind::Double => format!("OPTIONAL DOUBLE {c};"),
            Kind::Bool => format!("OPTIONAL BOOLEAN {c};"),
            Kind::Text => format!("OPTIONAL BYTE_ARRAY {c} (UTF8);"),
        })
        .collect();
    let schema =
        Arc::new(parquet::schema::parser::parse_message_type(&format!("message winback {{ {} }}", fields.join(" ")))?);
    let props = Arc::new(WriterProperties::builder().set_compression(Compression::SNAPPY).build());
    let mut out = Vec::new();
    let mut w = SerializedFileWriter::new(&mut out, schema, props)?;
    for chunk in rows.chunks(100_000) {
        let mut rg = w.next_row_group()?;
        let mut i = 0;
        while let Some(mut col) = rg.next_column()? {
            let vals = chunk.iter().map(|r| &r[i]);
            let def: Vec<i16> = vals.clone().map(|v| i16::from(!v.is_null())).collect();
            match kinds[i] {
                Kind::Int => {
                    let v: Vec<i64> = vals.filter_map(Value::as_i64).collect();
                    col.typed::<Int64Type>().write_batch(&v, Some(&def), None)?;
                }
                Kind::Double => {
                    let v: Vec<f64> = vals.filter_map(Value::as_f64).collect();
                    col.typed::<DoubleType>().write_batch(&v, Some(&def), None)?;
                }
                Kind::Bool => {
                    let v: Vec<bool> = vals.filter_map(Value::as_bool).collect();
                    col.typed::<BoolType>().write_batch(&v, Some(&def), None)?;
                }
                Kind::Text => {
                    let v: Vec<ByteArray> = vals
                        .filter(|v| !v.is_null())
                        .map(|v| match v {
                            Value::String(s) => ByteArray::from(s.as_str()),
                            other => ByteArray::from(other.to_string().as_str()),
                        })
                        .collect();
                    col.typed::<ByteArrayType>().write_batch(&v, Some(&def), None)?;
                }
            }
            col.close()?;
            i += 1;
        }
        rg.close()?;
    }
    w.close()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_through_csv() {
        let rows = vec![
            vec![json!("C1"), json!("2024-01-05"), json!(12.5), json!(3), json!(true)],
            vec![json!("C2"), Value::Null, json!(7), Value::Null, json!(false)],
        ];
        let file = write_table(&["customer_id", "order_date", "total", "n", "flag"], &rows).unwrap();
        assert!(is_parquet(&file));
        let csv = String::from_utf8(to_csv(file).unwrap()).unwrap();
        assert_eq!(csv, "customer_id,order_date,total,n,flag\nC1,2024-01-05,12.5,3,true\nC2,,7,,false\n");
        assert!(to_csv(b"PAR1 not really PAR1".to_vec()).is_err());
    }
}
