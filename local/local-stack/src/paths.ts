import { join, resolve } from 'node:path';

/** The repository root: this file lives at local/local-stack/src/. */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const LOCAL_DIR = join(REPO_ROOT, '.local');
