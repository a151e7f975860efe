//! The payment receipt: what was bought, for how much, how it was paid and what was refunded,
//! under a gapless number. It is deliberately not a Vietnamese VAT e-invoice (hóa đơn điện
//! tử), which only a registered provider may issue; the page says so.

use super::layout::{self, CONTENT_WIDTH, Flow, Ink, MARGIN, RIGHT, Style};
use super::{DocumentError, amount};
use crate::mail::templates::Locale;

/// One line of the receipt, usually one seat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceLine {
    /// e.g. "Orchestra · Row C · Seat 12".
    pub description: String,
    pub quantity: u32,
    /// Integer minor units, like every amount here.
    pub unit_price: i64,
    pub amount: i64,
}

/// Everything a receipt prints. Dates arrive formatted so the receipt matches the web page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceDoc {
    /// The gapless receipt number, e.g. "2026-000042".
    pub number: String,
    pub issued_at: String,
    /// "Curtain" or the venue selling the tickets.
    pub seller_name: String,
    pub seller_address: String,
    pub buyer_name: String,
    pub buyer_email: String,
    /// The booking reference.
    pub reference: String,
    pub event_title: String,
    pub venue_name: String,
    pub starts_at: String,
    pub lines: Vec<InvoiceLine>,
    pub total: i64,
    pub currency: String,
    /// e.g. "VNPAY (NCB)".
    pub payment_method: String,
    pub transaction_no: Option<String>,
    pub paid_at: Option<String>,
    /// Refunded so far; when positive the receipt shows it and the net amount kept.
    pub refunded: i64,
}

/// Renders the receipt in the buyer's language; many lines flow onto further pages with
/// the table header repeated.
pub fn invoice_pdf(doc: &InvoiceDoc, locale: Locale) -> Result<Vec<u8>, DocumentError> {
    let labels = Labels::new(locale);
    let mut flow = Flow::new()?;
    header(&mut flow, doc, &labels);
    parties(&mut flow, doc, &labels);
    booking(&mut flow, doc, &labels);
    lines_table(&mut flow, doc, &labels, locale);
    totals(&mut flow, doc, &labels, locale);
    payment(&mut flow, doc, &labels);
    let pages = flow.finish(&format!("Curtain · {}", doc.number), |n, total| labels.page(n, total));
    let title = format!("{} {}", labels.invoice, doc.number);
    layout::render(&pages, &title, locale.as_str())
}

/// Room for the longest label ("Booking reference", "Phương thức thanh toán").
const LABEL_WIDTH: f32 = 150.0;
/// Right edges of the numeric columns, and the description column's width.
const AMOUNT_RIGHT: f32 = RIGHT;
const UNIT_RIGHT: f32 = AMOUNT_RIGHT - 105.0;
const QTY_RIGHT: f32 = UNIT_RIGHT - 95.0;
const DESCRIPTION_WIDTH: f32 = QTY_RIGHT - 50.0 - MARGIN;

fn header(flow: &mut Flow, doc: &InvoiceDoc, labels: &Labels) {
    let top = flow.y();
    flow.text_at(MARGIN, top, Style::TITLE, labels.invoice);
    flow.text_right(RIGHT, top, Style::LABEL, labels.number);
    let number = Style::HEADING.sized(14.0);
    flow.text_right(RIGHT, top + Style::LABEL.line_height(), number, &doc.number);
    flow.gap(Style::TITLE.line_height());
    flow.paragraph(MARGIN, CONTENT_WIDTH, Style::LABEL, labels.not_vat, 2);
    flow.rule(Ink::Light);
}

/// Seller on the left, buyer on the right.
fn parties(flow: &mut Flow, doc: &InvoiceDoc, labels: &Labels) {
    let half = CONTENT_WIDTH / 2.0;
    let top = flow.y();
    let columns = [
        (MARGIN, labels.seller, &doc.seller_name, &doc.seller_address),
        (MARGIN + half, labels.buyer, &doc.buyer_name, &doc.buyer_email),
    ];
    let mut bottom = top;
    for (x, label, name, detail) in columns {
        flow.set_y(top);
        flow.text_at(x, top, Style::LABEL, label);
        flow.gap(Style::LABEL.line_height());
        flow.paragraph(x, half - 12.0, Style::STRONG, name, 2);
        flow.paragraph(x, half - 12.0, Style::BODY, detail, 3);
        bottom = bottom.max(flow.y());
    }
    flow.set_y(bottom);
    flow.gap(10.0);
}

fn booking(flow: &mut Flow, doc: &InvoiceDoc, labels: &Labels) {
    flow.labelled(labels.issued, &doc.issued_at, LABEL_WIDTH);
    flow.labelled(labels.reference, &doc.reference, LABEL_WIDTH);
    flow.labelled(labels.event, &doc.event_title, LABEL_WIDTH);
    flow.labelled(labels.venue, &doc.venue_name, LABEL_WIDTH);
    flow.labelled(labels.performance, &doc.starts_at, LABEL_WIDTH);
    flow.gap(14.0);
}

