import type { Plugin } from 'esbuild';

/** Leaves out of the bundle the OpenAI API resources a function never calls (see index.cjs). */
export declare function openaiResources(options: { keep: string[] }): Plugin;

/** Leaves out of the bundle the zod locales a function never sets (see index.cjs). */
export declare function zodLocales(options: { keep: string[] }): Plugin;

/**
 * Leaves what a function runs only late in files of their own beside the bundle
 * (`<bundle>.<name>.cjs`): modules it reaches only through `import()` (`chunks`), loaded on first
 * use, and npm packages (`packages`), loaded when the first module importing them runs; a chunk
 * sharing a module with the bundle or another chunk fails the build (see lazy-chunks.cjs).
 */
export declare function lazyChunks(options: { chunks?: Record<string, string>; packages?: Record<string, string[]> }): Plugin;
