import type { Plugin } from 'esbuild';

/** Leaves out of the bundle the OpenAI API resources a function never calls (see index.cjs). */
export declare function openaiResources(options: { keep: string[] }): Plugin;

/** Leaves out of the bundle the zod locales a function never sets (see index.cjs). */
export declare function zodLocales(options: { keep: string[] }): Plugin;
