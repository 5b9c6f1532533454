//! Replay of `gomap-trace/1` traces (docs/trace-format.md) on gomap, op by
//! op against Go's recorded results and states: what `replay.rs` runs on
//! the golden traces and `derive.rs` on derived key descriptors.

use std::cell::Cell;
use std::fmt::Write as _;
use std::path::Path;
use std::ptr::NonNull;
use std::rc::Rc;

use super::replay::{FNV_BASIS, HashPath, Trace, fnv, header_diffs};
use std::sync::Arc;

use gomap::alg::GoString;
use gomap::iface::{DynField, DynKind, DynType, Iface};
use gomap::inspect::{At, IterArray, Snapshot, header, iter_fields, snapshot};
use gomap::map::{self, HIter, HMap};
use gomap::maptype::{MapType, TypeError, TypeInfo, go_align};
use gomap::presets::Field;
use gomap::{fast32, fast64, faststr};
use gomap_inspector::json::{Json, hex};

/// Go's `Nest` (oracle kinds_more.go): `A uint32` at 0, `In NestIn{A
/// uint32; F float32}` at 4 (not plain memory, so hashed by its own
/// function: the blank markers keep `A` and `In.A` in separate runs), `Ok
/// bool` at 12, 1 byte of padding, `C uint16` at 14.
pub const NEST_FIELDS: [Field; 7] = [
    Field::mem(0, 4),
    Field::blank(4, 0),
    Field::mem(4, 4),
    Field::f32(8),
    Field::blank(12, 0),
    Field::mem(12, 1),
    Field::mem(14, 2),
];

/// The dynamic types of the oracle's `any` kind (kinds_iface.go), by
/// trace type id - 1: int, main.MyInt, int32, string, float64, main.IP,
/// [3]uint16.
struct AnyTypes {
    types: Vec<Arc<DynType>>,
}

impl AnyTypes {
    fn new() -> AnyTypes {
        let t = |n: &str, size, k| Arc::new(DynType::new(n, size, false, k).unwrap());
        let i32t = t("int32", 4, DynKind::Memory);
        let strt = t("string", 16, DynKind::Str);
        let f64t = t("float64", 8, DynKind::F64);
        let f = |offset, typ: &Arc<DynType>| DynField { offset, typ: typ.clone(), blank: false };
        let ip = t("main.IP", 32, DynKind::Struct { fields: vec![f(0, &i32t), f(8, &strt), f(24, &f64t)] });
        AnyTypes {
            types: vec![
                t("int", 8, DynKind::Memory),
                t("main.MyInt", 8, DynKind::Memory),
                i32t,
                strt,
                f64t,
                ip,
                t("[3]uint16", 6, DynKind::Memory),
            ],
        }
    }

    /// The trace text (bytes) of the interface key at `p`.
    fn encode(&self, p: *const u8) -> Vec<u8> {
        // SAFETY: `p` is an interface key: 16 readable bytes.
        let i = unsafe { p.cast::<Iface>().read_unaligned() };
        if i.typ.is_null() {
            return vec![0];
        }
        let id = self.types.iter().position(|t| std::ptr::eq(&**t, i.typ)).expect("known dynamic type") + 1;
        let rd = |off: usize, n: usize| -> Vec<u8> {
            // SAFETY: the value (in our arena) has at least `off + n` bytes.
            unsafe { std::slice::from_raw_parts(i.data.add(off), n) }.to_vec()
        };
        let st = |off: usize| -> Vec<u8> {
            // SAFETY: a GoString header at `off` of the value.
            let g = unsafe { i.data.add(off).cast::<GoString>().read_unaligned() };
            let mut b = (g.len as u64).to_le_bytes().to_vec();
            // SAFETY: its bytes live in our arena.
            b.extend_from_slice(unsafe { g.as_bytes() });
            b
        };
        let mut out = vec![id as u8];
        match id {
            1 | 2 | 5 => out.extend(rd(0, 8)),
            3 => out.extend(rd(0, 4)),
            4 => out.extend(st(0)),
            6 => {
                out.extend(rd(0, 4));
                out.extend(st(8));
                out.extend(rd(24, 8));
            }
            _ => out.extend(rd(0, 6)),
        }
        out
    }
}

