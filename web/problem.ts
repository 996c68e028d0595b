import type { FastifyReply } from 'fastify';
import type { FieldError } from '../domain/signup';

/** RFC 9457 problem details; `errors` carries field-level validation errors. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function sendProblem(reply: FastifyReply, problem: Omit<Problem, 'type'> & { type?: string }): FastifyReply {
  return reply
    .status(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ type: problem.type ?? 'about:blank', ...problem });
}
