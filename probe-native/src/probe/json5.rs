//! A small JSON5 reader (OpenClaw's `openclaw.json` is JSON5: comments, trailing commas, unquoted keys,
//! single-quoted strings). Enough for reading config values; anything malformed is an error, never a panic.

use serde_json::{Map, Number, Value};

pub fn parse(text: &str) -> Result<Value, String> {
    let mut p = Parser { s: text.as_bytes(), i: 0, depth: 0 };
    let v = p.value()?;
    p.ws()?;
    if p.i < p.s.len() {
        return Err(format!("trailing characters at byte {}", p.i));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: u32,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) -> Result<(), String> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.i += 1,
                Some(b'/') if self.s.get(self.i + 1) == Some(&b'/') => {
                    while let Some(c) = self.peek() {
                        if c == b'\n' {
                            break;
                        }
                        self.i += 1;
                    }
                }
                Some(b'/') if self.s.get(self.i + 1) == Some(&b'*') => {
                    self.i += 2;
                    loop {
                        match self.peek() {
                            None => return Err("unterminated comment".to_string()),
                            Some(b'*') if self.s.get(self.i + 1) == Some(&b'/') => {
                                self.i += 2;
                                break;
                            }
                            Some(_) => self.i += 1,
                        }
                    }
                }
                Some(0xEF) if self.i == 0 && self.s.get(1..3) == Some(&[0xBB, 0xBF]) => self.i += 3,
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.ws()?;
        self.depth += 1;
        if self.depth > 128 {
            return Err("nested too deeply".to_string());
        }
        let v = match self.peek() {
            None => Err("unexpected end".to_string()),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(q @ (b'"' | b'\'')) => self.string(q).map(Value::String),
            Some(_) => self.word(),
        };
        self.depth -= 1;
        v
    }

    fn object(&mut self) -> Result<Value, String> {
        self.i += 1;
        let mut m = Map::new();
        loop {
            self.ws()?;
            match self.peek() {
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::Object(m));
                }
                None => return Err("unterminated object".to_string()),
                _ => {}
            }
            let key = match self.peek() {
                Some(q @ (b'"' | b'\'')) => self.string(q)?,
                _ => self.ident()?,
            };
            self.ws()?;
            if self.peek() != Some(b':') {
                return Err(format!("expected ':' at byte {}", self.i));
            }
            self.i += 1;
            let v = self.value()?;
            m.insert(key, v);
            self.ws()?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {}
                _ => return Err(format!("expected ',' or '}}' at byte {}", self.i)),
            }
        }
    }

    fn array(&mut self) -> Result<Value, String> {
        self.i += 1;
        let mut v = Vec::new();
        loop {
            self.ws()?;
            match self.peek() {
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(v));
                }
                None => return Err("unterminated array".to_string()),
                _ => {}
            }
            v.push(self.value()?);
            self.ws()?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {}
                _ => return Err(format!("expected ',' or ']' at byte {}", self.i)),
            }
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 {
                self.i += 1;
            } else {
                break;
            }
        }
        if self.i == start {
            return Err(format!("expected a key at byte {start}"));
        }
        Ok(String::from_utf8_lossy(self.s.get(start..self.i).unwrap_or_default()).into_owned())
    }

    fn string(&mut self, quote: u8) -> Result<String, String> {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.peek() else { return Err("unterminated string".to_string()) };
            self.i += 1;
            if c == quote {
                return String::from_utf8(out).map_err(|_| "invalid UTF-8 in string".to_string());
            }
            if c != b'\\' {
                out.push(c);
                continue;
            }
            let Some(e) = self.peek() else { return Err("unterminated escape".to_string()) };
            self.i += 1;
            match e {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'0' => out.push(0),
                b'\n' => {}
                b'u' => {
                    let mut n = self.hex4(self.i)?;
                    self.i += 4;
                    // A high surrogate followed by an escaped low surrogate is one character (as in JSON).
                    if (0xD800..0xDC00).contains(&n) && self.s.get(self.i..self.i + 2) == Some(b"\\u".as_slice()) {
                        if let Some(lo) = self.hex4(self.i + 2).ok().filter(|lo| (0xDC00..0xE000).contains(lo)) {
                            n = 0x10000 + ((n - 0xD800) << 10) + (lo - 0xDC00);
                            self.i += 6;
                        }
                    }
                    let ch = char::from_u32(n).unwrap_or('\u{fffd}');
                    let mut b = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                }
                other => out.push(other),
            }
        }
    }

    /// The four hex digits of a `\\u` escape starting at `at`.
    fn hex4(&self, at: usize) -> Result<u32, String> {
        let hex = self.s.get(at..at + 4).ok_or("short \\u escape")?;
        u32::from_str_radix(&String::from_utf8_lossy(hex), 16).map_err(|_| "bad \\u escape".to_string())
    }

    fn word(&mut self) -> Result<Value, String> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.' | b'_') {
                self.i += 1;
            } else {
                break;
            }
        }
        let w = String::from_utf8_lossy(self.s.get(start..self.i).unwrap_or_default()).into_owned();
        match w.as_str() {
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            "null" | "NaN" | "Infinity" | "+Infinity" | "-Infinity" => return Ok(Value::Null),
            "" => return Err(format!("unexpected character at byte {start}")),
            _ => {}
        }
        let (neg, digits) = match w.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, w.strip_prefix('+').unwrap_or(&w)),
        };
        if let Some(hex) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
            let n = i64::from_str_radix(hex, 16).ok().and_then(|n| if neg { n.checked_neg() } else { Some(n) });
            return n.map(|n| Value::Number(Number::from(n))).ok_or_else(|| format!("bad number `{w}`"));
        }
        // `checked_neg`: `--9223372036854775808` must not overflow (a fuzz finding); it falls through to f64.
        if let Some(n) = digits.parse::<i64>().ok().and_then(|n| if neg { n.checked_neg() } else { Some(n) }) {
            return Ok(Value::Number(Number::from(n)));
        }
        let f = digits.parse::<f64>().map_err(|_| format!("bad value `{w}`"))?;
        Ok(Number::from_f64(if neg { -f } else { f }).map(Value::Number).unwrap_or(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json5_features() {
        let v = parse(
            "// c\n{ agents: { defaults: { sandbox: { mode: 'all', /* x */ backend: \"docker\", docker: { network: 'bridge', }, }, }, },\n n: -0x10, f: .5, }",
        );
        let v = v.unwrap_or(Value::Null);
        assert_eq!(v.pointer("/agents/defaults/sandbox/mode"), Some(&Value::String("all".into())));
        assert_eq!(v.pointer("/agents/defaults/sandbox/docker/network"), Some(&Value::String("bridge".into())));
        assert_eq!(v.pointer("/n"), Some(&Value::from(-16)));
        assert!(parse("{a: }").is_err());
        assert!(parse("{'a': 1").is_err());
    }
}
