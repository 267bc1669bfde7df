#!/usr/bin/env node
/**
 * The package's bin, `vircommand` (package.json "bin": dist/cli.js): the command line itself is
 * src/cli/ (main.ts is where it starts; docs/internals.md lists its files).
 */
import { main } from './cli/main';

if (require.main === module) main(process.argv.slice(2));
