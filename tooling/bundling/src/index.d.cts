import type { Plugin } from 'esbuild';

/** Leaves out of the bundle the OpenAI API resources a function never calls (see index.cjs). */
export declare function openaiResources(options: { keep: string[] }): Plugin;