/// Which entry points a trace's ops go through: the fast variants for
/// `u32`, `u64` and `str` keys, the generic ones for every other key type.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Key {
    U32,
    U64,
    Str,
    Generic,
}

struct Replay {
    key: Key,
    /// Offsets of the string headers inside keys of types that hold strings
    /// in a larger value (`ss`, `s9`): their trace text is the key's bytes
    /// with each header replaced by its length and content
    /// (docs/trace-format.md section 3).
    strs: Vec<usize>,
    t: MapType,
    esize: usize,
    /// The header's `arraylen`: bucket array length per B = 0..15.
    arraylen: Vec<usize>,
    maps: Vec<Option<NonNull<HMap>>>,
    iters: Vec<HIter>,
    /// String keys handed to maps must outlive them: an arena.
    strings: Vec<Box<[u8]>>,
    /// For `any` traces: the dynamic types, indexed by trace type id
    /// (docs/trace-format.md section 3, interface keys), and the boxed
    /// values interface keys point to.
    any: Option<AnyTypes>,
    values: Vec<Box<[u64]>>,
    name: String,
}

/// A key's bytes in 8-aligned storage (keys of align up to 8 are read in
/// place by the hashers and equalities).
struct KeyBuf {
    words: Vec<u64>,
    len: usize,
}

impl KeyBuf {
    fn new(b: &[u8]) -> KeyBuf {
        let mut words = vec![0u64; b.len().div_ceil(8).max(1)];
        // SAFETY: `words` has room for `b.len()` bytes; distinct allocations.
        unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), words.as_mut_ptr().cast::<u8>(), b.len()) };
        KeyBuf { words, len: b.len() }
    }
    fn as_ptr(&self) -> *const u8 {
        self.words.as_ptr().cast()
    }
    fn bytes(&self) -> &[u8] {
        // SAFETY: `len` bytes of the initialised words.
        unsafe { std::slice::from_raw_parts(self.as_ptr(), self.len) }
    }
    fn u32(&self) -> u32 {
        u32::from_le_bytes(self.bytes()[..4].try_into().unwrap())
    }
    fn u64(&self) -> u64 {
        u64::from_le_bytes(self.bytes()[..8].try_into().unwrap())
    }
}

/// Size of a string header: two words.
const STR_HDR: usize = size_of::<GoString>();

/// The bytes of a string header.
fn str_header_bytes(g: GoString) -> [u8; STR_HDR] {
    const W: usize = size_of::<usize>();
    let mut b = [0u8; STR_HDR];
    b[..W].copy_from_slice(&(g.ptr as usize).to_ne_bytes());
    b[W..].copy_from_slice(&g.len.to_ne_bytes());
    b
}

