// The per-(operation, rounding mode) table the oracle tests print, and the failure text.
import { type GroupStats, describeMismatch, flagString, requiredFlags } from './compare';
import { FPU_OPS, ROUNDING_MODES } from './ops';

export function summaryTable(title: string, stats: GroupStats[]): string {
  const lines = [`${title}: vectors checked per operation and rounding mode (skipped in brackets)`];
  for (const op of FPU_OPS) {
    const groups = stats.filter((g) => g.op === op);
    const cells = groups.map((g) => {
      const mode = op.rounds ? ROUNDING_MODES[g.rm] : 'any';
      const bad = g.mismatches.length ? ` FAIL ${g.mismatches.length}` : '';
      return `${mode} ${g.checked}${g.skipped ? ` (${g.skipped})` : ''}${bad}`;
    });
    const flags = groups.reduce((f, g) => f | g.oracleFlags, 0);
    lines.push(`  ${op.name.padEnd(12)} ${cells.join(', ')}; oracle flags seen: ${flagString(flags)}`);
  }
  const total = stats.reduce((n, g) => n + g.checked, 0);
  const failed = stats.reduce((n, g) => n + g.mismatches.length, 0);
  lines.push(`  total: ${total - failed} passed, ${failed} failed`);
  return lines.join('\n');
}

/** Problems with one operation's groups: mismatches (first few shown) and flags the vectors never reached. */
export function problems(stats: GroupStats[], opName: string, minChecked: number): string[] {
  const out: string[] = [];
  const groups = stats.filter((g) => g.op.name === opName);
  if (groups.length === 0) out.push(`${opName}: no vectors`);
  for (const g of groups) {
    if (g.checked < minChecked) out.push(`${opName} rm ${g.rm}: only ${g.checked} vectors checked`);
    for (const m of g.mismatches.slice(0, 5)) out.push(describeMismatch(m));
    if (g.mismatches.length > 5) out.push(`... and ${g.mismatches.length - 5} more in ${opName} ${ROUNDING_MODES[g.rm]}`);
  }
  const op = groups[0]?.op;
  if (op) {
    const seen = groups.reduce((f, g) => f | g.oracleFlags, 0);
    const missing = requiredFlags(op) & ~seen;
    if (missing) out.push(`${opName}: the vectors never made the oracle raise ${flagString(missing)}`);
    // Every rounding mode must actually round somewhere, or the mode is not being tested.
    if (op.rounds && requiredFlags(op) & 0x01) {
      for (const g of groups) if (g.checked && !(g.oracleFlags & 0x01)) out.push(`${opName} ${ROUNDING_MODES[g.rm]}: no inexact result among the vectors`);
    }
  }
  return out;
}
