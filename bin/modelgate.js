#!/usr/bin/env node
// The operator CLI (cli/program.ts). It is TypeScript, run through tsx (a devDependency, which `npm ci`
// installs), so the repository needs no build step before `npx modelgate`.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
