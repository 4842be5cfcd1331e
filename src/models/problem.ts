/** RFC 9457 problem details: the one error format of every endpoint. */
import { z } from 'zod';

export const PROBLEM_TYPE_BASE = 'urn:salesflow:problem:';

export const FieldError = z.object({
  path: z.string().describe('where the bad value is, e.g. query.from or body.items.3.price'),
  message: z.string(),
});

export const Problem = z
  .looseObject({
    type: z.string().describe(`a URI naming the kind of problem (${PROBLEM_TYPE_BASE}<code>)`),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional().describe('the request path that failed'),
    requestId: z.string().optional().describe('quote it when reporting the problem; it is in our logs'),
    errors: z.array(FieldError).optional().describe('for validation failures: every bad field'),
  })
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof Problem>;

/** Problem answers a route documents, e.g. `...problemResponses(400, 401, 403, 502)`. */
export function problemResponses<const S extends number>(...statuses: S[]): Record<S, typeof Problem> {
  return Object.fromEntries(statuses.map((s) => [s, Problem])) as Record<S, typeof Problem>;
}
