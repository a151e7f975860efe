//! A small display list for A4 documents. `Flow` places text and shapes top to bottom, wraps
//! lines by measured width and starts a new page when the next block would not fit; `render`
//! then draws the finished pages with krilla. Laying out before drawing is what lets a footer
//! say "page 1 of 3" and keeps pagination testable without parsing a PDF.

use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};

use super::DocumentError;
use super::fonts::{Metrics, Weight};

/// A4 in points.
pub(super) const PAGE_WIDTH: f32 = 595.28;
pub(super) const PAGE_HEIGHT: f32 = 841.89;
pub(super) const MARGIN: f32 = 56.0;
pub(super) const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
pub(super) const RIGHT: f32 = PAGE_WIDTH - MARGIN;
/// Content stops here; the footer lives below.
const BOTTOM: f32 = PAGE_HEIGHT - MARGIN;
const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 32.0;

/// How dark a mark is printed (0 = black, 255 = white).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ink {
    Black,
    Gray,
    Light,
}

impl Ink {
    fn fill(self) -> Fill {
        let lightness = match self {
            Self::Black => 0,
            Self::Gray => 100,
            Self::Light => 200,
        };
        Fill { paint: luma::Color::new(lightness).into(), ..Fill::default() }
    }
}

/// A font, a size and an ink.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Style {
    pub weight: Weight,
    pub size: f32,
    pub ink: Ink,
}

impl Style {
    pub(super) const TITLE: Self = Self::new(Weight::Bold, 24.0, Ink::Black);
    pub(super) const HEADING: Self = Self::new(Weight::Bold, 12.0, Ink::Black);
    pub(super) const BODY: Self = Self::new(Weight::Regular, 11.0, Ink::Black);
    pub(super) const STRONG: Self = Self::new(Weight::Bold, 11.0, Ink::Black);
    pub(super) const LABEL: Self = Self::new(Weight::Regular, 9.0, Ink::Gray);
    pub(super) const SMALL: Self = Self::new(Weight::Regular, 8.0, Ink::Gray);

    pub(super) const fn new(weight: Weight, size: f32, ink: Ink) -> Self {
        Self { weight, size, ink }
    }

    pub(super) const fn sized(self, size: f32) -> Self {
        Self { size, ..self }
    }

    pub(super) const fn with_ink(self, ink: Ink) -> Self {
        Self { ink, ..self }
    }

    /// Distance from one baseline to the next.
    pub(super) fn line_height(self) -> f32 {
        self.size * 1.35
    }

    /// Distance from the top of a line box to its baseline.
    fn ascent(self) -> f32 {
        self.size * 1.05
    }
}

/// One thing drawn on a page. Coordinates are points from the top-left corner.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Mark {
    Text {
        x: f32,
        baseline: f32,
        style: Style,
        text: String,
    },
    /// Filled rectangles (rules, QR modules) as one path: (x, y, width, height).
    Rects {
        ink: Ink,
        rects: Vec<[f32; 4]>,
    },
}

/// The pages of a document, laid out and ready to draw.
pub(super) type Pages = Vec<Vec<Mark>>;

/// The layout cursor: where the next line goes, on which page.
pub(super) struct Flow {
    metrics: Metrics,
    pages: Pages,
    y: f32,
}

impl Flow {
    pub(super) fn new() -> Result<Self, DocumentError> {
        Ok(Self { metrics: Metrics::load()?, pages: vec![Vec::new()], y: MARGIN })
    }

    /// The top of the next line on the current page.
    pub(super) fn y(&self) -> f32 {
        self.y
    }

    pub(super) fn set_y(&mut self, y: f32) {
        self.y = y;
    }

    pub(super) fn gap(&mut self, height: f32) {
        self.y += height;
    }

    pub(super) fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Starts a new page unless `height` more points fit on this one; says whether it did.
    pub(super) fn ensure(&mut self, height: f32) -> bool {
        let fits = self.y + height <= BOTTOM;
        let page_is_empty = self.pages.last().is_none_or(Vec::is_empty);
        if fits || page_is_empty {
            return false;
        }
        self.new_page();
        true
    }

    fn push(&mut self, mark: Mark) {
        if let Some(page) = self.pages.last_mut() {
            page.push(mark);
        }
    }

    pub(super) fn width(&self, style: Style, text: &str) -> f32 {
        self.metrics.width(style.weight, style.size, text)
    }

