import type { MiddlewareObj } from '@middy/core';
import { ParseError } from '@aws-lambda-powertools/parser/errors';
import { ModelgateError, ValidationError, describeIssues } from './domain/errors.js';
import { logger } from './logger.js';

type Issue = { path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>; message: string };

/**
 * Turns the parser's ParseError into a ValidationError that names each problem, and logs every
 * failure once, by type. The error is re-thrown: an operator's `serverless invoke` shows it, and an
 * asynchronous invocation fails so that Lambda retries it (retryable errors) and then sends it to
 * the dead-letter queue. Event payloads are never logged: they may hold customer metadata.
 */
export function typedErrors(subject: string): MiddlewareObj {
  return {
    onError: (request) => {
      const error = request.error;
      if (error instanceof ParseError) {
        const issues = Array.isArray(error.cause) ? (error.cause as Issue[]) : [];
        request.error = new ValidationError(
          subject,
          issues.length
            ? describeIssues(issues.map((i) => ({ path: (i.path ?? []).map((p) => (typeof p === 'object' ? p.key : p)), message: i.message })))
            : [error.message],
        );
      }
      const e = request.error;
      if (e instanceof ModelgateError) logger.warn('invocation refused', { error: e.name, errorMessage: e.message, retryable: e.retryable });
      else if (e) logger.error('invocation failed', { error: e.name, errorMessage: e.message });
    },
  };
}