impl Replay {
    fn new(hdr: &Json, name: &str, key_type: KeyTypeFn) -> Replay {
        let elem = match hdr.get("elem").str() {
            "u16" => TypeInfo::of::<u16>(),
            "u32" => TypeInfo::of::<u32>(),
            "u64" => TypeInfo::of::<u64>(),
            "u16x5" => TypeInfo::of::<[u16; 5]>(),
            "b136" => TypeInfo { size: 136, align: 1, pointers: false },
            "b144" => TypeInfo { size: 144, align: 1, pointers: false },
            "zst" => TypeInfo { size: 0, align: 1, pointers: false },
            e => panic!("unknown elem type {e}"),
        }
        // Go's elem type, as Go aligns it (8-byte ones to 4 on 32-bit).
        .go_aligned();
        let (key, strs, t) = match hdr.get("key").str() {
            k if key_type(k, elem).is_some() => {
                let strs = match k {
                    "ss" => vec![8],
                    "s9" => (0..9).map(|i| 16 * i).collect(),
                    _ => vec![],
                };
                (Key::Generic, strs, key_type(k, elem).unwrap())
            }
            "u32" => (Key::U32, vec![], MapType::u32_key(elem)),
            "u64" => (Key::U64, vec![], MapType::u64_key(elem)),
            "str" => (Key::Str, vec![], MapType::str_key(elem)),
            "f64" => (Key::Generic, vec![], MapType::f64_key(elem)),
            "big" => (Key::Generic, vec![], MapType::bytes_key(136, elem)),
            "zst" => (Key::Generic, vec![], MapType::mem_key(0, 1, elem)),
            "comp" => {
                // Go's Comp: F at float64's alignment (8 on 64-bit, 4 on
                // 386 and arm), S after it, size rounded up to that
                // alignment.
                let a = go_align(align_of::<f64>());
                let f = [Field::mem(0, 4), Field::f64(a), Field::mem(a + 8, 2)];
                (Key::Generic, vec![], MapType::composite_key(&f, (a + 10).next_multiple_of(a), a, elem))
            }
            "f32" => (Key::Generic, vec![], MapType::f32_key(elem)),
            "any" | "iface" => (Key::Generic, vec![], MapType::iface_key(elem)),
            "c128" => (Key::Generic, vec![], MapType::c128_key(elem)),
            "a3" => (Key::Generic, vec![], MapType::mem_key(3, 1, elem)),
            "a5z" => (Key::Generic, vec![], MapType::mem_key(10, 2, elem)),
            "ss" => (
                Key::Generic,
                vec![8],
                MapType::composite_key(&[Field::mem(0, 1), Field::str(8), Field::f32(24)], 32, 8, elem),
            ),
            "nest" => (Key::Generic, vec![], MapType::composite_key(&NEST_FIELDS, 16, 4, elem)),
            "k128" => (Key::Generic, vec![], MapType::mem_key(128, 8, elem)),
            "f17" => {
                let f: Vec<Field> = (0..17).map(|i| Field::f64(8 * i)).collect();
                (Key::Generic, vec![], MapType::composite_key(&f, 136, 8, elem))
            }
            "s9" => {
                let f: Vec<Field> = (0..9).map(|i| Field::str(16 * i)).collect();
                (Key::Generic, (0..9).map(|i| 16 * i).collect(), MapType::composite_key(&f, 144, 8, elem))
            }
            k => panic!("unknown key type {k}"),
        };
        let t = t.unwrap();
        // The descriptor must be Go's.
        assert_eq!(t.keysize(), hdr.get("keysize").num(), "{name}: keysize");
        assert_eq!(t.valuesize(), hdr.get("valuesize").num(), "{name}: valuesize");
        assert_eq!(t.bucketsize(), hdr.get("bucketsize").num(), "{name}: bucketsize");
        assert_eq!(t.flags() as usize, hdr.get("flags").num(), "{name}: flags");
        assert_eq!(t.bucket_pointers(), hdr.get("bucketpointers").bool(), "{name}: bucket pointers");
        assert_eq!(t.key().size, hdr.get("keytypesize").num(), "{name}: keytypesize");
        assert_eq!(elem.size, hdr.get("elemtypesize").num(), "{name}: elemtypesize");
        let arraylen: Vec<usize> = hdr.get("arraylen").arr().iter().map(Json::num).collect();
        assert_eq!(arraylen.len(), 16, "{name}: arraylen has one entry per B = 0..15");
        assert_eq!(arraylen[0], 1, "{name}: arraylen[0]");
        for (b, &want) in arraylen.iter().enumerate().skip(1) {
            // The smallest hint that gives B = b (overLoadFactor, :1147).
            let hint = (13 * (1usize << (b - 1)) / 2 + 1).max(9);
            let h = map::makemap(&t, hint as isize).unwrap();
            // SAFETY: a fresh map of type t.
            let hd = unsafe { header(&t, h) };
            // SAFETY: no iterators; freed once.
            unsafe { map::mapfree(&t, h.as_ptr()) }.unwrap();
            assert_eq!(hd.b as usize, b, "{name}: hint {hint} gives B");
            assert_eq!(hd.array_buckets, want, "{name}: arraylen[{b}] (buckets makeBucketArray allocates)");
        }
        let any = matches!(hdr.get("key").str(), "any" | "iface").then(AnyTypes::new);
        Replay {
            key,
            strs,
            any,
            values: Vec::new(),
            t,
            esize: elem.size,
            arraylen,
            maps: Vec::new(),
            iters: Vec::new(),
            strings: Vec::new(),
            name: name.into(),
        }
    }