fn lines_table(flow: &mut Flow, doc: &InvoiceDoc, labels: &Labels, locale: Locale) {
    table_header(flow, labels, false);
    for line in &doc.lines {
        let described = flow.wrap(Style::BODY, &line.description, DESCRIPTION_WIDTH);
        let described = flow.clamp_lines(Style::BODY, described, 3, DESCRIPTION_WIDTH);
        let height = described.len() as f32 * Style::BODY.line_height() + 8.0;
        if flow.ensure(height) {
            table_header(flow, labels, true);
        }
        let top = flow.y() + 4.0;
        for (i, text) in described.iter().enumerate() {
            let line_top = top + i as f32 * Style::BODY.line_height();
            flow.text_at(MARGIN, line_top, Style::BODY, text);
        }
        flow.text_right(QTY_RIGHT, top, Style::BODY, &line.quantity.to_string());
        let unit = amount(line.unit_price, &doc.currency, locale);
        flow.text_right(UNIT_RIGHT, top, Style::BODY, &unit);
        let total = amount(line.amount, &doc.currency, locale);
        flow.text_right(AMOUNT_RIGHT, top, Style::BODY, &total);
        flow.set_y(top + height - 4.0);
        flow.rects(Ink::Light, vec![[MARGIN, flow.y(), CONTENT_WIDTH, 0.5]]);
    }
}

fn table_header(flow: &mut Flow, labels: &Labels, continued: bool) {
    let style = Style::STRONG.sized(9.0);
    flow.ensure(3.0 * style.line_height());
    let top = flow.y();
    let description = if continued {
        format!("{} {}", labels.description, labels.continued)
    } else {
        labels.description.to_owned()
    };
    flow.text_at(MARGIN, top, style, &description);
    flow.text_right(QTY_RIGHT, top, style, labels.quantity);
    flow.text_right(UNIT_RIGHT, top, style, labels.unit_price);
    flow.text_right(AMOUNT_RIGHT, top, style, labels.amount);
    flow.set_y(top + style.line_height() + 2.0);
    flow.rects(Ink::Black, vec![[MARGIN, flow.y(), CONTENT_WIDTH, 0.75]]);
}

/// Total, and when money went back, the refund and the net kept, right-aligned under the
/// amount column.
fn totals(flow: &mut Flow, doc: &InvoiceDoc, labels: &Labels, locale: Locale) {
    let strong = Style::STRONG.sized(12.0);
    let mut rows = vec![(labels.total, doc.total, strong)];
    if doc.refunded > 0 {
        rows.push((labels.refunded, -doc.refunded, Style::BODY.sized(12.0)));
        rows.push((labels.net, doc.total - doc.refunded, strong));
    }
    flow.gap(8.0);
    flow.ensure(rows.len() as f32 * strong.line_height() + 8.0);
    for (label, value, style) in rows {
        let top = flow.y();
        flow.text_right(UNIT_RIGHT, top, style, label);
        flow.text_right(AMOUNT_RIGHT, top, style, &amount(value, &doc.currency, locale));
        flow.gap(style.line_height());
    }
    flow.gap(16.0);
}

fn payment(flow: &mut Flow, doc: &InvoiceDoc, labels: &Labels) {
    flow.ensure(4.0 * Style::STRONG.line_height());
    flow.labelled(labels.method, &doc.payment_method, LABEL_WIDTH);
    if let Some(transaction) = &doc.transaction_no {
        flow.labelled(labels.transaction, transaction, LABEL_WIDTH);
    }
    if let Some(paid_at) = &doc.paid_at {
        flow.labelled(labels.paid_at, paid_at, LABEL_WIDTH);
    }
}

/// The words printed on a receipt, per language.
struct Labels {
    locale: Locale,
    invoice: &'static str,
    number: &'static str,
    not_vat: &'static str,
    seller: &'static str,
    buyer: &'static str,
    issued: &'static str,
    reference: &'static str,
    event: &'static str,
    venue: &'static str,
    performance: &'static str,
    description: &'static str,
    continued: &'static str,
    quantity: &'static str,
    unit_price: &'static str,
    amount: &'static str,
    total: &'static str,
    refunded: &'static str,
    net: &'static str,
    method: &'static str,
    transaction: &'static str,
    paid_at: &'static str,
}

impl Labels {
    fn new(locale: Locale) -> Self {
        match locale {
            Locale::En => Self {
                locale,
                invoice: "Invoice",
                number: "No.",
                not_vat: "Receipt — not a VAT e-invoice",
                seller: "Seller",
                buyer: "Billed to",
                issued: "Issued",
                reference: "Booking reference",
                event: "Event",
                venue: "Venue",
                performance: "Performance",
                description: "Description",
                continued: "(continued)",
                quantity: "Qty",
                unit_price: "Unit price",
                amount: "Amount",
                total: "Total",
                refunded: "Refunded",
                net: "Net paid",
                method: "Payment method",
                transaction: "Transaction no.",
                paid_at: "Paid at",
            },
            Locale::Vi => Self {
                locale,
                invoice: "Hóa đơn",
                number: "Số",
                not_vat: "Biên nhận — không phải hóa đơn điện tử",
                seller: "Bên bán",
                buyer: "Khách hàng",
                issued: "Ngày lập",
                reference: "Mã đặt chỗ",
                event: "Sự kiện",
                venue: "Địa điểm",
                performance: "Suất diễn",
                description: "Nội dung",
                continued: "(tiếp theo)",
                quantity: "SL",
                unit_price: "Đơn giá",
                amount: "Thành tiền",
                total: "Tổng cộng",
                refunded: "Đã hoàn tiền",
                net: "Thực thu",
                method: "Phương thức thanh toán",
                transaction: "Mã giao dịch",
                paid_at: "Thanh toán lúc",
            },
        }
    }

    fn page(&self, n: usize, total: usize) -> String {
        match self.locale {
            Locale::En => format!("Page {n} of {total}"),
            Locale::Vi => format!("Trang {n}/{total}"),
        }
    }
}
