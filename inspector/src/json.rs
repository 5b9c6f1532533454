//! A small JSON reader: as much of JSON as the go-ref files use (the traces
//! of `docs/trace-format.md` and `tests/data/hash_vectors.json`).
//!
//! Numbers are unsigned integers, kept exact as `u64` (random draws, seeds
//! and hashes use the full range); there are no floats and no negatives.
//! Strings may hold escapes (the generators write none; the reader accepts
//! them). Objects keep their keys in document order, so [`Json::compact`]
//! writes back the text the generator wrote.
//!
//! Two kinds of accessors:
//!
//! * lenient, `as_*`: a value of another kind reads as empty or `None`. For
//!   the inspector, which reports a bad trace as an error;
//! * strict, named for the kind ([`Json::str`], [`Json::num`],
//!   [`Json::u64`], [`Json::bool`], [`Json::arr`], [`Json::fields`], and the
//!   hex readers [`Json::hexnum`], [`Json::bytes`]): a value of another kind
//!   panics. For tests, where a malformed golden file must fail loudly.
//!
//! Byte strings (keys, elems, key material) are written as lowercase hex:
//! [`hex`] and [`unhex`].

use core::fmt::Write as _;

/// A JSON value (see the module doc for the subset).
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An unsigned integer.
    Num(u64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, keys in document order.
    Obj(Vec<(String, Json)>),
}

static JSON_NULL: Json = Json::Null;

impl Json {
    /// Parses one JSON document (a whole file, or one line of a trace).
    pub fn parse(text: impl AsRef<[u8]>) -> Result<Json, String> {
        let b = text.as_ref();
        let mut i = 0;
        let v = json_value(b, &mut i)?;
        json_ws(b, &mut i);
        if i != b.len() {
            return Err(format!("trailing characters at byte {i}"));
        }
        Ok(v)
    }
    /// Member `k` of an object (`Null` if absent).
    pub fn get(&self, k: &str) -> &Json {
        match self {
            Json::Obj(v) => v.iter().find(|(n, _)| n == k).map_or(&JSON_NULL, |(_, j)| j),
            _ => &JSON_NULL,
        }
    }
    /// The string, or "".
    pub fn as_str(&self) -> &str {
        if let Json::Str(s) = self { s } else { "" }
    }
    /// The number, if it is one.
    pub fn as_u64(&self) -> Option<u64> {
        if let Json::Num(n) = self { Some(*n) } else { None }
    }
    /// The elements, or none.
    pub fn as_arr(&self) -> &[Json] {
        if let Json::Arr(a) = self { a } else { &[] }
    }
    /// Whether this is `null` (an absent object member reads as `null`).
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }
    /// The string.
    ///
    /// # Panics
    /// If this is not a string.
    pub fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            j => panic!("JSON: not a string: {j:?}"),
        }
    }
    /// The number, exact.
    ///
    /// # Panics
    /// If this is not a number.
    pub fn u64(&self) -> u64 {
        match self {
            Json::Num(n) => *n,
            j => panic!("JSON: not a number: {j:?}"),
        }
    }
    /// The number as a size or count.
    ///
    /// # Panics
    /// If this is not a number, or the number does not fit a `usize`.
    pub fn num(&self) -> usize {
        usize::try_from(self.u64()).unwrap_or_else(|_| panic!("JSON: {self:?} does not fit a usize"))
    }
    /// The boolean.
    ///
    /// # Panics
    /// If this is not `true` or `false`.
    pub fn bool(&self) -> bool {
        match self {
            Json::Bool(b) => *b,
            j => panic!("JSON: not a bool: {j:?}"),
        }
    }
    /// The elements.
    ///
    /// # Panics
    /// If this is not an array.
    pub fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(v) => v,
            j => panic!("JSON: not an array: {j:?}"),
        }
    }
    /// The members, in document order.
    ///
    /// # Panics
    /// If this is not an object.
    pub fn fields(&self) -> &[(String, Json)] {
        match self {
            Json::Obj(v) => v,
            j => panic!("JSON: not an object: {j:?}"),
        }
    }
    /// A hex string (`"0x…"` or bare digits) as a number: the hash vectors
    /// and trace headers write 64-bit values this way.
    ///
    /// # Panics
    /// If this is not a string of at most 16 hex digits.
    pub fn hexnum(&self) -> u64 {
        let s = self.str();
        u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or_else(|e| panic!("JSON: hex number {s:?}: {e}"))
    }
    /// A hex string as bytes ([`unhex`]).
    ///
    /// # Panics
    /// If this is not a string of hex digit pairs.
    pub fn bytes(&self) -> Vec<u8> {
        unhex(self.str()).unwrap_or_else(|e| panic!("JSON: {e}"))
    }
    /// Compact serialisation (keys in stored order), as the traces write it.
    pub fn compact(&self) -> String {
        match self {
            Json::Null => "null".into(),
            Json::Bool(b) => b.to_string(),
            Json::Num(n) => n.to_string(),
            Json::Str(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
            Json::Arr(a) => format!("[{}]", a.iter().map(Json::compact).collect::<Vec<_>>().join(",")),
            Json::Obj(o) => format!(
                "{{{}}}",
                o.iter().map(|(k, v)| format!("\"{k}\":{}", v.compact())).collect::<Vec<_>>().join(",")
            ),
        }
    }
}

