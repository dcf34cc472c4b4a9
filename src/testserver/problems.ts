// What the test server refuses a request for, independent of how an API generation words it, and the wording
// of each generation: ODS/API 5.x/6.x `{"message"}` (../shared/edfi/README.md, "What an ODS/API answers"),
// ODS/API 7.2+ problem+json (the ODS/API "Error Response Knowledge Base") and the DMS's problem+json (its docs:
// REFERENCE-VALIDATION, DATA-STRICTNESS, CURSOR-PAGING; unresolved references as validationErrors by JSON path).

import type { ApiFlavor } from '../api/flavor.js';
import { messages, type ErrorBody } from './messages.js';

export type Problem =
  | { kind: 'validation'; entity: string; errors: Array<{ path: string; message: string }> }
  | { kind: 'bad-json'; detail: string }
  | { kind: 'empty-body' }
  | { kind: 'too-large' }
  | { kind: 'client-assigned-id' }
  | { kind: 'unknown-descriptor'; path: string; descriptor: string; value: string }
  /** `table` as 6.x names it, `entity` as 7.x/DMS name it, `property` the body's reference (DMS JSON path). */
  | { kind: 'unresolved-reference'; table: string; entity: string; property: string }
  | { kind: 'dependent-item'; entity: string; dependencyName: string }
  | { kind: 'not-found'; action: 'update' | 'delete' | 'get' }
  | { kind: 'key-change'; entity: string }
  | { kind: 'modified' }
  | { kind: 'forbidden'; claims: readonly number[]; property: string }
  | { kind: 'unauthorized' }
  | { kind: 'limit'; max: number }
  | { kind: 'offset' }
  | { kind: 'bad-query'; errors: string[] }
  | { kind: 'unexpected' }
  | { kind: 'too-many-requests'; retryAfterSeconds: number }
  | { kind: 'unavailable' };

