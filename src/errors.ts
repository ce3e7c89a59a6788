/**
 * The domain's error vocabulary. Domain code throws these; each surface
 * (tRPC, /v1, REST) maps the code to its own transport in one place.
 */
export type ErrorCode =
  | "INVALID_INPUT"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "RATE_LIMITED"
  | "PRECONDITION_FAILED"
  | "INSUFFICIENT_FUNDS";

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The input field the error is about, so forms can put it next to the field. */
    readonly field?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidInputError extends DomainError {
  constructor(message: string, field?: string) {
    super("INVALID_INPUT", message, field);
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message = "Sign in to continue.") {
    super("UNAUTHENTICATED", message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super("FORBIDDEN", message);
  }
}

/** Also what another account's id answers, so ids from elsewhere reveal nothing. */
export class NotFoundError extends DomainError {
  constructor(what: string, id?: string) {
    super("NOT_FOUND", id ? `${what} '${id}' was not found.` : `${what} was not found.`);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, field?: string) {
    super("CONFLICT", message, field);
  }
}

export class RateLimitedError extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super("RATE_LIMITED", message);
  }
}

/** The balance cannot pay for what was asked (negative, or too low for the minimum runway). */
export class InsufficientFundsError extends DomainError {
  constructor(message: string) {
    super("INSUFFICIENT_FUNDS", message);
  }
}

/** A monthly budget is used up: launches and starts under it wait for the next month or a higher budget. */
export class BudgetReachedError extends DomainError {
  constructor(message: string) {
    super("PRECONDITION_FAILED", message);
  }
}

/** Nothing can host the launch right now (no free GPU of the chosen types, a region or price rule): nothing is created. */
export class NotPlaceableError extends DomainError {
  constructor(message: string, field: string) {
    super("PRECONDITION_FAILED", message, field);
  }
}