    /// A Go string header for `b`, whose bytes move into the arena.
    fn arena_str(&mut self, b: Vec<u8>) -> GoString {
        let b: Box<[u8]> = b.into_boxed_slice();
        let g = GoString { ptr: b.as_ptr(), len: b.len() };
        self.strings.push(b);
        g
    }

    /// The key bytes gomap stores for a trace key.
    /// Returned in 8-aligned storage (`Key::bytes` gives the key).
    fn key_bytes(&mut self, k: &Json) -> KeyBuf {
        let raw = k.bytes();
        if self.any.is_some() {
            let i = self.any_key(&raw);
            // SAFETY: an Iface is two plain words (two pointers).
            let b: [u8; size_of::<Iface>()] = unsafe { std::mem::transmute(i) };
            return KeyBuf::new(&b);
        }
        if self.key == Key::Str {
            let g = self.arena_str(raw);
            return KeyBuf::new(&str_header_bytes(g));
        }
        if self.strs.is_empty() {
            return KeyBuf::new(&raw);
        }
        // Structured: memory runs between string headers, each header
        // encoded as its length (8 bytes LE) and content.
        let mut out = Vec::with_capacity(self.t.key().size);
        let mut i = 0;
        for &so in &self.strs.clone() {
            let n = so - out.len();
            out.extend_from_slice(&raw[i..i + n]);
            i += n;
            let len = u64::from_le_bytes(raw[i..i + 8].try_into().unwrap()) as usize;
            i += 8;
            let g = self.arena_str(raw[i..i + len].to_vec());
            i += len;
            out.extend_from_slice(&str_header_bytes(g));
        }
        out.extend_from_slice(&raw[i..]);
        assert_eq!(out.len(), self.t.key().size, "{}: structured key length", self.name);
        KeyBuf::new(&out)
    }

    /// The interface key for trace text `raw` (an `any` trace): its value
    /// boxed in the arena.
    fn any_key(&mut self, raw: &[u8]) -> Iface {
        let le8 = |b: &[u8]| u64::from_le_bytes(b[..8].try_into().unwrap());
        let mut val = vec![0u64; 4].into_boxed_slice();
        let id = raw[0] as usize;
        match id {
            0 => return Iface::NIL,
            1 | 2 | 5 => val[0] = le8(&raw[1..]),
            3 => val[0] = u32::from_le_bytes(raw[1..5].try_into().unwrap()) as u64,
            4 => {
                let n = le8(&raw[1..]) as usize;
                let g = self.arena_str(raw[9..9 + n].to_vec());
                val[0] = 0;
                // SAFETY: 16 bytes of `val` hold the header.
                unsafe { val.as_mut_ptr().cast::<GoString>().write(g) };
            }
            6 => {
                val[0] = u32::from_le_bytes(raw[1..5].try_into().unwrap()) as u64;
                let n = le8(&raw[5..]) as usize;
                let g = self.arena_str(raw[13..13 + n].to_vec());
                // SAFETY: bytes 8..24 of `val` hold the header.
                unsafe { val.as_mut_ptr().add(1).cast::<GoString>().write(g) };
                val[3] = le8(&raw[13 + n..]);
            }
            7 => {
                let mut b = [0u8; 8];
                b[..6].copy_from_slice(&raw[1..7]);
                val[0] = u64::from_le_bytes(b);
            }
            _ => panic!("{}: bad any key {}", self.name, hex(raw)),
        }
        let data = val.as_ptr().cast::<u8>();
        self.values.push(val);
        Iface { typ: &*self.any.as_ref().unwrap().types[id - 1], data }
    }

