//! The PDFs a buyer keeps: e-tickets (one page per seat, with a scannable QR code) and the
//! payment receipt.
//!
//! Text is shaped with an embedded DejaVu Sans (see `assets/fonts/`) rather than the PDF
//! standard fonts, whose WinAnsi encoding cannot spell Vietnamese ("Hàng", "Ghế", "Đời thừa").
//! Each document is laid out first into a small display list (`layout`) and only then drawn
//! with krilla, so page breaks and "page 1 of 3" footers never depend on the PDF writer.

mod fonts;
pub mod invoice;
mod layout;
mod qr;
pub mod tickets;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;

pub use invoice::{InvoiceDoc, InvoiceLine, invoice_pdf};
pub use tickets::{TicketPage, tickets_pdf};

use crate::mail::templates::{Locale, money};

/// Why a document could not be produced. Every variant is a bug or bad input on our side,
/// never something the buyer can fix, so callers log it and answer 500.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// A booking without seats has nothing to print; asking for its tickets is a caller bug.
    #[error("a ticket PDF needs at least one ticket")]
    NoTickets,
    /// The committed font file is unreadable (a corrupted asset, caught by the tests).
    #[error("the embedded font {0} could not be read")]
    Font(&'static str),
    /// The ticket code does not fit in any QR code at level M.
    #[error("ticket code cannot be encoded as a QR code: {0}")]
    TicketCode(#[from] qrcode::types::QrError),
    /// The ticket code fits in a QR code, but only one too dense for a phone to scan on paper.
    #[error("ticket code needs {modules} QR modules a side, too dense to scan when printed")]
    QrTooDense { modules: usize },
    /// Geometry that krilla rejects (a zero-sized or non-finite shape): a layout bug.
    #[error("invalid layout: {0}")]
    Layout(&'static str),
    /// krilla could not serialize the document.
    #[error("PDF serialization failed: {0}")]
    Pdf(String),
}

/// Formats an amount in integer minor units. Curtain sells in VND (no minor unit), which
/// [`money`] formats; any other currency is printed with its code rather than mislabelled
/// as dong.
fn amount(value: i64, currency: &str, locale: Locale) -> String {
    if currency.eq_ignore_ascii_case("VND") { money(value, locale) } else { format!("{value} {currency}") }
}
