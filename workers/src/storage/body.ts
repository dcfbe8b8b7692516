// Streaming request bodies into R2 without buffering them: read just enough to check
// the magic bytes, then replay those bytes and the rest through a FixedLengthStream
// (R2 needs the length up front, and the stream fails if the body is longer or shorter).
import { HttpError } from "../shared/respond";
import { SNIFF_BYTES, sniff } from "./filetypes";

export function declaredLength(request: Request, limit: number): number {
  const header = request.headers.get("content-length");
  if (header === null) throw new HttpError(411, "length_required", "send a Content-Length header");
  const length = Number(header);
  if (!Number.isInteger(length) || length < 0) throw new HttpError(400, "bad_request", "Content-Length is not a byte count");
  if (length === 0) throw new HttpError(400, "empty_body", "the body is empty");
  if (length > limit) throw new HttpError(413, "too_large", `the limit is ${limit} bytes`);
  return length;
}

export interface CheckedBody {
  stream: ReadableStream<Uint8Array>;
  /** Settles when every byte went through; rejects if the body broke or had the wrong length. */
  piped: Promise<void>;
}

/**
 * Checks the body's first bytes against `expectedType` and returns it as a stream of
 * exactly `length` bytes. A mismatch cancels the body and throws a 415.
 */
export async function checkedBody(request: Request, length: number, expectedType: string): Promise<CheckedBody> {
  if (!request.body) throw new HttpError(400, "empty_body", "the body is empty");
  const reader = request.body.getReader();
  const head: Uint8Array[] = [];
  let buffered = 0;
  while (buffered < Math.min(SNIFF_BYTES, length)) {
    const { done, value } = await reader.read();
    if (done) break;
    head.push(value);
    buffered += value.byteLength;
  }
  const start = new Uint8Array(buffered);
  let offset = 0;
  for (const chunk of head) {
    start.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const detected = sniff(start);
  if (detected !== expectedType) {
    await reader.cancel();
    throw new HttpError(
      415,
      "type_mismatch",
      detected ? `the file is ${detected}, not ${expectedType}` : `the file's content is not ${expectedType}`,
    );
  }
  const replay = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of head) controller.enqueue(chunk);
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  const fixed = new FixedLengthStream(length);
  return { stream: fixed.readable, piped: replay.pipeTo(fixed.writable) };
}

/** Waits for an R2 write fed by `body`; a broken or mis-sized body becomes a 400. */
export async function settle<T>(write: Promise<T>, body: CheckedBody): Promise<T> {
  const [written, piped] = await Promise.allSettled([write, body.piped]);
  if (piped.status === "rejected") {
    throw new HttpError(400, "length_mismatch", "the body does not match its Content-Length");
  }
  if (written.status === "rejected") throw written.reason;
  return written.value;
}
