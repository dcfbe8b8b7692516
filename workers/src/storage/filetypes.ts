// Content types from the file's first bytes (its magic number), so a declared type
// cannot disguise what an upload really is.

interface Signature {
  type: string;
  offset: number;
  bytes: readonly number[];
  /** A second marker further in the file (WebP's "WEBP" after the RIFF size). */
  also?: { offset: number; bytes: readonly number[] };
}

const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

const SIGNATURES: readonly Signature[] = [
  { type: "image/jpeg", offset: 0, bytes: [0xff, 0xd8, 0xff] },
  { type: "image/png", offset: 0, bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: "image/gif", offset: 0, bytes: ascii("GIF87a") },
  { type: "image/gif", offset: 0, bytes: ascii("GIF89a") },
  { type: "image/webp", offset: 0, bytes: ascii("RIFF"), also: { offset: 8, bytes: ascii("WEBP") } },
  { type: "video/mp4", offset: 4, bytes: ascii("ftyp") },
  { type: "application/pdf", offset: 0, bytes: ascii("%PDF-") },
];

/** How many leading bytes `sniff` needs to decide. */
export const SNIFF_BYTES = 16;

function matches(head: Uint8Array, offset: number, bytes: readonly number[]): boolean {
  return bytes.every((byte, i) => head[offset + i] === byte);
}

export function sniff(head: Uint8Array): string | null {
  for (const signature of SIGNATURES) {
    if (!matches(head, signature.offset, signature.bytes)) continue;
    if (signature.also && !matches(head, signature.also.offset, signature.also.bytes)) continue;
    return signature.type;
  }
  return null;
}

/** The media type of a Content-Type header, without parameters, lowercased. */
export function mediaType(header: string | null): string {
  return (header ?? "").split(";")[0]!.trim().toLowerCase();
}
