//! The seat-layout generator: turns a section's description (rows, numbering, aisles, curve) into
//! seats with row labels, numbers and map positions, as a theater's staff would draw them.
//!
//! Conventions: row 0 is nearest the stage and sits at `origin.y`; y grows away from the stage.
//! Rows shorter than the widest are centred. An aisle after a seat leaves one seat-width gap and
//! also a gap in `position`, so two seats are neighbours exactly when positions differ by one.
//! With `curve_degrees`, rows are concentric arcs around a point on the stage side, the widest
//! row spanning that many degrees.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{AppError, ErrorItem};

/// Largest section the generator accepts in one request (a stadium tier).
pub const MAX_SEATS: usize = 100_000;
const MAX_ROWS: u32 = 1_000;
const MAX_ROW_LENGTH: u32 = 1_000;

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Numbering {
    /// 1, 2, 3 … from the left as seen from the audience.
    #[default]
    Ltr,
    /// 1, 2, 3 … from the right.
    Rtl,
    /// Odd numbers on the left half and even on the right, both growing outwards from the centre.
    OddEven,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, ToSchema)]
pub struct Point {
    #[schema(minimum = -1000000, maximum = 1000000)]
    pub x: f64,
    #[schema(minimum = -1000000, maximum = 1000000)]
    pub y: f64,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LayoutSpec {
    #[schema(minimum = 1, maximum = 1000)]
    pub rows: Option<u32>,
    #[schema(minimum = 1, maximum = 1000)]
    pub seats_per_row: Option<u32>,
    /// One length per row, front to back; instead of `rows` × `seats_per_row`.
    #[schema(schema_with = crate::openapi::fields::row_lengths)]
    pub row_lengths: Option<Vec<u32>>,
    /// Label of the front row (default `A`); later rows follow A…Z, AA, AB….
    #[schema(pattern = "^[A-Z]{1,3}$")]
    pub first_row: Option<String>,
    pub numbering: Option<Numbering>,
    #[schema(minimum = 1, maximum = 10000)]
    pub start_number: Option<u32>,
    /// Seat positions in a row (1-based, from the left) after which an aisle runs.
    #[schema(schema_with = crate::openapi::fields::aisles_after)]
    pub aisles_after: Option<Vec<u32>>,
    #[schema(minimum = 0, maximum = 180)]
    pub curve_degrees: Option<f64>,
    pub origin: Option<Point>,
    #[schema(minimum = 1, maximum = 1000)]
    pub seat_spacing: Option<f64>,
    #[schema(minimum = 1, maximum = 1000)]
    pub row_spacing: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GeneratedSeat {
    pub row_label: String,
    pub row_index: i32,
    pub number: i32,
    pub position: i32,
    pub x: f64,
    pub y: f64,
}

impl LayoutSpec {
    /// The seats this layout describes, or every problem with it, fields named `layout.*`.
    pub fn generate(&self) -> Result<Vec<GeneratedSeat>, AppError> {
        let mut errors = Vec::new();
        let fail = |errors: &mut Vec<ErrorItem>, field: &str, msg: &str| {
            errors.push(ErrorItem::field(&format!("layout.{field}"), msg))
        };

        let lengths: Vec<u32> = match (&self.row_lengths, self.rows, self.seats_per_row) {
            (Some(lengths), None, None) => lengths.clone(),
            (None, Some(rows), Some(per_row)) => vec![per_row; rows as usize],
            (Some(_), _, _) => {
                fail(
                    &mut errors,
                    "row_lengths",
                    "give either row_lengths or rows with seats_per_row, not both",
                );
                Vec::new()
            }
            _ => {
                fail(&mut errors, "rows", "give rows and seats_per_row, or row_lengths");
                Vec::new()
            }
        };
        if lengths.is_empty() && errors.is_empty() {
            fail(&mut errors, "rows", "a section needs at least one row");
        }
        if lengths.len() > MAX_ROWS as usize {
            fail(&mut errors, "rows", &format!("at most {MAX_ROWS} rows"));
        }
        if lengths.iter().any(|&n| n == 0 || n > MAX_ROW_LENGTH) {
            fail(&mut errors, "seats_per_row", &format!("every row needs 1 to {MAX_ROW_LENGTH} seats"));
        }
        let total: usize = lengths.iter().map(|&n| n as usize).sum();
        if total > MAX_SEATS {
            fail(&mut errors, "rows", &format!("at most {MAX_SEATS} seats in one section"));
        }
        let first_row = self.first_row.as_deref().unwrap_or("A");
        let first_index = row_index_of(first_row);
        if first_index.is_none() {
            fail(&mut errors, "first_row", "must be letters A–Z, like A or AA");
        }
        let start_number = self.start_number.unwrap_or(1);
        if start_number == 0 || start_number > 10_000 {
            fail(&mut errors, "start_number", "must be between 1 and 10000");
        }
        let mut aisles = self.aisles_after.clone().unwrap_or_default();
        aisles.sort_unstable();
        aisles.dedup();
        let widest = lengths.iter().copied().max().unwrap_or(0);
        if aisles.iter().any(|&a| a == 0 || a >= widest.max(1)) {
            fail(
                &mut errors,
                "aisles_after",
                "aisle positions must lie between the first and the last seat of a row",
            );
        }
        let curve = self.curve_degrees.unwrap_or(0.0);
        if !(0.0..=180.0).contains(&curve) {
            fail(&mut errors, "curve_degrees", "must be between 0 and 180");
        }
        let seat_spacing = self.seat_spacing.unwrap_or(30.0);
        let row_spacing = self.row_spacing.unwrap_or(36.0);
        if !(1.0..=1000.0).contains(&seat_spacing) {
            fail(&mut errors, "seat_spacing", "must be between 1 and 1000");
        }
        if !(1.0..=1000.0).contains(&row_spacing) {
            fail(&mut errors, "row_spacing", "must be between 1 and 1000");
        }
        let origin = self.origin.unwrap_or(Point { x: 0.0, y: 0.0 });
        if !origin.x.is_finite() || !origin.y.is_finite() || origin.x.abs() > 1e6 || origin.y.abs() > 1e6 {
            fail(&mut errors, "origin", "must be finite coordinates within ±1000000");
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let first_index = first_index.unwrap_or(0);
        let numbering = self.numbering.unwrap_or_default();

        // Width of a row in seat slots, aisles included.
        let slots = |len: u32| len + aisles.iter().filter(|&&a| a < len).count() as u32;
        let widest_slots = slots(widest);
        let geometry = Geometry::new(origin, seat_spacing, row_spacing, curve, widest_slots);

        let mut seats = Vec::with_capacity(total);
        for (row, &len) in lengths.iter().enumerate() {
            let label = row_label(first_index + row);
            let offset = f64::from(widest_slots - slots(len)) / 2.0;
            let mut position = 0u32;
            for seat in 0..len {
                let number = seat_number(numbering, start_number, len, seat);
                let (x, y) = geometry.place(row, offset + f64::from(position));
                seats.push(GeneratedSeat {
                    row_label: label.clone(),
                    row_index: row as i32,
                    number: number as i32,
                    position: position as i32,
                    x,
                    y,
                });
                position += 1;
                if aisles.binary_search(&(seat + 1)).is_ok() && seat + 1 < len {
                    position += 1;
                }
            }
        }
        Ok(seats)
    }
}

/// Number of the seat at `index` (0-based from the left) in a row of `len` seats.
fn seat_number(numbering: Numbering, start: u32, len: u32, index: u32) -> u32 {
    match numbering {
        Numbering::Ltr => start + index,
        Numbering::Rtl => start + (len - 1 - index),
        Numbering::OddEven => {
            // The left half (the larger one when the row is odd) takes odd numbers, growing
            // outwards from the centre; the right half takes even ones.
            let left = len.div_ceil(2);
            let first_odd = if start.is_multiple_of(2) { start + 1 } else { start };
            let first_even = if start.is_multiple_of(2) { start } else { start + 1 };
            if index < left { first_odd + 2 * (left - 1 - index) } else { first_even + 2 * (index - left) }
        }
    }
}

struct Geometry {
    origin: Point,
    seat_spacing: f64,
    row_spacing: f64,
    /// Radius of the front row's arc; `None` for straight rows.
    front_radius: Option<f64>,
    centre_slot: f64,
}

impl Geometry {
    fn new(
        origin: Point,
        seat_spacing: f64,
        row_spacing: f64,
        curve_degrees: f64,
        widest_slots: u32,
    ) -> Self {
        let span = f64::from(widest_slots.saturating_sub(1)) * seat_spacing;
        let front_radius = (curve_degrees > 0.0 && span > 0.0).then(|| span / curve_degrees.to_radians());
        Self {
            origin,
            seat_spacing,
            row_spacing,
            front_radius,
            centre_slot: f64::from(widest_slots.saturating_sub(1)) / 2.0,
        }
    }

    /// Map coordinates of the seat in slot `slot` (0 = leftmost slot of the widest row) of `row`.
    fn place(&self, row: usize, slot: f64) -> (f64, f64) {
        let from_centre = (slot - self.centre_slot) * self.seat_spacing;
        let depth = row as f64 * self.row_spacing;
        let centre_x = self.origin.x + self.centre_slot * self.seat_spacing;
        let (x, y) = match self.front_radius {
            None => (centre_x + from_centre, self.origin.y + depth),
            Some(front) => {
                // Same seat spacing along every arc: the angle per seat shrinks as rows recede.
                let radius = front + depth;
                let angle = from_centre / radius;
                let centre_y = self.origin.y - front;
                (centre_x + radius * angle.sin(), centre_y + radius * angle.cos())
            }
        };
        (round2(x), round2(y))
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// `A` → 0, `Z` → 25, `AA` → 26 (bijective base 26, like spreadsheet columns).
pub fn row_index_of(label: &str) -> Option<usize> {
    if label.is_empty() || label.len() > 3 || !label.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    Some(label.bytes().fold(0usize, |acc, b| acc * 26 + usize::from(b - b'A') + 1) - 1)
}

/// 0 → `A`, 25 → `Z`, 26 → `AA`, 27 → `AB`.
pub fn row_label(mut index: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(rows: u32, per_row: u32) -> LayoutSpec {
        LayoutSpec { rows: Some(rows), seats_per_row: Some(per_row), ..Default::default() }
    }

    fn row<'a>(seats: &'a [GeneratedSeat], label: &str) -> Vec<&'a GeneratedSeat> {
        seats.iter().filter(|s| s.row_label == label).collect()
    }

    #[test]
    fn row_labels_run_past_z() {
        assert_eq!(row_label(0), "A");
        assert_eq!(row_label(25), "Z");
        assert_eq!(row_label(26), "AA");
        assert_eq!(row_label(27), "AB");
        assert_eq!(row_label(701), "ZZ");
        assert_eq!(row_label(702), "AAA");
        for i in [0, 5, 25, 26, 51, 52, 700, 702] {
            assert_eq!(row_index_of(&row_label(i)), Some(i));
        }
        assert_eq!(row_index_of("a"), None);
    }

    #[test]
    fn straight_rows_left_to_right() {
        let seats = spec(2, 3).generate().unwrap();
        let got: Vec<_> = seats.iter().map(|s| (s.row_label.as_str(), s.number, s.x, s.y)).collect();
        assert_eq!(
            got,
            [
                ("A", 1, 0.0, 0.0),
                ("A", 2, 30.0, 0.0),
                ("A", 3, 60.0, 0.0),
                ("B", 1, 0.0, 36.0),
                ("B", 2, 30.0, 36.0),
                ("B", 3, 60.0, 36.0)
            ]
        );
    }

    #[test]
    fn right_to_left_numbering() {
        let seats = LayoutSpec { numbering: Some(Numbering::Rtl), ..spec(1, 4) }.generate().unwrap();
        let numbers: Vec<_> = seats.iter().map(|s| s.number).collect();
        assert_eq!(numbers, [4, 3, 2, 1]);
    }

    #[test]
    fn odd_even_numbering_grows_outwards_from_the_centre() {
        let seats = LayoutSpec { numbering: Some(Numbering::OddEven), ..spec(1, 7) }.generate().unwrap();
        let numbers: Vec<_> = seats.iter().map(|s| s.number).collect();
        assert_eq!(numbers, [7, 5, 3, 1, 2, 4, 6]);
        let seats = LayoutSpec { numbering: Some(Numbering::OddEven), ..spec(1, 6) }.generate().unwrap();
        let numbers: Vec<_> = seats.iter().map(|s| s.number).collect();
        assert_eq!(numbers, [5, 3, 1, 2, 4, 6]);
    }

    #[test]
    fn aisles_leave_a_gap_in_positions_and_on_the_map() {
        let seats = LayoutSpec { aisles_after: Some(vec![2]), ..spec(1, 5) }.generate().unwrap();
        let got: Vec<_> = seats.iter().map(|s| (s.number, s.position, s.x)).collect();
        assert_eq!(got, [(1, 0, 0.0), (2, 1, 30.0), (3, 3, 90.0), (4, 4, 120.0), (5, 5, 150.0)]);
    }

    #[test]
    fn shorter_rows_are_centred() {
        let seats = LayoutSpec { row_lengths: Some(vec![2, 4]), ..Default::default() }.generate().unwrap();
        let a: Vec<_> = row(&seats, "A").iter().map(|s| s.x).collect();
        let b: Vec<_> = row(&seats, "B").iter().map(|s| s.x).collect();
        assert_eq!(a, [30.0, 60.0]);
        assert_eq!(b, [0.0, 30.0, 60.0, 90.0]);
    }

    #[test]
    fn curved_rows_bend_towards_the_stage_symmetrically() {
        let seats = LayoutSpec { curve_degrees: Some(60.0), ..spec(2, 5) }.generate().unwrap();
        let a = row(&seats, "A");
        // The centre seat sits at the origin line; the ends come forward, mirror images.
        assert_eq!((a[2].x, a[2].y), (60.0, 0.0));
        assert!(a[0].y < 0.0 && a[4].y < 0.0);
        assert_eq!(a[0].y, a[4].y);
        assert!(((a[0].x - 60.0) + (a[4].x - 60.0)).abs() < 0.011);
        // The widest row spans 60°: its end seats are 30° off the centre line.
        let radius = 120.0 / 60f64.to_radians();
        assert!((a[4].x - (60.0 + radius * 30f64.to_radians().sin())).abs() < 0.01);
        let b = row(&seats, "B");
        assert_eq!((b[2].x, b[2].y), (60.0, 36.0));
    }

    #[test]
    fn first_row_and_start_number_are_honoured() {
        let seats = LayoutSpec { first_row: Some("Y".into()), start_number: Some(101), ..spec(3, 2) }
            .generate()
            .unwrap();
        let got: Vec<_> = seats.iter().map(|s| (s.row_label.as_str(), s.number)).collect();
        assert_eq!(got, [("Y", 101), ("Y", 102), ("Z", 101), ("Z", 102), ("AA", 101), ("AA", 102)]);
    }

    #[test]
    fn a_stadium_tier_of_100000_seats_is_accepted_and_one_more_is_not() {
        assert_eq!(spec(100, 1000).generate().unwrap().len(), 100_000);
        let err = LayoutSpec {
            row_lengths: Some(vec![1000; 100].into_iter().chain([1]).collect()),
            ..Default::default()
        }
        .generate()
        .unwrap_err();
        assert!(matches!(err, AppError::Validation(_)));
    }

    #[test]
    fn bad_layouts_name_their_fields() {
        let Err(AppError::Validation(items)) = LayoutSpec {
            rows: Some(2),
            seats_per_row: Some(0),
            aisles_after: Some(vec![9]),
            first_row: Some("a1".into()),
            ..Default::default()
        }
        .generate() else {
            panic!("expected validation errors")
        };
        let fields: Vec<_> = items.iter().filter_map(|i| i.field.as_deref()).collect();
        assert!(fields.contains(&"layout.seats_per_row"), "{fields:?}");
        assert!(fields.contains(&"layout.first_row"), "{fields:?}");
        assert!(fields.contains(&"layout.aisles_after"), "{fields:?}");
    }
}
