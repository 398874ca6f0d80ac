import type { Plugin } from 'esbuild';

/** Leaves out of the bundle the OpenAI API resources a function never calls (see index.cjs). */
export declare function openaiResources(options: { keep: string[] }): Plugin;

/** Leaves out of the bundle the zod locales a function never sets (see index.cjs). */
export declare function zodLocales(options: { keep: string[] }): Plugin;

/**
 * Leaves the modules a function reaches only through `import()` in files of their own beside the
 * bundle (`<bundle>.<name>.cjs`), loaded on first use; a chunk sharing a module with the bundle fails
 * the build (see lazy-chunks.cjs).
 */
export declare function lazyChunks(options: { chunks: Record<string, string> }): Plugin;
