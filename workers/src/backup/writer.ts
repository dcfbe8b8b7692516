// Streaming a large text file into R2 without holding it in memory: lines are gathered
// into parts of PART_BYTES and sent as a multipart upload; a SHA-256 of everything
// written is computed on the way (crypto.DigestStream hashes incrementally).

// R2 wants every part but the last to be at least 5 MiB, and all of them the same size.
const PART_BYTES = 8 * 1024 * 1024;
const encoder = new TextEncoder();

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** An incremental SHA-256 of text. */
export class Sha256 {
  private readonly stream = new crypto.DigestStream("SHA-256");
  private readonly writer = this.stream.getWriter();

  async update(bytes: Uint8Array): Promise<void> {
    await this.writer.write(bytes);
  }

  async hex(): Promise<string> {
    await this.writer.close();
    return hex(await this.stream.digest);
  }
}

export class R2TextWriter {
  private upload: R2MultipartUpload | null = null;
  private readonly parts: R2UploadedPart[] = [];
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private readonly hash = new Sha256();
  bytes = 0;

  constructor(
    private readonly bucket: R2Bucket,
    private readonly key: string,
    private readonly contentType: string,
  ) {}

  async write(text: string): Promise<void> {
    const bytes = encoder.encode(text);
    await this.hash.update(bytes);
    this.bytes += bytes.byteLength;
    this.pending.push(bytes);
    this.pendingBytes += bytes.byteLength;
    while (this.pendingBytes >= PART_BYTES) await this.flushPart();
  }

  private take(count: number): Uint8Array {
    const out = new Uint8Array(count);
    let offset = 0;
    while (offset < count) {
      const head = this.pending[0]!;
      const used = Math.min(head.byteLength, count - offset);
      out.set(head.subarray(0, used), offset);
      offset += used;
      if (used === head.byteLength) this.pending.shift();
      else this.pending[0] = head.subarray(used);
    }
    this.pendingBytes -= count;
    return out;
  }

  private async flushPart(): Promise<void> {
    this.upload ??= await this.bucket.createMultipartUpload(this.key, { httpMetadata: { contentType: this.contentType } });
    this.parts.push(await this.upload.uploadPart(this.parts.length + 1, this.take(PART_BYTES)));
  }

  /** Finishes the object; returns its SHA-256. */
  async close(): Promise<string> {
    const rest = this.take(this.pendingBytes);
    if (this.upload === null) {
      await this.bucket.put(this.key, rest, { httpMetadata: { contentType: this.contentType } });
    } else {
      if (rest.byteLength > 0) this.parts.push(await this.upload.uploadPart(this.parts.length + 1, rest));
      await this.upload.complete(this.parts);
    }
    return this.hash.hex();
  }

  async abort(): Promise<void> {
    await this.upload?.abort();
  }
}
