//! The documents as a buyer's PDF reader and the door scanner see them: parsed with lopdf,
//! rendered with poppler's `pdftoppm` and the QR decoded from the pixels with rqrr.

use std::path::Path;
use std::process::Command;

use lopdf::{Dictionary, Document, Object};

use super::*;

fn ticket(seat: i32, code: &str) -> TicketPage {
    TicketPage {
        event_title: "Vở kịch: Đời thừa".to_owned(),
        venue_name: "Nhà hát Sen Vàng".to_owned(),
        venue_address: "12 Đồng Khởi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh".to_owned(),
        starts_at: "Thứ Sáu, 27/11/2026 19:30".to_owned(),
        section: "Khán phòng".to_owned(),
        row: "C".to_owned(),
        number: seat,
        seat_kind: "standard".to_owned(),
        price: 1_250_000,
        currency: "VND".to_owned(),
        reference: "CUR-7K3Q9X".to_owned(),
        holder: "Nguyễn Thị Lan".to_owned(),
        code: code.to_owned(),
    }
}

fn three_tickets() -> Vec<TicketPage> {
    let mut tickets = vec![
        ticket(11, "tk1.Q2hY7pLm3Xv9TzR4kWc8NbJ6sDf0GaE5.u1Vx-Kq_3Z"),
        ticket(12, "tk1.Zr5Nc2Wq8Lp4Hx7Tb1Vm9Ks3Jd6Gf0Ya.e8Pt-Rw_7M"),
        ticket(13, "tk1.Mb4Ks9Gd2Xf7Wq1Lp6Zr3Vn8Hc5Jt0Ty.a2Qe-Uo_9B"),
    ];
    tickets[2].seat_kind = "wheelchair".to_owned();
    tickets
}

fn invoice(lines: usize) -> InvoiceDoc {
    let line = |i: usize| InvoiceLine {
        description: format!("Khán phòng · Hàng C · Ghế {i}"),
        quantity: 1,
        unit_price: 1_250_000,
        amount: 1_250_000,
    };
    InvoiceDoc {
        number: "2026-000042".to_owned(),
        issued_at: "27/11/2026 10:15".to_owned(),
        seller_name: "Nhà hát Sen Vàng".to_owned(),
        seller_address: "12 Đồng Khởi, Quận 1, TP. Hồ Chí Minh".to_owned(),
        buyer_name: "Nguyễn Thị Lan".to_owned(),
        buyer_email: "lan@example.com".to_owned(),
        reference: "CUR-7K3Q9X".to_owned(),
        event_title: "Vở kịch: Đời thừa".to_owned(),
        venue_name: "Nhà hát Sen Vàng".to_owned(),
        starts_at: "Thứ Sáu, 27/11/2026 19:30".to_owned(),
        lines: (1..=lines).map(line).collect(),
        total: 1_250_000 * lines as i64,
        currency: "VND".to_owned(),
        payment_method: "VNPAY (NCB)".to_owned(),
        transaction_no: Some("14422574".to_owned()),
        paid_at: Some("27/11/2026 10:14".to_owned()),
        refunded: 0,
    }
}

fn parse(pdf: &[u8]) -> Document {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    Document::load_mem(pdf).expect("lopdf parses the PDF")
}

fn page_text(doc: &Document, page: u32) -> String {
    doc.extract_text(&[page]).expect("text extracts")
}

/// Font descriptors that carry an embedded font program, by the font's name.
fn embedded_fonts(doc: &Document) -> Vec<String> {
    doc.objects
        .values()
        .filter_map(|object| match object {
            Object::Dictionary(dict) => Some(dict),
            _ => None,
        })
        .filter(|dict| dict.has_type(b"FontDescriptor"))
        .filter(|dict| dict.has(b"FontFile2") || dict.has(b"FontFile3"))
        .filter_map(|dict| dict.get(b"FontName").and_then(Object::as_name).ok())
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .collect()
}

fn info(doc: &Document) -> &Dictionary {
    let reference = doc.trailer.get(b"Info").and_then(Object::as_reference);
    doc.get_dictionary(reference.expect("an Info dictionary")).expect("Info resolves")
}

fn info_text(doc: &Document, key: &[u8]) -> String {
    lopdf::decode_text_string(info(doc).get(key).expect("key present")).expect("a text string")
}

#[test]
fn three_tickets_make_three_pages_with_the_font_embedded_and_vietnamese_text() {
    let pdf = tickets_pdf(&three_tickets(), Locale::Vi).unwrap();
    let doc = parse(&pdf);
    assert_eq!(doc.get_pages().len(), 3);

    let fonts = embedded_fonts(&doc);
    assert!(fonts.iter().any(|f| f.ends_with("+DejaVuSans")), "{fonts:?}");
    assert!(fonts.iter().any(|f| f.ends_with("+DejaVuSans-Bold")), "{fonts:?}");

    // lopdf decodes krilla's Identity-H text through the ToUnicode CMap, so this is the
    // text a reader copies or a screen reader speaks, diacritics included.
    for (page, seat) in [(1, "11"), (2, "12"), (3, "13")] {
        let text = page_text(&doc, page);
        for expected in [
            "Vở kịch: Đời thừa",
            "Nhà hát Sen Vàng",
            "Thứ Sáu, 27/11/2026 19:30",
            "Khu",
            "Hàng",
            "Ghế",
            seat,
            "Mã đặt chỗ",
            "CUR-7K3Q9X",
            "Nguyễn Thị Lan",
            "1.250.000 ₫",
            &format!("Vé {page}/3"),
        ] {
            assert!(text.contains(expected), "page {page} lacks {expected:?}:\n{text}");
        }
    }
    assert!(page_text(&doc, 3).contains("Chỗ dành cho xe lăn"));
    assert!(!page_text(&doc, 1).contains("xe lăn"));

    assert_eq!(info_text(&doc, b"Creator"), "Curtain");
    assert_eq!(info_text(&doc, b"Title"), "Vé — Vở kịch: Đời thừa (CUR-7K3Q9X)");
}

