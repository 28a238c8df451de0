import { ApiRequestError, describeError } from "../../../lib/api-client.ts";

/**
 * A sentence for a refused user change. The server's conflicts already read well
 * ("A user with email … exists already", "This is the last admin …"); its schema errors
 * name a field ("body.password: must NOT have fewer than 8 characters"), which is
 * rephrased for people here.
 */
export function describeUserError(error: unknown): string {
  if (error instanceof ApiRequestError && error.status === 400 && error.body?.code === "VALIDATION_FAILED") {
    const field = /^body\.(\w+)/.exec(error.body.message)?.[1];
    if (field === "password") return "The password is too weak: use 8 to 200 characters.";
    if (field === "email") return "Enter a valid email address, like name@example.com.";
  }
  return describeError(error);
}
