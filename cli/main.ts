/** `npx modelgate …` (bin/modelgate.js loads this through tsx): the CLI on the process's streams. */
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