fn json_ws(b: &[u8], i: &mut usize) {
    while *i < b.len() && b[*i].is_ascii_whitespace() {
        *i += 1;
    }
}

fn json_value(b: &[u8], i: &mut usize) -> Result<Json, String> {
    json_ws(b, i);
    let Some(&c) = b.get(*i) else { return Err("unexpected end".into()) };
    let lit = |i: &mut usize, word: &str, v: Json| -> Result<Json, String> {
        if b[*i..].starts_with(word.as_bytes()) {
            *i += word.len();
            Ok(v)
        } else {
            Err(format!("bad literal at byte {i}"))
        }
    };
    match c {
        b'n' => lit(i, "null", Json::Null),
        b't' => lit(i, "true", Json::Bool(true)),
        b'f' => lit(i, "false", Json::Bool(false)),
        b'0'..=b'9' => {
            let start = *i;
            while *i < b.len() && b[*i].is_ascii_digit() {
                *i += 1;
            }
            let t = core::str::from_utf8(&b[start..*i]).map_err(|e| e.to_string())?;
            t.parse().map(Json::Num).map_err(|e| format!("number {t}: {e}"))
        }
        b'"' => {
            *i += 1;
            let mut s = String::new();
            loop {
                let Some(&c) = b.get(*i) else { return Err("unterminated string".into()) };
                *i += 1;
                match c {
                    b'"' => break,
                    b'\\' => {
                        let e = *b.get(*i).ok_or("bad escape")?;
                        *i += 1;
                        match e {
                            b'"' => s.push('"'),
                            b'\\' => s.push('\\'),
                            b'/' => s.push('/'),
                            b'n' => s.push('\n'),
                            b't' => s.push('\t'),
                            b'r' => s.push('\r'),
                            b'u' => {
                                let h = b.get(*i..*i + 4).ok_or("bad \\u escape")?;
                                let h = core::str::from_utf8(h).map_err(|e| e.to_string())?;
                                let cp = u32::from_str_radix(h, 16).map_err(|e| e.to_string())?;
                                s.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                                *i += 4;
                            }
                            _ => return Err(format!("unknown escape \\{}", e as char)),
                        }
                    }
                    _ => {
                        // copy the whole UTF-8 sequence
                        let start = *i - 1;
                        let mut end = *i;
                        while end < b.len() && (b[end] & 0xc0) == 0x80 {
                            end += 1;
                        }
                        s.push_str(core::str::from_utf8(&b[start..end]).map_err(|e| e.to_string())?);
                        *i = end;
                    }
                }
            }
            Ok(Json::Str(s))
        }
        b'[' => {
            *i += 1;
            let mut v = Vec::new();
            json_ws(b, i);
            if b.get(*i) == Some(&b']') {
                *i += 1;
                return Ok(Json::Arr(v));
            }
            loop {
                v.push(json_value(b, i)?);
                json_ws(b, i);
                match b.get(*i) {
                    Some(b',') => *i += 1,
                    Some(b']') => {
                        *i += 1;
                        return Ok(Json::Arr(v));
                    }
                    _ => return Err(format!("expected , or ] at byte {i}")),
                }
            }
        }
        b'{' => {
            *i += 1;
            let mut v = Vec::new();
            json_ws(b, i);
            if b.get(*i) == Some(&b'}') {
                *i += 1;
                return Ok(Json::Obj(v));
            }
            loop {
                json_ws(b, i);
                let Json::Str(k) = json_value(b, i)? else { return Err(format!("object key expected at byte {i}")) };
                json_ws(b, i);
                if b.get(*i) != Some(&b':') {
                    return Err(format!("expected : at byte {i}"));
                }
                *i += 1;
                v.push((k, json_value(b, i)?));
                json_ws(b, i);
                match b.get(*i) {
                    Some(b',') => *i += 1,
                    Some(b'}') => {
                        *i += 1;
                        return Ok(Json::Obj(v));
                    }
                    _ => return Err(format!("expected , or }} at byte {i}")),
                }
            }
        }
        c => Err(format!("unexpected {:?} at byte {i}", c as char)),
    }
}

/// The lowercase hex text of `b`, as the traces write bytes.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// The bytes of a hex string (the inverse of [`hex`]).
pub fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if s.len() % 2 != 0 {
        return Err(format!("odd hex length: {s}"));
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("hex {s}: {e}"))).collect()
}
