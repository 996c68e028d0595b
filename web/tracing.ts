import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    otelSpan?: Span;
  }
}

const tracer = trace.getTracer('admit-web');

/**
 * A server span per request, child of the caller's `traceparent` when it sends one, made the active
 * context for the rest of the request (hooks, body parsing, handler), so the Temporal client's
 * interceptor carries it into the workflow and its activities. Without a tracer provider
 * (observability/tracing.ts not started) every call here is a no-op.
 */
export function registerRequestTracing(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    const parent = propagation.extract(context.active(), request.headers);
    const span = tracer.startSpan(
      `${request.method} ${request.routeOptions.url ?? 'unmatched'}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'http.route': request.routeOptions.url ?? '' } },
      parent,
    );
    request.otelSpan = span;
    const active = trace.setSpan(parent, span);
    // The body arrives through the request's events: bound, so its parsing and the handler stay in the span.
    context.bind(active, request.raw);
    context.bind(active, reply.raw);
    context.with(active, done);
  });
  app.addHook('onResponse', async (request, reply) => {
    const span = request.otelSpan;
    if (span === undefined) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}
