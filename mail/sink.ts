import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { freePort } from '../stack/processes';

/**
 * The embedded SMTP sink: a real SMTP server on loopback that accepts every
 * message and keeps it as an .eml file, so the development outbox and the
 * tests read exactly what a mail server would have received.
 */
export interface SmtpSink {
  readonly url: string;
  readonly dir: string;
  stop(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

export async function startSmtpSink(options: { dir: string; port?: number }): Promise<SmtpSink> {
  const dir = path.resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    size: MAX_MESSAGE_BYTES,
    banner: 'Admit development SMTP sink',
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
          callback(Object.assign(new Error('Message exceeds the size limit'), { responseCode: 552 }));
          return;
        }
        const envelope = {
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        storeMessage(dir, Buffer.concat(chunks), envelope).then(
          () => callback(),
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    dir,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** File names sort by arrival; the envelope goes in a sidecar file. */
async function storeMessage(dir: string, raw: Buffer, envelope: { from: string; to: string[] }): Promise<void> {
  const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}`;
  await writeFile(path.join(dir, `${name}.envelope.json`), JSON.stringify(envelope));
  // Written under a temporary name and renamed, so a reader never sees half a message.
  await writeFile(path.join(dir, `${name}.eml.tmp`), raw);
  await rename(path.join(dir, `${name}.eml.tmp`), path.join(dir, `${name}.eml`));
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

/** Reads every message a sink has kept, oldest first. */
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
      const envelope = JSON.parse(await readFile(path.join(dir, `${id}.envelope.json`), 'utf8')) as {
        from: string;
        to: string[];
      };
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