    /// The trace text of a structured key's bytes `b` (see `strs`).
    fn structured_text(&self, b: &[u8]) -> String {
        let mut out = Vec::new();
        let mut off = 0;
        for &so in &self.strs {
            out.extend_from_slice(&b[off..so]);
            let g = Self::gostr(&b[so..so + STR_HDR]);
            out.extend_from_slice(&(g.len as u64).to_le_bytes());
            if !g.ptr.is_null() {
                // SAFETY: non-null string pointers point into our arena.
                out.extend_from_slice(unsafe { std::slice::from_raw_parts(g.ptr, g.len) });
            } else {
                assert_eq!(g.len, 0, "{}: string with nil data and length {}", self.name, g.len);
            }
            off = so + STR_HDR;
        }
        out.extend_from_slice(&b[off..]);
        hex(&out)
    }

    fn gostr(kb: &[u8]) -> GoString {
        // SAFETY: `kb` holds a GoString's bytes (see key_bytes).
        unsafe { kb.as_ptr().cast::<GoString>().read_unaligned() }
    }

    /// The trace's text for the key stored at `p` (its content for strings).
    fn key_text(&self, p: *const u8) -> String {
        let size = self.t.key().size;
        if let Some(a) = &self.any {
            return hex(&a.encode(p));
        }
        if self.key == Key::Str {
            // SAFETY: a GoString key; its bytes live in our arena.
            let g = unsafe { p.cast::<GoString>().read_unaligned() };
            // SAFETY: as above.
            return hex(unsafe { std::slice::from_raw_parts(g.ptr, g.len) });
        }
        // SAFETY: a key of `size` bytes.
        let b = unsafe { std::slice::from_raw_parts(p, size) };
        if !self.strs.is_empty() {
            return self.structured_text(b);
        }
        hex(b)
    }

    fn elem_text(&self, p: *const u8) -> String {
        // SAFETY: an elem of `esize` bytes.
        hex(unsafe { std::slice::from_raw_parts(p, self.esize) })
    }

    /// STATE text as defined in docs/trace-format.md section 5.
    fn state_text(&self, s: &Snapshot) -> String {
        let slot = |v: &Option<Vec<u8>>, is_key: bool| -> String {
            match v {
                None => "null".into(),
                Some(b) if is_key && self.key == Key::Str => {
                    let g = Self::gostr(b);
                    if g.ptr.is_null() {
                        format!("\"~{}\"", g.len)
                    } else {
                        // SAFETY: non-null string pointers point into our arena.
                        format!("\"{}\"", hex(unsafe { std::slice::from_raw_parts(g.ptr, g.len) }))
                    }
                }
                Some(b) if is_key && !self.strs.is_empty() => format!("\"{}\"", self.structured_text(b)),
                Some(b) if is_key && self.any.is_some() => format!("\"{}\"", self.key_text(b.as_ptr())),
                Some(b) => format!("\"{}\"", hex(b)),
            }
        };
        let array = |a: Option<&Vec<Vec<gomap::inspect::Bucket>>>| -> String {
            let Some(a) = a else { return "null".into() };
            let chains: Vec<String> = a
                .iter()
                .map(|chain| {
                    let bs: Vec<String> = chain
                        .iter()
                        .map(|b| {
                            let at = match b.at {
                                At::Main(_) => "\"main\"".to_string(),
                                At::Pre(j) => format!("{{\"pre\":{j}}}"),
                                At::Heap => "\"heap\"".into(),
                            };
                            let th: Vec<String> = b.tophash.iter().map(|x| x.to_string()).collect();
                            let ks: Vec<String> = b.keys.iter().map(|k| slot(k, true)).collect();
                            let es: Vec<String> = b.elems.iter().map(|e| slot(e, false)).collect();
                            format!(
                                "{{\"at\":{at},\"tophash\":[{}],\"keys\":[{}],\"elems\":[{}]}}",
                                th.join(","),
                                ks.join(","),
                                es.join(",")
                            )
                        })
                        .collect();
                    format!("[{}]", bs.join(","))
                })
                .collect();
            format!("[{}]", chains.join(","))
        };
        let buckets = if s.header.array_buckets == 0 { None } else { Some(&s.buckets) };
        format!("{{\"buckets\":{},\"oldbuckets\":{}}}", array(buckets), array(s.oldbuckets.as_ref()))
    }

