// Generates the RISC-V decoder from the declarative instruction table (see docs/ARCHITECTURE.md).
// `--check` fails if the committed generated files differ from what the table gives.
// (Filled in by the CPU work; until the table exists there is nothing to generate.)
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const table = path.join(root, 'src/emulator-core/cpu/riscv/isa');
if (!existsSync(table)) process.exit(0);
console.error('gen-decoder: instruction table present but no generator is wired up');
process.exit(1);
