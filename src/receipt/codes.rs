//! The number as machine-readable codes: a QR code (`qrcode`) and a Code 128 barcode
//! (`barcoders`), as modules the page draws.

/// A QR code's modules, row by row (`true` = dark), without the quiet zone.
pub struct Modules {
    pub width: usize,
    pub dark: Vec<bool>,
}

/// `text` as a QR code (error correction M: a crumpled receipt still reads).
pub fn qr(text: &str) -> Result<Modules, String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| format!("二维码：{e}"))?;
    Ok(Modules {
        width: code.width(),
        dark: code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect(),
    })
}

/// `text` (printable ASCII) as Code 128, set B: 1 for a dark module, 0 for a light one.
pub fn code128(text: &str) -> Result<Vec<u8>, String> {
    barcoders::sym::code128::Code128::new(format!("\u{0181}{text}"))
        .map(|c| c.encode())
        .map_err(|e| format!("条形码：{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_makes_both_codes() {
        let q = qr("SQ2026112400000004").unwrap();
        assert_eq!(q.dark.len(), q.width * q.width);
        assert!(q.dark.iter().any(|d| *d) && q.dark.iter().any(|d| !*d));
        let bars = code128("SQ2026112400000004").unwrap();
        // Start, 18 characters, check, stop: 11 modules each but the stop's 13.
        assert_eq!(bars.len(), 11 * 20 + 13);
        assert_eq!(&bars[..2], &[1, 1], "a start code begins with a bar");
    }
}