    fn map(&self, id: usize) -> NonNull<HMap> {
        self.maps[id].expect("map id in use")
    }

    fn res_entry(&self, it: &HIter) -> String {
        if it.key.is_null() {
            return "null".into();
        }
        format!("{{\"k\":\"{}\",\"v\":\"{}\"}}", self.key_text(it.key), self.elem_text(it.elem))
    }

    /// Performs one op; returns our `res` text.
    fn op(&mut self, line: &Json) -> String {
        let t = &self.t as *const MapType;
        // SAFETY: `t` lives as long as `self`; the reference does not alias
        // the mutable uses of other fields below.
        let t = unsafe { &*t };
        let op = line.get("op").str();
        let id = if line.get("map").is_null() { usize::MAX } else { line.get("map").num() };
        match op {
            "make" => {
                let hint = line.get("hint").num();
                let h = if hint == 0 { map::makemap_small() } else { map::makemap(t, hint as isize) }.unwrap();
                assert_eq!(id, self.maps.len());
                self.maps.push(Some(h));
                "null".into()
            }
            "assign" => {
                let kb = self.key_bytes(line.get("k"));
                let v = line.get("v").bytes();
                let h = self.map(id).as_ptr();
                // SAFETY: a live map of type t; keys and elems of its types.
                let s = unsafe {
                    match self.key {
                        Key::U32 => fast32::mapassign_fast32(t, h, kb.u32()),
                        Key::U64 => fast64::mapassign_fast64(t, h, kb.u64()),
                        Key::Str => faststr::mapassign_faststr(t, h, Self::gostr(kb.bytes())),
                        Key::Generic => map::mapassign(t, h, kb.as_ptr()),
                    }
                }
                .unwrap();
                // SAFETY: the elem slot has esize bytes.
                unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), s.elem.as_ptr(), self.esize) };
                "null".into()
            }
            "delete" => {
                let kb = self.key_bytes(line.get("k"));
                let h = self.map(id).as_ptr();
                // SAFETY: as above.
                unsafe {
                    match self.key {
                        Key::U32 => fast32::mapdelete_fast32(t, h, kb.u32()),
                        Key::U64 => fast64::mapdelete_fast64(t, h, kb.u64()),
                        Key::Str => faststr::mapdelete_faststr(t, h, Self::gostr(kb.bytes())),
                        Key::Generic => map::mapdelete(t, h, kb.as_ptr()),
                    }
                }
                .unwrap();
                "null".into()
            }
            "get" => {
                let kb = self.key_bytes(line.get("k"));
                let h = self.map(id).as_ptr();
                // SAFETY: as above.
                let (e, ok) = unsafe {
                    match self.key {
                        Key::U32 => fast32::mapaccess2_fast32(t, h, kb.u32()),
                        Key::U64 => fast64::mapaccess2_fast64(t, h, kb.u64()),
                        Key::Str => faststr::mapaccess2_faststr(t, h, Self::gostr(kb.bytes())),
                        Key::Generic => map::mapaccess2(t, h, kb.as_ptr()),
                    }
                }
                .unwrap();
                format!("{{\"ok\":{ok},\"v\":\"{}\"}}", self.elem_text(e))
            }
            "clear" => {
                // SAFETY: a live map.
                unsafe { map::mapclear(t, self.map(id).as_ptr()) };
                "null".into()
            }
            "clone" => {
                // SAFETY: a live map.
                let c = unsafe { map::mapclone2(t, self.map(id).as_ptr()) }.unwrap();
                self.maps.push(Some(c));
                format!("{{\"map\":{}}}", self.maps.len() - 1)
            }
            "len" => {
                // SAFETY: a live map.
                unsafe { self.map(id).as_ref() }.len().to_string()
            }
            "iterinit" => {
                let itid = line.get("it").num();
                assert_eq!(itid, self.iters.len());
                let mut it = HIter::new();
                // SAFETY: a live map; iterators end before maps are freed.
                unsafe { map::mapiterinit(t, self.map(id).as_ptr(), &mut it) };
                self.check_iter(line, &it);
                let r = self.res_entry(&it);
                self.iters.push(it);
                r
            }
            "iternext" => {
                let itid = line.get("it").num();
                let mut it = std::mem::take(&mut self.iters[itid]);
                // SAFETY: registered on a live map.
                unsafe { map::mapiternext(&mut it) };
                self.check_iter(line, &it);
                let r = self.res_entry(&it);
                self.iters[itid] = it;
                r
            }
            "iterend" => {
                let itid = line.get("it").num();
                // SAFETY: the map is live.
                unsafe { map::mapiterend(&mut self.iters[itid]) };
                "null".into()
            }
            "final" => "null".into(),
            o => panic!("unknown op {o}"),
        }
    }

    /// Compares every `hiter` field the trace records (section 4), also
    /// after the iteration ended; no `iter` key means Go left `it.h` unset.
    fn check_iter(&self, line: &Json, it: &HIter) {
        let want = line.get("iter");
        // SAFETY: the iterator's map is live and not being written.
        let f = unsafe { iter_fields(it) };
        assert_eq!(f.has_map, !want.is_null(), "{}: iterator map set (\"iter\" present)", self.name);
        if want.is_null() {
            return;
        }
        let cb = want.get("checkbucket");
        let arr = match f.array {
            IterArray::Current => "cur",
            IterArray::Old => "old",
            IterArray::Other => "other",
        };
        let ours = [
            ("startbucket", f.start_bucket as u64, want.get("startbucket").u64()),
            ("offset", f.offset as u64, want.get("offset").u64()),
            ("B", f.b as u64, want.get("B").u64()),
            ("bucket", f.bucket as u64, want.get("bucket").u64()),
            ("i", f.i as u64, want.get("i").u64()),
            ("wrapped", f.wrapped as u64, want.get("wrapped").bool() as u64),
            (
                "checkbucket",
                f.check_bucket.map_or(u64::MAX, |x| x as u64),
                if cb.is_null() { u64::MAX } else { cb.u64() },
            ),
            ("clearseq", f.clear_seq, want.get("clearseq").u64()),
        ];
        for (name, a, b) in ours {
            assert_eq!(a, b, "{}: iterator field {name}", self.name);
        }
        assert_eq!(arr, want.get("arr").str(), "{}: iterator field arr", self.name);
    }

    fn compare(&self, n: usize, line: &Json) -> Result<(), String> {
        for (mid, m) in line.get("maps").fields() {
            let h = self.map(mid.parse().unwrap());
            // SAFETY: a live map of type t, not being written.
            let s = unsafe { snapshot(&self.t, h) };
            let want = m.get("hdr");
            let ours = &s.header;
            let mut diffs = header_diffs(ours, want);
            if ours.array_buckets != 0 {
                let arraylen = self.arraylen.get(ours.b as usize).copied().unwrap_or(usize::MAX);
                if ours.array_buckets != arraylen {
                    diffs.push(format!("array length (arraylen[B]): gomap {}, Go {arraylen}", ours.array_buckets));
                }
            }
            let text = self.state_text(&s);
            let sum = format!("{:016x}", fnv(FNV_BASIS, text.as_bytes()));
            if sum != m.get("sum").str() {
                diffs.push(format!("state checksum: gomap {sum}, Go {}", m.get("sum").str()));
            }
            if !diffs.is_empty() {
                let mut msg = format!(
                    "{}: op {n} ({}) map {mid} diverges from Go:\n  {}",
                    self.name,
                    line.get("op").str(),
                    diffs.join("\n  ")
                );
                if !m.get("state").is_null() {
                    msg.push_str(&state_diff(&text, &m.get("state").compact()));
                } else {
                    let _ = write!(
                        msg,
                        "\n  (no Go state printed at this op; gomap state: {})",
                        &text[..text.len().min(600)]
                    );
                }
                return Err(msg);
            }
            if !m.get("state").is_null() {
                let go = m.get("state").compact();
                if go != text {
                    return Err(format!("{}: op {n}: state text differs:{}", self.name, state_diff(&text, &go)));
                }
            }
        }
        Ok(())
    }
}

