//! The day report as an Excel workbook (rust_xlsxwriter): 汇总 (per operator and the
//! total), 退回原因, 待处理. Every text is written as text (an ID number never becomes a
//! number in scientific notation, and a name starting with = is not a formula).

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::{COLUMNS, Counts, DayReport, STUCK_COLUMNS};

/// The workbook's bytes.
pub fn workbook(r: &DayReport) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");

    let sheet = book.add_worksheet().set_name("汇总")?;
    sheet.write_string_with_format(
        0,
        0,
        format!("工作日报 {} 至 {}（北京时间）", r.period.from, r.period.to),
        &bold,
    )?;
    for (c, h) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(2, c as u16, *h, &bold)?;
    }
    let mut row = 3;
    for o in &r.operators {
        counts_row(
            sheet,
            row,
            &o.operator_id,
            &o.operator_name,
            &o.counts,
            &text,
        )?;
        row += 1;
    }
    counts_row(sheet, row, "合计", "", &r.total, &text)?;
    sheet.set_column_width(1, 12)?;

    let sheet = book.add_worksheet().set_name("退回原因")?;
    sheet.write_string_with_format(0, 0, "原因", &bold)?;
    sheet.write_string_with_format(0, 1, "件数", &bold)?;
    for (i, (reason, n)) in r.returned_reasons.iter().enumerate() {
        sheet.write_string_with_format(i as u32 + 1, 0, reason, &text)?;
        sheet.write_number(i as u32 + 1, 1, *n as f64)?;
    }
    sheet.set_column_width(0, 40)?;

    let sheet = book.add_worksheet().set_name("待处理")?;
    for (c, h) in STUCK_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, s) in r.stuck.iter().enumerate() {
        let row = i as u32 + 1;
        let cells = s.cells();
        for (c, v) in cells.iter().enumerate() {
            sheet.write_string_with_format(row, c as u16, v, &text)?;
        }
    }
    sheet.set_column_width(0, 22)?;
    sheet.set_column_width(1, 38)?;
    sheet.set_column_width(3, 22)?;
    book.save_to_buffer()
}

fn counts_row(
    sheet: &mut Worksheet,
    row: u32,
    id: &str,
    name: &str,
    c: &Counts,
    text: &Format,
) -> Result<(), XlsxError> {
    sheet.write_string_with_format(row, 0, id, text)?;
    sheet.write_string_with_format(row, 1, name, text)?;
    for (i, n) in c.values().into_iter().enumerate() {
        sheet.write_number(row, i as u16 + 2, n as f64)?;
    }
    Ok(())
}
