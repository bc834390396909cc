//! The few protobuf messages of an event file, encoded by hand (wire format:
//! varint keys, length-delimited submessages, little-endian fixed64/fixed32).
//!
//! Field numbers, from TensorFlow's `event.proto`, `summary.proto`, `tensor.proto`:
//! `Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }`,
//! `Summary { repeated Value value = 1; }`,
//! `Value { string tag = 1; float simple_value = 2; HistogramProto histo = 5; TensorProto tensor = 8; SummaryMetadata metadata = 9; }`,
//! `HistogramProto { double min = 1, max = 2, num = 3, sum = 4, sum_squares = 5; repeated double bucket_limit = 6 [packed]; repeated double bucket = 7 [packed]; }`,
//! `SummaryMetadata { PluginData plugin_data = 1; }`, `PluginData { string plugin_name = 1; bytes content = 2; }`,
//! `TensorProto { DataType dtype = 1; TensorShapeProto tensor_shape = 2; repeated bytes string_val = 8; }` (DT_STRING = 7),
//! `TensorShapeProto { repeated Dim dim = 2; }`, `Dim { int64 size = 1; }`.

/// A message being written.
#[derive(Debug, Default)]
pub(crate) struct Msg(pub Vec<u8>);

impl Msg {
    fn key(&mut self, field: u32, wire: u8) {
        self.varint((u64::from(field) << 3) | u64::from(wire));
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    pub fn double(&mut self, field: u32, v: f64) -> &mut Self {
        self.key(field, 1);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn float(&mut self, field: u32, v: f32) -> &mut Self {
        self.key(field, 5);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn int(&mut self, field: u32, v: i64) -> &mut Self {
        self.key(field, 0);
        self.varint(v as u64);
        self
    }

    pub fn bytes(&mut self, field: u32, v: &[u8]) -> &mut Self {
        self.key(field, 2);
        self.varint(v.len() as u64);
        self.0.extend_from_slice(v);
        self
    }

    pub fn msg(&mut self, field: u32, m: &Msg) -> &mut Self {
        self.bytes(field, &m.0)
    }

    pub fn packed_doubles(&mut self, field: u32, v: &[f64]) -> &mut Self {
        let raw: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.bytes(field, &raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_keys() {
        let mut m = Msg::default();
        m.int(2, 300);
        assert_eq!(m.0, [0x10, 0xAC, 0x02]);
        let mut m = Msg::default();
        m.bytes(1, b"ab");
        assert_eq!(m.0, [0x0A, 2, b'a', b'b']);
        let mut m = Msg::default();
        m.int(2, -1);
        assert_eq!(m.0.len(), 11, "negative int64 takes ten varint bytes");
    }
}
