// Strict PEM/DER splitting. Explanatory text outside blocks is allowed (RFC 7468), but a damaged block
// (anything with a boundary marker that does not parse) is refused rather than skipped, so what Admit
// verifies is exactly what the partner meant to send.

export class PemError extends Error {}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END ([A-Z0-9 ]+)-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;

/** Returns the DER of every block with one of the labels (or a single DER object when the input is binary). */
export function decodePem(input: Uint8Array | string, label: string | string[] = 'CERTIFICATE'): Buffer[] {
  if (input.length === 0) throw new PemError('the file is empty');
  // A string is read as it is (PEM is ASCII; any other character fails the base64 or stays outside the
  // blocks either way), so the text is not copied to bytes and back.
  if (typeof input === 'string' ? input.charCodeAt(0) === 0x30 : input[0] === 0x30) return [Buffer.from(input)];
  const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  const first = Array.isArray(label) ? label[0] : label;
  const blocks: Buffer[] = [];
  let consumed = 0;
  // exec on the module's global expression (matchAll would copy it and make an iterator); nothing in
  // the loop can re-enter decodePem, and lastIndex is reset before each use.
  BLOCK.lastIndex = 0;
  for (let match = BLOCK.exec(text); match !== null; match = BLOCK.exec(text)) {
    const begin = match[1]!;
    const body = match[2] ?? '';
    const end = match[3];
    checkOutside(text, consumed, match.index);
    consumed = match.index + match[0].length;
    if (begin !== end) throw new PemError(`BEGIN ${begin} closed by END ${end}`);
    if (Array.isArray(label) ? !label.includes(begin) : begin !== label)
      throw new PemError(`unexpected ${begin} block; only ${first} blocks are accepted`);
    blocks.push(base64Body(body));
  }
  if (blocks.length === 0) throw new PemError(`no ${first} block found`);
  checkOutside(text, consumed, text.length);
  return blocks;
}

/**
 * A body in the usual PEM shape, checked by one regular expression: base64 digits in groups of four (the
 * last group possibly padded), with the whitespace PEM wraps lines with (space, tab, CR, LF) anywhere
 * between them. The digit and whitespace classes are disjoint, so matching is linear. Everything it
 * matches is valid base64 (RFC 4648 4) once the whitespace is removed; anything else takes the general path.
 */
const WRAPPED_BASE64 =
  /^[\t\n\r ]*(?:[A-Za-z0-9+/][\t\n\r ]*[A-Za-z0-9+/][\t\n\r ]*[A-Za-z0-9+/][\t\n\r ]*[A-Za-z0-9+/][\t\n\r ]*)*(?:[A-Za-z0-9+/][\t\n\r ]*[A-Za-z0-9+/][\t\n\r ]*(?:[A-Za-z0-9+/][\t\n\r ]*[A-Za-z0-9+/]|[A-Za-z0-9+/][\t\n\r ]*=|=[\t\n\r ]*=)[\t\n\r ]*)$/;

/**
 * The bytes of a block's body: base64 digits, then at most two '=', a multiple of four in all, with
 * whitespace anywhere. The usual shape is checked by WRAPPED_BASE64 and decoded by Buffer.from (which
 * skips the whitespace); any other body (other whitespace such as form feed or Unicode spaces, or an
 * invalid one) takes the compacting path, which decides.
 */
function base64Body(body: string): Buffer {
  if (WRAPPED_BASE64.test(body)) return Buffer.from(body, 'base64');
  return compactedBase64(body);
}

function compactedBase64(body: string): Buffer {
  const compact = body.replace(/\s+/g, '');
  if (!BASE64_BODY.test(compact) || compact.length % 4 !== 0 || compact.length === 0) {
    throw new PemError('a PEM block has invalid base64');
  }
  return Buffer.from(compact, 'base64');
}

/** Text outside the blocks (from `start` to `end`) may be anything but a boundary marker's dashes. */
function checkOutside(text: string, start: number, end: number): void {
  const dashes = text.indexOf('-----', start);
  if (dashes >= 0 && dashes + 5 <= end) throw new PemError('a PEM block is damaged (unmatched boundary)');
}

export function encodePem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
