import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import type { Envelope } from '../../mail/mailbox';

export interface ReceivedMail {
  file: string;
  to: string[];
  subject: string;
  messageId: string;
  /** The confirmation links it carries, as paths (`/confirm/<token>`). */
  links: string[];
}

/**
 * The SMTP sink's folder, read incrementally: hundreds of admissions mail
 * thousands of messages, and each is parsed once however often it is asked.
 */
export class Mailbox {
  private readonly mails: ReceivedMail[] = [];
  private readonly seen = new Set<string>();
  private reading: Promise<void> | undefined;

  constructor(private readonly dir: string) {}

  private async readNew(): Promise<void> {
    const files = (await readdir(this.dir)).filter((f) => f.endsWith('.eml') && !this.seen.has(f)).sort();
    for (const file of files) {
      const id = file.slice(0, -'.eml'.length);
      const envelope = JSON.parse(await readFile(path.join(this.dir, `${id}.envelope.json`), 'utf8')) as Envelope;
      const parsed = await simpleParser(await readFile(path.join(this.dir, file)));
      const text = parsed.text ?? '';
      this.mails.push({
        file,
        to: envelope.to.map((address) => address.toLowerCase()),
        subject: parsed.subject ?? '',
        messageId: parsed.messageId ?? '',
        links: [...text.matchAll(/https?:\/\/[^/\s]+(\/confirm\/[A-Za-z0-9_.-]+)/g)].map((m) => m[1] as string),
      });
      this.seen.add(file);
    }
  }

  async all(): Promise<ReceivedMail[]> {
    this.reading ??= this.readNew().finally(() => (this.reading = undefined));
    await this.reading;
    return this.mails;
  }

  /** The confirmation links mailed to `email`, oldest first. */
  async linksTo(email: string): Promise<string[]> {
    const address = email.toLowerCase();
    return (await this.all()).filter((m) => m.to.includes(address)).flatMap((m) => m.links);
  }
}
