//! Only what the card needs leaves a photo: a JPEG's metadata segments removed without
//! touching its pixels. EXIF (where and when it was taken, the camera's owner, a GPS
//! position), XMP, ICC profiles (their names), IPTC and comments go; the JFIF header and
//! Adobe's colour-transform marker (which says how the pixels are to be read) stay.

use super::decode::Decoded;
use super::fix::{FixError, encode_within};

/// `jpeg` with its metadata segments removed (APP1–APP13, APP15, COM), the rest byte for
/// byte; `None` when it is not a JPEG whose segments can be followed.
pub fn jpeg_without_metadata(jpeg: &[u8]) -> Option<Vec<u8>> {
    if jpeg.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut out = Vec::with_capacity(jpeg.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut i = 2;
    loop {
        // Fill bytes (FF FF …) may come before a marker.
        if *jpeg.get(i)? != 0xFF {
            return None;
        }
        while *jpeg.get(i + 1)? == 0xFF {
            i += 1;
        }
        let marker = *jpeg.get(i + 1)?;
        match marker {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Some(out);
            }
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, marker]);
                i += 2;
                continue;
            }
            _ => {}
        }
        let len = u16::from_be_bytes([*jpeg.get(i + 2)?, *jpeg.get(i + 3)?]) as usize;
        let end = i + 2 + len;
        let segment = jpeg.get(i..end)?;
        if marker == 0xDA {
            // The first scan: the image data as it is, through the end-of-image marker;
            // nothing appended after it (a second image, an EXIF blob) goes along.
            let end = jpeg
                .windows(2)
                .rposition(|w| w == [0xFF, 0xD9])
                .filter(|&e| e >= i)
                .map_or(jpeg.len(), |e| e + 2);
            out.extend_from_slice(&jpeg[i..end]);
            return Some(out);
        }
        let metadata = matches!(marker, 0xE1..=0xED | 0xEF | 0xFE);
        if !metadata {
            out.extend_from_slice(segment);
        }
        i = end;
    }
}

/// A card photo that passed the check as it is, ready to store: its own pixels without
/// metadata, or, where the photo was turned upright by its EXIF orientation (which goes
/// with the EXIF), the upright pixels encoded again.
pub fn card_bytes_without_metadata(decoded: &Decoded, bytes: &[u8]) -> Result<Vec<u8>, FixError> {
    // Kept as it is only while it stays a plain colour JPEG within the size bounds: one
    // whose metadata made up the 20 KB, or a CMYK file (its colours defined by the ICC
    // profile that goes), is encoded again from its pixels.
    if !decoded.reoriented
        && three_components(bytes)
        && let Some(clean) = jpeg_without_metadata(bytes)
        && clean.len() as u64 >= super::check::CARD_MIN_BYTES
    {
        return Ok(clean);
    }
    encode_within(
        &decoded.image.to_rgb8(),
        super::check::CARD_MIN_BYTES,
        super::check::CARD_MAX_BYTES,
    )
}

/// Whether a JPEG's frame has three components (YCbCr or RGB, not grey or CMYK).
fn three_components(jpeg: &[u8]) -> bool {
    // A start-of-frame marker (C0–CF but C4, C8, CC) is followed by its length, the
    // precision, height and width, then the number of components.
    // The frame is found by walking the segments (an EXIF thumbnail inside APP1 has a
    // frame of its own).
    let Some(clean) = jpeg_without_metadata(jpeg) else {
        return false;
    };
    clean
        .windows(2)
        .position(|w| {
            w[0] == 0xFF && matches!(w[1], 0xC0..=0xCF) && !matches!(w[1], 0xC4 | 0xC8 | 0xCC)
        })
        .is_some_and(|i| clean.get(i + 9) == Some(&3))
}

/// Whether a JPEG carries any metadata segment (for tests).
pub fn jpeg_has_metadata(jpeg: &[u8]) -> bool {
    jpeg_without_metadata(jpeg).is_some_and(|clean| clean.len() != jpeg.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG with an APP1 holding `text` and a comment holding it again.
    fn with_metadata(text: &str) -> (Vec<u8>, Vec<u8>) {
        let plain = crate::photo::synthetic::card_photo_jpeg(3);
        let mut tagged = plain[..2].to_vec();
        let app1 = [b"Exif\0\0".as_slice(), text.as_bytes()].concat();
        tagged.extend_from_slice(&[0xFF, 0xE1]);
        tagged.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        tagged.extend_from_slice(&app1);
        tagged.extend_from_slice(&[0xFF, 0xFE]);
        tagged.extend_from_slice(&((text.len() + 2) as u16).to_be_bytes());
        tagged.extend_from_slice(text.as_bytes());
        tagged.extend_from_slice(&plain[2..]);
        (plain, tagged)
    }

    #[test]
    fn exif_and_comments_go_and_the_pixels_stay() {
        let (plain, tagged) = with_metadata("GPS 39.9N 116.4E owner 张三");
        assert!(jpeg_has_metadata(&tagged));
        let clean = jpeg_without_metadata(&tagged).unwrap();
        assert!(!clean.windows(4).any(|w| w == b"Exif"));
        assert!(!clean.windows(3).any(|w| w == b"GPS"));
        assert!(!jpeg_has_metadata(&clean));
        let a = image::load_from_memory(&clean).unwrap().to_rgb8();
        let b = image::load_from_memory(&plain).unwrap().to_rgb8();
        assert_eq!(a, b, "the pixels are untouched");
    }

    #[test]
    fn what_is_not_a_jpeg_is_not_taken_apart() {
        assert!(jpeg_without_metadata(b"not a jpeg").is_none());
        assert!(jpeg_without_metadata(&[0xFF, 0xD8, 0xFF]).is_none());
    }
}
