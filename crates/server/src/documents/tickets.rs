//! E-tickets: one A4 page per seat, so a group can print and split them, each carrying the
//! seat, the booking and a QR code the door staff scan.

use super::layout::{self, CONTENT_WIDTH, Flow, Ink, MARGIN, PAGE_WIDTH, Pages, RIGHT, Style};
use super::qr::QrSymbol;
use super::{DocumentError, amount};
use crate::mail::templates::Locale;

/// What one ticket page shows. Strings arrive formatted (the time in the venue's zone, the
/// seat labels as the venue names them) so the PDF prints exactly what the web page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketPage {
    pub event_title: String,
    pub venue_name: String,
    pub venue_address: String,
    /// Already formatted in the venue's time zone, e.g. "Thứ Sáu, 27/11/2026 19:30".
    pub starts_at: String,
    pub section: String,
    pub row: String,
    pub number: i32,
    /// "standard", "wheelchair", "companion" or "restricted"; anything but standard is noted.
    pub seat_kind: String,
    /// Integer minor units (whole dong for VND).
    pub price: i64,
    pub currency: String,
    /// The booking reference, e.g. "CUR-7K3Q9X".
    pub reference: String,
    /// The buyer's full name.
    pub holder: String,
    /// The signed ticket code the QR encodes, byte for byte, and printed under it for staff
    /// to type in when a phone screen is cracked.
    pub code: String,
}

/// Renders the tickets of one booking, a page each, in the buyer's language.
///
/// An empty slice is an error rather than an empty PDF: a booking whose tickets print as
/// nothing would reach the buyer as a blank attachment.
pub fn tickets_pdf(pages: &[TicketPage], locale: Locale) -> Result<Vec<u8>, DocumentError> {
    let first = pages.first().ok_or(DocumentError::NoTickets)?;
    let labels = Labels::new(locale);
    let laid_out = lay_out(pages, &first.reference, &labels, locale)?;
    let title = format!("{} — {} ({})", labels.tickets, first.event_title, first.reference);
    layout::render(&laid_out, &title, locale.as_str())
}

/// Room for the longest label ("Booking reference", "Người giữ vé").
const LABEL_WIDTH: f32 = 150.0;

fn lay_out(
    pages: &[TicketPage],
    reference: &str,
    labels: &Labels,
    locale: Locale,
) -> Result<Pages, DocumentError> {
    let mut flow = Flow::new()?;
    for (index, ticket) in pages.iter().enumerate() {
        if index > 0 {
            flow.new_page();
        }
        ticket_page(&mut flow, ticket, labels, locale)?;
    }
    Ok(flow.finish(&format!("Curtain · {reference}"), |n, total| labels.page(n, total)))
}

fn ticket_page(
    flow: &mut Flow,
    ticket: &TicketPage,
    labels: &Labels,
    locale: Locale,
) -> Result<(), DocumentError> {
    let top = flow.y();
    flow.text_at(MARGIN, top, Style::HEADING.sized(10.0), "CURTAIN");
    flow.text_right(RIGHT, top, Style::LABEL, labels.ticket);
    flow.gap(24.0);

    title(flow, &ticket.event_title);
    flow.gap(6.0);
    flow.paragraph(MARGIN, CONTENT_WIDTH, Style::STRONG.sized(13.0), &ticket.venue_name, 2);
    flow.paragraph(MARGIN, CONTENT_WIDTH, Style::BODY.with_ink(Ink::Gray), &ticket.venue_address, 2);
    flow.gap(4.0);
    flow.paragraph(MARGIN, CONTENT_WIDTH, Style::HEADING.sized(13.0), &ticket.starts_at, 2);
    flow.rule(Ink::Light);

    seat(flow, ticket, labels);
    if let Some(note) = labels.seat_note(&ticket.seat_kind) {
        flow.paragraph(MARGIN, CONTENT_WIDTH, Style::STRONG, &note, 2);
    }
    flow.rule(Ink::Light);

    let price = amount(ticket.price, &ticket.currency, locale);
    flow.labelled(labels.price, &price, LABEL_WIDTH);
    flow.labelled(labels.reference, &ticket.reference, LABEL_WIDTH);
    flow.labelled(labels.holder, &ticket.holder, LABEL_WIDTH);
    flow.gap(18.0);

    qr(flow, &ticket.code, labels)
}

/// The event title, large; a long one shrinks, then wraps, and past four lines is cut with
/// an ellipsis, so it never pushes the QR code off the page.
fn title(flow: &mut Flow, text: &str) {
    const SIZES: [f32; 3] = [24.0, 20.0, 16.0];
    const MAX_LINES: usize = 4;
    let fitted = SIZES.iter().find_map(|&size| {
        let style = Style::TITLE.sized(size);
        let lines = flow.wrap(style, text, CONTENT_WIDTH);
        (lines.len() <= 2).then_some((style, lines))
    });
    let (style, lines) = fitted.unwrap_or_else(|| {
        let style = Style::TITLE.sized(16.0);
        let lines = flow.wrap(style, text, CONTENT_WIDTH);
        (style, flow.clamp_lines(style, lines, MAX_LINES, CONTENT_WIDTH))
    });
    for line in lines {
        flow.text_at(MARGIN, flow.y(), style, &line);
        flow.gap(style.line_height());
    }
}