#[test]
fn english_tickets_use_english_labels() {
    let pdf = tickets_pdf(&three_tickets()[..1], Locale::En).unwrap();
    let text = page_text(&parse(&pdf), 1);
    for expected in ["Section", "Row", "Seat", "Price", "Booking reference", "1,250,000 VND", "Ticket 1 of 1"]
    {
        assert!(text.contains(expected), "lacks {expected:?}:\n{text}");
    }
}

#[test]
fn the_qr_code_on_page_two_scans_as_that_tickets_code() {
    let tickets = three_tickets();
    let pdf = tickets_pdf(&tickets, Locale::Vi).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tickets.pdf");
    std::fs::write(&file, &pdf).unwrap();

    let png = render_page(&file, 2);
    let image = image::open(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        image.width() as usize,
        image.height() as usize,
        |x, y| image.get_pixel(x as u32, y as u32).0[0],
    );
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page");
    let (_, content) = grids[0].decode().expect("the QR code decodes");
    assert_eq!(content, tickets[1].code);

    // The same code is printed under the symbol for manual entry.
    assert!(page_text(&parse(&pdf), 2).contains(&tickets[1].code));
}

/// Renders one page at 150 dpi, about what a phone camera sees of a printed ticket.
fn render_page(pdf: &Path, page: u32) -> std::path::PathBuf {
    let out = pdf.with_file_name("page");
    let page = page.to_string();
    let status = Command::new("pdftoppm")
        .args(["-r", "150", "-f", &page, "-l", &page, "-png", "-singlefile"])
        .arg(pdf)
        .arg(&out)
        .status()
        .unwrap_or_else(|err| {
            panic!(
                "cannot run pdftoppm ({err}): install poppler-utils \
                 (apt-get install -y --no-install-recommends poppler-utils)"
            )
        });
    assert!(status.success(), "pdftoppm failed: {status}");
    out.with_extension("png")
}

#[test]
fn no_tickets_is_an_error_not_an_empty_pdf() {
    let err = tickets_pdf(&[], Locale::En).unwrap_err();
    assert!(matches!(err, DocumentError::NoTickets), "{err}");
}

#[test]
fn a_very_long_title_and_address_stay_on_the_ticket_page() {
    let mut tickets = three_tickets();
    for t in &mut tickets {
        t.event_title = "Vở kịch: Đời thừa — ".repeat(20);
        t.venue_address = "Phường Bến Nghé, Quận 1, ".repeat(10);
        t.holder = "Nguyễn Thị Lan Hương ".repeat(6);
    }
    let pdf = tickets_pdf(&tickets, Locale::Vi).unwrap();
    let doc = parse(&pdf);
    assert_eq!(doc.get_pages().len(), 3);
    for page in 1..=3 {
        let text = page_text(&doc, page);
        assert!(text.contains('…'), "long title is cut visibly");
        assert!(text.contains(&tickets[page as usize - 1].code));
    }
}

#[test]
fn a_short_invoice_is_one_page_with_its_number_and_totals() {
    let pdf = invoice_pdf(&invoice(3), Locale::Vi).unwrap();
    let doc = parse(&pdf);
    assert_eq!(doc.get_pages().len(), 1);
    let text = page_text(&doc, 1);
    for expected in [
        "Hóa đơn",
        "2026-000042",
        "Biên nhận — không phải hóa đơn điện tử",
        "Nguyễn Thị Lan",
        "Khán phòng · Hàng C · Ghế 3",
        "Tổng cộng",
        "3.750.000 ₫",
        "VNPAY (NCB)",
        "14422574",
        "Trang 1/1",
    ] {
        assert!(text.contains(expected), "lacks {expected:?}:\n{text}");
    }
    assert!(!text.contains("Đã hoàn tiền"), "no refund line without a refund");
    assert!(!embedded_fonts(&doc).is_empty());
    assert_eq!(info_text(&doc, b"Title"), "Hóa đơn 2026-000042");
}

#[test]
fn a_partly_refunded_invoice_shows_the_refund_and_the_net() {
    let mut doc = invoice(2);
    doc.refunded = 1_250_000;
    let pdf = invoice_pdf(&doc, Locale::En).unwrap();
    let text = page_text(&parse(&pdf), 1);
    for expected in [
        "Receipt — not a VAT e-invoice",
        "Total",
        "2,500,000 VND",
        "Refunded",
        "-1,250,000 VND",
        "Net paid",
        "Page 1 of 1",
    ] {
        assert!(text.contains(expected), "lacks {expected:?}:\n{text}");
    }
}

#[test]
fn forty_lines_flow_onto_a_second_page_with_the_header_repeated() {
    let pdf = invoice_pdf(&invoice(40), Locale::En).unwrap();
    let doc = parse(&pdf);
    let pages = doc.get_pages().len() as u32;
    assert!(pages >= 2, "{pages} page(s)");
    let first = page_text(&doc, 1);
    let last = page_text(&doc, pages);
    assert!(first.contains("Ghế 1") && !first.contains("Ghế 40"));
    assert!(last.contains("Ghế 40"), "the last line is on the last page:\n{last}");
    assert!(last.contains("Description (continued)"));
    assert!(last.contains("50,000,000 VND"), "the total follows the lines");
    assert!(last.contains(&format!("Page {pages} of {pages}")));
}
