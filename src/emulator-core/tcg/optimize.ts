// Optimisation passes over a block's IR (QEMU's tcg/optimize.c in miniature):
//   - constant propagation and folding: a temp or guest register whose value is known within the
//     block (lui/auipc/li sequences, x0) is read as a constant; an op on constants becomes a move;
//     a branch on constants becomes a jump; address arithmetic folds into the access's offset;
//   - copy propagation of block-local temps;
//   - dead code: ops that only write block-local temps nobody reads are dropped.
// Guest registers are architectural state: every write to one stays (a fault after it must see
// it), only their known values are used. What is known is forgotten at the block's end, and when
// an `exec` may write the register.
import { FIRST_LOCAL, evalBin, evalCond, isConst, type Arg, type IrBlock, type Op } from './ir';

const M64 = (1n << 64n) - 1n;

export function optimizeBlock(b: IrBlock): IrBlock {
  const known = new Map<number, Arg>();
  const read = (a: Arg): Arg => (isConst(a) ? a : (known.get(a) ?? a));
  const write = (d: number, v: Arg | undefined): void => {
    // Anything that named d's old value is stale now.
    for (const [k, val] of known) if (val === d) known.delete(k);
    if (v === undefined || v === d) known.delete(d);
    else known.set(d, v);
  };
  const ops: Op[] = [];
  for (const op of b.ops) {
    switch (op.kind) {
      case 'mov': {
        const a = read(op.a);
        ops.push({ ...op, a });
        // Copies are remembered for local temps only: a guest register holding a copy of another
        // stays a register read (its value may change under us through exec).
        write(op.d, isConst(a) || a >= FIRST_LOCAL ? a : undefined);
        break;
      }
      case 'bin': {
        const a = read(op.a);
        const b2 = read(op.b);
        if (isConst(a) && isConst(b2)) {
          const v = evalBin(op.op, a, b2);
          ops.push({ kind: 'mov', d: op.d, a: v });
          write(op.d, v);
        } else {
          ops.push({ ...op, a, b: b2 });
          write(op.d, undefined);
        }
        break;
      }
      case 'load': {
        let addr = read(op.addr);
        let off = op.off;
        if (isConst(addr)) {
          off = (addr + off) & M64;
          addr = 0n;
        }
        ops.push({ ...op, addr, off });
        write(op.d, undefined);
        break;
      }
      case 'store': {
        let addr = read(op.addr);
        let off = op.off;
        if (isConst(addr)) {
          off = (addr + off) & M64;
          addr = 0n;
        }
        ops.push({ ...op, addr, off, v: read(op.v) });
        break;
      }
      case 'guard':
        ops.push(op);
        break;
      case 'exec':
        ops.push(op);
        // The handler reads and writes the register file directly.
        if (op.writes) write(op.writes, undefined);
        for (const k of [...known.keys()]) if (k < FIRST_LOCAL) known.delete(k);
        break;
    }
  }
  let end = b.end;
  if (end.kind === 'branch') {
    const a = read(end.a);
    const c = read(end.b);
    end = isConst(a) && isConst(c) ? { kind: 'jump', target: evalCond(end.cond, a, c) ? end.taken : end.next } : { ...end, a, b: c };
  } else if (end.kind === 'indirect') {
    const t = read(end.target);
    end = isConst(t) ? { kind: 'jump', target: t } : { kind: 'indirect', target: t };
  }
  return { ...b, ops: removeDeadTemps(ops, end), end };
}

/** Drops ops whose only effect is a block-local temp that is never read. */
function removeDeadTemps(ops: Op[], end: IrBlock['end']): Op[] {
  const live = new Set<number>();
  const use = (a: Arg): void => {
    if (!isConst(a) && a >= FIRST_LOCAL) live.add(a);
  };
  if (end.kind === 'branch') {
    use(end.a);
    use(end.b);
  } else if (end.kind === 'indirect') use(end.target);
  const out: Op[] = [];
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i]!;
    if ((op.kind === 'mov' || op.kind === 'bin') && op.d >= FIRST_LOCAL && !live.has(op.d)) continue;
    if (op.kind === 'mov' && op.d === op.a) continue;
    switch (op.kind) {
      case 'mov': live.delete(op.d); use(op.a); break;
      case 'bin': live.delete(op.d); use(op.a); use(op.b); break;
      case 'load': live.delete(op.d); use(op.addr); break;
      case 'store': use(op.addr); use(op.v); break;
      case 'exec': break;
      case 'guard': break;
    }
    out.push(op);
  }
  return out.reverse();
}
