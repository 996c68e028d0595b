import type { FastifyInstance } from 'fastify';
import { readMailbox, readMessage } from '../../mail/mailbox';
import { html } from '../html';
import { layout, messagePage } from '../pages/layout';
import type { PagesContext } from './pages-context';

/** Links in a message body, made clickable; everything else stays escaped text. */
function linkify(text: string) {
  const parts = text.split(/(https?:\/\/[^\s<>"]+)/g);
  return parts.map((part, index) => (index % 2 === 1 ? html`<a href="${part}">${part}</a>` : part));
}

/**
 * Development only: the messages the embedded SMTP sink received, so a person
 * can follow the emailed links without a mail client. Not registered in production.
 */
export function registerOutboxRoutes(app: FastifyInstance, pages: PagesContext, mailDir: string): void {
  app.get('/dev/outbox', async (request, reply) => {
    const messages = (await readMailbox(mailDir)).reverse();
    return pages.sendPage(
      reply.header('cache-control', 'no-store'),
      layout(
        pages.context(request),
        'Development outbox',
        html`<h1>Development outbox</h1>
          <p class="lede">Every message the embedded SMTP sink received, newest first. This page does not exist in production.</p>
          ${
            messages.length === 0
              ? html`<p>No messages yet.</p>`
              : html`<table>
                  <caption>
                    Messages received
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Received</th>
                      <th scope="col">To</th>
                      <th scope="col">Subject</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${messages.map(
                      (m) =>
                        html`<tr>
                          <td><time datetime="${m.receivedAt}">${m.receivedAt}</time></td>
                          <td>${m.envelopeTo.join(', ')}</td>
                          <td><a href="/dev/outbox/${m.id}">${m.subject || '(no subject)'}</a></td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
          }`,
      ),
    );
  });

  app.get<{ Params: { id: string } }>('/dev/outbox/:id', async (request, reply) => {
    const message = await readMessage(mailDir, request.params.id);
    if (message === undefined)
      return pages.sendPage(
        reply.status(404),
        messagePage(pages.context(request), 'Message not found', 'error', 'There is no message with that id.'),
      );
    return pages.sendPage(
      reply.header('cache-control', 'no-store'),
      layout(
        pages.context(request),
        message.subject || 'Message',
        html`<p><a href="/dev/outbox">Back to the outbox</a></p>
          <h1>${message.subject || '(no subject)'}</h1>
          <dl class="facts">
            <dt>From</dt>
            <dd>${message.from}</dd>
            <dt>To</dt>
            <dd>${message.to}</dd>
            <dt>Received</dt>
            <dd><time datetime="${message.receivedAt}">${message.receivedAt}</time></dd>
          </dl>
          <pre class="mail">${linkify(message.text)}</pre>`,
      ),
    );
  });
}
