// Error texts as an ODS/API 6.x words them (see ../shared/edfi/README.md, "What an ODS/API answers"),
// so the engine's error catalogue can be tested against the same strings.

export interface ErrorBody {
  message: string;
  modelState?: Record<string, string[]>;
}

export const messages = {
  clientAssignedId: 'Resource identifiers cannot be assigned by the client.',
  invalidRequest: 'The request is invalid.',
  emptyBody: 'A non-empty request body is required.',
  updateNotFound: 'Resource to update was not found.',
  deleteNotFound: 'Resource to delete was not found.',
  getNotFound: 'The specified resource could not be found.',
  keyChange: 'Key values for this resource cannot be changed. Delete and recreate the resource item.',
  modifiedByAnother: 'Resource was modified by another consumer.',
  unexpected: 'An unexpected error occurred on the server.',
  unauthorized: 'Authorization has been denied for this request.',

  validationFailed(entity: string, detail: string): string {
    return `Validation of '${entity}' failed. ${detail}.`;
  },

  unknownDescriptor(value: string, descriptor: string): string {
    return `Unable to resolve value '${value}' to an existing '${descriptor}' resource.`;
  },

  unresolvedReference(table: string): string {
    return `The value supplied for the related '${table}' resource does not exist.`;
  },

  dependentItemExists(entity: string): string {
    return `The resource (or a subordinate entity of the resource) cannot be deleted because it is a dependency of the '${entity}' entity.`;
  },

  /** Worded as ODS/API 6.x AuthorizationSegmentsVerifier does for one claim type and one subject property. */
  authorizationDenied(claimValues: readonly number[], subjectProperty: string): string {
    const shown = claimValues.slice(0, 5).map(String);
    if (claimValues.length > 5) shown.push('...');
    const values = claimValues.length === 0 ? 'no values' : claimValues.length === 1 ? 'value ' : 'values ';
    return (
      "Authorization denied. No relationships have been established between the caller's education organization id claim " +
      `(${values}${shown.join(', ')} of type 'LocalEducationAgency') and the requested resource's '${subjectProperty}' value.`
    );
  },

  limitOutOfRange(max: number): string {
    return `Limit must be omitted or set to a value between 1 and ${max}.`;
  },

  offsetOutOfRange: 'Offset must be greater than or equal to 0.',
} as const;
