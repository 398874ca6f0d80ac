/**
 * What a file's first bytes say it is. A customer's upload is checked against the type it was
 * declared as before the model or an email sees it (HTML uploaded as "image/png" is refused). The
 * types here are the only ones a stage may accept (limitsFromEnv checks `attachments.types`).
 */
const SIGNATURES: Record<string, { label: string; test: (b: Uint8Array) => boolean }> = {
  'image/jpeg': { label: 'a JPEG image', test: (b) => starts(b, [0xff, 0xd8, 0xff]) },
  'image/png': { label: 'a PNG image', test: (b) => starts(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  'image/gif': { label: 'a GIF image', test: (b) => ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a') },
  'image/webp': { label: 'a WebP image', test: (b) => ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP') },
  'application/pdf': { label: 'a PDF document', test: (b) => ascii(b, 0, '%PDF-') },
};

/** How many leading bytes `matchesType` needs. */
export const SIGNATURE_BYTES = 16;

export const CHECKED_TYPES: readonly string[] = Object.keys(SIGNATURES);

/** Whether the content's first bytes are those of its declared type (a type not listed: never). */
export function matchesType(mimeType: string, head: Uint8Array): boolean {
  return SIGNATURES[mimeType.toLowerCase()]?.test(head) ?? false;
}

/** "a JPEG image", for messages. */
export const typeLabel = (mimeType: string): string => SIGNATURES[mimeType.toLowerCase()]?.label ?? mimeType;

const starts = (b: Uint8Array, bytes: number[]) => bytes.every((x, i) => b[i] === x);
const ascii = (b: Uint8Array, at: number, s: string) => [...s].every((c, i) => b[at + i] === c.charCodeAt(0));
