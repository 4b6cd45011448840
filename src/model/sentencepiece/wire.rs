//! A minimal protobuf wire-format reader: the fields of one message in order, as
//! varints, fixed-width numbers or length-delimited bytes. Unknown fields are the
//! caller's to skip; every malformed byte sequence is a [`WireError`], never a panic.

/// Why a byte sequence is not a well-formed protobuf message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The bytes end inside a field.
    #[error("the data ends inside a field at byte {0}")]
    Truncated(usize),
    /// A varint runs past 10 bytes or 64 bits.
    #[error("a number at byte {0} is longer than 64 bits")]
    VarintTooLong(usize),
    /// A field key names wire type 3, 4 (groups), 6 or 7.
    #[error("unsupported wire type {wire_type} at byte {at}")]
    WireType { wire_type: u64, at: usize },
    /// A field key names field number 0, which protobuf does not allow.
    #[error("field number 0 at byte {0}")]
    FieldZero(usize),
}

/// The value of one field, by wire type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Wire type 0: int32, int64, uint, bool, enum.
    Varint(u64),
    /// Wire type 1: fixed64, sfixed64, double.
    Fixed64(u64),
    /// Wire type 2: string, bytes, embedded message, packed repeated numbers.
    Bytes(&'a [u8]),
    /// Wire type 5: fixed32, sfixed32, float.
    Fixed32(u32),
}

/// Reads one message's fields in order.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over the encoded message `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// The next field's number and value, or `None` at the end of the message.
    pub fn next_field(&mut self) -> Result<Option<(u32, Value<'a>)>, WireError> {
        if self.pos == self.bytes.len() {
            return Ok(None);
        }
        let at = self.pos;
        let key = self.varint()?;
        let field = u32::try_from(key >> 3).map_err(|_| WireError::VarintTooLong(at))?;
        if field == 0 {
            return Err(WireError::FieldZero(at));
        }
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => Value::Fixed64(u64::from_le_bytes(self.array()?)),
            2 => {
                let len_at = self.pos;
                let len =
                    usize::try_from(self.varint()?).map_err(|_| WireError::Truncated(len_at))?;
                Value::Bytes(self.take(len)?)
            }
            5 => Value::Fixed32(u32::from_le_bytes(self.array()?)),
            wire_type => return Err(WireError::WireType { wire_type, at }),
        };
        Ok(Some((field, value)))
    }

    fn varint(&mut self) -> Result<u64, WireError> {
        let start = self.pos;
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .bytes
                .get(self.pos)
                .ok_or(WireError::Truncated(self.pos))?;
            self.pos += 1;
            let bits = u64::from(byte & 0x7f);
            // The tenth byte may only hold the 64th bit.
            if shift == 63 && bits > 1 {
                return Err(WireError::VarintTooLong(start));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(WireError::VarintTooLong(start))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], WireError> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(WireError::Truncated(self.pos))?;
        let bytes = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let at = self.pos;
        self.take(N)?
            .try_into()
            .map_err(|_| WireError::Truncated(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(bytes: &[u8]) -> Result<Vec<(u32, Value<'_>)>, WireError> {
        let mut reader = Reader::new(bytes);
        let mut out = Vec::new();
        while let Some(field) = reader.next_field()? {
            out.push(field);
        }
        Ok(out)
    }

    #[test]
    fn reads_each_wire_type() {
        // field 1 varint 300; field 2 bytes "hi"; field 3 fixed32 1.5f; field 4 fixed64 7
        let mut bytes = vec![0x08, 0xac, 0x02, 0x12, 0x02, b'h', b'i', 0x1d];
        bytes.extend_from_slice(&1.5f32.to_le_bytes());
        bytes.push(0x21);
        bytes.extend_from_slice(&7u64.to_le_bytes());
        assert_eq!(
            fields(&bytes).unwrap(),
            vec![
                (1, Value::Varint(300)),
                (2, Value::Bytes(b"hi")),
                (3, Value::Fixed32(1.5f32.to_bits())),
                (4, Value::Fixed64(7)),
            ]
        );
    }

    #[test]
    fn a_large_field_number_and_the_largest_varint_read() {
        // field 40 (key 0x140 = c0 02), value u64::MAX in ten bytes
        let mut bytes = vec![0xc0, 0x02];
        bytes.extend_from_slice(&[0xff; 9]);
        bytes.push(0x01);
        assert_eq!(fields(&bytes).unwrap(), vec![(40, Value::Varint(u64::MAX))]);
    }

    #[test]
    fn malformed_bytes_are_errors_with_their_offset() {
        assert_eq!(fields(&[0x08]), Err(WireError::Truncated(1)));
        assert_eq!(fields(&[0x08, 0x80]), Err(WireError::Truncated(2)));
        assert_eq!(fields(&[0x12, 0x05, b'a']), Err(WireError::Truncated(2)));
        assert_eq!(fields(&[0x1d, 0, 0]), Err(WireError::Truncated(1)));
        assert_eq!(
            fields(&[0x0b]),
            Err(WireError::WireType {
                wire_type: 3,
                at: 0
            })
        );
        assert_eq!(fields(&[0x00, 0x00]), Err(WireError::FieldZero(0)));
        let mut long = vec![0x08];
        long.extend_from_slice(&[0xff; 10]);
        long.push(0x01);
        assert_eq!(fields(&long), Err(WireError::VarintTooLong(1)));
        // A length near u64::MAX must not overflow the position.
        let mut huge = vec![0x12];
        huge.extend_from_slice(&[0xff; 9]);
        huge.push(0x01);
        assert_eq!(fields(&huge), Err(WireError::Truncated(11)));
    }

    #[test]
    fn every_prefix_and_garbage_byte_string_reads_or_errs_without_panicking() {
        let mut message = vec![0x08, 0xac, 0x02, 0x12, 0x03, b'a', b'b', b'c', 0x1d];
        message.extend_from_slice(&2.0f32.to_le_bytes());
        for end in 0..message.len() {
            let result = fields(&message[..end]);
            // Ends between fields read fine; ends inside one are errors.
            assert_eq!(result.is_ok(), [0, 3, 8].contains(&end), "prefix {end}");
        }
        // A fixed pseudo-random byte stream (xorshift), every length up to 256.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let garbage: Vec<u8> = (0..256)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        let errors = (0..garbage.len())
            .filter(|&end| fields(&garbage[..end]).is_err())
            .count();
        assert!(errors > 200, "only {errors} of 256 garbage prefixes failed");
    }
}
