import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMailbox, readMessage } from '../../mail/mailbox';
import { startSmtpSink, type SmtpSink } from '../../stack/smtp-sink';
import { createMailer } from '../../mail/transport';

let sink: SmtpSink;
beforeAll(async () => {
  sink = await startSmtpSink({ dir: await mkdtemp(path.join(tmpdir(), 'admit-mail-')) });
});
afterAll(async () => sink.stop());

describe('mail over real SMTP', () => {
  it('delivers a message through nodemailer to the sink, which keeps it intact', async () => {
    const mailer = createMailer(sink.url, 'Admit <admit@localhost>');
    await mailer.send({
      to: 'Theo Technical <theo@example.com>',
      subject: 'Confirm your role — Treasury Sync',
      text: 'Follow this link: https://admit.example/confirm/abc',
      html: '<p>Follow <a href="https://admit.example/confirm/abc">this link</a></p>',
      messageId: '<confirm-abc@admit.local>',
    });
    mailer.close();
    const [message, ...rest] = await readMailbox(sink.dir);
    expect(rest).toEqual([]);
    expect(message).toMatchObject({
      envelopeFrom: 'admit@localhost',
      envelopeTo: ['theo@example.com'],
      subject: 'Confirm your role — Treasury Sync',
      to: '"Theo Technical" <theo@example.com>',
    });
    expect(message?.text).toContain('https://admit.example/confirm/abc');
    expect(message?.html).toContain('<a href="https://admit.example/confirm/abc">');
  });

  it('refuses a message over the size limit with an SMTP error', async () => {
    const mailer = createMailer(sink.url, 'Admit <admit@localhost>');
    await expect(
      mailer.send({ to: 'big@example.com', subject: 'big', text: 'x'.repeat(11 * 1024 * 1024), messageId: '<big@admit.local>' }),
    ).rejects.toThrow(/size/i);
    mailer.close();
    expect((await readMailbox(sink.dir)).some((m) => m.subject === 'big')).toBe(false);
  });

  it('reads one message by id, and nothing for an id that is not a stored name', async () => {
    const [first] = await readMailbox(sink.dir);
    expect(first).toBeDefined();
    expect(await readMessage(sink.dir, first!.id)).toEqual(first);
    for (const id of [`${first!.id}.eml`, `../${path.basename(sink.dir)}/${first!.id}`, 'no-such-message', '']) {
      expect(await readMessage(sink.dir, id)).toBeUndefined();
    }
  });

  it('reads an empty mailbox when nothing has arrived', async () => {
    expect(await readMailbox(path.join(sink.dir, 'nothing-here'))).toEqual([]);
  });
});
