//! SHA-256 and HMAC-SHA256 for the signing hot path, on sha2's block function.
//!
//! A TC3 signature hashes four short messages (payload, canonical request, the HMAC's inner and
//! outer hash), eight 64-byte blocks in all. SHA-NI compresses a block in ~40 ns here, and the
//! streaming types of the sha2/hmac crates add buffering, finalisation and copies of their
//! states around each message — about as much time again. This module hashes a message that is
//! already whole in memory with one call of `sha2::block_api::compress256` over its blocks plus
//! one over the padded tail, and keeps an HMAC key as the two states its padded key blocks lead
//! to (what RFC 2104 §4 suggests precomputing), so a MAC costs its message's blocks and one more.
//! A [`Message`] is assembled in its hash blocks, so that hashing pads it where it lies.
//!
//! The compression itself stays in the sha2 crate; here are only the Merkle–Damgård padding
//! (FIPS 180-4 §5.1.1) and the HMAC construction. Tests compare every length up to four blocks
//! and random keys with the sha2 and hmac crates.

use sha2::block_api::compress256;

/// SHA-256's initial hash value (FIPS 180-4 §5.3.3).
const INITIAL: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// A SHA-256 state after some whole blocks of a message.
#[derive(Clone, Copy)]
pub(crate) struct Midstate {
    state: [u32; 8],
    /// Bytes hashed so far (a multiple of 64).
    hashed: u64,
}

impl Midstate {
    /// The state before any input.
    pub(crate) const START: Midstate = Midstate {
        state: INITIAL,
        hashed: 0,
    };

    /// The state after `block` more.
    pub(crate) fn after(mut self, block: &[u8; 64]) -> Midstate {
        compress256(&mut self.state, std::slice::from_ref(block));
        self.hashed += 64;
        self
    }

    /// The digest of everything hashed so far followed by `rest`.
    pub(crate) fn finish(mut self, rest: &[u8]) -> [u8; 32] {
        // Whole blocks are hashed in place, except the last one or two (up to 127 bytes), which
        // are copied next to the padding so that one call hashes them all: a signature's
        // messages are that short, and each call has a fixed cost.
        let in_place = rest.len().saturating_sub(127).div_ceil(64) * 64;
        for block in rest[..in_place].chunks_exact(64) {
            let block: &[u8; 64] = block.try_into().expect("chunks of 64");
            compress256(&mut self.state, std::slice::from_ref(block));
        }
        let tail = &rest[in_place..];
        let bits = (self.hashed + rest.len() as u64) * 8;
        match (tail.len() + 9).div_ceil(64) {
            1 => self.pad_and_compress::<1>(tail, bits),
            2 => self.pad_and_compress::<2>(tail, bits),
            _ => self.pad_and_compress::<3>(tail, bits),
        }
        self.digest()
    }

    fn digest(&self) -> [u8; 32] {
        let mut digest = [0u8; 32];
        for (bytes, word) in digest.chunks_exact_mut(4).zip(self.state) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        digest
    }

    /// Hash `tail`, 0x80, zeros and the message length in bits as `BLOCKS` blocks (a buffer of
    /// just the size needed: zeroing it is part of the cost of a short message).
    fn pad_and_compress<const BLOCKS: usize>(&mut self, tail: &[u8], bits: u64) {
        let mut last = [[0u8; 64]; BLOCKS];
        let padded = last.as_flattened_mut();
        padded[..tail.len()].copy_from_slice(tail);
        padded[tail.len()] = 0x80;
        padded[BLOCKS * 64 - 8..].copy_from_slice(&bits.to_be_bytes());
        compress256(&mut self.state, &last);
    }
}

/// SHA-256 of `message`.
pub(crate) fn sha256(message: &[u8]) -> [u8; 32] {
    Midstate::START.finish(message)
}

/// SHA-256 of `message`, resuming from the state after its first block when that block is the
/// one this thread hashed last time. A TC3 canonical request opens with the method, path and the
/// first headers (content type, host): the same 64 bytes for every call a script makes to one
/// service, so this saves one of the eight blocks a signature hashes.
pub(crate) fn sha256_same_start(message: &[u8]) -> [u8; 32] {
    let Some((first, rest)) = message.split_first_chunk::<64>() else {
        return sha256(message);
    };
    after_same_start(first).finish(rest)
}

