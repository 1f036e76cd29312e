//! A small Server-Sent Events decoder: bytes in, `(event, data)` frames out.
//!
//! Only what the daemon sends is handled: `event:`, `data:` (joined with newlines when
//! repeated), comments (keep-alives) and blank-line frame ends, with LF or CRLF.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub event: String,
    pub data: String,
}

#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    event: String,
    data: Vec<String>,
}

impl Decoder {
    /// Feeds a chunk; returns every frame it completed. Partial lines stay buffered.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Frame> {
        self.buf.extend_from_slice(chunk);
        let mut frames = Vec::new();
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8_lossy(&line);
            if line.is_empty() {
                if !self.data.is_empty() || !self.event.is_empty() {
                    frames.push(Frame {
                        event: std::mem::take(&mut self.event),
                        data: std::mem::take(&mut self.data).join("\n"),
                    });
                }
                continue;
            }
            if line.starts_with(':') {
                continue; // keep-alive comment
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line.as_ref(), ""),
            };
            match field {
                "event" => self.event = value.to_owned(),
                "data" => self.data.push(value.to_owned()),
                _ => {}
            }
        }
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_frames_split_across_chunks() {
        let mut d = Decoder::default();
        assert!(d.push(b"event: hello\ndata: {}\n").is_empty());
        let f = d
            .push(b"\n: keep-alive\n\nevent: prediction\r\ndata: {\"a\"")
            .to_vec();
        assert_eq!(
            f,
            vec![Frame {
                event: "hello".into(),
                data: "{}".into()
            }]
        );
        let f = d.push(b":1}\r\n\r\n");
        assert_eq!(f[0].event, "prediction");
        assert_eq!(f[0].data, "{\"a\":1}");
    }

    #[test]
    fn joins_multi_line_data() {
        let mut d = Decoder::default();
        let f = d.push(b"data: a\ndata: b\n\n");
        assert_eq!(f[0].data, "a\nb");
        assert_eq!(f[0].event, "");
    }
}
