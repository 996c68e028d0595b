import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SafeHtml } from '../html';
import type { PageContext } from '../pages/layout';
import type { ServiceDependencies } from '../app';
import type { Actor } from '../../workflows/messages';

/** What every page route needs from the app: dependencies, the clock and rendering. */
export interface PagesContext {
  deps: ServiceDependencies;
  now(): Date;
  context(request: FastifyRequest): PageContext;
  sendPage(reply: FastifyReply, page: SafeHtml): FastifyReply;
  statusPath(applicationId: string): string;
  anchorPath(applicationId: string): string;
  /** The signed-in approver, or null (routes decide whether that is enough). */
  actor(request: FastifyRequest): Actor | null;
}