/// The state after `first`, from this thread's last first block if it is the same.
fn after_same_start(first: &[u8; 64]) -> Midstate {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<([u8; 64], Midstate)> = const { RefCell::new(([0; 64], Midstate::START)) };
    }
    LAST.with_borrow_mut(|(block, state)| {
        // `hashed` is 0 until the first message fills the slot.
        if state.hashed == 0 || block != first {
            *block = *first;
            *state = Midstate::START.after(first);
        }
        *state
    })
}

/// A message assembled in place in whole blocks, so that hashing it pads it where it lies
/// instead of copying its tail next to the padding. Past `BLOCKS` blocks it moves to the heap
/// and is hashed like any slice.
///
/// The bytes past `len` stay zero until they are written (pieces are only appended), so the
/// padding needs only its 0x80 byte and the length.
pub(crate) struct Message<const BLOCKS: usize> {
    blocks: [[u8; 64]; BLOCKS],
    len: usize,
    heap: Vec<u8>,
}

impl<const BLOCKS: usize> Message<BLOCKS> {
    const CAPACITY: usize = BLOCKS * 64;

    pub(crate) fn new() -> Self {
        Message {
            blocks: [[0; 64]; BLOCKS],
            len: 0,
            heap: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn on_stack(&self) -> bool {
        self.len <= Self::CAPACITY
    }

    /// Append `piece`.
    #[inline(always)]
    pub(crate) fn push(&mut self, piece: &[u8]) {
        let end = self.len + piece.len();
        if end <= Self::CAPACITY {
            self.blocks.as_flattened_mut()[self.len..end].copy_from_slice(piece);
        } else {
            self.spill();
            self.heap.extend_from_slice(piece);
        }
        self.len = end;
    }

    /// `push` with ASCII letters lowercased.
    #[inline(always)]
    pub(crate) fn push_ascii_lowercase(&mut self, piece: &[u8]) {
        let end = self.len + piece.len();
        if end <= Self::CAPACITY {
            let to = &mut self.blocks.as_flattened_mut()[self.len..end];
            for (to, from) in to.iter_mut().zip(piece) {
                *to = from.to_ascii_lowercase();
            }
            self.len = end;
        } else {
            self.push(&piece.to_ascii_lowercase());
        }
    }

    /// Append `digest` in lowercase hex, written where it goes.
    #[inline(always)]
    pub(crate) fn push_hex(&mut self, digest: &[u8; 32]) {
        let end = self.len + 64;
        if end <= Self::CAPACITY {
            let to = &mut self.blocks.as_flattened_mut()[self.len..end];
            faster_hex::hex_encode(digest, to).expect("64 bytes hold 32 in hex");
            self.len = end;
        } else {
            let mut hex = [0u8; 64];
            faster_hex::hex_encode(digest, &mut hex).expect("64 bytes hold 32 in hex");
            self.push(&hex);
        }
    }

    /// Move what is on the stack to the heap, once.
    fn spill(&mut self) {
        if self.on_stack() {
            self.heap
                .extend_from_slice(&self.blocks.as_flattened()[..self.len]);
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        if self.on_stack() {
            &self.blocks.as_flattened()[..self.len]
        } else {
            &self.heap
        }
    }

    /// SHA-256 of the message, as [`sha256_same_start`] computes it. Hashing pads the message
    /// where it lies: take nothing else from it after.
    pub(crate) fn sha256_same_start(&mut self) -> [u8; 32] {
        if self.len < 64 || !self.has_room_for_padding() {
            return sha256_same_start(self.as_bytes());
        }
        let start = after_same_start(&self.blocks[0]);
        self.digest_after(start, 1)
    }

    /// HMAC-SHA256 of the message under `key`.
    pub(crate) fn mac(&mut self, key: &HmacKey) -> [u8; 32] {
        let inner = if self.has_room_for_padding() {
            self.digest_after(key.inner, 0)
        } else {
            key.inner.finish(self.as_bytes())
        };
        key.outer.finish(&inner)
    }

    fn has_room_for_padding(&self) -> bool {
        self.len + 9 <= Self::CAPACITY
    }

    /// The digest of `start` followed by the message from block `first` on, padded in place.
    fn digest_after(&mut self, mut start: Midstate, first: usize) -> [u8; 32] {
        let blocks = (self.len + 9).div_ceil(64);
        let bits = (start.hashed + (self.len - first * 64) as u64) * 8;
        let bytes = self.blocks.as_flattened_mut();
        bytes[self.len] = 0x80;
        bytes[blocks * 64 - 8..blocks * 64].copy_from_slice(&bits.to_be_bytes());
        compress256(&mut start.state, &self.blocks[first..blocks]);
        start.digest()
    }
}

/// An HMAC-SHA256 key, kept as the states after its inner and outer padded key blocks.
#[derive(Clone, Copy)]
pub(crate) struct HmacKey {
    inner: Midstate,
    outer: Midstate,
}

impl HmacKey {
    pub(crate) fn new(key: &[u8]) -> HmacKey {
        // Keys longer than a block are replaced by their digest (RFC 2104 §2).
        let digest;
        let key = if key.len() > 64 {
            digest = sha256(key);
            &digest[..]
        } else {
            key
        };
        let (mut inner, mut outer) = ([0x36u8; 64], [0x5cu8; 64]);
        for ((i, o), k) in inner.iter_mut().zip(outer.iter_mut()).zip(key) {
            *i ^= k;
            *o ^= k;
        }
        HmacKey {
            inner: Midstate::START.after(&inner),
            outer: Midstate::START.after(&outer),
        }
    }

    /// HMAC-SHA256 of `message` under this key.
    #[cfg(test)]
    pub(crate) fn mac(&self, message: &[u8]) -> [u8; 32] {
        self.outer.finish(&self.inner.finish(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sha256_matches_the_sha2_crate_at_every_length_up_to_four_blocks() {
        use sha2::Digest;
        let message: Vec<u8> = (0..=256u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..=256 {
            let expected: [u8; 32] = sha2::Sha256::digest(&message[..len]).into();
            assert_eq!(sha256(&message[..len]), expected, "length {len}");
        }
    }

    #[test]
    fn a_remembered_first_block_is_used_only_for_the_same_block() {
        let message: Vec<u8> = (0..=200u32).map(|i| (i * 13) as u8).collect();
        let mut other = message.clone();
        other[10] ^= 1;
        for m in [
            &message,
            &message,
            &other,
            &message,
            &other[..64].to_vec(),
            &message[..63].to_vec(),
        ] {
            assert_eq!(sha256_same_start(m), sha256(m));
        }
    }

    #[test]
    fn a_midstate_continues_the_same_message() {
        let message = [b'x'; 200];
        let block: &[u8; 64] = message[..64].try_into().unwrap();
        assert_eq!(
            Midstate::START.after(block).finish(&message[64..]),
            sha256(&message)
        );
    }

    #[test]
    fn a_message_moves_to_the_heap_when_its_blocks_are_full_and_keeps_every_byte() {
        let mut message = Message::<1>::new();
        let mut expected = Vec::new();
        let digest = [0xa5u8; 32];
        for piece in [&b"POST\n/\n"[..], b"a longer query=string with more", b"\n"] {
            message.push(piece);
            expected.extend_from_slice(piece);
            assert_eq!(message.as_bytes(), &expected[..]);
        }
        message.push_ascii_lowercase(b"Host:TCR");
        expected.extend_from_slice(b"host:tcr");
        message.push_hex(&digest);
        expected.extend_from_slice(hex::encode(digest).as_bytes());
        assert_eq!(message.as_bytes(), &expected[..]);
        assert_eq!(message.len(), expected.len());
    }

    /// Every length up to past the capacity: padded in place, too full to pad in place, spilled.
    #[test]
    fn a_message_hashes_and_macs_like_a_slice_at_every_length() {
        let text: Vec<u8> = (0..=300u32).map(|i| (i * 7 + 3) as u8).collect();
        let key = HmacKey::new(b"key");
        for len in 0..=text.len() {
            let build = || {
                let mut message = Message::<3>::new();
                for piece in text[..len].chunks(50) {
                    message.push(piece);
                }
                message
            };
            let expected = sha256(&text[..len]);
            assert_eq!(build().sha256_same_start(), expected, "length {len}");
            assert_eq!(build().sha256_same_start(), expected, "again, length {len}");
            assert_eq!(build().mac(&key), key.mac(&text[..len]), "length {len}");
        }
    }

    proptest! {
        #[test]
        fn hmac_matches_the_hmac_crate(
            key in proptest::collection::vec(any::<u8>(), 0..150),
            message in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            prop_assert_eq!(HmacKey::new(&key).mac(&message), super::super::hmac_sha256(&key, &message));
        }
    }
}
