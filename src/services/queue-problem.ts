/** The job queue's outage (Redis down, in shared mode) as the 503 a client sees, saying what to do. */
import { ServiceUnavailableError } from '../errors.ts';
import { QueueUnavailableError } from '../jobs/queue-types.ts';

/** `err` as a 503 `queue-unavailable` when it is the queue's outage; any other error as it is. */
export function queueProblem(err: unknown, then = 'try again shortly', what?: string): unknown {
  if (!(err instanceof QueueUnavailableError)) return err;
  return new ServiceUnavailableError(
    'queue-unavailable',
    `${what ? `${what}: ` : ''}${err.message}; ${then}.`,
  );
}
