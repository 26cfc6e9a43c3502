// What a store answers when the engine that holds its log of record (Redis) cannot take a write:
// SMTP turns it into 451 4.3.0 (try again later), the API into 503 with this message.
export class StoreUnavailableError extends Error {
  readonly statusCode = 503;
}
