//! A trigram index over lower-cased product names, so a text search reads the products whose
//! names can contain the text instead of every product in the catalog.

use std::collections::HashMap;

use shop_core::ProductId;

type Trigram = [char; 3];

/// Product names, lower-cased once, and for every trigram the products whose names have it.
#[derive(Debug, Default)]
pub(super) struct NameIndex {
    slot_of: HashMap<ProductId, u32>,
    /// Slot → product and its lower-cased name; `None` once freed.
    slots: Vec<Option<(ProductId, Box<str>)>>,
    free: Vec<u32>,
    /// Sorted slot numbers (4 bytes a posting rather than a 16-byte ID).
    postings: HashMap<Trigram, Vec<u32>>,
}

fn trigrams(lower: &str) -> Vec<Trigram> {
    let chars: Vec<char> = lower.chars().collect();
    chars.windows(3).map(|w| [w[0], w[1], w[2]]).collect()
}

impl NameIndex {
    pub(super) fn insert(&mut self, id: ProductId, name: &str) {
        self.remove(id);
        let lower = name.to_lowercase();
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        for gram in trigrams(&lower) {
            let posting = self.postings.entry(gram).or_default();
            if let Err(at) = posting.binary_search(&slot) {
                posting.insert(at, slot);
            }
        }
        self.slots[slot as usize] = Some((id, lower.into_boxed_str()));
        self.slot_of.insert(id, slot);
    }

    pub(super) fn remove(&mut self, id: ProductId) {
        let Some(slot) = self.slot_of.remove(&id) else {
            return;
        };
        if let Some((_, lower)) = self.slots[slot as usize].take() {
            for gram in trigrams(&lower) {
                if let Some(posting) = self.postings.get_mut(&gram) {
                    if let Ok(at) = posting.binary_search(&slot) {
                        posting.remove(at);
                    }
                    if posting.is_empty() {
                        self.postings.remove(&gram);
                    }
                }
            }
        }
        self.free.push(slot);
    }

    /// Whether the product's name contains `needle_lower` (already lower-cased): the same
    /// test as [`shop_core::catalog::name_contains`], without lower-casing the name again.
    pub(super) fn contains(&self, id: ProductId, needle_lower: &str) -> bool {
        self.slot_of
            .get(&id)
            .and_then(|&slot| self.slots[slot as usize].as_ref())
            .is_some_and(|(_, lower)| lower.contains(needle_lower))
    }

    /// The products whose names contain `needle_lower`, in no particular order, with an
    /// upper bound of how many there are; `None` when the needle is too short to have a
    /// trigram (the caller scans instead).
    pub(super) fn candidates<'a>(
        &'a self,
        needle_lower: &'a str,
    ) -> Option<(usize, impl Iterator<Item = ProductId> + 'a)> {
        // The rarest trigram's list holds every match; a trigram no name has means none.
        let rarest = trigrams(needle_lower)
            .into_iter()
            .map(|gram| self.postings.get(&gram).map_or(&[][..], Vec::as_slice))
            .min_by_key(|posting| posting.len())?;
        let matches = rarest.iter().filter_map(move |&slot| {
            self.slots[slot as usize]
                .as_ref()
                .filter(|(_, lower)| lower.contains(needle_lower))
                .map(|(id, _)| *id)
        });
        Some((rarest.len(), matches))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shop_core::catalog::name_contains;

    fn found(index: &NameIndex, needle: &str) -> Option<Vec<ProductId>> {
        let lower = needle.to_lowercase();
        index.candidates(&lower).map(|(_, it)| {
            let mut v: Vec<_> = it.collect();
            v.sort();
            v
        })
    }

    #[test]
    fn finds_exactly_the_names_that_contain_the_text() {
        let names = [
            "Blue Mug",
            "Mug Holder",
            "Smuggler's Map",
            "Tea Pot",
            "ÉCLAIR Ümlaut",
            "50% Off_Mug",
        ];
        let mut index = NameIndex::default();
        let ids: Vec<ProductId> = names.iter().map(|_| ProductId::generate()).collect();
        for (id, name) in ids.iter().zip(names) {
            index.insert(*id, name);
        }
        for needle in [
            "mug", "MUG", "mug ", "éclair", "ümla", "% o", "f_m", "zzz", "tea pot",
        ] {
            let mut expected: Vec<ProductId> = ids
                .iter()
                .zip(names)
                .filter(|(_, n)| name_contains(n, needle))
                .map(|(id, _)| *id)
                .collect();
            expected.sort();
            assert_eq!(found(&index, needle), Some(expected), "{needle}");
            for (id, name) in ids.iter().zip(names) {
                assert_eq!(
                    index.contains(*id, &needle.to_lowercase()),
                    name_contains(name, needle)
                );
            }
        }
        // Too short for a trigram: the caller scans.
        assert!(found(&index, "mu").is_none());
    }

    #[test]
    fn renames_and_removals_leave_no_stale_postings() {
        let mut index = NameIndex::default();
        let (a, b) = (ProductId::generate(), ProductId::generate());
        index.insert(a, "Blue Mug");
        index.insert(b, "Red Mug");
        index.insert(a, "Blue Cup");
        assert_eq!(found(&index, "mug"), Some(vec![b]));
        assert_eq!(found(&index, "cup"), Some(vec![a]));
        index.remove(b);
        assert_eq!(found(&index, "mug"), Some(vec![]));
        assert!(!index.postings.contains_key(&['m', 'u', 'g']));
        // A freed slot is reused without mixing the two products up.
        let c = ProductId::generate();
        index.insert(c, "Green Mug");
        assert_eq!(found(&index, "mug"), Some(vec![c]));
        assert_eq!(found(&index, "blue"), Some(vec![a]));
    }
}
