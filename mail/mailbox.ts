import { randomUUID } from 'node:crypto';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';

/**
 * A directory of received mail: one `<id>.eml` per message (the raw RFC 5322
 * bytes) and its SMTP envelope beside it in `<id>.envelope.json`. The
 * embedded SMTP sink (stack/smtp-sink.ts) writes it; the development outbox
 * and the tests read it. Both sides live here so the layout is defined once,
 * and so the web can read mail without loading the sink (development code).
 */
export interface Envelope {
  from: string;
  to: string[];
}

export interface StoredMessage {
  id: string;
  receivedAt: string;
  envelopeFrom: string;
  envelopeTo: string[];
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string | undefined;
}

/** File names sort by arrival; the envelope goes in a sidecar file. */
export async function storeMessage(dir: string, raw: Buffer, envelope: Envelope): Promise<void> {
  const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}`;
  await writeFile(path.join(dir, `${name}.envelope.json`), JSON.stringify(envelope));
  // Written under a temporary name and renamed, so a reader never sees half a message.
  await writeFile(path.join(dir, `${name}.eml.tmp`), raw);
  await rename(path.join(dir, `${name}.eml.tmp`), path.join(dir, `${name}.eml`));
}

/** Reads every message kept in `dir`, oldest first; a directory not yet created is an empty mailbox. */
export async function readMailbox(dir: string): Promise<StoredMessage[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.eml')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return Promise.all(
    files.map(async (file) => {
      const id = file.slice(0, -'.eml'.length);
      const envelope = JSON.parse(await readFile(path.join(dir, `${id}.envelope.json`), 'utf8')) as Envelope;
      const parsed = await simpleParser(await readFile(path.join(dir, file)));
      return {
        id,
        receivedAt: (parsed.date ?? new Date(0)).toISOString(),
        envelopeFrom: envelope.from,
        envelopeTo: envelope.to,
        from: parsed.from?.text ?? '',
        to: Array.isArray(parsed.to) ? parsed.to.map((a) => a.text).join(', ') : (parsed.to?.text ?? ''),
        subject: parsed.subject ?? '',
        text: parsed.text ?? '',
        html: typeof parsed.html === 'string' ? parsed.html : undefined,
      };
    }),
  );
}

/** One message by id, or undefined; an id that is not a stored message's file name finds nothing. */
export async function readMessage(dir: string, id: string): Promise<StoredMessage | undefined> {
  // The id becomes a file name: anything but the names storeMessage makes could walk out of `dir`.
  if (!/^[A-Za-z0-9-]{1,120}$/.test(id)) return undefined;
  return (await readMailbox(dir)).find((m) => m.id === id);
}