    /// Places `text` with its line box top at `top`, left-aligned at `x`, without moving the
    /// cursor.
    pub(super) fn text_at(&mut self, x: f32, top: f32, style: Style, text: &str) {
        self.push(text_mark(x, top, style, text));
    }

    /// Like [`Flow::text_at`], right-aligned to `right`.
    pub(super) fn text_right(&mut self, right: f32, top: f32, style: Style, text: &str) {
        let x = right - self.width(style, text);
        self.text_at(x, top, style, text);
    }

    fn right_mark(&self, right: f32, top: f32, style: Style, text: &str) -> Mark {
        text_mark(right - self.width(style, text), top, style, text)
    }

    /// Like [`Flow::text_at`], centred on `center`.
    pub(super) fn text_centered(&mut self, center: f32, top: f32, style: Style, text: &str) {
        let x = center - self.width(style, text) / 2.0;
        self.text_at(x, top, style, text);
    }

    /// Breaks `text` into lines no wider than `width`, at spaces where possible; a single
    /// word wider than the line (an e-mail address, a code) is broken between characters.
    pub(super) fn wrap(&self, style: Style, text: &str, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
            if self.width(style, &candidate) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let mut pieces = self.break_word(style, word, width);
            line = pieces.pop().unwrap_or_default();
            lines.extend(pieces);
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }

    fn break_word(&self, style: Style, word: &str, width: f32) -> Vec<String> {
        let mut pieces = Vec::new();
        let mut piece = String::new();
        for c in word.chars() {
            piece.push(c);
            if self.width(style, &piece) > width && piece.chars().count() > 1 {
                piece.pop();
                pieces.push(std::mem::replace(&mut piece, c.to_string()));
            }
        }
        pieces.push(piece);
        pieces
    }

    /// Keeps at most `max` lines, ending the last kept one with "…" so a cut is visible.
    pub(super) fn clamp_lines(
        &self,
        style: Style,
        mut lines: Vec<String>,
        max: usize,
        width: f32,
    ) -> Vec<String> {
        if lines.len() <= max {
            return lines;
        }
        lines.truncate(max);
        if let Some(last) = lines.last_mut() {
            while !last.is_empty() && self.width(style, &format!("{last}…")) > width {
                last.pop();
            }
            let kept = last.trim_end().len();
            last.truncate(kept);
            last.push('…');
        }
        lines
    }

    /// Writes wrapped `text` at `x` in a column `width` wide, at most `max_lines` lines,
    /// moving the cursor below it; each line goes to a new page if it would not fit.
    pub(super) fn paragraph(&mut self, x: f32, width: f32, style: Style, text: &str, max_lines: usize) {
        let lines = self.wrap(style, text, width);
        for line in self.clamp_lines(style, lines, max_lines, width) {
            self.ensure(style.line_height());
            self.text_at(x, self.y, style, &line);
            self.y += style.line_height();
        }
    }

    /// A gray label with its value beside it (wrapped to two lines), as on a form.
    pub(super) fn labelled(&mut self, label: &str, value: &str, label_width: f32) {
        self.ensure(Style::STRONG.line_height());
        let top = self.y;
        self.text_at(MARGIN, top + 2.0, Style::LABEL, label);
        let width = CONTENT_WIDTH - label_width;
        self.paragraph(MARGIN + label_width, width, Style::STRONG, value, 2);
        self.y += 3.0;
    }

    /// A horizontal rule across the content width at the cursor, with room around it.
    pub(super) fn rule(&mut self, ink: Ink) {
        self.y += 6.0;
        self.rects(ink, vec![[MARGIN, self.y, CONTENT_WIDTH, 0.75]]);
        self.y += 10.0;
    }

    pub(super) fn rects(&mut self, ink: Ink, rects: Vec<[f32; 4]>) {
        self.push(Mark::Rects { ink, rects });
    }

    /// Ends the layout, adding to every page a footer: `left` and "page n of total" as
    /// `right(n, total)` computes it.
    pub(super) fn finish(self, left: &str, right: impl Fn(usize, usize) -> String) -> Pages {
        let total = self.pages.len();
        let top = FOOTER_BASELINE - Style::SMALL.ascent();
        let footers: Vec<[Mark; 2]> = (1..=total)
            .map(|n| {
                [
                    text_mark(MARGIN, top, Style::SMALL, left),
                    self.right_mark(RIGHT, top, Style::SMALL, &right(n, total)),
                ]
            })
            .collect();
        let mut pages = self.pages;
        for (marks, footer) in pages.iter_mut().zip(footers) {
            marks.extend(footer);
        }
        pages
    }
}

