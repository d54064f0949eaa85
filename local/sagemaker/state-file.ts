import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { STATE_FORMAT_VERSION, type RegistryState } from './registry.js';

/** The saved state, or undefined when the file does not exist yet. A file that is not ours fails loudly. */
export async function loadState(file: string): Promise<RegistryState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const state = JSON.parse(text) as Partial<RegistryState>;
  if (state.formatVersion !== STATE_FORMAT_VERSION || !state.groups || !state.packages || !state.trainingJobs || !state.createTokens) {
    throw new Error(`${file} is not a SageMaker stand-in state file (format ${STATE_FORMAT_VERSION}); move it away or pick another stateFile`);
  }
  return state as RegistryState;
}

/** Writes atomically: a temporary file beside the target, flushed, then renamed over it. */
export async function saveState(file: string, state: RegistryState): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}
