//! Optimal Huffman tables from symbol counts (libjpeg's
//! `jpeg_gen_optimal_table`: code lengths at most 16, no code of all ones).

/// A Huffman table: its DHT counts and symbols, and each symbol's code.
pub(crate) struct Table {
    /// Codes per length 1..=16.
    counts: [u8; 16],
    /// Symbols by increasing code length.
    vals: Vec<u8>,
    code: [u16; 256],
    size: [u8; 256],
}

impl Table {
    /// The optimal table for `freq` (index 256 is ignored: it is the
    /// reserved code).
    pub(crate) fn optimal(freq: &[u32; 257]) -> Table {
        let mut freq: Vec<u64> = freq.iter().map(|&f| u64::from(f)).collect();
        freq[256] = 0;
        // Counts skewed enough to need codes over 32 bits are halved
        // (keeping every symbol) until they fit.
        loop {
            let codesize = code_sizes(&freq);
            if codesize.iter().all(|&s| s <= 32) {
                return Table::from_sizes(&codesize);
            }
            for f in &mut freq {
                *f = f.div_ceil(2);
            }
        }
    }

    fn from_sizes(codesize: &[usize; 257]) -> Table {
        let mut bits = [0u32; 33];
        for &s in codesize {
            if s > 0 {
                bits[s] += 1;
            }
        }
        // Lengths over 16: move pairs up the tree (JPEG Annex K.3).
        for i in (17..=32).rev() {
            while bits[i] > 0 {
                let mut j = i - 2;
                while bits[j] == 0 {
                    j -= 1;
                }
                bits[i] -= 2;
                bits[i - 1] += 1;
                bits[j + 1] += 2;
                bits[j] -= 1;
            }
        }
        // Take the reserved symbol's code (the longest) away.
        let mut i = 16;
        while bits[i] == 0 {
            i -= 1;
        }
        bits[i] -= 1;
        let mut vals = Vec::new();
        for len in 1..=32 {
            for (sym, &s) in codesize.iter().enumerate().take(256) {
                if s == len {
                    vals.push(sym as u8);
                }
            }
        }
        let mut counts = [0u8; 16];
        for (l, c) in counts.iter_mut().enumerate() {
            *c = bits[l + 1] as u8;
        }
        let mut t = Table {
            counts,
            vals,
            code: [0; 256],
            size: [0; 256],
        };
        let (mut code, mut k) = (0u16, 0usize);
        for len in 1..=16u8 {
            for _ in 0..t.counts[usize::from(len) - 1] {
                let sym = usize::from(t.vals[k]);
                t.code[sym] = code;
                t.size[sym] = len;
                code += 1;
                k += 1;
            }
            code <<= 1;
        }
        t
    }

    /// Append the table's DHT body (counts, symbols) after its class/id byte.
    pub(crate) fn append_dht(&self, seg: &mut Vec<u8>) {
        seg.extend_from_slice(&self.counts);
        seg.extend_from_slice(&self.vals);
    }

    /// The code of `sym` and its length (`sym` had a count when the table
    /// was made).
    pub(crate) fn code(&self, sym: u8) -> (u16, u8) {
        let s = usize::from(sym);
        (self.code[s], self.size[s])
    }
}

/// Huffman code lengths for `freq` plus the reserved symbol 256 (count 1),
/// unlimited in length.
fn code_sizes(freq: &[u64]) -> [usize; 257] {
    let mut freq = freq.to_vec();
    freq[256] = 1;
    let mut codesize = [0usize; 257];
    let mut others = [-1i32; 257];
    loop {
        // The two least frequent symbols (ties: the larger index).
        let mut c1 = None;
        let mut v = u64::MAX;
        for (i, &f) in freq.iter().enumerate() {
            if f > 0 && f <= v {
                v = f;
                c1 = Some(i);
            }
        }
        let mut c2 = None;
        v = u64::MAX;
        for (i, &f) in freq.iter().enumerate() {
            if f > 0 && f <= v && Some(i) != c1 {
                v = f;
                c2 = Some(i);
            }
        }
        let (Some(mut c1), Some(mut c2)) = (c1, c2) else {
            break;
        };
        freq[c1] += freq[c2];
        freq[c2] = 0;
        codesize[c1] += 1;
        while others[c1] >= 0 {
            c1 = others[c1] as usize;
            codesize[c1] += 1;
        }
        others[c1] = c2 as i32;
        codesize[c2] += 1;
        while others[c2] >= 0 {
            c2 = others[c2] as usize;
            codesize[c2] += 1;
        }
    }
    codesize
}