/// Points at the first bucket whose text differs.
fn state_diff(ours: &str, go: &str) -> String {
    let split = |s: &str| s.split("{\"at\"").map(str::to_owned).collect::<Vec<_>>();
    let (a, b) = (split(ours), split(go));
    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
        if x != y {
            return format!(
                "\n  first differing bucket (#{i} in walk order):\n    gomap: {{\"at\"{x}\n    Go:    {{\"at\"{y}"
            );
        }
    }
    format!("\n  bucket counts differ: gomap {}, Go {}", a.len(), b.len())
}

/// Overrides the descriptor of a trace's key type (its name in the trace
/// header, e.g. `comp`): `None` keeps the hand-built one. The override's
/// key is replayed through the generic entry points.
pub type KeyTypeFn<'a> = &'a dyn Fn(&str, TypeInfo) -> Option<Result<MapType, TypeError>>;

/// Replays one trace with the hand-built descriptors; returns the number
/// of ops.
pub fn replay_file(path: &Path) -> Result<u64, String> {
    replay_file_with(path, &|_, _| None)
}

/// Replays one trace, its key's descriptor from `key_type` where that
/// gives one; returns the number of ops.
pub fn replay_file_with(path: &Path, key_type: KeyTypeFn) -> Result<u64, String> {
    let trace = Trace::open(path, "gomap-trace/1");
    let (name, hdr) = (&trace.name, &trace.hdr);
    let Some(_path) = HashPath::install(hdr, name) else { return Ok(0) };
    let mut r = Replay::new(hdr, name, key_type);
    let mut ops = 0;
    let result = (|| {
        for line in trace.lines() {
            let line = line?;
            let n = line.get("n").num();
            let draws: Vec<u64> = line.get("rand").arr().iter().map(Json::u64).collect();
            let ndraws = draws.len();
            let used = Rc::new(Cell::new(0usize));
            let u = used.clone();
            let mut it = draws.into_iter();
            let res = gomap::rand::with_source(
                move || {
                    u.set(u.get() + 1);
                    it.next().unwrap_or_else(|| panic!("more random draws than Go took"))
                },
                || std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| r.op(&line))),
            )
            .map_err(|e| {
                format!("{name}: op {n} ({}) panicked: {}", line.get("op").str(), super::panic_message(&*e))
            })?;
            if used.get() != ndraws {
                return Err(format!(
                    "{name}: op {n} ({}) took {} draws, Go took {ndraws}",
                    line.get("op").str(),
                    used.get()
                ));
            }
            let want = line.get("res").compact();
            if res != want {
                return Err(format!("{name}: op {n} ({}) result: gomap {res}, Go {want}", line.get("op").str()));
            }
            r.compare(n, &line)?;
            ops += 1;
        }
        Ok(())
    })();
    // Tidy up: end iterators, free maps.
    for it in &mut r.iters {
        // SAFETY: the maps are still alive.
        unsafe { map::mapiterend(it) };
    }
    for h in r.maps.iter().flatten() {
        // SAFETY: no live iterators; freed once.
        unsafe { map::mapfree(&r.t, h.as_ptr()) }.unwrap();
    }
    result.map(|()| ops)
}
