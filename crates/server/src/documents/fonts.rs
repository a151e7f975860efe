//! The embedded DejaVu Sans faces: measured with rustybuzz (the shaper krilla's `draw_text`
//! uses, so a measured line is exactly as wide as the drawn one) and handed to krilla to embed.

use krilla::text::Font;
use rustybuzz::{Face, UnicodeBuffer};

use super::DocumentError;

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// The two weights a document uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Weight {
    Regular,
    Bold,
}

impl Weight {
    fn bytes(self) -> &'static [u8] {
        match self {
            Self::Regular => REGULAR,
            Self::Bold => BOLD,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Regular => "DejaVuSans.ttf",
            Self::Bold => "DejaVuSans-Bold.ttf",
        }
    }

    /// The font as krilla embeds it (subset to the glyphs used).
    pub(super) fn pdf_font(self) -> Result<Font, DocumentError> {
        Font::new(self.bytes().into(), 0).ok_or(DocumentError::Font(self.name()))
    }
}

/// Both faces parsed once per document, for measuring text while laying it out.
pub(super) struct Metrics {
    regular: Face<'static>,
    bold: Face<'static>,
}

impl Metrics {
    pub(super) fn load() -> Result<Self, DocumentError> {
        let face =
            |weight: Weight| Face::from_slice(weight.bytes(), 0).ok_or(DocumentError::Font(weight.name()));
        Ok(Self { regular: face(Weight::Regular)?, bold: face(Weight::Bold)? })
    }

    fn face(&self, weight: Weight) -> &Face<'static> {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    /// The advance width of `text` on one line, in points.
    pub(super) fn width(&self, weight: Weight, size: f32, text: &str) -> f32 {
        let face = self.face(weight);
        let mut buffer = UnicodeBuffer::new();
        buffer.push_str(text);
        let shaped = rustybuzz::shape(face, &[], buffer);
        let units: i64 = shaped.glyph_positions().iter().map(|p| i64::from(p.x_advance)).sum();
        units as f32 * size / face.units_per_em() as f32
    }

    /// Whether every character of `text` has a real glyph (not the "missing" box) in `weight`.
    #[cfg(test)]
    pub(super) fn covers(&self, weight: Weight, text: &str) -> bool {
        let face = self.face(weight);
        text.chars().filter(|c| !c.is_whitespace()).all(|c| face.glyph_index(c).is_some())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Every Vietnamese letter, lower and upper case, with every tone mark.
    const VIETNAMESE: &str = "aàáảãạ ăằắẳẵặ âầấẩẫậ eèéẻẽẹ êềếểễệ iìíỉĩị oòóỏõọ ôồốổỗộ ơờớởỡợ \
        uùúủũụ ưừứửữự yỳýỷỹỵ đ AÀÁẢÃẠ ĂẰẮẲẴẶ ÂẦẤẨẪẬ EÈÉẺẼẸ ÊỀẾỂỄỆ IÌÍỈĨỊ OÒÓỎÕỌ ÔỒỐỔỖỘ \
        ƠỜỚỞỠỢ UÙÚỦŨỤ ƯỪỨỬỮỰ YỲÝỶỸỴ Đ ₫ — ·";

    #[test]
    fn both_weights_cover_every_vietnamese_letter() {
        let metrics = Metrics::load().unwrap();
        for weight in [Weight::Regular, Weight::Bold] {
            assert!(metrics.covers(weight, VIETNAMESE), "{weight:?} misses a letter");
            assert!(weight.pdf_font().is_ok());
        }
    }

    #[test]
    fn bold_text_is_wider_and_width_scales_with_size() {
        let metrics = Metrics::load().unwrap();
        let regular = metrics.width(Weight::Regular, 10.0, "Nhà hát Sen Vàng");
        let bold = metrics.width(Weight::Bold, 10.0, "Nhà hát Sen Vàng");
        assert!(regular > 50.0 && regular < 120.0, "{regular}");
        assert!(bold > regular);
        let double = metrics.width(Weight::Regular, 20.0, "Nhà hát Sen Vàng");
        assert!((double - 2.0 * regular).abs() < 0.01);
        assert_eq!(metrics.width(Weight::Regular, 10.0, ""), 0.0);
    }
}
