import { createHash } from 'node:crypto';

/**
 * Plain mail: a text part people can read in any client, and an HTML part
 * built from the same pieces with every value escaped, so nothing a partner
 * typed (an application name, a rejection comment) becomes markup.
 */
export interface MailContent {
  greeting: string;
  paragraphs: string[];
  /** Label → value lines, in order. */
  details?: [string, string][];
  /** The one thing to click, shown as a link and as a bare URL. */
  action?: { label: string; url: string };
  closing?: string;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function renderMail(content: MailContent): { text: string; html: string } {
  const details = content.details ?? [];
  const closing = content.closing ?? '— Admit, partner admission';
  const text = [
    content.greeting,
    '',
    ...content.paragraphs.flatMap((p) => [p, '']),
    ...(content.action ? [`${content.action.label}:`, content.action.url, ''] : []),
    ...(details.length > 0 ? [...details.map(([label, value]) => `${label}: ${value}`), ''] : []),
    closing,
    '',
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">',
    `<p>${escapeHtml(content.greeting)}</p>`,
    ...content.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    ...(content.action
      ? [
          `<p><a href="${escapeHtml(content.action.url)}">${escapeHtml(content.action.label)}</a><br><small>${escapeHtml(content.action.url)}</small></p>`,
        ]
      : []),
    ...(details.length > 0
      ? [
          '<table>',
          ...details.map(([label, value]) => `<tr><th align="left" valign="top">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`),
          '</table>',
        ]
      : []),
    `<p>${escapeHtml(closing)}</p>`,
    '</body></html>',
  ].join('\n');
  return { text, html };
}

/**
 * An RFC 5322 Message-ID that is the same whenever `parts` are: retried
 * activities send recognisably the same message. The readable prefix keeps
 * only dot-atom characters; the digest keeps distinct parts distinct.
 */
export function stableMessageId(parts: string[], publicUrl: string): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 24);
  const readable = parts
    .join('.')
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.-]+|[.-]+$/g, '')
    .slice(0, 80);
  let host = 'admit.localhost';
  try {
    host = new URL(publicUrl).hostname || host;
  } catch {
    // publicUrl was validated at start-up; the fallback only keeps this total.
  }
  return `<${readable}.${digest}@${host}>`;
}

/** A UTC instant people read the same wherever they are. */
export function humanInstant(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