export interface Rendered {
  status: number;
  body: object;
  contentType: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

/** The HTTP status of a problem; unresolved references answer 409 unless the store is told 400 (6.x option). */
export function statusOf(p: Problem, unresolvedReferenceStatus: 400 | 409 = 409): number {
  switch (p.kind) {
    case 'validation':
    case 'bad-json':
    case 'empty-body':
    case 'client-assigned-id':
    case 'unknown-descriptor':
    case 'key-change':
    case 'limit':
    case 'offset':
    case 'bad-query':
      return 400;
    case 'too-large':
      return 413;
    case 'unresolved-reference':
      return unresolvedReferenceStatus;
    case 'dependent-item':
      return 409;
    case 'not-found':
      return 404;
    case 'modified':
      return 412;
    case 'forbidden':
      return 403;
    case 'unauthorized':
      return 401;
    case 'unexpected':
      return 500;
    case 'too-many-requests':
      return 429;
    case 'unavailable':
      return 503;
  }
}

/** ODS/API 5.x/6.x: {"message", "modelState"}. */
export function ods6Body(p: Problem): ErrorBody {
  switch (p.kind) {
    case 'validation': {
      const modelState: Record<string, string[]> = {};
      for (const e of p.errors) (modelState[e.path || 'request'] ??= []).push(messages.validationFailed(p.entity, e.message));
      return { message: messages.invalidRequest, modelState };
    }
    case 'bad-json':
      return { message: messages.invalidRequest, modelState: { request: [p.detail] } };
    case 'empty-body':
      return { message: messages.emptyBody };
    case 'too-large':
      return { message: 'The request body is too large.' };
    case 'client-assigned-id':
      return { message: messages.clientAssignedId };
    case 'unknown-descriptor':
      return { message: messages.unknownDescriptor(p.value, p.descriptor) };
    case 'unresolved-reference':
      return { message: messages.unresolvedReference(p.table) };
    case 'dependent-item':
      return { message: messages.dependentItemExists(p.dependencyName) };
    case 'not-found':
      return { message: p.action === 'update' ? messages.updateNotFound : p.action === 'delete' ? messages.deleteNotFound : messages.getNotFound };
    case 'key-change':
      return { message: messages.keyChange };
    case 'modified':
      return { message: messages.modifiedByAnother };
    case 'forbidden':
      return { message: messages.authorizationDenied(p.claims, p.property) };
    case 'unauthorized':
      return { message: messages.unauthorized };
    case 'limit':
      return { message: messages.limitOutOfRange(p.max) };
    case 'offset':
      return { message: messages.offsetOutOfRange };
    case 'bad-query':
      return { message: p.errors.join(' ') };
    case 'unexpected':
      return { message: messages.unexpected };
    case 'too-many-requests':
      return { message: 'Too many requests.' };
    case 'unavailable':
      return { message: 'Service Unavailable' };
  }
}

interface ProblemBody {
  detail: string;
  type: string;
  title: string;
  status: number;
  correlationId: string | null;
  validationErrors?: Record<string, string[]>;
  errors?: string[];
}

const VALIDATION_DETAIL = "Data validation failed. See 'validationErrors' for details.";

/** `studentReference.studentUniqueId` -> `$.studentReference.studentUniqueId`, `x[0].y` kept as is. */
function jsonPath(path: string): string {
  return path === '' ? '$' : `$.${path}`;
}

/** ODS/API 7.2+ and the DMS: problem+json. The DMS words unresolved references per reference, by JSON path. */
function problemBody(p: Problem, flavor: 'ods-7' | 'dms', status: number, correlationId: string): ProblemBody {
  const base = (type: string, title: string, detail: string, extra: Partial<ProblemBody> = {}): ProblemBody => ({
    detail,
    type,
    title,
    status,
    correlationId,
    ...(flavor === 'dms' ? { validationErrors: {}, errors: [] } : {}),
    ...extra,
  });
  const validation = (validationErrors: Record<string, string[]>): ProblemBody =>
    base('urn:ed-fi:api:bad-request:data-validation-failed', 'Data Validation Failed', VALIDATION_DETAIL, { validationErrors });
  switch (p.kind) {
    case 'validation': {
      const v: Record<string, string[]> = {};
      for (const e of p.errors) (v[jsonPath(e.path)] ??= []).push(`${e.message}.`);
      return validation(v);
    }
    case 'bad-json':
      return validation({ $: [p.detail] });
    case 'empty-body':
      return base('urn:ed-fi:api:bad-request', 'Bad Request', "The request could not be processed. See 'errors' for details.", { errors: ['A non-empty request body is required.'] });
    case 'too-large':
      return base('urn:ed-fi:api:bad-request', 'Bad Request', 'The request body is too large.');
    case 'client-assigned-id':
      return base('urn:ed-fi:api:bad-request:data-validation-failed', 'Data Validation Failed', 'The request data was constructed incorrectly.', {
        errors: ["Resource identifiers cannot be assigned by the client. The 'id' property should not be included in the request body."],
      });
    case 'unknown-descriptor':
      return validation({ [jsonPath(p.path)]: [`${p.descriptor} value '${p.value}' does not exist.`] });
    case 'unresolved-reference':
      return flavor === 'dms'
        ? base('urn:ed-fi:api:data-conflict:unresolved-reference', 'Unresolved Reference', "One or more references could not be resolved. See 'validationErrors' for details.", {
            validationErrors: { [jsonPath(p.property)]: [`The referenced ${p.entity} item does not exist.`] },
          })
        : base('urn:ed-fi:api:data-conflict:unresolved-reference', 'Unresolved Reference', `The referenced '${p.entity}' item does not exist.`);
    case 'dependent-item':
      return base(
        'urn:ed-fi:api:data-conflict:dependent-item-exists',
        'Dependent Item Exists',
        `The requested action cannot be performed because this item is referenced by an existing '${p.entity}' item.`,
      );
    case 'not-found':
      return base('urn:ed-fi:api:not-found', 'Not Found', 'The specified item could not be found.');
    case 'key-change':
      return base(
        'urn:ed-fi:api:bad-request:data-validation-failed:key-change-not-supported',
        'Key Change Not Supported',
        `Identifying values for the ${p.entity} item cannot be changed. Delete and recreate the item instead.`,
      );
    case 'modified':
      return base('urn:ed-fi:api:optimistic-lock-failed', 'Optimistic Lock Failed', 'The item has been modified by another user.');
    case 'forbidden':
      return base('urn:ed-fi:api:security:authorization', 'Authorization Denied', 'Access to the requested data could not be authorized.', {
        errors: [
          `No relationships have been established between the caller's education organization id claims (${p.claims.join(', ')}) and the resource item's '${p.property}' value.`,
        ],
      });
    case 'unauthorized':
      return base('urn:ed-fi:api:security:authentication', 'Authentication Failed', 'The caller could not be authenticated.', { errors: ['Invalid Authorization header.'] });
    case 'limit':
      return base('urn:ed-fi:api:bad-request:parameter-validation-failed', 'Parameter Validation Failed', 'The limit parameter was incorrect.', {
        errors: [`Limit must be omitted or set to a value between 0 and ${p.max}.`],
      });
    case 'offset':
      return base('urn:ed-fi:api:bad-request:parameter-validation-failed', 'Parameter Validation Failed', 'The offset parameter was incorrect.', {
        errors: ['Offset must be greater than or equal to 0.'],
      });
    case 'bad-query':
      return base('urn:ed-fi:api:bad-request:parameter-validation-failed', 'Parameter Validation Failed', "The request could not be processed. See 'errors' for details.", { errors: p.errors });
    case 'unexpected':
      return base('urn:ed-fi:api:internal-server-error', 'Internal Server Error', 'An unexpected problem has occurred.');
    case 'too-many-requests':
      // The DMS's rate limiter; its body is worded like its other problems (the status and Retry-After are what count).
      return base('urn:ed-fi:api:too-many-requests', 'Too Many Requests', `The request limit was exceeded. Try again in ${p.retryAfterSeconds} second(s).`);
    case 'unavailable':
      return base('urn:ed-fi:api:service-unavailable', 'Service Unavailable', 'The service is temporarily unavailable. Try again later.');
  }
}

let correlation = 0;

/** The answer body of a problem in a generation's words. */
export function render(flavor: ApiFlavor, p: Problem, unresolvedReferenceStatus: 400 | 409 = 409): Rendered {
  const status = statusOf(p, unresolvedReferenceStatus);
  if (flavor === 'ods-6') return { status, body: ods6Body(p), contentType: JSON_TYPE };
  correlation += 1;
  return { status, body: problemBody(p, flavor, status, `test-${correlation.toString(16).padStart(8, '0')}`), contentType: PROBLEM_TYPE };
}
