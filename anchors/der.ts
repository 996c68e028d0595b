// A minimal strict DER reader (X.690 10): definite, minimally encoded lengths, single-byte tags. It
// walks a certificate once so that each field is sliced from the bytes the partner sent, with no
// schema objects built for the parts path validation does not read.

export class DerError extends Error {}

export interface Tlv {
  tag: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset after the last content byte. */
  end: number;
  /** Offset of the tag byte. */
  head: number;
}

export function readTlv(buf: Uint8Array, at: number, limit = buf.length): Tlv {
  if (at + 2 > limit) throw new DerError('truncated');
  const tag = buf[at]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used in certificates');
  let len = buf[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const octets = len & 0x7f;
    if (octets === 0 || octets > 4) throw new DerError('indefinite or oversized length');
    if (start + octets > limit) throw new DerError('truncated length');
    len = 0;
    for (let i = 0; i < octets; i++) len = len * 256 + buf[start + i]!;
    if (buf[start] === 0 || len < 0x80) throw new DerError('length not minimally encoded');
    start += octets;
  }
  const end = start + len;
  if (end > limit) throw new DerError('truncated content');
  return { tag, start, end, head: at };
}

/** The children of a constructed element. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let at = parent.start;
  while (at < parent.end) {
    const t = readTlv(buf, at, parent.end);
    out.push(t);
    at = t.end;
  }
  return out;
}

export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`${what}: unexpected tag`);
  return t;
}

/**
 * Dotted text of OIDs already read, by a 32-bit hash of their content octets; each entry keeps its octets,
 * so a colliding OID is compared and, if different, decoded without the cache. Bounded, valid OIDs only.
 */
const OID_TEXT = new Map<number, { octets: Uint8Array; text: string }>();
const OID_TEXT_LIMIT = 4096;

export function oid(buf: Uint8Array, t: Tlv): string {
  if (t.tag !== 0x06 || t.end === t.start) throw new DerError('not an OBJECT IDENTIFIER');
  let h = 0x811c9dc5;
  for (let i = t.start; i < t.end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  const known = OID_TEXT.get(h);
  if (known !== undefined && equalRange(known.octets, buf, t.start, t.end)) return known.text;
  const text = oidText(buf, t);
  if (known === undefined && OID_TEXT.size < OID_TEXT_LIMIT) OID_TEXT.set(h, { octets: new Uint8Array(buf.subarray(t.start, t.end)), text });
  return text;
}

function equalRange(octets: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  if (octets.length !== end - start) return false;
  for (let i = 0; i < octets.length; i++) if (octets[i] !== buf[start + i]) return false;
  return true;
}

/** Byte equality in JS: for the short fields compared here (names, key identifiers, keys), cheaper than a call into Buffer#equals. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function oidText(buf: Uint8Array, t: Tlv): string {
  const parts: number[] = [];
  let value = 0;
  let first = true;
  for (let i = t.start; i < t.end; i++) {
    const b = buf[i]!;
    if (value === 0 && b === 0x80) throw new DerError('OID arc not minimally encoded');
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OID arc too large');
    if (!(b & 0x80)) {
      if (first) {
        const a = value < 40 ? 0 : value < 80 ? 1 : 2;
        parts.push(a, value - a * 40);
        first = false;
      } else parts.push(value);
      value = 0;
    } else if (i === t.end - 1) throw new DerError('OID ends mid-arc');
  }
  return parts.join('.');
}

/** Two decimal digits at `at`, read from the bytes (no text is made). */
function twoDigits(buf: Uint8Array, at: number): number {
  const hi = buf[at]! - 0x30;
  const lo = buf[at + 1]! - 0x30;
  if (hi < 0 || hi > 9 || lo < 0 || lo > 9) throw new DerError('not a UTCTime or GeneralizedTime in the RFC 5280 form');
  return hi * 10 + lo;
}

/** UTCTime (YYMMDDHHMMSSZ, RFC 5280 4.1.2.5.1) or GeneralizedTime (YYYYMMDDHHMMSSZ, 4.1.2.5.2). */
export function time(buf: Uint8Array, t: Tlv): Date {
  const utc = t.tag === 0x17;
  const length = t.end - t.start;
  if (!(utc ? length === 13 : t.tag === 0x18 && length === 15) || buf[t.end - 1] !== 0x5a /* Z */) {
    throw new DerError('not a UTCTime or GeneralizedTime in the RFC 5280 form');
  }
  let at = t.start;
  let year: number;
  if (utc) {
    const yy = twoDigits(buf, at);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    at += 2;
  } else {
    year = twoDigits(buf, at) * 100 + twoDigits(buf, at + 2);
    at += 4;
  }
  const mo = twoDigits(buf, at);
  const d = twoDigits(buf, at + 2);
  const h = twoDigits(buf, at + 4);
  const mi = twoDigits(buf, at + 6);
  const s = twoDigits(buf, at + 8);
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, s));
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) throw new DerError('not a calendar time');
  if (year < 100) date.setUTCFullYear(year);
  return date;
}

/** A view (not a copy) of the content octets; `subarray` of a Buffer is a Buffer and skips Buffer.from's argument checks. */
export function bytes(buf: Uint8Array, t: Tlv): Buffer {
  return buf instanceof Buffer ? buf.subarray(t.start, t.end) : Buffer.from(buf.buffer, buf.byteOffset + t.start, t.end - t.start);
}

/** A view of the whole element, tag and length included. */
export function whole(buf: Uint8Array, t: Tlv): Buffer {
  return buf instanceof Buffer ? buf.subarray(t.head, t.end) : Buffer.from(buf.buffer, buf.byteOffset + t.head, t.end - t.head);
}
