//! The table's rows in a sort's order: the rows that pass the search and filters (one bit
//! per key, worked out in row order) laid out in that order. Changing only the sort lays the
//! same rows out again without asking any key whether it passes.

use super::key_search::Matches;

/// Fills `out` with the rows `keep` holds (every row when `None`) in `order` (the rows' own
/// order when `None`), `len` rows in all. Returns where row `anchor` landed, if it did: found
/// in the same pass, not in another pass over a million rows.
pub fn arrange(
    order: Option<&[u32]>,
    keep: Option<&Matches>,
    len: usize,
    anchor: Option<usize>,
    out: &mut Vec<u32>,
) -> Option<usize> {
    out.clear();
    match (keep, order) {
        (Some(keep), None) => out.extend(keep.iter().map(|i| i as u32)),
        (Some(keep), Some(order)) => {
            // Every row written, the next write going past it only when it is kept: no
            // branch to mispredict on a filter that keeps rows at random.
            out.resize(order.len(), 0);
            let mut kept = 0;
            for &i in order {
                out[kept] = i;
                kept += usize::from(keep.contains(i as usize));
            }
            out.truncate(kept);
        }
        (None, Some(order)) => out.extend_from_slice(order),
        (None, None) => out.extend(0..len as u32),
    }
    let anchor = anchor? as u32;
    match (keep, order) {
        // The rows' own order is ascending: the anchor's place is a binary search away.
        (_, None) => out.binary_search(&anchor).ok(),
        (_, Some(_)) => out.iter().position(|&i| i == anchor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order, the kept rows, the anchor; the rows laid out, where the anchor landed.
    type Case<'a> = (
        Option<&'a [u32]>,
        Option<&'a Matches>,
        Option<usize>,
        &'a [u32],
        Option<usize>,
    );

    #[test]
    fn lays_out_the_kept_rows_in_the_order_and_finds_the_anchor() {
        let keep = Matches::of(6, |i| i % 2 == 0);
        let order = [5, 4, 3, 2, 1, 0];
        let mut out = Vec::new();
        let cases: [Case; 6] = [
            (None, None, Some(3), &[0, 1, 2, 3, 4, 5], Some(3)),
            (None, Some(&keep), Some(4), &[0, 2, 4], Some(2)),
            (None, Some(&keep), Some(3), &[0, 2, 4], None),
            (Some(&order), None, Some(5), &[5, 4, 3, 2, 1, 0], Some(0)),
            (Some(&order), Some(&keep), Some(0), &[4, 2, 0], Some(2)),
            (Some(&order), Some(&keep), None, &[4, 2, 0], None),
        ];
        for (order, keep, anchor, rows, at) in cases {
            assert_eq!(
                arrange(order, keep, 6, anchor, &mut out),
                at,
                "{order:?} {anchor:?}"
            );
            assert_eq!(out, rows, "{order:?} {anchor:?}");
        }
    }
}
