/**
 * An error whose message is safe to show a user as it is: it says what went
 * wrong and what to do, and never carries a secret. Everything that can fail in
 * a way a user can fix ends as one of these; anything else is a bug.
 */
export class UserFacingError extends Error {
  override name = 'UserFacingError';
}

/** Input that cannot be used; raised before any call to the cluster. */
export class InputError extends UserFacingError {
  override name = 'InputError';
}

export function isUserFacing(error: unknown): error is UserFacingError {
  return error instanceof UserFacingError;
}

/** A failed Kubernetes call, already translated; keeps the HTTP status for callers that treat some as expected. */
export class KubeCallError extends UserFacingError {
  override name = 'KubeCallError';
  readonly httpStatus: number | undefined;
  constructor(message: string, httpStatus: number | undefined) {
    super(message);
    this.httpStatus = httpStatus;
  }
}
