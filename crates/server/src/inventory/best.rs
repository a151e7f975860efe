//! "Best available": N adjacent seats in one row of a section, as a box-office clerk would pick
//! them — the row nearest the stage that has room, then no lone seat left stranded beside the
//! group, then no restricted view, then as central as possible. A group is never split: if no
//! row has N neighbours free, the answer says so.

use std::collections::BTreeMap;

/// A seat of the section as the picker sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub seat_id: i64,
    pub row_index: i32,
    /// Physical position in the row; neighbours differ by one (aisles leave gaps).
    pub position: i32,
    pub kind: String,
    /// Free to take now (available, or held past its time).
    pub free: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Pick {
    Seats(Vec<i64>),
    /// Fewer free seats of the wanted kind than asked for in the whole section.
    NotEnough {
        free: usize,
    },
    /// Enough free seats, but no row has that many side by side.
    NoAdjacentBlock,
}

/// Chooses `quantity` adjacent seats. With `accessible`, the block is made of wheelchair and
/// companion seats and holds at least one wheelchair place; otherwise those seats are left for
/// the people who need them.
pub fn best_available(seats: &[Candidate], quantity: usize, accessible: bool) -> Pick {
    let usable = |s: &Candidate| {
        let accessible_kind = matches!(s.kind.as_str(), "wheelchair" | "companion");
        s.free && accessible_kind == accessible
    };
    let free = seats.iter().filter(|s| usable(s)).count();
    if free < quantity || quantity == 0 {
        return Pick::NotEnough { free };
    }

    let mut rows: BTreeMap<i32, Vec<&Candidate>> = BTreeMap::new();
    for seat in seats {
        rows.entry(seat.row_index).or_default().push(seat);
    }

    let mut best: Option<(Quality, Vec<i64>)> = None;
    for (row_index, mut row) in rows {
        row.sort_by_key(|s| s.position);
        let (Some(first), Some(last)) = (row.first(), row.last()) else { continue };
        let centre_x2 = i64::from(first.position) + i64::from(last.position);
        for run in runs(&row, &usable) {
            if run.len() < quantity {
                continue;
            }
            for start in 0..=run.len() - quantity {
                let block = &run[start..start + quantity];
                if accessible && !block.iter().any(|s| s.kind == "wheelchair") {
                    continue;
                }
                // A lone free seat left between the block and the run's edge (a taken seat, an
                // aisle or the row's end) is an orphan nobody can buy with a friend.
                let left = start;
                let right = run.len() - start - quantity;
                let orphans = u8::from(left == 1) + u8::from(right == 1);
                let restricted = block.iter().filter(|s| s.kind == "restricted_view").count();
                let block_centre_x2 = i64::from(block[0].position) + i64::from(block[quantity - 1].position);
                let key =
                    (row_index, orphans, restricted, (block_centre_x2 - centre_x2).abs(), block[0].position);
                if best.as_ref().is_none_or(|(k, _)| key < *k) {
                    best = Some((key, block.iter().map(|s| s.seat_id).collect()));
                }
            }
        }
    }
    match best {
        Some((_, ids)) => Pick::Seats(ids),
        None => Pick::NoAdjacentBlock,
    }
}

/// How good a block is, best first when compared: row (front first), stranded single seats,
/// restricted-view seats, distance from the row's centre (doubled), first position.
type Quality = (i32, u8, usize, i64, i32);

/// Maximal runs of usable seats at consecutive positions.
fn runs<'a>(row: &[&'a Candidate], usable: &impl Fn(&Candidate) -> bool) -> Vec<Vec<&'a Candidate>> {
    let mut out: Vec<Vec<&Candidate>> = Vec::new();
    let mut current: Vec<&Candidate> = Vec::new();
    for seat in row {
        let continues = current.last().is_some_and(|prev| seat.position == prev.position + 1);
        if (!usable(seat) || !continues) && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if usable(seat) {
            current.push(seat);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws a section: one string per row, front first; `.` free, `x` taken, `W` free
    /// wheelchair, `C` free companion, `R` free restricted view, ` ` an aisle (no seat).
    /// Seat ids are row × 100 + position.
    fn hall(rows: &[&str]) -> Vec<Candidate> {
        let mut out = Vec::new();
        for (r, line) in rows.iter().enumerate() {
            for (p, c) in line.chars().enumerate() {
                let kind = match c {
                    'W' => "wheelchair",
                    'C' => "companion",
                    'R' => "restricted_view",
                    ' ' => continue,
                    _ => "standard",
                };
                out.push(Candidate {
                    seat_id: (r * 100 + p) as i64,
                    row_index: r as i32,
                    position: p as i32,
                    kind: kind.to_owned(),
                    free: c != 'x',
                });
            }
        }
        out
    }

    fn pick(rows: &[&str], n: usize) -> Pick {
        best_available(&hall(rows), n, false)
    }

    #[test]
    fn an_empty_hall_gives_the_centre_of_the_front_row() {
        assert_eq!(pick(&["........", "........"], 2), Pick::Seats(vec![3, 4]));
        assert_eq!(pick(&["........."], 3), Pick::Seats(vec![3, 4, 5]));
    }

    #[test]
    fn a_full_front_row_moves_the_group_back() {
        assert_eq!(pick(&["xxxxxxxx", "........"], 4), Pick::Seats(vec![102, 103, 104, 105]));
    }

    #[test]
    fn no_lone_seat_is_stranded_when_a_clean_block_exists() {
        // Free run of 3 at positions 0..=2 and of 4 at 4..=7: two seats from the 3-run would
        // strand one; the 4-run takes them without an orphan (at its edge).
        assert_eq!(pick(&["...x...."], 2), Pick::Seats(vec![4, 5]));
        // Only a stranding choice exists in the front row: it is still better than row B.
        assert_eq!(pick(&["x...xxxx", "........"], 2), Pick::Seats(vec![2, 3]));
    }

    #[test]
    fn a_group_is_never_split() {
        assert_eq!(pick(&["..x..x..", "x..x..x."], 3), Pick::NoAdjacentBlock);
        assert_eq!(pick(&["xx..xxxx"], 3), Pick::NotEnough { free: 2 });
    }

    #[test]
    fn aisles_break_adjacency() {
        assert_eq!(pick(&[".. .."], 3), Pick::NoAdjacentBlock);
        assert_eq!(pick(&[".. ...."], 3), Pick::Seats(vec![3, 4, 5]));
    }

    #[test]
    fn wheelchair_places_are_kept_for_those_who_ask() {
        assert_eq!(pick(&["WC...CW"], 3), Pick::Seats(vec![2, 3, 4]));
        assert_eq!(best_available(&hall(&["WC...CW"]), 2, true), Pick::Seats(vec![0, 1]));
        assert_eq!(best_available(&hall(&["xC...CW"]), 2, true), Pick::Seats(vec![5, 6]));
        assert_eq!(best_available(&hall(&["C....."]), 1, true), Pick::NoAdjacentBlock);
    }

    #[test]
    fn restricted_view_seats_come_last_within_a_row() {
        assert_eq!(pick(&["R......R"], 2), Pick::Seats(vec![3, 4]));
        assert_eq!(pick(&["R..xxxxx"], 3), Pick::Seats(vec![0, 1, 2]));
    }
}