/// Section, row and seat side by side in large type, the way door staff read a ticket.
fn seat(flow: &mut Flow, ticket: &TicketPage, labels: &Labels) {
    let number = ticket.number.to_string();
    let cells = [
        (labels.section, ticket.section.as_str(), 0.5),
        (labels.row, ticket.row.as_str(), 0.25),
        (labels.seat, number.as_str(), 0.25),
    ];
    let top = flow.y();
    let mut x = MARGIN;
    let mut bottom = top;
    for (label, value, share) in cells {
        let width = CONTENT_WIDTH * share - 12.0;
        flow.text_at(x, top, Style::LABEL, label);
        flow.set_y(top + Style::LABEL.line_height());
        let style = fitting_size(flow, value, width);
        flow.paragraph(x, width, style, value, 2);
        bottom = bottom.max(flow.y());
        x += CONTENT_WIDTH * share;
    }
    flow.set_y(bottom);
}

/// The largest of a few sizes at which `value` fits on one line; the smallest otherwise (it
/// then wraps).
fn fitting_size(flow: &Flow, value: &str, width: f32) -> Style {
    [22.0, 18.0, 14.0]
        .into_iter()
        .map(|size| Style::TITLE.sized(size))
        .find(|style| flow.width(*style, value) <= width)
        .unwrap_or(Style::TITLE.sized(14.0))
}

/// The QR code centred, the code in small type under it and how to use it.
fn qr(flow: &mut Flow, code: &str, labels: &Labels) -> Result<(), DocumentError> {
    let symbol = QrSymbol::encode(code)?;
    let side = symbol.side();
    let center = PAGE_WIDTH / 2.0;
    flow.ensure(side + 40.0);
    let top = flow.y();
    flow.rects(Ink::Black, symbol.rects(center - side / 2.0, top));
    flow.set_y(top + side);
    for line in flow.wrap(Style::SMALL, code, CONTENT_WIDTH) {
        flow.text_centered(center, flow.y(), Style::SMALL, &line);
        flow.gap(Style::SMALL.line_height());
    }
    flow.gap(4.0);
    for line in flow.wrap(Style::LABEL, labels.scan_hint, CONTENT_WIDTH) {
        flow.text_centered(center, flow.y(), Style::LABEL, &line);
        flow.gap(Style::LABEL.line_height());
    }
    Ok(())
}

/// The words printed on a ticket, per language.
struct Labels {
    locale: Locale,
    tickets: &'static str,
    ticket: &'static str,
    section: &'static str,
    row: &'static str,
    seat: &'static str,
    price: &'static str,
    reference: &'static str,
    holder: &'static str,
    scan_hint: &'static str,
}

impl Labels {
    fn new(locale: Locale) -> Self {
        match locale {
            Locale::En => Self {
                locale,
                tickets: "Tickets",
                ticket: "E-ticket",
                section: "Section",
                row: "Row",
                seat: "Seat",
                price: "Price",
                reference: "Booking reference",
                holder: "Ticket holder",
                scan_hint: "Show this code at the entrance, printed or on your phone. \
                            Each code admits one person once.",
            },
            Locale::Vi => Self {
                locale,
                tickets: "Vé",
                ticket: "Vé điện tử",
                section: "Khu",
                row: "Hàng",
                seat: "Ghế",
                price: "Giá",
                reference: "Mã đặt chỗ",
                holder: "Người giữ vé",
                scan_hint: "Xuất trình mã này tại cửa vào, bản in hoặc trên điện thoại. \
                            Mỗi mã chỉ dùng cho một người, một lần.",
            },
        }
    }

    fn page(&self, n: usize, total: usize) -> String {
        match self.locale {
            Locale::En => format!("Ticket {n} of {total}"),
            Locale::Vi => format!("Vé {n}/{total}"),
        }
    }

    /// What a non-standard seat means for the holder; an unknown kind is printed as stored.
    fn seat_note(&self, kind: &str) -> Option<String> {
        let note = match (kind, self.locale) {
            ("standard", _) => return None,
            ("wheelchair", Locale::En) => "Wheelchair space",
            ("wheelchair", Locale::Vi) => "Chỗ dành cho xe lăn",
            ("companion", Locale::En) => "Companion seat, next to a wheelchair space",
            ("companion", Locale::Vi) => "Ghế người đi kèm, cạnh chỗ xe lăn",
            ("restricted", Locale::En) => "Restricted view",
            ("restricted", Locale::Vi) => "Tầm nhìn hạn chế",
            (other, _) => other,
        };
        Some(note.to_owned())
    }
}
