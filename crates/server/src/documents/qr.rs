//! The ticket code as QR modules ready to be drawn as filled squares: vector squares stay
//! sharp at any print resolution, where an embedded bitmap would blur at the module edges.

use qrcode::{Color, EcLevel, QrCode};

use super::DocumentError;

/// Light modules around the symbol that scanners need to find its edges (ISO/IEC 18004).
pub(super) const QUIET_ZONE: usize = 4;
/// Below this a module is smaller than a phone camera resolves reliably on paper.
const MIN_MODULE: f32 = 2.5;
/// A comfortable module size; codes of ~60 characters (version 4, 33 modules) get it.
const MAX_MODULE: f32 = 4.0;
/// The most page space the symbol (quiet zone included) may take.
const MAX_SIDE: f32 = 190.0;

/// A QR symbol sized for print: where its dark modules are and how large one is.
#[derive(Debug)]
pub(super) struct QrSymbol {
    /// Modules a side, quiet zone included.
    pub modules: usize,
    /// The side of one module, in points.
    pub module: f32,
    /// Dark modules as (column, row), quiet zone included in the coordinates.
    pub dark: Vec<(usize, usize)>,
}

impl QrSymbol {
    /// Encodes `code` at level M, which survives a crease or a smudge (15 % of the symbol)
    /// without the larger symbol that level Q or H would need.
    pub(super) fn encode(code: &str) -> Result<Self, DocumentError> {
        let qr = QrCode::with_error_correction_level(code.as_bytes(), EcLevel::M)?;
        let width = qr.width();
        let modules = width + 2 * QUIET_ZONE;
        let module = (MAX_SIDE / modules as f32).min(MAX_MODULE);
        if module < MIN_MODULE {
            return Err(DocumentError::QrTooDense { modules });
        }
        let dark = qr
            .to_colors()
            .into_iter()
            .enumerate()
            .filter(|(_, color)| *color == Color::Dark)
            .map(|(i, _)| (i % width + QUIET_ZONE, i / width + QUIET_ZONE))
            .collect();
        Ok(Self { modules, module, dark })
    }

    /// The printed side of the whole symbol, quiet zone included, in points.
    pub(super) fn side(&self) -> f32 {
        self.modules as f32 * self.module
    }

    /// The dark modules as rectangles (x, y, width, height) for a symbol whose top-left
    /// corner (quiet zone included) is at `left`, `top`. Runs of dark modules in a row
    /// become one rectangle: fewer path segments, and no hairline seams between neighbours
    /// when a viewer anti-aliases.
    pub(super) fn rects(&self, left: f32, top: f32) -> Vec<[f32; 4]> {
        let mut runs: Vec<(usize, usize, usize)> = Vec::new(); // (row, first column, length)
        for &(column, row) in &self.dark {
            match runs.last_mut() {
                Some((r, first, length)) if *r == row && *first + *length == column => {
                    *length += 1;
                }
                _ => runs.push((row, column, 1)),
            }
        }
        let m = self.module;
        runs.into_iter()
            .map(|(row, first, length)| [left + first as f32 * m, top + row as f32 * m, length as f32 * m, m])
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_typical_ticket_code_gets_large_modules_and_a_quiet_zone() {
        let code = "tk1.8Jq2ZcV0pXl3N9dR7sWmYbE4hK6uT5aG.Qf-1_x";
        let symbol = QrSymbol::encode(code).unwrap();
        assert!(symbol.module >= MIN_MODULE && symbol.module <= MAX_MODULE);
        assert!(symbol.side() <= MAX_SIDE + 0.01);
        // Nothing dark inside the quiet zone.
        let inner = QUIET_ZONE..symbol.modules - QUIET_ZONE;
        assert!(symbol.dark.iter().all(|(x, y)| inner.contains(x) && inner.contains(y)));
        // The top-left finder pattern starts right after the quiet zone.
        assert!(symbol.dark.contains(&(QUIET_ZONE, QUIET_ZONE)));
    }

    #[test]
    fn merged_runs_cover_exactly_the_dark_modules() {
        let symbol = QrSymbol::encode("CUR-7K3Q9X").unwrap();
        let rects = symbol.rects(10.0, 20.0);
        assert!(rects.len() < symbol.dark.len());
        let covered: f32 = rects.iter().map(|[_, _, w, h]| w * h).sum();
        let expected = symbol.dark.len() as f32 * symbol.module * symbol.module;
        assert!((covered - expected).abs() < 0.01);
        // The finder pattern's top edge is one run of 7 modules.
        let m = symbol.module;
        let top_left = [10.0 + 4.0 * m, 20.0 + 4.0 * m, 7.0 * m, m];
        assert_eq!(rects[0], top_left);
    }

    #[test]
    fn a_code_too_long_for_print_is_refused() {
        let err = QrSymbol::encode(&"A9".repeat(400)).unwrap_err();
        assert!(matches!(err, DocumentError::QrTooDense { .. }), "{err}");
        let err = QrSymbol::encode(&"x".repeat(5000)).unwrap_err();
        assert!(matches!(err, DocumentError::TicketCode(_)), "{err}");
    }
}