fn text_mark(x: f32, top: f32, style: Style, text: &str) -> Mark {
    Mark::Text { x, baseline: top + style.ascent(), style, text: text.to_owned() }
}

/// Draws laid-out pages into a PDF with the document's title and language.
pub(super) fn render(pages: &Pages, title: &str, language: &str) -> Result<Vec<u8>, DocumentError> {
    let fonts = [Weight::Regular.pdf_font()?, Weight::Bold.pdf_font()?];
    let mut document = Document::new_with(SerializeSettings::default());
    document.set_metadata(
        Metadata::new().title(title.to_owned()).creator("Curtain".to_owned()).language(language.to_owned()),
    );
    for marks in pages {
        let settings =
            PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or(DocumentError::Layout("page size"))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for mark in marks {
            draw(&mut surface, mark, &fonts)?;
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|err| DocumentError::Pdf(err.to_string()))
}

fn draw(surface: &mut Surface<'_>, mark: &Mark, fonts: &[Font; 2]) -> Result<(), DocumentError> {
    match mark {
        Mark::Text { x, baseline, style, text } => {
            let [regular, bold] = fonts;
            let font = match style.weight {
                Weight::Regular => regular,
                Weight::Bold => bold,
            };
            surface.set_fill(Some(style.ink.fill()));
            surface.draw_text(
                Point::from_xy(*x, *baseline),
                font.clone(),
                style.size,
                text,
                false,
                TextDirection::Auto,
            );
        }
        Mark::Rects { ink, rects } => {
            let mut builder = PathBuilder::new();
            for &[x, y, width, height] in rects {
                let rect =
                    Rect::from_xywh(x, y, width, height).ok_or(DocumentError::Layout("empty rectangle"))?;
                builder.push_rect(rect);
            }
            if let Some(path) = builder.finish() {
                surface.set_fill(Some(ink.fill()));
                surface.draw_path(&path);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_lines_fit_the_column_and_keep_every_word() {
        let flow = Flow::new().unwrap();
        let text = "Vở kịch: Đời thừa — một câu chuyện rất dài về những người nghệ sĩ nghèo \
                    ở Hà Nội những năm 1940";
        let lines = flow.wrap(Style::TITLE, text, 200.0);
        assert!(lines.len() > 2);
        for line in &lines {
            assert!(flow.width(Style::TITLE, line) <= 200.0, "{line}");
        }
        assert_eq!(lines.join(" "), text);
    }

    #[test]
    fn a_word_wider_than_the_column_is_broken_not_overflowed() {
        let flow = Flow::new().unwrap();
        let word = "lan.nguyen.thi.hoa.very.long.mailbox@example-theatre-company.vn";
        let lines = flow.wrap(Style::BODY, word, 100.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| flow.width(Style::BODY, l) <= 100.0));
        assert_eq!(lines.concat(), word);
    }

    #[test]
    fn clamped_lines_end_with_an_ellipsis_within_the_width() {
        let flow = Flow::new().unwrap();
        let lines = flow.wrap(Style::BODY, &"Sen Vàng ".repeat(40), 120.0);
        let clamped = flow.clamp_lines(Style::BODY, lines, 2, 120.0);
        assert_eq!(clamped.len(), 2);
        assert!(clamped[1].ends_with('…'));
        assert!(flow.width(Style::BODY, &clamped[1]) <= 120.0);
    }

    #[test]
    fn a_long_paragraph_continues_on_a_new_page() {
        let mut flow = Flow::new().unwrap();
        flow.paragraph(MARGIN, CONTENT_WIDTH, Style::BODY, &"Ghế ".repeat(2000), usize::MAX);
        let pages = flow.finish("Curtain", |n, total| format!("{n}/{total}"));
        assert!(pages.len() > 1);
        for marks in &pages {
            for mark in marks {
                if let Mark::Text { baseline, .. } = mark {
                    assert!(*baseline < PAGE_HEIGHT - 20.0 && *baseline > MARGIN);
                }
            }
        }
        let last_footer = pages.last().unwrap().last().unwrap();
        let expected = format!("{}/{}", pages.len(), pages.len());
        assert!(matches!(last_footer, Mark::Text { text, .. } if *text == expected));
    }
}
